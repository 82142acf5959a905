"""Inside EM: the lower bound, the M-step's formulas, paths, density and model choice.

``install(window)`` adds to the main window

- four dock widgets (movable, closable, listed in an "Inside EM" menu to
  show them again): the lower-bound view (:mod:`emviz.ui.inside_em.bound_view`),
  why the M-step climbs (:mod:`emviz.ui.inside_em.slice_view`), the formulas
  panel (:mod:`emviz.ui.inside_em.formulas_view`) and the model choice
  (:mod:`emviz.ui.inside_em.model_choice`);
- two overlays on the scatter plot: mean paths (:mod:`emviz.ui.inside_em.trails`) and
  the mixture density (:mod:`emviz.ui.inside_em.density`), toggled from the same menu;

and registers everything that redraws with ``window.add_views``.  The
window keeps the returned :class:`InsideEM` as ``window.inside_em``.
"""

from __future__ import annotations

from PySide6 import QtGui, QtWidgets
from PySide6.QtCore import Qt

from emviz.ui.docks import add_dock, bring_to_front
from emviz.ui.inside_em.bound_view import BoundView
from emviz.ui.inside_em.density import DensityOverlay
from emviz.ui.inside_em.formulas_view import FormulasView
from emviz.ui.inside_em.model_choice import ModelChoiceView
from emviz.ui.inside_em.slice_view import SliceView
from emviz.ui.inside_em.trails import TrailsOverlay

__all__ = ["InsideEM", "install"]


class InsideEM:
    """What :func:`install` added: docks, views, overlays, menu and actions."""

    def __init__(self, window) -> None:
        s = window.session
        self.window = window
        self.bound_view = BoundView(s)
        self.slice_view = SliceView(s)
        # Presentation mode's strip can show the slice in place of the
        # log-likelihood (Inside EM > Bound slice in the presentation strip).
        self.strip_slice = SliceView(s, compact=True)
        self.strip_slice.hide()
        window.layout_parts.bottom_split.addWidget(self.strip_slice)
        self.formulas_view = FormulasView(s)
        self.model_choice = ModelChoiceView(s)
        self.trails = TrailsOverlay(s, window.scatter)
        self.density = DensityOverlay(s, window.scatter)

        self.docks: dict[str, QtWidgets.QDockWidget] = {
            # Short tab titles (the full one in the menu and the tooltip):
            # with several panels open, the tabs stay readable.
            key: add_dock(window, key, title, widget, tip, tab_title=tab)
            for key, title, tab, widget, tip in (
                ("bound", "Lower bound", "", self.bound_view,
                 "log p = L + KL after every half-step"),
                ("slice", "Why the M-step climbs", "Climb", self.slice_view,
                 "log p and the bound L along the line through the M-step"),
                ("formulas", "M-step formulas", "Formulas", self.formulas_view,
                 "The formulas with live numbers"),
                ("model", "Model choice (BIC/AIC)", "BIC/AIC", self.model_choice,
                 "BIC and AIC against K"),
            )
        }  # fmt: skip
        window.tabifyDockWidget(self.docks["bound"], self.docks["model"])

        self.menu = window.add_menu("inside_em", "&Inside EM")
        self.menu.setObjectName("insideEmMenu")
        self.actions: dict[str, QtGui.QAction] = {}
        for key, dock in self.docks.items():
            action = dock.toggleViewAction()
            action.setObjectName(f"{key}DockAction")
            action.setToolTip(f"Show or hide the {action.text()} panel")
            self.menu.addAction(action)
            self.actions[f"{key}_dock"] = action
        self.menu.addSeparator()
        self._check(
            "trails",
            "Mean &paths",
            "T",
            "Trails of the means up to the step shown, fading with age",
            self.trails.set_enabled,
        )
        self._check(
            "past_ellipses",
            "Past &ellipses (faint)",
            "",
            "The 1-sd ellipses of earlier M-steps, faintly",
            self._set_past_ellipses,
        )
        self._check(
            "heatmap",
            "&Density heat map",
            "D",
            "The mixture density of the step shown, under the points",
            self.density.set_heatmap,
        )
        self._check(
            "contours",
            "Density &contours",
            "",
            "Contours holding 25, 50, 75 and 95 % of the mass",
            self.density.set_contours,
        )
        self._check(
            "slice_strip",
            "&Bound slice in the presentation strip",
            "",
            "In presentation mode, why the M-step climbs in place of the log-likelihood strip",
            self._set_slice_strip,
        )
        window.menus["view"].addSeparator()
        for key in ("trails", "heatmap", "contours"):
            window.menus["view"].addAction(self.actions[key])
        window.add_views(
            self.bound_view,
            self.slice_view,
            self.strip_slice,
            self.formulas_view,
            self.model_choice,
            self.trails,
            self.density,
        )

    def _check(self, key, text, shortcut, tip, slot) -> QtGui.QAction:
        action = QtGui.QAction(text, self.window)
        action.setObjectName(f"{key}Action")
        action.setCheckable(True)
        if shortcut:
            action.setShortcut(QtGui.QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            tip = f"{tip} ({shortcut})"
        action.setToolTip(tip)
        action.setStatusTip(tip)
        action.toggled.connect(slot)
        self.window.addAction(action)
        self.menu.addAction(action)
        self.actions[key] = action
        return action

    def _set_slice_strip(self, on: bool) -> None:
        classroom = self.window.features.get("classroom")
        if classroom is not None:
            classroom.presentation_layout.use_strip(self.strip_slice if on else None)

    def _set_past_ellipses(self, on: bool) -> None:
        self.trails.set_ellipses(on)
        if on and not self.trails.enabled:
            self.actions["trails"].setChecked(True)

    def show_docks(self, *keys: str) -> None:
        """Show the named docks ("bound", "formulas", "model"), or all: every one stays open."""
        for key in keys or tuple(self.docks):
            bring_to_front(self.docks[key], make_room=False)

    def shutdown(self) -> None:
        """Stop the model-choice worker (the window calls this once, when it closes)."""
        self.model_choice.shutdown()


def install(window) -> InsideEM:
    """Add the Inside-EM docks, overlays and menu to ``window``; returns the handles.

    A window that has them already (``window.inside_em``) keeps them.
    """
    return getattr(window, "inside_em", None) or InsideEM(window)
