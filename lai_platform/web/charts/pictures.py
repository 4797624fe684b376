"""Inline SVG charts for result pages, drawn by our code from numbers only.

Every function returns ``Markup`` (so Jinja inserts it as is) and never raises on odd data: a
chart that cannot be drawn becomes a short "not available" picture instead of a failed page.
Every text that did not come from a number - class labels, entry names, reasons - passes
through ``markupsafe.escape``, since organizers and participants choose them.

Readable without colour: lines and text use ``currentColor``; series differ by dash pattern
and marker shape and are labelled directly or in a legend; shading is greyscale.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from markupsafe import Markup, escape

from lai_platform.web.charts import svg as draw


def roc_svg(curves: dict[str, Any] | None, *, title: str = "ROC curves") -> Markup:
    """ROC curves from ``evaluator.curves.roc_curves``: the malignant curve solid and thick,
    the one-vs-rest curves thin and dashed, the chance diagonal dotted, AUCs in the legend.
    A marker on each curve shows its point of highest TPR - FPR."""
    entries = list((curves or {}).items()) if isinstance(curves, dict) else []
    # The binary curve leads whatever the dict order; the others keep theirs.
    entries.sort(key=lambda item: not _is_binary(item[0], item[1]))
    styled = [(key, curve, index) for index, (key, curve) in enumerate(entries)]
    drawable = [(points, i) for _, curve, i in styled if (points := _roc_points(curve))]
    if not drawable:
        reasons = [_reason(curve) for _, curve in entries]
        return draw.unavailable(title, next((r for r in reasons if r), "no ROC curve to draw"))

    body = draw.axes("False positive rate (1 - specificity)", "True positive rate (sensitivity)")
    body.append(draw.line(draw.sx(0), draw.sy(0), draw.sx(1), draw.sy(1), dash="1 3", width=1.2))
    body.append(
        draw.text_at(draw.sx(0.62), draw.sy(0.56), "chance", size=10, rotate=-45, anchor="middle")
    )
    for points, index in drawable:
        body.append(
            draw.polyline(
                points, dash=draw.DASHES[index % len(draw.DASHES)], width=draw.stroke_width(index)
            )
        )
        best = max(range(len(points)), key=lambda i: points[i][1] - points[i][0])
        body.append(
            draw.marker(
                draw.SHAPES[index % len(draw.SHAPES)], *draw.scale(points[best]), index == 0
            )
        )

    legend, note_y = _roc_legend(styled, draw.Y1 + 40)
    body += legend
    body.append(draw.text_at(12, note_y, "Marker: point of highest TPR - FPR", size=9, muted=True))

    summary = "; ".join(_roc_summary(key, curve) for key, curve, _ in styled)
    return draw.svg_root(title, f"{title}. {summary}", draw.WIDTH, note_y + 8, body)


def _roc_legend(styled: list[tuple[str, Any, int]], top: float) -> tuple[list[str], float]:
    """Legend entries (line sample, marker, label and AUC) and the y just below them. The
    binary curve gets a row of its own; the one-vs-rest curves share rows two by two."""
    parts, row, column = [], 0, 0
    for key, curve, index in styled:
        wide = _is_binary(key, curve)
        if wide and column:  # a full row starts on a fresh line
            row, column = row + 1, 0
        x, y = 12 + column * 174, top + row * 16
        label = _curve_label(key, curve)
        if _roc_points(curve) is None:
            text = f"{draw.cut(label, 30 if wide else 14)}: not available"
            parts.append(draw.text_at(x, y + 4, text, size=10, full=label))
        else:
            auc = _number(curve.get("auc"))
            shown = "n/a" if auc is None else f"{auc:.3f}"
            text = f"{draw.cut(label, 30 if wide else 16)} AUC {shown}"
            dash = draw.DASHES[index % len(draw.DASHES)]
            parts.append(draw.line(x, y, x + 26, y, dash=dash, width=draw.stroke_width(index)))
            parts.append(draw.marker(draw.SHAPES[index % len(draw.SHAPES)], x + 13, y, index == 0))
            parts.append(draw.text_at(x + 32, y + 4, text, size=10, full=label))
        if wide or column == 1:
            row, column = row + 1, 0
        else:
            column = 1
    return parts, top + (row + (1 if column else 0)) * 16 + 4


def reliability_svg(bins: Sequence[dict] | None, *, title: str = "Reliability diagram") -> Markup:
    """Observed fraction against mean predicted probability per bin (from
    ``evaluator.curves.reliability_bins``); the dotted diagonal is perfect calibration. Each
    non-empty bin is a circle whose area grows with its number of cases, labelled with it."""
    points = [p for p in (_bin_point(b) for b in (bins or [])) if p is not None]
    if not points:
        return draw.unavailable(title, "no cases to bin")
    largest = max(n for _, _, n in points)

    body = draw.axes("Mean predicted probability", "Observed fraction positive")
    body.append(draw.line(draw.sx(0), draw.sy(0), draw.sx(1), draw.sy(1), dash="1 3", width=1.2))
    body.append(
        draw.text_at(
            draw.sx(0.78),
            draw.sy(0.72),
            "perfect calibration",
            size=10,
            rotate=-45,
            anchor="middle",
        )
    )
    scaled = [(draw.sx(x), draw.sy(y), n) for x, y, n in points]
    if len(scaled) >= 2:
        body.append(draw.polyline([(x, y) for x, y, _ in scaled], width=1.5, scaled=True))
    for x, y, n in scaled:
        radius = 2.5 + 6.5 * math.sqrt(n / largest)  # area, not radius, tracks n
        body.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius:.1f}" fill="currentColor" '
            f'fill-opacity="0.3" stroke="currentColor" stroke-width="1.2"/>'
        )
        # Above the point, or below it when the point is at the top edge.
        label_y = y - radius - 3 if y - radius - 3 > draw.Y0 + 8 else y + radius + 10
        body.append(draw.text_at(x, label_y, str(n), size=9, anchor="middle"))
    body.append(
        draw.text_at(
            draw.X0, 352, "Circle area and label: number of cases in the bin", size=9, muted=True
        )
    )

    summary = "; ".join(f"predicted {x:.2f}, observed {y:.2f}, n={n}" for x, y, n in points)
    return draw.svg_root(title, f"{title}. {summary}", draw.WIDTH, 360, body)


def confusion_matrix_svg(
    classes: Sequence[str] | None,
    counts: Sequence[Sequence[int]] | None,
    *,
    title: str = "Confusion matrix",
) -> Markup:
    """Truth on rows, prediction on columns; each cell shows its count and is shaded by its
    share of the row (darker = more of that true class), the diagonal outlined."""
    matrix = _square_counts(classes, counts)
    if matrix is None:
        return draw.unavailable(title, "no confusion matrix for these results")
    labels = [str(label) for label in classes or []]
    k = len(labels)
    left, top, size = 112.0, 12.0, 236.0
    cell = size / k
    font = max(6.0, min(13.0, cell / 2.6))

    body = []
    for i, row in enumerate(matrix):
        total = sum(row)
        for j, count in enumerate(row):
            share = count / total if total else 0.0
            grey = round(255 - 215 * share)  # white (none) to near-black (the whole row)
            x, y = left + j * cell, top + i * cell
            diagonal = i == j
            tip = (
                f"True {labels[i]}, predicted {labels[j]}: {count} "
                f"({share:.0%} of {labels[i]} cases)"
            )
            body.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{cell:.1f}" height="{cell:.1f}" '
                f'fill="rgb({grey},{grey},{grey})" '
                f'stroke="{"currentColor" if diagonal else "#ffffff"}" '
                f'stroke-width="{2 if diagonal else 1}"><title>{escape(tip)}</title></rect>'
            )
            ink = "#ffffff" if share > 0.5 else "#000000"
            body.append(
                f'<text x="{x + cell / 2:.1f}" y="{y + cell / 2 + font / 3:.1f}" '
                f'text-anchor="middle" font-size="{font:.1f}" fill="{ink}">{count}</text>'
            )
    for i, label in enumerate(labels):
        middle = top + (i + 0.5) * cell
        body.append(draw.text_at(left - 4, middle + 4, draw.cut(label), anchor="end", full=label))
        x = left + (i + 0.5) * cell
        body.append(
            draw.text_at(
                x + 3, top + size + 8, draw.cut(label), anchor="end", rotate=-45, full=label
            )
        )
    body.append(draw.text_at(left + size / 2, 354, "Predicted diagnosis", anchor="middle"))
    body.append(draw.text_at(14, top + size / 2, "True diagnosis", anchor="middle", rotate=-90))

    summary = "; ".join(
        f"true {labels[i]}: " + ", ".join(f"{labels[j]} {c}" for j, c in enumerate(row))
        for i, row in enumerate(matrix)
    )
    return draw.svg_root(
        title, f"{title}, rows true, columns predicted. {summary}", draw.WIDTH, 362, body
    )


def rank_intervals_svg(entries: Sequence[dict] | None, *, title: str = "Rank stability") -> Markup:
    """One row per entry, best rank first: a dot at its rank, a bar over its bootstrap rank
    interval (low..high) and, on the right, how often it held its rank (challengeR style).
    An entry with "baseline": true gets a hollow dot (baselines are shown, not ranked)."""
    rows = _rank_rows(entries)
    if not rows:
        return draw.unavailable(title, "no ranked entries" if not entries else "rank data unusable")
    n_ranks = max(len(rows), max(row[3] for row in rows))
    row_height = 20.0 if len(rows) <= 15 else 16.0
    left, right, top = 122.0, draw.WIDTH - 44.0, 26.0
    bottom = top + len(rows) * row_height

    def x_of(rank: float) -> float:
        if n_ranks == 1:
            return (left + right) / 2
        return left + 8 + (rank - 1) / (n_ranks - 1) * (right - left - 16)

    body = [
        draw.line(left, bottom, right, bottom, width=1),
        draw.text_at(draw.WIDTH - 6, top - 10, "held", size=10, anchor="end"),
    ]
    step = max(1, math.ceil(n_ranks / 10))
    for rank in sorted({1, *range(step, n_ranks + 1, step)}):
        body.append(draw.line(x_of(rank), bottom, x_of(rank), bottom + 4, width=1))
        body.append(draw.text_at(x_of(rank), bottom + 15, str(rank), size=10, anchor="middle"))
    for position, (label, rank, low, high, hold, baseline) in enumerate(rows):
        y = top + (position + 0.5) * row_height
        x_low, x_high = x_of(low), x_of(high)
        body.append(
            f'<path d="M{x_low:.1f},{y:.1f}H{x_high:.1f}M{x_low:.1f},{y - 4:.1f}V{y + 4:.1f}'
            f'M{x_high:.1f},{y - 4:.1f}V{y + 4:.1f}" fill="none" stroke="currentColor" '
            f'stroke-width="1.5"/>'
        )
        fill = 'fill="#fff" stroke="currentColor" stroke-width="1.5"' if baseline else (
            'fill="currentColor"')
        body.append(f'<circle cx="{x_of(rank):.1f}" cy="{y:.1f}" r="4" {fill}/>')
        body.append(draw.text_at(left - 6, y + 4, draw.cut(label, 19), anchor="end", full=label))
        held = "-" if hold is None else f"{hold:.0%}"
        body.append(draw.text_at(draw.WIDTH - 6, y + 4, held, size=10, anchor="end"))
    body.append(
        draw.text_at(
            (left + right) / 2,
            bottom + 34,
            "Rank (dot) and bootstrap rank interval (bar)",
            size=10,
            anchor="middle",
        )
    )

    summary = "; ".join(
        f"{label}: {'baseline, would rank' if baseline else 'rank'} {rank}, "
        f"interval {low} to {high}"
        + ("" if hold is None else f", holds its rank in {hold:.0%} of resamples")
        for label, rank, low, high, hold, baseline in rows
    )
    return draw.svg_root(title, f"{title}. {summary}", draw.WIDTH, bottom + 44, body)


# --------------------------------------------------------------------------------------------
# Data checks: charts read stored JSON, so anything may turn up
# --------------------------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    """A finite float, or None for anything else (bools included)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _roc_points(curve: Any) -> list[tuple[float, float]] | None:
    if not isinstance(curve, dict):
        return None
    fpr, tpr = curve.get("fpr"), curve.get("tpr")
    if not isinstance(fpr, list) or not isinstance(tpr, list) or len(fpr) != len(tpr):
        return None
    points = [(_number(x), _number(y)) for x, y in zip(fpr, tpr, strict=True)]
    if len(points) < 2 or any(x is None or y is None for x, y in points):
        return None
    return [(draw.clip(x), draw.clip(y)) for x, y in points]  # type: ignore[arg-type]


def _bin_point(bin_: Any) -> tuple[float, float, int] | None:
    if not isinstance(bin_, dict):
        return None
    n = bin_.get("n")
    x, y = _number(bin_.get("mean_predicted")), _number(bin_.get("observed_fraction"))
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0 or x is None or y is None:
        return None
    return draw.clip(x), draw.clip(y), n


def _square_counts(classes: Any, counts: Any) -> list[list[int]] | None:
    if not classes or not counts or len(classes) != len(counts):
        return None
    matrix = []
    for row in counts:
        if not isinstance(row, Sequence) or len(row) != len(classes):
            return None
        if any(isinstance(c, bool) or not isinstance(c, int) or c < 0 for c in row):
            return None
        matrix.append([int(c) for c in row])
    return matrix


def _rank_rows(entries: Any) -> list[tuple[str, int, int, int, float | None, bool]]:
    """(label, rank, low, high, hold, baseline) best rank first, or [] if any entry is
    unusable."""
    rows = []
    for entry in entries or []:
        if not isinstance(entry, dict):
            return []
        rank, low, high = entry.get("rank"), entry.get("low"), entry.get("high")
        if any(isinstance(v, bool) or not isinstance(v, int) for v in (rank, low, high)):
            return []
        if not 1 <= low <= rank <= high:
            return []
        hold = _number(entry.get("hold_probability"))
        rows.append((str(entry.get("label", "")), rank, low, high, hold,
                     entry.get("baseline") is True))
    return sorted(rows, key=lambda row: row[1])  # stable: ties keep the given order


def _is_binary(key: str, curve: Any) -> bool:
    return (isinstance(curve, dict) and curve.get("kind") == "binary") or key == "malignant"


def _curve_label(key: str, curve: Any) -> str:
    label = curve.get("label") if isinstance(curve, dict) else None
    if _is_binary(key, curve):
        # The task's positive name: "malignant" (vs benign) in the LAI task.
        name = str(label if label is not None else key)
        return "malignant vs benign" if name == "malignant" else f"{name} vs the rest"
    return str(label if label is not None else key)


def _reason(curve: Any) -> str | None:
    reason = curve.get("reason") if isinstance(curve, dict) else None
    return str(reason) if reason else None


def _roc_summary(key: str, curve: Any) -> str:
    label = _curve_label(key, curve)
    if _roc_points(curve) is None:
        return f"{label}: not available"
    auc = _number(curve.get("auc"))
    return f"{label}: AUC {'n/a' if auc is None else f'{auc:.3f}'}"
