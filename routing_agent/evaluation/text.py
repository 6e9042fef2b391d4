"""Number formatting shared by the decision sentences and the reports (one style everywhere)."""

from __future__ import annotations

__all__ = ["ci", "duration", "num", "pcell", "pct", "pval", "signed", "units"]

import math


def num(x: float | None, digits: int = 3) -> str:
    """``x`` with ``digits`` significant digits (``—`` for None / non-finite)."""
    if x is None or not math.isfinite(x):
        return "—"
    if x == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(x)))
    if -4 <= magnitude < 6:
        decimals = max(digits - 1 - magnitude, 0)
        return f"{x:,.{decimals}f}"
    return f"{x:.{digits - 1}e}"


def signed(x: float | None, digits: int = 3) -> str:
    """``num`` with an explicit sign (``+0.012``, ``−0.012``)."""
    if x is None or not math.isfinite(x):
        return "—"
    text = num(abs(x), digits)
    return ("−" if x < 0 else "+") + text if x != 0 else "0"


def pct(x: float | None, digits: int = 1) -> str:
    """A share as a percentage."""
    if x is None or not math.isfinite(x):
        return "—"
    return f"{100 * x:.{digits}f}%"


def pval(p: float | None) -> str:
    """``p = 0.052`` / ``p < 0.001``."""
    if p is None or not math.isfinite(p):
        return "p = —"
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.2g}" if p < 0.1 else f"p = {p:.2f}"


def pcell(p: float | None) -> str:
    """A p-value for a table cell: ``0.052``, ``< 0.001``, ``—``."""
    return pval(p).removeprefix("p = ").removeprefix("p ")


def ci(low: float | None, high: float | None, *, sign: bool = True, digits: int = 3) -> str:
    """``[−0.024, +0.000]``; infinite bounds of one-sided intervals as ``−∞`` / ``+∞``."""

    def one(x: float | None) -> str:
        if x is None:
            return "—"
        if math.isinf(x):
            return "+∞" if x > 0 else "−∞"
        return signed(x, digits) if sign else num(x, digits)

    return f"[{one(low)}, {one(high)}]"


def units(n: int | None) -> str:
    """``3,600``."""
    return "—" if n is None else f"{n:,}"


def duration(days: float | None) -> str:
    """``2.3 days``, ``5.1 hours``, ``12 minutes``, ``40 seconds``."""
    if days is None or not math.isfinite(days):
        return "—"
    if days >= 1:
        return f"{days:,.1f} days"
    hours = days * 24
    if hours >= 1:
        return f"{hours:.1f} hours"
    minutes = hours * 60
    return f"{minutes:.0f} minutes" if minutes >= 1 else f"{minutes * 60:.0f} seconds"
