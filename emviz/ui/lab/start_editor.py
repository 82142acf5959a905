"""Editing the starting mixture by hand, on the scatter plot, before the first step.

Each component gets a draggable mean (a :class:`pyqtgraph.TargetItem`) and two
handles on its 2-sigma ellipse, one at the end of each principal semi-axis.
Dragging a mean moves it; dragging an axis handle to a point at distance d
from the mean, in direction u, makes u a principal axis with 2-sigma
semi-axis d, i.e. an eigenvalue (d / 2)^2 along u, and keeps the other
axis's variance (so the drag changes size, shape and orientation at once).
Shift+click adds a component there (the data's covariance, scaled);
Ctrl+click on a mean removes that component.

The handles explain themselves: a tooltip on each, and :data:`HINT` in the
status bar when they appear and when the pointer rests on one. They are
screen aids (:mod:`emviz.ui.views.screen_aids`): exports leave them out.

Every edit goes through ``session.set_start``, so stepping starts from
exactly the mixture shown.  Covariance constraints are respected: "diag"
snaps the axis to x or y, "spherical" keeps a circle, "tied" reshapes every
component together.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore
from PySide6.QtCore import QObject, Signal

from emviz.core.mixture import Mixture
from emviz.core.settings import MAX_COMPONENTS
from emviz.ui.views.palette import qcolor
from emviz.ui.views.screen_aids import mark_screen_aid

__all__ = ["HINT", "N_STD", "StartEditor", "axis_covariance", "constrain"]

#: What the handles do, for the status bar.
HINT = (
    "Start: drag a ring to move a mean, a square to stretch or turn its ellipse; "
    "Shift+click adds a component, Ctrl+click on a mean removes it"
)
#: How long the hint stays in the status bar, in milliseconds.
HINT_MS = 10000

#: The ellipse the axis handles sit on (Mahalanobis radius).
N_STD = 2.0
#: Ctrl+click within this many pixels of a mean removes the component.
PICK_RADIUS_PX = 16
#: A new component's covariance is the data's covariance times this.
NEW_COMPONENT_SCALE = 0.25


def _perp(u: np.ndarray) -> np.ndarray:
    """``u`` turned by +90 degrees."""
    return np.array([-u[1], u[0]])


def axis_covariance(u: np.ndarray, var_u: float, var_perp: float) -> np.ndarray:
    """The covariance with eigenvalue ``var_u`` along unit ``u`` and ``var_perp`` across it."""
    v = _perp(u)
    return var_u * np.outer(u, u) + var_perp * np.outer(v, v)


def constrain(cov: np.ndarray, cov_type: str) -> np.ndarray:
    """Nearest covariance of the structure ``cov_type`` asks for (one 2x2 matrix)."""
    cov = 0.5 * (cov + cov.T)
    if cov_type == "diag":
        return np.diag(np.diag(cov))
    if cov_type == "spherical":
        return np.eye(2) * float(np.trace(cov)) / 2.0
    return cov


def _mixture(weights, means, covs, cov_type: str) -> Mixture:
    w = np.asarray(weights, dtype=float)
    return Mixture(w / w.sum(), np.asarray(means, float), np.asarray(covs, float), cov_type)


class _Handle(pg.TargetItem):
    """A TargetItem that calls ``on_hover`` when the pointer enters it."""

    def __init__(self, on_hover, **kwargs) -> None:
        super().__init__(**kwargs)
        self._on_hover = on_hover

    def hoverEvent(self, ev) -> None:  # noqa: N802 (Qt's name)
        super().hoverEvent(ev)
        if not ev.isExit() and ev.isEnter():
            self._on_hover()


class StartEditor(QObject):
    """Handles on the scatter plot that edit ``session``'s starting mixture.

    ``mean_items[k]`` and ``axis_items[k][i]`` (i = 0, 1) are the TargetItems
    of component k; they are shown only while editing is possible: editing
    on, the history at its start (one "init" snapshot shown) and no run.

    Signals
    -------
    edited()
        The start was replaced by an edited mixture.
    """

    edited = Signal()

    def __init__(self, window, parent: QObject | None = None) -> None:
        super().__init__(parent if parent is not None else window)
        self.window = window
        self.session = window.session
        self.plot = window.scatter
        self.enabled = True
        self._updating = False
        self._hint_shown = False
        # Direction of each component's first handle, so that handles keep
        # their identity when the axes' order (major/minor) swaps.
        self._dir0: list[np.ndarray | None] = [None] * MAX_COMPONENTS
        # The other axis' variance, fixed for the length of one drag.
        self._drag_other: dict[tuple[int, int], float] = {}
        self.mean_items: list[pg.TargetItem] = []
        self.axis_items: list[list[pg.TargetItem]] = []
        for k in range(MAX_COMPONENTS):
            colour = qcolor(k)
            mean = _Handle(
                self._show_hint,
                size=22,
                symbol="o",
                pen=pg.mkPen(colour, width=2.5),
                brush=pg.mkBrush(255, 255, 255, 60),
                hoverPen=pg.mkPen("k", width=3),
                hoverBrush=pg.mkBrush(colour),
            )
            mean.setZValue(40)
            mean.setToolTip(
                f"Start mean of component {k + 1}: drag to move it; Ctrl+click to remove "
                "the component"
            )
            mean.sigPositionChanged.connect(lambda _it, k=k: self._on_mean_moved(k))
            mean.sigPositionChangeFinished.connect(lambda _it: self._drag_finished())
            handles = []
            for i in range(2):
                h = _Handle(
                    self._show_hint,
                    size=13,
                    symbol="s",
                    pen=pg.mkPen("k", width=1.5),
                    brush=pg.mkBrush(colour),
                    hoverPen=pg.mkPen("k", width=3),
                    hoverBrush=pg.mkBrush("w"),
                )
                h.setZValue(41)
                h.setToolTip(
                    f"Axis handle of component {k + 1}'s starting ellipse (2 sigma): drag "
                    "to stretch or shrink it and to turn it (the other axis stays "
                    "perpendicular)"
                )
                h.sigPositionChanged.connect(lambda _it, k=k, i=i: self._on_axis_moved(k, i))
                h.sigPositionChangeFinished.connect(lambda _it: self._drag_finished())
                handles.append(h)
            for item in (mean, *handles):
                item.setVisible(False)
                mark_screen_aid(item)
                self.plot.addItem(item, ignoreBounds=True)
            self.mean_items.append(mean)
            self.axis_items.append(handles)
        self.plot.scene().sigMouseClicked.connect(self._on_click)
        self.session.snapshot_changed.connect(self.redraw)
        self.session.history_changed.connect(self.redraw)
        self.session.run_state_changed.connect(self.redraw)
        self.redraw()

    # ------------------------------------------------------------------ state

    @property
    def active(self) -> bool:
        """Whether the start can be edited now."""
        s = self.session
        return (
            self.enabled
            and s.data is not None
            and len(s.history) == 1
            and s.index == 0
            and not s.running
        )

    @property
    def start(self) -> Mixture | None:
        s = self.session
        return s.history[0].mixture if s.history else None

    def set_enabled(self, on: bool) -> None:
        self.enabled = bool(on)
        self.redraw()

    def flush(self) -> None:
        """Handles are redrawn at once; present for the window's ``extra_views``."""

    def handle_positions(self, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Mean and the two axis-handle positions of component ``k`` (each of shape (2,))."""
        mix = self.start
        mean = mix.means[k]
        u0, var0, var1 = self._axes(k, mix.covariances[k])
        r0, r1 = N_STD * np.sqrt(var0), N_STD * np.sqrt(var1)
        return mean.copy(), mean + r0 * u0, mean + r1 * _perp(u0)

    def _axes(self, k: int, cov: np.ndarray) -> tuple[np.ndarray, float, float]:
        """Unit direction of handle 0 and the variances along it and across it."""
        vals, vecs = np.linalg.eigh(cov)
        prev = self._dir0[k]
        if prev is None:
            j = int(np.argmax(vals))
        else:
            j = int(np.argmax(np.abs(vecs.T @ prev)))
        u0 = vecs[:, j]
        if prev is not None and float(u0 @ prev) < 0:
            u0 = -u0
        elif prev is None and (u0[0] < 0 or (u0[0] == 0 and u0[1] < 0)):
            u0 = -u0
        return u0, float(max(vals[j], 0.0)), float(max(vals[1 - j], 0.0))

    # ------------------------------------------------------------------ drawing

    def _show_hint(self, over_messages: bool = True) -> None:
        """Say in the window's status bar what the handles do.

        Unless ``over_messages``, only when the bar shows no message (one the
        session just gave, e.g. about loading the data, comes first).
        """
        bar = getattr(self.window, "statusBar", None)
        if not callable(bar):
            return
        if over_messages or not bar().currentMessage():
            bar().showMessage(HINT, HINT_MS)

    def _clear_hint(self) -> None:
        bar = getattr(self.window, "statusBar", None)
        if callable(bar) and bar().currentMessage() == HINT:
            bar().clearMessage()

    def redraw(self) -> None:
        active = self.active
        if active and not self._hint_shown:
            # When the handles first appear (after loading, a new start, a reset).
            self._show_hint(over_messages=False)
        elif self._hint_shown and not active:
            self._clear_hint()  # the handles are gone: so is what it says of them
        self._hint_shown = active
        mix = self.start if active else None
        k_now = 0 if mix is None else mix.n_components
        self._updating = True
        try:
            for k in range(MAX_COMPONENTS):
                shown = k < k_now
                items = (self.mean_items[k], *self.axis_items[k])
                if shown:
                    mean, h0, h1 = self.handle_positions(k)
                    self._dir0[k] = (h0 - mean) / max(np.linalg.norm(h0 - mean), 1e-300)
                    for item, p in zip(items, (mean, h0, h1), strict=True):
                        if not item.moving:
                            item.setPos(float(p[0]), float(p[1]))
                for item in items:
                    item.setVisible(shown)
        finally:
            self._updating = False

    # ------------------------------------------------------------------ edits

    def _commit(self, mixture: Mixture) -> bool:
        ok = self.session.set_start(mixture)
        if ok:
            self.edited.emit()
        return ok

    def _item_pos(self, item: pg.TargetItem) -> np.ndarray:
        p = item.pos()
        return np.array([p.x(), p.y()], dtype=float)

    def _on_mean_moved(self, k: int) -> None:
        if self._updating or not self.active:
            return
        self.move_mean(k, self._item_pos(self.mean_items[k]))

    def _on_axis_moved(self, k: int, i: int) -> None:
        if self._updating or not self.active:
            return
        self.move_axis_handle(k, i, self._item_pos(self.axis_items[k][i]))

    def _drag_finished(self) -> None:
        self._drag_other.clear()
        self.redraw()

    def move_mean(self, k: int, pos) -> bool:
        """Put the mean of component ``k`` at ``pos`` (data coordinates)."""
        mix = self.start
        means = mix.means.copy()
        means[k] = np.asarray(pos, dtype=float)
        return self._commit(_mixture(mix.weights, means, mix.covariances, mix.cov_type))

    def move_axis_handle(self, k: int, i: int, pos) -> bool:
        """Put axis handle ``i`` of component ``k`` at ``pos`` (data coordinates).

        With d = pos - mean, the new covariance has eigenvalue (|d| / N_STD)^2
        along d / |d| (the handle sits on the N_STD-sigma ellipse) and keeps
        the variance of the other axis (as it was when the drag began).
        """
        mix = self.start
        mean = mix.means[k]
        d = np.asarray(pos, dtype=float) - mean
        r = float(np.hypot(d[0], d[1]))
        if not r > 0:
            return False
        u = d / r
        key = (k, i)
        if key not in self._drag_other:
            _u0, var0, var1 = self._axes(k, mix.covariances[k])
            self._drag_other = {key: var1 if i == 0 else var0}
        var_other = self._drag_other[key]
        var_u = (r / N_STD) ** 2
        cov_type = mix.cov_type
        if cov_type == "diag":
            # Axes stay on x and y: the handle sets the variance along the nearer one.
            j = int(np.argmax(np.abs(u)))
            diag = np.diag(mix.covariances[k]).copy()
            diag[j] = (abs(d[j]) / N_STD) ** 2
            if not diag[j] > 0:
                return False
            cov = np.diag(diag)
        elif cov_type == "spherical":
            cov = var_u * np.eye(2)
        else:
            cov = axis_covariance(u, var_u, var_other)
        covs = mix.covariances.copy()
        if cov_type == "tied":
            covs[:] = cov
        else:
            covs[k] = cov
        if i == 0:
            self._dir0[k] = u
        else:
            self._dir0[k] = -_perp(u)  # handle 1 is at +90 degrees from handle 0
        if not self.axis_items[k][i].moving:  # a call, not a drag: nothing to remember
            self._drag_other.clear()
        return self._commit(_mixture(mix.weights, mix.means, covs, cov_type))

    def _new_covariance(self, mix: Mixture) -> np.ndarray:
        if mix.cov_type == "tied":
            return mix.covariances[0].copy()
        # With missing values, incomplete points at their expected positions
        # under the start (NaN would make the new covariance NaN).
        X, _ = self.session.data.points(mix)
        cov = np.cov(X.T, bias=True) if len(X) > 1 else np.eye(2)
        cov = constrain(NEW_COMPONENT_SCALE * np.atleast_2d(cov), mix.cov_type)
        floor = self.session.data.floor(self.session.settings.reg_covar)
        vals, vecs = np.linalg.eigh(cov)
        return (vecs * np.maximum(vals, floor)) @ vecs.T

    def add_component(self, pos) -> bool:
        """A new component at ``pos`` with weight 1/(K+1) and the data's covariance, scaled."""
        mix = self.start
        k = mix.n_components
        if k >= min(MAX_COMPONENTS, self.session.n_samples):
            self.session.message.emit(f"no more components: K = {k} is the most allowed here")
            return False
        weights = np.append(mix.weights * k / (k + 1.0), 1.0 / (k + 1.0))
        means = np.vstack([mix.means, np.asarray(pos, float)[None]])
        covs = np.concatenate([mix.covariances, self._new_covariance(mix)[None]])
        self._dir0[k] = None
        return self._commit(_mixture(weights, means, covs, mix.cov_type))

    def remove_component(self, k: int) -> bool:
        """Drop component ``k`` (its weight is shared out in proportion)."""
        mix = self.start
        if mix.n_components <= 1:
            self.session.message.emit("the last component cannot be removed")
            return False
        keep = np.arange(mix.n_components) != k
        self._dir0 = [d for j, d in enumerate(self._dir0) if j != k] + [None]
        return self._commit(
            _mixture(mix.weights[keep], mix.means[keep], mix.covariances[keep], mix.cov_type)
        )

    def mean_near(self, x: float, y: float) -> int | None:
        """The component whose mean is within PICK_RADIUS_PX pixels of (x, y), or None."""
        mix = self.start
        if mix is None:
            return None
        pw, ph = self.plot.getPlotItem().vb.viewPixelSize()
        d2 = ((mix.means[:, 0] - x) / pw) ** 2 + ((mix.means[:, 1] - y) / ph) ** 2
        k = int(np.argmin(d2))
        return k if d2[k] <= PICK_RADIUS_PX**2 else None

    def click_at(self, x: float, y: float, modifiers) -> bool:
        """Shift+click adds a component at (x, y); Ctrl+click on a mean removes it."""
        if not self.active or getattr(self.plot, "add_mode", False):
            return False
        mods = QtCore.Qt.KeyboardModifier
        if modifiers & mods.ShiftModifier:
            return self.add_component((x, y))
        if modifiers & mods.ControlModifier:
            k = self.mean_near(x, y)
            return k is not None and self.remove_component(k)
        return False

    def _on_click(self, ev) -> None:
        if ev.button() != QtCore.Qt.MouseButton.LeftButton:
            return
        vb = self.plot.getPlotItem().vb
        if not vb.sceneBoundingRect().contains(ev.scenePos()):
            return
        pos = vb.mapSceneToView(ev.scenePos())
        self.click_at(pos.x(), pos.y(), ev.modifiers())
