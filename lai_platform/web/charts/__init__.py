"""Inline SVG charts for result pages, drawn by our code from numbers only."""

from lai_platform.web.charts.pictures import (
    confusion_matrix_svg,
    rank_intervals_svg,
    reliability_svg,
    roc_svg,
)

__all__ = ["confusion_matrix_svg", "rank_intervals_svg", "reliability_svg", "roc_svg"]
