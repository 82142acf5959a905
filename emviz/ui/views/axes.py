"""A value axis whose tick labels stay short for the large numbers EM produces.

The log-likelihood of a large data set runs into the millions: pyqtgraph
labels -1,715,260 as "-1.71526e+06", wider than a plot's left margin, and
the labels ran into the axis title.  The labels here drop the exponent's
"+" and leading zeros ("-1.71526e6"), use plain decimals below 1e5, and
give each label just the significant digits that tell the ticks apart.
"""

from __future__ import annotations

import math

import pyqtgraph as pg

__all__ = ["CompactAxis", "compact_exponent", "compact_tick_strings", "power_tick_strings"]

# Magnitudes at or above this are written in scientific notation.
_SCIENTIFIC_FROM = 1e5
# And below this (but not 0).
_SCIENTIFIC_BELOW = 1e-3


def compact_exponent(text: str) -> str:
    """'-1.5e+06' -> '-1.5e6', '2.0e-05' -> '2.0e-5'."""
    mantissa, _, exponent = text.partition("e")
    if not exponent:
        return text
    return f"{mantissa}e{int(exponent)}"


def compact_tick_strings(values: list[float], spacing: float) -> list[str]:
    """Labels for ticks at ``values``, ``spacing`` apart.

    Parameters
    ----------
    values : list of float
        The tick positions (already scaled).
    spacing : float
        The distance between neighbouring ticks, > 0.

    Returns
    -------
    list of str
        One label per value: plain decimals with as many places as the
        spacing needs, or, at magnitudes of 1e5 and more (or below 1e-3),
        scientific notation with as many significant digits as the spacing
        needs and a compact exponent.
    """
    if not (spacing > 0 and math.isfinite(spacing)):
        return [f"{v:g}" for v in values]
    # Digits after the spacing's leading one that it needs (pyqtgraph's
    # spacings are 1, 2 or 5 times a power of ten: none; 0.25 needs one).
    lead = math.floor(math.log10(spacing))
    extra = 0
    while extra < 3 and abs(round(spacing, extra - lead) - spacing) > 1e-9 * spacing:
        extra += 1
    places = max(0, extra - lead)
    out = []
    for v in values:
        size = abs(v)
        if v == 0:
            out.append("0")
            continue
        if _SCIENTIFIC_BELOW <= size < _SCIENTIFIC_FROM:
            out.append(f"{v:.{places}f}")
            continue
        # Digits of the mantissa after the point: down to the spacing's
        # leading digit, so that neighbouring labels differ.
        decimals = max(0, math.floor(math.log10(size)) - lead + extra)
        out.append(compact_exponent(f"{v:.{decimals}e}"))
    return out


def power_tick_strings(values: list[float]) -> list[str]:
    """Labels of ticks on a log10 scale: the value 10**v of each position v.

    Whole powers read "1e-3", "0.01", "1", "100"; positions between them
    "3e-3", "0.05", "20" (one significant digit, enough between two powers).
    """
    out = []
    for v in values:
        x = 10.0**v
        if 1e-2 <= x <= 1e3:
            out.append(f"{float(f'{x:.2g}'):g}")
        elif abs(v - round(v)) < 1e-6:
            out.append(f"1e{round(v)}")
        else:
            out.append(compact_exponent(f"{x:.0e}"))
    return out


class CompactAxis(pg.AxisItem):
    """A pyqtgraph axis labelled by :func:`compact_tick_strings` (linear scale only).

    Parameters
    ----------
    orientation : {"left", "right", "top", "bottom"}
    min_width : int, optional
        For a left or right axis with no fixed width: it grows to fit its
        labels (pyqtgraph's own sizing) but is never narrower than this, so
        that short labels do not make the plot jump.
    """

    def __init__(self, orientation: str, *, min_width: int = 0, **kwargs) -> None:
        self.min_width = min_width
        #: The positions are log10 of the values labelled (the data were
        #: transformed by the plot; pyqtgraph's own log mode is left off, as
        #: it would transform the items' data a second time).
        self.powers_of_ten = False
        super().__init__(orientation, **kwargs)

    def set_powers_of_ten(self, on: bool) -> None:
        """Label the positions v as 10**v (on) or as they are (off)."""
        if bool(on) != self.powers_of_ten:
            self.powers_of_ten = bool(on)
            self.picture = None
            self.update()

    def tickStrings(self, values, scale, spacing):  # noqa: N802 (pyqtgraph's name)
        if self.logMode:
            return super().tickStrings(values, scale, spacing)
        if self.powers_of_ten:
            return power_tick_strings([v * scale for v in values])
        return compact_tick_strings([v * scale for v in values], spacing * scale)

    def _updateWidth(self) -> None:  # noqa: N802 (pyqtgraph's name)
        super()._updateWidth()
        if self.fixedWidth is None and self.isVisible() and self.maximumWidth() < self.min_width:
            self.setMaximumWidth(self.min_width)
            self.setMinimumWidth(self.min_width)
