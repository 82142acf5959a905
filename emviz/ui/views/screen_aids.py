"""Screen aids: items drawn for the person at the screen, left out of exported pictures.

The start editor's drag handles and the ghosts of the ellipses before a step
help on screen but are not part of the snapshot a PNG, SVG, GIF or MP4
shows. Such items are marked with :func:`mark_screen_aid`; the export code
hides them while it captures (:func:`screen_aids_hidden`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from PySide6 import QtWidgets

__all__ = ["is_screen_aid", "mark_screen_aid", "screen_aids_hidden"]

#: The key of the mark in ``QGraphicsItem.data`` (any int; "EM" in ASCII).
_KEY = 0x454D


def mark_screen_aid(item: QtWidgets.QGraphicsItem) -> None:
    """Mark ``item`` as a screen aid: exports leave it out."""
    # Qt's own item data: pyqtgraph's curves and plots define a setData of their own.
    QtWidgets.QGraphicsItem.setData(item, _KEY, True)


def is_screen_aid(item: QtWidgets.QGraphicsItem) -> bool:
    return bool(QtWidgets.QGraphicsItem.data(item, _KEY))


@contextmanager
def screen_aids_hidden(scene: QtWidgets.QGraphicsScene) -> Iterator[list]:
    """While inside, the visible screen aids of ``scene`` are hidden; yields them."""
    hidden = [item for item in scene.items() if item.isVisible() and is_screen_aid(item)]
    for item in hidden:
        item.setVisible(False)
    try:
        yield hidden
    finally:
        for item in hidden:
            item.setVisible(True)
