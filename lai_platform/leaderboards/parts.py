"""Which cases decide now (all, or the public or private part of a split phase), and a
result's metrics on them."""

from __future__ import annotations

from datetime import datetime

import numpy as np

from lai_platform.models import Phase, Result
from lai_platform.models._time import utcnow


def current_part(phase: Phase, now: datetime | None = None) -> str:
    """The cases that decide now: all of them, or the public part while a split phase is open
    and the private part once it has closed."""
    if not phase.has_public_split:
        return "all"
    return "public" if phase.is_open(now or utcnow()) else "private"


def part_metrics(result: Result, part: str) -> dict:
    chosen = {"public": result.metrics_public, "private": result.metrics_private}.get(part)
    return chosen or result.metrics


def visible_metrics(result: Result, phase: Phase, now: datetime | None = None) -> dict:
    return part_metrics(result, current_part(phase, now))


def visible_curves(result: Result, phase: Phase) -> dict | None:
    curves = result.detail.curves if result.detail is not None else None
    return (curves or {}).get(current_part(phase))


def metric_value(metrics: dict, name: str) -> float:
    value = (metrics.get("metrics", {}).get(name) or {}).get("value")
    return np.nan if value is None else float(value)


def primary_score(metrics: dict, metric: str) -> float | None:
    value = metric_value(metrics, metric)
    return None if np.isnan(value) else value
