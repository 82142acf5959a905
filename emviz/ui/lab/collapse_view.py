"""Collapse as a teachable event.

A Gaussian component can shrink onto a few points (one, in the limit): its
covariance heads for a singular matrix and its density, hence the
likelihood, grows without bound.  EM's covariance floor (``reg_covar``)
stops it; the snapshot then lists the component as collapsing.  Here that
event is made visible:

- on the scatter plot the collapsing component's 2-sigma ellipse is drawn
  thick and red, and the points it holds are ringed in red;
- a plot of log det Sigma_k over the history shows the covariance's area
  dropping to the floor (the line at 2 log(floor));
- the status bar says what is happening;
- the remedies are at hand: a reg_covar slider (log scale, applied from the
  next M-step) and "re-initialise component k at a new point".
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets
from PySide6.QtCore import Signal

from emviz.core.geometry import ellipse_points
from emviz.core.mixture import Mixture
from emviz.core.settings import MAX_COMPONENTS
from emviz.runs.pacing import RedrawThrottle
from emviz.ui.docks import flow_row, labelled
from emviz.ui.lab.labels import label_fill, place_labels, point_rects
from emviz.ui.views.controls import FullTextComboBox
from emviz.ui.views.palette import qcolor
from emviz.ui.views.style import LINE_WIDTH, style_plot

__all__ = ["CollapseView", "held_points", "reinitialised"]

_RED = "#D00000"
#: The reg_covar slider: 10 ** (value / _STEPS_PER_DECADE).
_STEPS_PER_DECADE = 4
_SLIDER_RANGE = (-10 * _STEPS_PER_DECADE, -1 * _STEPS_PER_DECADE)
#: Points ringed for a component that holds no point outright.
_MIN_HELD = 3


def held_points(resp: np.ndarray, k: int) -> np.ndarray:
    """Indices of the points component ``k`` holds: those it is most responsible for.

    If it is the most responsible component for no point, the ``_MIN_HELD``
    points with the largest responsibility for it.
    """
    owner = np.argmax(resp, axis=1)
    idx = np.flatnonzero(owner == k)
    if len(idx):
        return idx
    return np.argsort(-resp[:, k], kind="stable")[:_MIN_HELD]


def reinitialised(mixture: Mixture, k: int, point: np.ndarray, data_cov: np.ndarray) -> Mixture:
    """``mixture`` with component ``k`` restarted at ``point`` with the data's covariance.

    Its weight becomes 1/K (the others share the rest in proportion), so it
    can win points again.  With tied covariances only the mean moves.
    """
    K = mixture.n_components
    means = mixture.means.copy()
    means[k] = point
    covs = mixture.covariances.copy()
    if mixture.cov_type != "tied":
        cov = data_cov
        if mixture.cov_type == "diag":
            cov = np.diag(np.diag(cov))
        elif mixture.cov_type == "spherical":
            cov = np.eye(2) * float(np.trace(cov)) / 2.0
        covs[k] = cov
    w = mixture.weights.copy()
    others = np.arange(K) != k
    rest = w[others].sum()
    if K > 1:
        w[others] = (w[others] / rest if rest > 0 else 1.0 / (K - 1)) * (1.0 - 1.0 / K)
    w[k] = 1.0 / K
    return Mixture(w / w.sum(), means, covs, mixture.cov_type)


class CollapseView(QtWidgets.QWidget):
    """The collapse dock (log det plot, explanation, remedies) and its scatter overlay.

    Signals
    -------
    collapse_detected(tuple)
        The snapshot shown lists collapsing components that the previous one
        shown did not (the tuple lists them all, 0-based).
    """

    collapse_detected = Signal(object)

    def __init__(self, window, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("collapsePanel")
        self.window_ = window
        self.session = window.session
        self.scatter = window.scatter
        self.highlight = True
        self.collapsing: tuple[int, ...] = ()
        self.held_points = np.zeros(0, dtype=int)
        self._rng = np.random.default_rng(12345)
        self._build()
        self._make_overlay()
        self._throttle = RedrawThrottle(self.redraw, parent=self, busy=lambda: self.session.running)
        s = self.session
        s.snapshot_changed.connect(self._throttle.request)
        s.history_changed.connect(self._throttle.request)
        s.data_changed.connect(self._throttle.request)
        s.run_state_changed.connect(self._throttle.flush)
        s.settings_changed.connect(self._sync_slider)
        s.settings_changed.connect(self._throttle.request)
        self._sync_slider()
        self.redraw()

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        self.explanation = QtWidgets.QLabel(objectName="collapseExplanation")
        self.explanation.setWordWrap(True)
        self.explanation.setTextFormat(QtCore.Qt.TextFormat.RichText)
        layout.addWidget(self.explanation)

        self.plot = pg.PlotWidget(objectName="logdetPlot")
        style_plot(self.plot, "half-step", "log det Σₖ")
        item = self.plot.getPlotItem()
        item.setMenuEnabled(False)
        item.showGrid(x=True, y=True, alpha=0.15)
        item.getAxis("left").enableAutoSIPrefix(False)
        self.curves = []
        for k in range(MAX_COMPONENTS):
            curve = pg.PlotCurveItem(pen=pg.mkPen(qcolor(k), width=LINE_WIDTH - 0.5))
            self.plot.addItem(curve)
            self.curves.append(curve)
        self.floor_line = pg.InfiniteLine(
            angle=0,
            movable=False,
            pen=pg.mkPen(_RED, width=2, style=QtCore.Qt.PenStyle.DashLine),
            label="floor (reg_covar)",
            labelOpts={"position": 0.85, "color": _RED, "anchors": [(1, 0), (1, 0)]},
        )
        self.plot.addItem(self.floor_line)
        self.cursor = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#CC0000", width=2))
        self.plot.addItem(self.cursor, ignoreBounds=True)
        self.plot.setMinimumHeight(180)
        layout.addWidget(self.plot, 1)

        remedies = QtWidgets.QGroupBox("Remedies")
        rows = QtWidgets.QVBoxLayout(remedies)
        self.reg_slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.reg_slider.setObjectName("regCovarSlider")
        self.reg_slider.setRange(*_SLIDER_RANGE)
        self.reg_slider.setPageStep(_STEPS_PER_DECADE)
        self.reg_slider.setToolTip(
            "reg_covar: the smallest variance a component may have, as a fraction of the "
            "data's variance (log scale). Applied from the next M-step"
        )
        self.reg_slider.valueChanged.connect(self._on_slider)
        # The value's width is reserved so that the slider does not jump as it changes.
        self.reg_label = _ReservedLabel("9.9e-10 × data variance", objectName="regCovarLabel")
        slider_row = QtWidgets.QHBoxLayout()
        slider_row.addWidget(QtWidgets.QLabel("reg_covar"))
        slider_row.addWidget(self.reg_slider, 1)
        slider_row.addWidget(self.reg_label)
        rows.addLayout(slider_row)
        self.component_combo = FullTextComboBox(objectName="reinitComponentCombo")
        self.component_combo.setToolTip("The component to restart")
        self.reinit_button = QtWidgets.QPushButton(
            "Re-initialise at a random point", objectName="reinitComponentButton"
        )
        self.reinit_button.setToolTip(
            "Move this component to a random data point with the data's covariance and weight "
            "1/K; the history keeps the intervention and EM goes on from there"
        )
        self.reinit_button.clicked.connect(lambda: self.reinitialise(self.chosen_component()))
        # Wraps in a narrow dock ("component 1" was cut to 103 of 135 px).
        rows.addWidget(flow_row(labelled("Component", self.component_combo), self.reinit_button))
        layout.addWidget(remedies)

    def _make_overlay(self) -> None:
        self.ellipse_items = []
        for _ in range(MAX_COMPONENTS):
            curve = pg.PlotCurveItem(pen=pg.mkPen(_RED, width=LINE_WIDTH + 3), antialias=True)
            curve.setZValue(15)
            curve.setVisible(False)
            self.scatter.addItem(curve, ignoreBounds=True)
            self.ellipse_items.append(curve)
        self.held_item = pg.ScatterPlotItem(
            symbol="o", size=22, brush=None, pen=pg.mkPen(_RED, width=2.5)
        )
        self.held_item.setZValue(25)
        self.scatter.addItem(self.held_item, ignoreBounds=True)
        # A collapsed ellipse is a dot: a ring of fixed screen size marks it.
        self.ring_item = pg.ScatterPlotItem(
            symbol="o", size=54, brush=None, pen=pg.mkPen(_RED, width=LINE_WIDTH + 1)
        )
        self.ring_item.setZValue(26)
        self.scatter.addItem(self.ring_item, ignoreBounds=True)
        self.ring_labels = []
        self._ring_count = 0
        # The labels are placed in pixels: again when the view pans, zooms or resizes.
        vb = self.scatter.getPlotItem().vb
        vb.sigRangeChanged.connect(lambda *_: self.place_ring_labels())
        vb.sigResized.connect(lambda *_: self.place_ring_labels())
        for _ in range(MAX_COMPONENTS):
            label = pg.TextItem("", color=_RED, anchor=(0.0, 2.3))
            font = label.textItem.font()
            font.setPointSize(13)
            font.setBold(True)
            label.setFont(font)
            label.setZValue(27)
            label.setVisible(False)
            self.scatter.addItem(label, ignoreBounds=True)
            self.ring_labels.append(label)

    # ------------------------------------------------------------------ reg_covar

    @staticmethod
    def slider_value(reg_covar: float) -> int:
        return int(round(np.log10(max(reg_covar, 1e-300)) * _STEPS_PER_DECADE))

    @staticmethod
    def reg_covar_of(value: int) -> float:
        return float(10.0 ** (value / _STEPS_PER_DECADE))

    def _sync_slider(self) -> None:
        reg = self.session.settings.reg_covar
        self.reg_slider.blockSignals(True)
        self.reg_slider.setValue(self.slider_value(reg))
        self.reg_slider.blockSignals(False)
        self.reg_label.setText(f"{reg:.2g} × data variance")

    def _on_slider(self, value: int) -> None:
        reg = self.reg_covar_of(value)
        if self.session.update_settings(reg_covar=reg):
            self.session.message.emit(
                f"reg_covar = {reg:.2g}: no variance below {reg:.2g} × the data's variance "
                "from the next M-step"
            )
        self._sync_slider()

    # ------------------------------------------------------------------ re-initialise

    def chosen_component(self) -> int:
        return max(self.component_combo.currentIndex(), 0)

    def reinitialise(self, k: int) -> bool:
        """Restart component ``k`` at a random data point (session.edit_mixture)."""
        s = self.session
        if not s.history or s.data is None:
            return False
        mix = s.history[s.index].mixture
        if not 0 <= k < mix.n_components:
            return False
        # Where the points are under the mixture shown: with missing values, an
        # incomplete point at its expected position (a point with NaN would
        # give the component a NaN mean and covariance).
        X, _ = s.data.points(mix)
        i = int(self._rng.integers(len(X)))
        data_cov = np.cov(X.T, bias=True) if len(X) > 1 else np.eye(2)
        floor = s.data.floor(s.settings.reg_covar)
        vals, vecs = np.linalg.eigh(np.atleast_2d(data_cov))
        data_cov = (vecs * np.maximum(vals, floor)) @ vecs.T
        new = reinitialised(mix, k, X[i], data_cov)
        if not s.edit_mixture(new):
            return False
        s.message.emit(
            f"component {k + 1} re-initialised at point {i + 1} "
            f"({X[i, 0]:.4g}, {X[i, 1]:.4g}); step on to see EM continue"
        )
        return True

    # ------------------------------------------------------------------ drawing

    def set_highlight(self, on: bool) -> None:
        self.highlight = bool(on)
        self.redraw()

    def flush(self) -> None:
        self._throttle.flush()

    def log_dets(self) -> np.ndarray:
        """log det Sigma_k of every snapshot in the history, array of shape (n_history, K)."""
        history = self.session.history
        if not history:
            return np.zeros((0, 0))
        k = history[-1].mixture.n_components
        covs = np.array([s.mixture.covariances for s in history if s.mixture.n_components == k])
        det = covs[..., 0, 0] * covs[..., 1, 1] - covs[..., 0, 1] * covs[..., 1, 0]
        return np.log(np.maximum(det, np.finfo(float).tiny))

    def redraw(self) -> None:
        s = self.session
        snap = s.history[s.index] if s.history else None
        before = self.collapsing
        self.collapsing = tuple(snap.collapsing) if snap is not None else ()
        k_now = 0 if snap is None else snap.mixture.n_components
        self._draw_overlay(snap)
        self._update_combo(k_now)
        self._write_explanation(snap)
        if self.isVisible():
            self._draw_plot()
        new = set(self.collapsing) - set(before)
        if new:
            comps = ", ".join(str(k + 1) for k in self.collapsing)
            self.window_.statusBar().showMessage(
                f"Collapse: component {comps} is shrinking onto a few points; its variance is "
                "held at the reg_covar floor. Raise reg_covar or re-initialise it "
                "(Lab › Collapse)",
                10000,
            )
            self.collapse_detected.emit(self.collapsing)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._draw_plot()

    def place_ring_labels(self) -> None:
        """Each "component k collapsing" label near its ring, clear of the rings and the others.

        Collapsing components often sit close together (several shrink onto
        the same few points): the labels then stack above one another, or go
        below or beside their ring, instead of being drawn on top of each
        other; one with no free place is hidden (the status bar and the
        panel name every collapsing component).
        """
        n = self._ring_count
        if not n or not self.highlight:
            return
        vb = self.scatter.getPlotItem().vb
        (x0, x1), _ = vb.viewRange()
        labels = self.ring_labels[:n]
        anchors = []
        for label in labels:
            # First towards the middle of the view, then the other way.
            sides = (1.0, 0.0) if label.pos().x() > 0.5 * (x0 + x1) else (0.0, 1.0)
            anchors.append(
                [(side, up) for up in (2.6, 3.7, 4.8) for side in sides]
                + [(side, -1.6) for side in sides]
            )
        ring = float(self.ring_item.opts["size"])
        xy = np.array([[label.pos().x(), label.pos().y()] for label in labels])
        place_labels(labels, anchors, vb, point_rects(vb, xy[:, 0], xy[:, 1], ring))

    def _draw_overlay(self, snap) -> None:
        show = self.highlight and snap is not None and bool(snap.collapsing)
        held = np.zeros(0, dtype=int)
        ks = [k for k in snap.collapsing if k < snap.mixture.n_components] if show else []
        if ks:
            means = snap.mixture.means[ks]
            self.ring_item.setData(means[:, 0], means[:, 1])
        else:
            self.ring_item.setData([], [])
        self._ring_count = len(ks)
        for j, label in enumerate(self.ring_labels):
            if j < len(ks):
                label.setText(f"component {ks[j] + 1} collapsing")
                label.setPos(float(means[j, 0]), float(means[j, 1]))
                label.fill = label_fill(self.scatter)  # the theme's background, behind the text
            label.setVisible(j < len(ks))
        self.place_ring_labels()
        for k, curve in enumerate(self.ellipse_items):
            on = show and k in snap.collapsing and k < snap.mixture.n_components
            if on:
                xy = ellipse_points(
                    snap.mixture.means[k], snap.mixture.covariances[k], 2.0, n_points=120
                )
                curve.setData(xy[:, 0], xy[:, 1])
            curve.setVisible(on)
        if show:
            resp = self.session.current.resp
            if resp is not None:
                held = np.unique(np.concatenate([held_points(resp, k) for k in snap.collapsing]))
        X = self.session.X
        if len(held) and X is not None:
            # Incomplete points (missing-value mode) have no position of their
            # own here; the missing-value overlay draws them.
            drawn = held[np.isfinite(X[held]).all(axis=1)]
            self.held_item.setData(X[drawn, 0], X[drawn, 1])
        else:
            self.held_item.setData([], [])
        self.held_points = held

    def _update_combo(self, k_now: int) -> None:
        combo = self.component_combo
        if combo.count() != k_now:
            combo.blockSignals(True)
            current = combo.currentIndex()
            combo.clear()
            combo.addItems([f"component {k + 1}" for k in range(k_now)])
            combo.setCurrentIndex(min(max(current, 0), k_now - 1))
            combo.blockSignals(False)
        if self.collapsing:
            combo.setCurrentIndex(self.collapsing[0])
        self.reinit_button.setEnabled(k_now > 0 and not self.session.running)

    def _write_explanation(self, snap) -> None:
        if snap is None:
            self.explanation.setText("No data.")
        elif snap.collapsing:
            comps = ", ".join(str(k + 1) for k in snap.collapsing)
            self.explanation.setText(
                f"<span style='color:{_RED}'><b>Component {comps} is collapsing.</b></span> "
                "It holds only a few points (ringed in red), so its covariance shrinks towards "
                "a flat, singular matrix and its density, hence the likelihood, could grow "
                "without bound. The floor reg_covar holds its variance up: raise it, or "
                "re-initialise the component elsewhere."
            )
        else:
            self.explanation.setText(
                "No component is collapsing. A component that shrinks onto a few points "
                "would drop to the floor line below (log det Σ cannot go lower)."
            )

    def _draw_plot(self) -> None:
        s = self.session
        logdet = self.log_dets()
        n, k = logdet.shape
        x = np.arange(n, dtype=float)
        for j, curve in enumerate(self.curves):
            if j < k:
                curve.setData(x, logdet[:, j])
                curve.setVisible(True)
            else:
                curve.setVisible(False)
        if s.data is not None:
            floor = s.data.floor(s.settings.reg_covar)
            self.floor_line.setValue(2.0 * np.log(floor))
            self.floor_line.setVisible(True)
        else:
            self.floor_line.setVisible(False)
        self.cursor.setValue(max(s.index, 0))


class _ReservedLabel(QtWidgets.QLabel):
    """A label at least as wide as ``sample`` in its current font (large type included)."""

    def __init__(self, sample: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self._sample = sample

    def _reserved(self, hint: QtCore.QSize) -> QtCore.QSize:
        return hint.expandedTo(QtCore.QSize(self.fontMetrics().horizontalAdvance(self._sample), 0))

    def minimumSizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt's name)
        return self._reserved(super().minimumSizeHint())

    def sizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt's name)
        return self._reserved(super().sizeHint())
