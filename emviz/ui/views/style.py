"""One type scale, one spacing unit and the plot set-up, at sizes that read on a projector.

The type scale has five steps around the base size of the window
(:data:`BASE_POINT_SIZE`): small text (legends, captions), the base, axis
titles (a point above the base, so they stand out from the tick labels),
large text (emphasised values) and headings. Presentation mode
raises the base (:data:`emviz.ui.classroom.styling.PRESENTATION_POINT_SIZE`)
and every step follows it through :func:`type_size`.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6 import QtGui

__all__ = [
    "BASE_POINT_SIZE",
    "ICON_SIZE",
    "LINE_WIDTH",
    "SPACING",
    "TYPE_STEPS",
    "configure_pyqtgraph",
    "set_axis_labels",
    "style_plot",
    "type_size",
]

#: Font size of the whole window, in points.
BASE_POINT_SIZE = 12
#: The type scale: each step's size relative to the base, in points.
TYPE_STEPS = {"small": -1, "base": 0, "label": 1, "large": 2, "heading": 6}
#: The spacing unit between widgets and around groups, in pixels (margins are twice it).
SPACING = 6
#: Toolbar icon size, in pixels, at the normal and the presentation font.
ICON_SIZE = {"normal": 22, "presentation": 36}
#: Width of the thickest plot lines, in pixels (never hairlines).
LINE_WIDTH = 3.0


def type_size(step: str = "base", base: int = BASE_POINT_SIZE) -> int:
    """The point size of ``step`` (a key of :data:`TYPE_STEPS`) for a ``base`` size."""
    return base + TYPE_STEPS[step]


def configure_pyqtgraph(background: str = "#FFFFFF", foreground: str = "#1F2328") -> None:
    """pyqtgraph's defaults: antialiased lines, and the theme's plot colours for new plots."""
    pg.setConfigOptions(antialias=True, background=background, foreground=foreground)


def style_plot(widget: pg.PlotWidget, xlabel: str = "", ylabel: str = "") -> None:
    """Large tick labels, thick axes, axis titles (the theme recolours them)."""
    font = QtGui.QFont()
    font.setPointSize(BASE_POINT_SIZE)
    item = widget.getPlotItem()
    foreground = pg.getConfigOption("foreground")
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setTickFont(font)
        axis.setPen(pg.mkPen(foreground, width=1.5))
        axis.setTextPen(pg.mkPen(foreground))
    item.getAxis("left").setWidth(72)
    set_axis_labels(widget, xlabel, ylabel)


def set_axis_labels(widget: pg.PlotWidget, xlabel: str, ylabel: str) -> None:
    """Axis titles one step above the base size, in the plot's foreground colour."""
    colour = pg.mkColor(pg.getConfigOption("foreground")).name()
    style = {"font-size": f"{type_size('label')}pt", "color": colour}
    item = widget.getPlotItem()
    item.setLabel("bottom", xlabel, **style)
    item.setLabel("left", ylabel, **style)
