"""A few SVG primitives for the report's charts: scales, ticks, axes, marks. Plain strings, no dependency.

Charts are inline ``<svg>`` elements with a ``viewBox`` (they scale with the page), a ``<title>`` for screen
readers, and text in the page's font. Nothing is fetched and no script runs, so the page opens offline and
cannot log a console error.
"""

from __future__ import annotations

__all__ = [
    "PALETTE",
    "Frame",
    "Scale",
    "circle",
    "document",
    "esc",
    "line",
    "log_ticks",
    "nice_ticks",
    "path",
    "rect",
    "text",
]

import math
from dataclasses import dataclass
from html import escape

PALETTE = ("#1f6feb", "#d1570f", "#2da44e", "#8250df", "#bf3989", "#6e7781")
"""Variant colours: control first (blue), then the test arms."""


def esc(value: object) -> str:
    """Text escaped for SVG/HTML content and attributes."""
    return escape(str(value), quote=True)


def _f(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".") if math.isfinite(x) else "0"


@dataclass(frozen=True)
class Scale:
    """Maps a data interval onto a pixel interval, linearly or on a log10 axis."""

    lo: float
    hi: float
    start: float
    end: float
    log: bool = False

    def __call__(self, x: float) -> float:
        lo, hi, v = self.lo, self.hi, x
        if self.log:
            lo, hi, v = math.log10(lo), math.log10(hi), math.log10(max(x, self.lo / 1e3))
        span = hi - lo or 1.0
        t = min(max((v - lo) / span, -0.05), 1.05)
        return self.start + t * (self.end - self.start)


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering [lo, hi] (1, 2, 2.5 or 5 × 10ⁿ steps)."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks, value = [], first
    while value <= hi + 1e-9 * step:
        ticks.append(round(value, 12))
        value += step
    return ticks


def log_ticks(lo: float, hi: float) -> list[float]:
    """Powers of ten (and 2×, 5× when few) between lo and hi."""
    out: list[float] = []
    for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1):
        out.extend(m * 10.0**e for m in (1, 2, 5))
    inside = [t for t in out if lo <= t <= hi]
    return inside if len(inside) <= 8 else [t for t in inside if math.log10(t).is_integer()]


def line(
    x1: float, y1: float, x2: float, y2: float, *, color: str = "#8c959f", width: float = 1, dash: str = ""
) -> str:
    """A straight line."""
    extra = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<line x1="{_f(x1)}" y1="{_f(y1)}" x2="{_f(x2)}" y2="{_f(y2)}" stroke="{color}" '
        f'stroke-width="{width:g}"{extra}/>'
    )


def path(points: list[tuple[float, float]], color: str, *, width: float = 2, dash: str = "") -> str:
    """A polyline through ``points``."""
    if not points:
        return ""
    d = "M" + " L".join(f"{_f(x)},{_f(y)}" for x, y in points)
    extra = f' stroke-dasharray="{dash}"' if dash else ""
    return f'<path d="{d}" fill="none" stroke="{color}" stroke-width="{width:g}"{extra}/>'


def rect(x: float, y: float, w: float, h: float, color: str, *, opacity: float = 1.0) -> str:
    """A filled rectangle."""
    return (
        f'<rect x="{_f(x)}" y="{_f(y)}" width="{_f(max(w, 0))}" height="{_f(max(h, 0))}" fill="{color}" '
        f'fill-opacity="{opacity:g}"/>'
    )


def circle(x: float, y: float, r: float, color: str) -> str:
    """A filled dot."""
    return f'<circle cx="{_f(x)}" cy="{_f(y)}" r="{r:g}" fill="{color}"/>'


def text(
    x: float, y: float, value: object, *, anchor: str = "start", size: int = 12, color: str = "#24292f",
    weight: str = "normal",
) -> str:  # fmt: skip
    """A text label."""
    return (
        f'<text x="{_f(x)}" y="{_f(y)}" text-anchor="{anchor}" font-size="{size}" fill="{color}" '
        f'font-weight="{weight}">{esc(value)}</text>'
    )


@dataclass(frozen=True)
class Frame:
    """A chart's canvas and plotting area (pixels)."""

    width: int = 720
    height: int = 260
    left: int = 70
    right: int = 20
    top: int = 30
    bottom: int = 42

    @property
    def x0(self) -> float:
        return float(self.left)

    @property
    def x1(self) -> float:
        return float(self.width - self.right)

    @property
    def y0(self) -> float:
        return float(self.height - self.bottom)

    @property
    def y1(self) -> float:
        return float(self.top)


def document(frame: Frame, title: str, body: list[str], *, css_class: str = "chart") -> str:
    """The ``<svg>`` element: title for screen readers, a white background, the marks."""
    return (
        f'<svg class="{css_class}" viewBox="0 0 {frame.width} {frame.height}" role="img" '
        f'aria-label="{esc(title)}" xmlns="http://www.w3.org/2000/svg"><title>{esc(title)}</title>'
        f'<rect x="0" y="0" width="{frame.width}" height="{frame.height}" fill="#ffffff"/>'
        + "".join(body)
        + "</svg>"
    )
