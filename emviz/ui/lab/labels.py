"""Text labels on a plot placed so that they never overlap each other or the data.

:func:`place_labels` tries each label, most important first, at a few
anchors (above its point, then higher, then beside it; slid sideways into
the plot where it sticks out) and keeps the first
position whose rectangle on the screen is inside the plot and clear of the
labels already placed and of the data's marks; a label with no such
position is hidden (its number stays in the panel's table or tooltip).
Labels get a background of the plot's colour, so a mark passing behind one
never reads as part of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui

__all__ = ["label_fill", "place_labels", "point_rects"]

#: Gap kept between two labels, and between a label and a mark, in pixels.
MARGIN = 2.0


def label_fill(plot: pg.PlotWidget, alpha: int = 215) -> QtGui.QBrush:
    """A brush of the plot's background colour, nearly opaque."""
    colour = QtGui.QColor(plot.backgroundBrush().color())
    colour.setAlpha(alpha)
    return QtGui.QBrush(colour)


def point_rects(view: pg.ViewBox, x: np.ndarray, y: np.ndarray, size: float) -> list[QtCore.QRectF]:
    """The scene rectangles of marks ``size`` pixels wide at the data points (x, y)."""
    out = []
    half = size / 2.0
    for xi, yi in zip(np.asarray(x, float), np.asarray(y, float), strict=True):
        p = view.mapViewToScene(QtCore.QPointF(float(xi), float(yi)))
        out.append(QtCore.QRectF(p.x() - half, p.y() - half, size, size))
    return out


def place_labels(
    labels: Sequence[pg.TextItem],
    anchors: Sequence[tuple[float, float]] | Sequence[Sequence[tuple[float, float]]],
    view: pg.ViewBox,
    obstacles: Iterable[QtCore.QRectF] = (),
) -> list[QtCore.QRectF]:
    """Give each label the first anchor at which it overlaps nothing; hide it if none.

    Parameters
    ----------
    labels : sequence of pyqtgraph TextItem
        In order of importance (the first is always placed if it fits in the view).
    anchors : sequence of (float, float), or one such sequence per label
        The anchors to try, in order of preference.
    view : pyqtgraph ViewBox
        The labels must lie inside its rectangle on the screen.
    obstacles : iterable of QRectF
        Scene rectangles the labels must not cover (the data's marks).

    Returns
    -------
    list of QRectF
        The scene rectangles of the labels placed (shown).
    """
    bounds = view.sceneBoundingRect()
    blocked = [QtCore.QRectF(r) for r in obstacles]
    placed: list[QtCore.QRectF] = []
    for i, label in enumerate(labels):
        tries = anchors[i] if anchors and isinstance(anchors[0][0], tuple | list) else anchors
        label.setVisible(True)
        ok = False
        for anchor in tries:
            rect = _anchor(label, anchor)
            # Slid sideways into the view if it sticks out on one side.
            shift = 0.0
            if rect.left() < bounds.left():
                shift = bounds.left() - rect.left()
            elif rect.right() > bounds.right():
                shift = bounds.right() - rect.right()
            if shift and rect.width() <= bounds.width():
                rect = _anchor(label, (anchor[0] - shift / rect.width(), anchor[1]))
            padded = rect.adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)
            if not bounds.contains(rect):
                continue
            if any(padded.intersects(other) for other in placed + blocked):
                continue
            placed.append(rect)
            ok = True
            break
        label.setVisible(ok)
    return placed


def _anchor(label: pg.TextItem, anchor: tuple[float, float]) -> QtCore.QRectF:
    """Set ``label``'s anchor; its rectangle in the scene."""
    label.setAnchor(anchor)
    label.updateTransform(force=True)
    return label.sceneBoundingRect()
