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

WIDTH = 360
_MAX_CSS_WIDTH = 480  # px: the viewBox scales to the column, but a wide page gets no giant chart

# Square plots over [0, 1] x [0, 1]: plot area in viewBox units.
_X0, _X1, _Y0, _Y1 = 50.0, 345.0, 12.0, 296.0
_TICKS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)

# Series styles: index 0 is the headline series (solid, filled circle).
_DASHES = (None, "7 3", "2 3", "9 3 2 3", "1 2", "12 4", "4 2 1 2 1 2", "14 3 3 3")
_SHAPES = ("circle", "square", "triangle", "diamond", "triangle_down", "plus", "cross", "star")

_LABEL_CHARS = 14  # longer labels are cut (the full text stays in a <title> tooltip)


# --------------------------------------------------------------------------------------------
# Public charts
# --------------------------------------------------------------------------------------------


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
        return _unavailable(title, next((r for r in reasons if r), "no ROC curve to draw"))

    body = _axes("False positive rate (1 - specificity)", "True positive rate (sensitivity)")
    body.append(_line(_sx(0), _sy(0), _sx(1), _sy(1), dash="1 3", width=1.2))
    body.append(_text(_sx(0.62), _sy(0.56), "chance", size=10, rotate=-45, anchor="middle"))
    for points, index in drawable:
        body.append(_polyline(points, dash=_DASHES[index % len(_DASHES)], width=_width(index)))
        best = max(range(len(points)), key=lambda i: points[i][1] - points[i][0])
        body.append(_marker(_SHAPES[index % len(_SHAPES)], *_scale(points[best]), index == 0))

    legend, note_y = _roc_legend(styled, _Y1 + 40)
    body += legend
    body.append(_text(12, note_y, "Marker: point of highest TPR - FPR", size=9, muted=True))

    summary = "; ".join(_roc_summary(key, curve) for key, curve, _ in styled)
    return _svg(title, f"{title}. {summary}", WIDTH, note_y + 8, body)


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
            text = f"{_cut(label, 30 if wide else 14)}: not available"
            parts.append(_text(x, y + 4, text, size=10, full=label))
        else:
            auc = _number(curve.get("auc"))
            text = f"{_cut(label, 30 if wide else 16)} AUC {'n/a' if auc is None else f'{auc:.3f}'}"
            dash = _DASHES[index % len(_DASHES)]
            parts.append(_line(x, y, x + 26, y, dash=dash, width=_width(index)))
            parts.append(_marker(_SHAPES[index % len(_SHAPES)], x + 13, y, index == 0))
            parts.append(_text(x + 32, y + 4, text, size=10, full=label))
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
        return _unavailable(title, "no cases to bin")
    largest = max(n for _, _, n in points)

    body = _axes("Mean predicted probability", "Observed fraction positive")
    body.append(_line(_sx(0), _sy(0), _sx(1), _sy(1), dash="1 3", width=1.2))
    body.append(
        _text(_sx(0.78), _sy(0.72), "perfect calibration", size=10, rotate=-45, anchor="middle")
    )
    scaled = [(_sx(x), _sy(y), n) for x, y, n in points]
    if len(scaled) >= 2:
        body.append(_polyline([(x, y) for x, y, _ in scaled], width=1.5, scaled=True))
    for x, y, n in scaled:
        radius = 2.5 + 6.5 * math.sqrt(n / largest)  # area, not radius, tracks n
        body.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius:.1f}" fill="currentColor" '
            f'fill-opacity="0.3" stroke="currentColor" stroke-width="1.2"/>'
        )
        # Above the point, or below it when the point is at the top edge.
        label_y = y - radius - 3 if y - radius - 3 > _Y0 + 8 else y + radius + 10
        body.append(_text(x, label_y, str(n), size=9, anchor="middle"))
    body.append(
        _text(_X0, 352, "Circle area and label: number of cases in the bin", size=9, muted=True)
    )

    summary = "; ".join(f"predicted {x:.2f}, observed {y:.2f}, n={n}" for x, y, n in points)
    return _svg(title, f"{title}. {summary}", WIDTH, 360, body)


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
        return _unavailable(title, "no confusion matrix for these results")
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
        body.append(_text(left - 4, middle + 4, _cut(label), anchor="end", full=label))
        x = left + (i + 0.5) * cell
        body.append(_text(x + 3, top + size + 8, _cut(label), anchor="end", rotate=-45, full=label))
    body.append(_text(left + size / 2, 354, "Predicted diagnosis", anchor="middle"))
    body.append(_text(14, top + size / 2, "True diagnosis", anchor="middle", rotate=-90))

    summary = "; ".join(
        f"true {labels[i]}: " + ", ".join(f"{labels[j]} {c}" for j, c in enumerate(row))
        for i, row in enumerate(matrix)
    )
    return _svg(title, f"{title}, rows true, columns predicted. {summary}", WIDTH, 362, body)


def rank_intervals_svg(entries: Sequence[dict] | None, *, title: str = "Rank stability") -> Markup:
    """One row per entry, best rank first: a dot at its rank, a bar over its bootstrap rank
    interval (low..high) and, on the right, how often it held its rank (challengeR style)."""
    rows = _rank_rows(entries)
    if not rows:
        return _unavailable(title, "no ranked entries" if not entries else "rank data unusable")
    n_ranks = max(len(rows), max(high for _, _, _, high, _ in rows))
    row_height = 20.0 if len(rows) <= 15 else 16.0
    left, right, top = 122.0, WIDTH - 44.0, 26.0
    bottom = top + len(rows) * row_height

    def x_of(rank: float) -> float:
        if n_ranks == 1:
            return (left + right) / 2
        return left + 8 + (rank - 1) / (n_ranks - 1) * (right - left - 16)

    body = [
        _line(left, bottom, right, bottom, width=1),
        _text(WIDTH - 6, top - 10, "held", size=10, anchor="end"),
    ]
    step = max(1, math.ceil(n_ranks / 10))
    for rank in sorted({1, *range(step, n_ranks + 1, step)}):
        body.append(_line(x_of(rank), bottom, x_of(rank), bottom + 4, width=1))
        body.append(_text(x_of(rank), bottom + 15, str(rank), size=10, anchor="middle"))
    for position, (label, rank, low, high, hold) in enumerate(rows):
        y = top + (position + 0.5) * row_height
        x_low, x_high = x_of(low), x_of(high)
        body.append(
            f'<path d="M{x_low:.1f},{y:.1f}H{x_high:.1f}M{x_low:.1f},{y - 4:.1f}V{y + 4:.1f}'
            f'M{x_high:.1f},{y - 4:.1f}V{y + 4:.1f}" fill="none" stroke="currentColor" '
            f'stroke-width="1.5"/>'
        )
        body.append(f'<circle cx="{x_of(rank):.1f}" cy="{y:.1f}" r="4" fill="currentColor"/>')
        body.append(_text(left - 6, y + 4, _cut(label), anchor="end", full=label))
        held = "-" if hold is None else f"{hold:.0%}"
        body.append(_text(WIDTH - 6, y + 4, held, size=10, anchor="end"))
    body.append(
        _text(
            (left + right) / 2,
            bottom + 34,
            "Rank (dot) and bootstrap rank interval (bar)",
            size=10,
            anchor="middle",
        )
    )

    summary = "; ".join(
        f"{label}: rank {rank}, interval {low} to {high}"
        + ("" if hold is None else f", holds its rank in {hold:.0%} of resamples")
        for label, rank, low, high, hold in rows
    )
    return _svg(title, f"{title}. {summary}", WIDTH, bottom + 44, body)


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
    return [(_clip(x), _clip(y)) for x, y in points]  # type: ignore[arg-type]


def _bin_point(bin_: Any) -> tuple[float, float, int] | None:
    if not isinstance(bin_, dict):
        return None
    n = bin_.get("n")
    x, y = _number(bin_.get("mean_predicted")), _number(bin_.get("observed_fraction"))
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0 or x is None or y is None:
        return None
    return _clip(x), _clip(y), n


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


def _rank_rows(entries: Any) -> list[tuple[str, int, int, int, float | None]]:
    """(label, rank, low, high, hold) best rank first, or [] if any entry is unusable."""
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
        rows.append((str(entry.get("label", "")), rank, low, high, hold))
    return sorted(rows, key=lambda row: row[1])  # stable: ties keep the given order


def _is_binary(key: str, curve: Any) -> bool:
    return (isinstance(curve, dict) and curve.get("kind") == "binary") or key == "malignant"


def _curve_label(key: str, curve: Any) -> str:
    if _is_binary(key, curve):
        return "malignant vs benign"
    label = curve.get("label") if isinstance(curve, dict) else None
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


# --------------------------------------------------------------------------------------------
# Drawing primitives
# --------------------------------------------------------------------------------------------


def _svg(title: str, label: str, width: float, height: float, body: list[str]) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="100%" style="max-width:{_MAX_CSS_WIDTH}px;height:auto" role="img" '
        f'aria-label="{escape(label)}" class="lai-chart" font-family="system-ui, sans-serif" '
        f'font-size="11" fill="currentColor"><title>{escape(title)}</title>'
        + "".join(body)
        + "</svg>"
    )


def _unavailable(title: str, reason: str) -> Markup:
    body = [
        f'<rect x="1" y="1" width="{WIDTH - 2}" height="62" fill="none" stroke="currentColor" '
        f'stroke-opacity="0.3" stroke-dasharray="4 3"/>',
        _text(WIDTH / 2, 26, _cut(title, 48), size=12, anchor="middle"),
        _text(
            WIDTH / 2,
            46,
            f"Not available: {_cut(reason, 52)}",
            size=10,
            anchor="middle",
            muted=True,
        ),
    ]
    return _svg(title, f"{title}: not available ({reason})", WIDTH, 64, body)


def _axes(x_label: str, y_label: str) -> list[str]:
    """Frame, light grid, tick labels and axis titles of a [0, 1] x [0, 1] plot."""
    parts = [
        f'<rect x="{_X0}" y="{_Y0}" width="{_X1 - _X0}" height="{_Y1 - _Y0}" fill="none" '
        f'stroke="currentColor" stroke-width="1"/>'
    ]
    for tick in _TICKS:
        x, y = _sx(tick), _sy(tick)
        if 0 < tick < 1:
            parts.append(_line(x, _Y0, x, _Y1, width=0.5, opacity=0.2))
            parts.append(_line(_X0, y, _X1, y, width=0.5, opacity=0.2))
        parts.append(_text(x, _Y1 + 14, f"{tick:.1f}", size=10, anchor="middle"))
        parts.append(_text(_X0 - 5, y + 3.5, f"{tick:.1f}", size=10, anchor="end"))
    parts.append(_text((_X0 + _X1) / 2, _Y1 + 30, x_label, anchor="middle"))
    parts.append(_text(14, (_Y0 + _Y1) / 2, y_label, anchor="middle", rotate=-90))
    return parts


def _sx(value: float) -> float:
    return _X0 + value * (_X1 - _X0)


def _sy(value: float) -> float:
    return _Y1 - value * (_Y1 - _Y0)


def _scale(point: tuple[float, float]) -> tuple[float, float]:
    return _sx(point[0]), _sy(point[1])


def _clip(value: float) -> float:
    return min(1.0, max(0.0, value))


def _width(index: int) -> float:
    return 3.0 if index == 0 else 1.3


def _line(
    x1: float,
    y1: float,
    x2: float,
    y2: float,
    *,
    dash: str | None = None,
    width: float = 1.0,
    opacity: float | None = None,
) -> str:
    extra = f' stroke-dasharray="{dash}"' if dash else ""
    extra += f' stroke-opacity="{opacity}"' if opacity is not None else ""
    return (
        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="currentColor" '
        f'stroke-width="{width}"{extra}/>'
    )


def _polyline(
    points: Sequence[tuple[float, float]],
    *,
    dash: str | None = None,
    width: float = 1.0,
    scaled: bool = False,
) -> str:
    coords = points if scaled else [_scale(p) for p in points]
    text = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    extra = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<polyline points="{text}" fill="none" stroke="currentColor" stroke-width="{width}" '
        f'stroke-linejoin="round"{extra}/>'
    )


def _text(
    x: float,
    y: float,
    content: str,
    *,
    size: float | None = None,
    anchor: str | None = None,
    rotate: float | None = None,
    full: str | None = None,
    muted: bool = False,
) -> str:
    """A <text>; ``content`` and ``full`` (a tooltip with the uncut label) are escaped."""
    attrs = f' font-size="{size}"' if size else ""
    attrs += f' text-anchor="{anchor}"' if anchor else ""
    attrs += f' transform="rotate({rotate} {x:.1f} {y:.1f})"' if rotate else ""
    attrs += ' fill-opacity="0.7"' if muted else ""
    tip = f"<title>{escape(full)}</title>" if full is not None and full != content else ""
    return f'<text x="{x:.1f}" y="{y:.1f}"{attrs}>{tip}{escape(content)}</text>'


def _marker(shape: str, x: float, y: float, filled: bool, size: float = 4.0) -> str:
    """A marker centred on (x, y) as one <path>; open shapes keep thin curves readable."""
    s = size
    outlines = {
        "circle": f"M{x - s:.1f},{y:.1f}a{s},{s} 0 1,0 {2 * s},0a{s},{s} 0 1,0 {-2 * s},0Z",
        "square": f"M{x - s:.1f},{y - s:.1f}h{2 * s}v{2 * s}h{-2 * s}Z",
        "triangle": f"M{x:.1f},{y - s * 1.2:.1f}L{x + s * 1.1:.1f},{y + s * 0.8:.1f}"
        f"H{x - s * 1.1:.1f}Z",
        "triangle_down": f"M{x:.1f},{y + s * 1.2:.1f}L{x + s * 1.1:.1f},{y - s * 0.8:.1f}"
        f"H{x - s * 1.1:.1f}Z",
        "diamond": f"M{x:.1f},{y - s * 1.3:.1f}L{x + s:.1f},{y:.1f}L{x:.1f},{y + s * 1.3:.1f}"
        f"L{x - s:.1f},{y:.1f}Z",
        "plus": f"M{x - s * 1.2:.1f},{y:.1f}H{x + s * 1.2:.1f}M{x:.1f},{y - s * 1.2:.1f}"
        f"V{y + s * 1.2:.1f}",
        "cross": f"M{x - s:.1f},{y - s:.1f}L{x + s:.1f},{y + s:.1f}M{x - s:.1f},{y + s:.1f}"
        f"L{x + s:.1f},{y - s:.1f}",
        "star": _star(x, y, s * 1.3),
    }
    fill = "currentColor" if filled else "none"
    return f'<path d="{outlines[shape]}" fill="{fill}" stroke="currentColor" stroke-width="1.3"/>'


def _star(x: float, y: float, radius: float) -> str:
    points = []
    for i in range(10):
        r = radius if i % 2 == 0 else radius * 0.45
        angle = math.pi * i / 5 - math.pi / 2
        points.append(f"{x + r * math.cos(angle):.1f},{y + r * math.sin(angle):.1f}")
    return "M" + "L".join(points) + "Z"


def _cut(text: str, limit: int = _LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"
