"""Sizes that read on a projector: fonts, line widths, plot setup."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6 import QtGui

__all__ = ["BASE_POINT_SIZE", "LINE_WIDTH", "style_plot"]

#: Font size of the whole window, in points.
BASE_POINT_SIZE = 12
#: Width of the thickest plot lines, in pixels (never hairlines).
LINE_WIDTH = 3.0


def configure_pyqtgraph() -> None:
    pg.setConfigOptions(antialias=True, background="w", foreground="k")


def style_plot(widget: pg.PlotWidget, xlabel: str = "", ylabel: str = "") -> None:
    """Large tick labels, thick axes, axis titles."""
    font = QtGui.QFont()
    font.setPointSize(BASE_POINT_SIZE)
    item = widget.getPlotItem()
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setTickFont(font)
        axis.setPen(pg.mkPen("k", width=1.5))
        axis.setTextPen(pg.mkPen("k"))
    item.getAxis("left").setWidth(72)
    set_axis_labels(widget, xlabel, ylabel)


def set_axis_labels(widget: pg.PlotWidget, xlabel: str, ylabel: str) -> None:
    style = {"font-size": f"{BASE_POINT_SIZE + 1}pt", "color": "#000"}
    item = widget.getPlotItem()
    item.setLabel("bottom", xlabel, **style)
    item.setLabel("left", ylabel, **style)
