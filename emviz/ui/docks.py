"""Side panels of the main window: docks that scroll, stack as tabs and come to the front.

Features add their panels with :func:`add_dock`; the window calls
:func:`stack_right_docks` once every feature is installed, so that the
panels on the right share one tab stack (opening several never makes the
window taller than the screen).
"""

from __future__ import annotations

from PySide6 import QtWidgets
from PySide6.QtCore import Qt

__all__ = ["add_dock", "bring_to_front", "scrolled", "stack_right_docks"]

_MOVABLE = (
    QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetMovable
    | QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetClosable
    | QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetFloatable
)


def scrolled(widget: QtWidgets.QWidget) -> QtWidgets.QScrollArea:
    """``widget`` in a frameless scroll area: a dock's content then needs little room.

    A dock holding a tall panel otherwise imposes the panel's minimum size on
    the main window, which grows past the screen.
    """
    area = QtWidgets.QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
    area.setMinimumSize(120, 80)
    return area


def bring_to_front(dock: QtWidgets.QDockWidget) -> QtWidgets.QDockWidget:
    """Show ``dock`` and make it the current tab of its stack."""
    dock.show()
    dock.raise_()
    return dock


def add_dock(
    window: QtWidgets.QMainWindow,
    key: str,
    title: str,
    widget: QtWidgets.QWidget,
    tip: str = "",
    areas: Qt.DockWidgetArea = Qt.DockWidgetArea.AllDockWidgetAreas,
) -> QtWidgets.QDockWidget:
    """A hidden dock named ``<key>Dock`` on the right of ``window``, holding ``widget`` scrolled.

    Its toggle action (``dock.toggleViewAction()``, for the feature's menu)
    brings the panel to the front when it opens it: a panel opened behind
    the current tab looked as if the click had done nothing.
    """
    dock = QtWidgets.QDockWidget(title, window)
    dock.setObjectName(f"{key}Dock")
    dock.setWidget(scrolled(widget))
    # A floating dock is a window of its own: it does not inherit the main
    # window's (projector-sized) font.
    dock.setFont(window.font())
    dock.setFeatures(_MOVABLE)
    dock.setAllowedAreas(areas)
    if tip:
        dock.setToolTip(tip)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    dock.hide()  # opened from its menu; the main view stays roomy
    dock.toggleViewAction().triggered.connect(
        lambda checked, d=dock: bring_to_front(d) if checked else None
    )
    return dock


def stack_right_docks(window: QtWidgets.QMainWindow) -> None:
    """Stack the docks on the right of ``window`` as tabs of one panel.

    A dock opens at about a third of the window's width, leaving the plot room.
    """
    right = [
        dock
        for dock in window.findChildren(QtWidgets.QDockWidget)
        if window.dockWidgetArea(dock) == Qt.DockWidgetArea.RightDockWidgetArea
    ]
    for dock in right[1:]:
        window.tabifyDockWidget(right[0], dock)

    def narrow(visible: bool, dock: QtWidgets.QDockWidget) -> None:
        if visible:
            width = max(360, window.width() // 3)
            window.resizeDocks([dock], [width], Qt.Orientation.Horizontal)

    for dock in right:
        dock.visibilityChanged.connect(lambda visible, d=dock: narrow(visible, d))
