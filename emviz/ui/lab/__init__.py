"""The initialisation and local-maxima lab (issue 4), plugged into the main window.

``install(window)`` returns a :class:`Lab` (the window keeps it as
``window.lab``), which adds, through the window's public handles only:

- a "Lab" menu;
- docks: Restarts (:mod:`emviz.ui.lab.restarts_view`), Ground truth
  (:mod:`emviz.ui.lab.truth_overlay`), Collapse (:mod:`emviz.ui.lab.collapse_view`)
  and Algorithms (:mod:`emviz.ui.lab.compare_view`), tabbed on the right,
  hidden until opened from the menu;
- overlays on ``window.scatter``: handles to edit the starting mixture
  (:mod:`emviz.ui.lab.start_editor`), the true ellipses, the collapse
  highlight and the three algorithms' mean paths; and the true
  log-likelihood line on ``window.loglik``.

Worker threads (restarts, and the comparison on large data) are stopped and
waited for by :meth:`Lab.shutdown`, which the window calls once when it
closes or the application quits.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import Qt

from emviz.ui.docks import add_dock, bring_to_front
from emviz.ui.lab.collapse_view import CollapseView
from emviz.ui.lab.compare_view import CompareView
from emviz.ui.lab.restarts_view import RestartsPanel
from emviz.ui.lab.start_editor import StartEditor
from emviz.ui.lab.truth_overlay import TruthOverlay, TruthPanel

__all__ = ["Lab", "install"]


class Lab(QtCore.QObject):
    """Everything the lab adds to one window, with handles for tests and scripts."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.setObjectName("lab")
        self.window = window
        self.restarts = RestartsPanel(window)
        self.editor = StartEditor(window, self)
        self.truth = TruthOverlay(window, self)
        self.truth_panel = TruthPanel(window, self.truth)
        self.collapse = CollapseView(window)
        self.compare = CompareView(window)

        sides = (
            Qt.DockWidgetArea.RightDockWidgetArea
            | Qt.DockWidgetArea.LeftDockWidgetArea
            | Qt.DockWidgetArea.BottomDockWidgetArea
        )
        self.docks: dict[str, QtWidgets.QDockWidget] = {
            key: add_dock(window, key, title, widget, areas=sides, tab_title=tab)
            for key, title, tab, widget in (
                ("restarts", "Restarts", "", self.restarts),
                ("truth", "Ground truth", "Truth", self.truth_panel),
                ("collapse", "Collapse", "", self.collapse),
                ("compare", "Algorithms", "", self.compare),
            )
        }
        docks = list(self.docks.values())
        for other in docks[1:]:
            window.tabifyDockWidget(docks[0], other)
        self._make_menu()
        window.add_views(
            self.restarts, self.editor, self.truth, self.truth_panel, self.collapse, self.compare
        )

    def _make_menu(self) -> None:
        w = self.window
        menu = w.add_menu("lab", "&Lab")
        menu.setObjectName("labMenu")
        self.menu = menu
        self.actions: dict[str, QtGui.QAction] = {}

        def dock_action(key: str, text: str, shortcut: str, tip: str) -> QtGui.QAction:
            action = self.docks[key].toggleViewAction()
            action.setText(text)
            action.setObjectName(f"lab_{key}Action")
            if shortcut:
                action.setShortcut(QtGui.QKeySequence(shortcut))
            action.setToolTip(tip)
            action.setStatusTip(tip)
            menu.addAction(action)
            self.actions[key] = action
            return action

        def toggle(key: str, text: str, tip: str, slot, checked: bool) -> QtGui.QAction:
            action = QtGui.QAction(text, w)
            action.setObjectName(f"lab_{key}Action")
            action.setCheckable(True)
            action.setChecked(checked)
            action.setToolTip(tip)
            action.setStatusTip(tip)
            action.toggled.connect(slot)
            menu.addAction(action)
            self.actions[key] = action
            return action

        dock_action(
            "restarts",
            "&Restarts…",
            "Ctrl+Shift+R",
            "Run EM from many starts and see the distinct local maxima they reach",
        )
        menu.addSeparator()
        toggle(
            "edit",
            "&Edit the starting mixture",
            "Before the first step: drag means and ellipse handles; Shift+click adds a "
            "component, Ctrl+click on a mean removes it",
            self.editor.set_enabled,
            True,
        )
        menu.addSeparator()
        toggle(
            "truth_overlay",
            "Show the &true mixture",
            "Generated data: the mixture the points came from, dashed, and its log-likelihood",
            self.truth.set_visible,
            True,
        )
        dock_action(
            "truth", "&Ground truth panel", "", "Fitted components matched to the true ones"
        )
        menu.addSeparator()
        toggle(
            "collapse_highlight",
            "&Highlight collapsing components",
            "A collapsing component's ellipse in thick red, and the points it holds ringed",
            self.collapse.set_highlight,
            True,
        )
        dock_action(
            "collapse",
            "&Collapse panel",
            "",
            "log det of every covariance over the history, reg_covar, re-initialise a component",
        )
        menu.addSeparator()

        def compare(on: bool) -> None:
            self.compare.set_enabled(on)
            if on:
                bring_to_front(self.docks["compare"])

        toggle(
            "compare_on",
            "Compare soft EM, hard EM and &k-means",
            "From the same start: the three algorithms' mean paths on the plot and their "
            "log-likelihood curves",
            compare,
            False,
        )
        dock_action("compare", "&Algorithms panel", "", "Log-likelihood of the three algorithms")

    def show_dock(self, key: str) -> QtWidgets.QDockWidget:
        return bring_to_front(self.docks[key])

    def shutdown(self) -> None:
        """Stop the lab's worker threads and wait for them (the window calls this once)."""
        self.restarts.shutdown()
        self.compare.shutdown()

    @property
    def live_threads(self) -> list:
        return self.restarts.task.live_threads + self.compare.task.live_threads


def install(window) -> Lab:
    """The lab for ``window``: the one it has (``window.lab``), else a new one."""
    return getattr(window, "lab", None) or Lab(window)
