"""Feature panels that plug into the main window.

Each feature (the lower-bound view, the restarts lab, presentation mode...)
lives in its own module with an ``install(window)`` function that adds its
docks, menu actions and plot overlays through the window's public handles:
``window.session``, ``window.menus``, ``window.scatter`` (a pyqtgraph
PlotWidget), ``window.loglik``, ``window.addDockWidget`` and
``window.extra_views`` (objects with ``flush()``).  The window installs them
in this order.
"""

from __future__ import annotations


def _installers() -> list:
    from emviz import export
    from emviz.ui import classroom, inside_em, lab, missing_view, session_io

    # classroom last: it restyles every plot the others created, and records
    # their line widths and sizes for presentation mode to scale and restore.
    return [
        missing_view.install,
        inside_em.install,
        lab.install,
        session_io.install,
        export.install,
        classroom.install,
    ]


def install_all(window) -> None:
    """Install every feature panel into ``window``.

    The panels' docks on the right are then stacked as tabs of one panel, so
    that opening several never makes the window taller than the screen.
    """
    for install in _installers():
        install(window)
    from PySide6 import QtWidgets
    from PySide6.QtCore import Qt

    right = [
        dock
        for dock in window.findChildren(QtWidgets.QDockWidget)
        if window.dockWidgetArea(dock) == Qt.DockWidgetArea.RightDockWidgetArea
    ]
    for dock in right[1:]:
        window.tabifyDockWidget(right[0], dock)

    def narrow(visible: bool, dock=None) -> None:
        # A dock opens at about a third of the window, leaving the plot room.
        if visible:
            width = max(360, window.width() // 3)
            window.resizeDocks([dock], [width], Qt.Orientation.Horizontal)

    for dock in right:
        dock.visibilityChanged.connect(lambda visible, d=dock: narrow(visible, d))


def scrolled(widget):
    """``widget`` in a frameless scroll area: a dock's content then needs little room.

    A dock holding a tall panel otherwise imposes the panel's minimum size on
    the main window, which grows past the screen.
    """
    from PySide6 import QtWidgets

    area = QtWidgets.QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
    area.setMinimumSize(120, 80)
    return area
