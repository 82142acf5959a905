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
    """Install every feature panel into ``window``."""
    for install in _installers():
        install(window)
