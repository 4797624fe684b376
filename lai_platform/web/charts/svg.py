"""Drawing primitives for the result pages' SVG charts: one coordinate system, escaped text.

Lines and text use ``currentColor``; series differ by dash pattern and marker shape.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH = 360
MAX_CSS_WIDTH = 480  # px: the viewBox scales to the column, but a wide page gets no giant chart

# Square plots over [0, 1] x [0, 1]: plot area in viewBox units.
X0, X1, Y0, Y1 = 50.0, 345.0, 12.0, 296.0
TICKS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)

# Series styles: index 0 is the headline series (solid, filled circle).
DASHES = (None, "7 3", "2 3", "9 3 2 3", "1 2", "12 4", "4 2 1 2 1 2", "14 3 3 3")
SHAPES = ("circle", "square", "triangle", "diamond", "triangle_down", "plus", "cross", "star")

LABEL_CHARS = 14  # longer labels are cut (the full text stays in a <title> tooltip)



def svg_root(title: str, label: str, width: float, height: float, body: list[str]) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="100%" style="max-width:{MAX_CSS_WIDTH}px;height:auto" role="img" '
        f'aria-label="{escape(label)}" class="lai-chart" font-family="system-ui, sans-serif" '
        f'font-size="11" fill="currentColor"><title>{escape(title)}</title>'
        + "".join(body)
        + "</svg>"
    )


def unavailable(title: str, reason: str) -> Markup:
    body = [
        f'<rect x="1" y="1" width="{WIDTH - 2}" height="62" fill="none" stroke="currentColor" '
        f'stroke-opacity="0.3" stroke-dasharray="4 3"/>',
        text_at(WIDTH / 2, 26, cut(title, 48), size=12, anchor="middle"),
        text_at(
            WIDTH / 2,
            46,
            f"Not available: {cut(reason, 52)}",
            size=10,
            anchor="middle",
            muted=True,
        ),
    ]
    return svg_root(title, f"{title}: not available ({reason})", WIDTH, 64, body)


def axes(x_label: str, y_label: str) -> list[str]:
    """Frame, light grid, tick labels and axis titles of a [0, 1] x [0, 1] plot."""
    parts = [
        f'<rect x="{X0}" y="{Y0}" width="{X1 - X0}" height="{Y1 - Y0}" fill="none" '
        f'stroke="currentColor" stroke-width="1"/>'
    ]
    for tick in TICKS:
        x, y = sx(tick), sy(tick)
        if 0 < tick < 1:
            parts.append(line(x, Y0, x, Y1, width=0.5, opacity=0.2))
            parts.append(line(X0, y, X1, y, width=0.5, opacity=0.2))
        parts.append(text_at(x, Y1 + 14, f"{tick:.1f}", size=10, anchor="middle"))
        parts.append(text_at(X0 - 5, y + 3.5, f"{tick:.1f}", size=10, anchor="end"))
    parts.append(text_at((X0 + X1) / 2, Y1 + 30, x_label, anchor="middle"))
    parts.append(text_at(14, (Y0 + Y1) / 2, y_label, anchor="middle", rotate=-90))
    return parts


def sx(value: float) -> float:
    return X0 + value * (X1 - X0)


def sy(value: float) -> float:
    return Y1 - value * (Y1 - Y0)


def scale(point: tuple[float, float]) -> tuple[float, float]:
    return sx(point[0]), sy(point[1])


def clip(value: float) -> float:
    return min(1.0, max(0.0, value))


def stroke_width(index: int) -> float:
    return 3.0 if index == 0 else 1.3


def line(
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


def polyline(
    points: Sequence[tuple[float, float]],
    *,
    dash: str | None = None,
    width: float = 1.0,
    scaled: bool = False,
) -> str:
    coords = points if scaled else [scale(p) for p in points]
    text = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    extra = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<polyline points="{text}" fill="none" stroke="currentColor" stroke-width="{width}" '
        f'stroke-linejoin="round"{extra}/>'
    )


def text_at(
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


def marker(shape: str, x: float, y: float, filled: bool, size: float = 4.0) -> str:
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
        "star": star(x, y, s * 1.3),
    }
    fill = "currentColor" if filled else "none"
    return f'<path d="{outlines[shape]}" fill="{fill}" stroke="currentColor" stroke-width="1.3"/>'


def star(x: float, y: float, radius: float) -> str:
    points = []
    for i in range(10):
        r = radius if i % 2 == 0 else radius * 0.45
        angle = math.pi * i / 5 - math.pi / 2
        points.append(f"{x + r * math.cos(angle):.1f},{y + r * math.sin(angle):.1f}")
    return "M" + "L".join(points) + "Z"


def cut(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"
