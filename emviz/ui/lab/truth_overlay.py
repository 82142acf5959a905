"""The ground truth of generated data, beside the fit.

When the points were drawn from a known mixture (``session.truth``), its
components are drawn as dashed black 2-sigma ellipses with their means
labelled T1, T2, ...; its log-likelihood is a horizontal line on the
log-likelihood plot (EM's curve can end above it: the maximum-likelihood
fit explains the sample better than the mixture that made it); and a
table pairs every fitted component with a true one (Hungarian matching on
the Bhattacharyya distance, so label permutations do not matter) and
shows the parameter errors of each pair.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from emviz.core.geometry import ellipse_points
from emviz.core.matching import ParameterErrors, match_components, parameter_errors
from emviz.core.settings import MAX_COMPONENTS
from emviz.runs.pacing import RedrawThrottle
from emviz.ui.views.palette import qcolor

__all__ = ["TruthOverlay", "TruthPanel"]

_TRUTH = "#222222"
_N_STD = 2.0


def _truth_pen(colour: str = _TRUTH) -> QtGui.QPen:
    pen = pg.mkPen(colour, width=2.5, style=QtCore.Qt.PenStyle.CustomDashLine)
    pen.setDashPattern([5.0, 3.0])
    return pen


class TruthOverlay(QtCore.QObject):
    """Dashed true ellipses on the scatter plot and the true log-likelihood line.

    Attributes
    ----------
    curves : list of PlotCurveItem
        One per true component (hidden beyond the truth's K).
    loglik_line : InfiniteLine
        On ``window.loglik``, at log p(X | truth).
    true_log_likelihood : float or None
    """

    def __init__(self, window, parent=None) -> None:
        super().__init__(parent if parent is not None else window)
        self.session = window.session
        self.plot = window.scatter
        self.visible = True
        self.true_log_likelihood: float | None = None
        pen = _truth_pen()
        self.curves = []
        self.labels = []
        for k in range(MAX_COMPONENTS):
            curve = pg.PlotCurveItem(pen=pen, antialias=True)
            curve.setZValue(12)
            curve.setVisible(False)
            self.plot.addItem(curve, ignoreBounds=True)
            self.curves.append(curve)
            label = pg.TextItem(f"T{k + 1}", color=_TRUTH, anchor=(-0.15, 1.0))
            font = label.textItem.font()
            font.setPointSize(12)
            font.setBold(True)
            label.setFont(font)
            label.setZValue(13)
            label.setVisible(False)
            self.plot.addItem(label, ignoreBounds=True)
            self.labels.append(label)
        self.means_item = pg.ScatterPlotItem(
            symbol="x", size=18, brush=pg.mkBrush(_TRUTH), pen=pg.mkPen(_TRUTH, width=1)
        )
        self.means_item.setZValue(13)
        self.plot.addItem(self.means_item, ignoreBounds=True)
        self.loglik_line = pg.InfiniteLine(
            angle=0,
            movable=False,
            pen=_truth_pen(),
            label="true mixture {value:.1f}",
            labelOpts={"position": 0.15, "color": _TRUTH, "anchors": [(0, 1), (0, 1)]},
        )
        self.loglik_line.setZValue(-4)
        self.loglik_line.setVisible(False)
        window.loglik.addItem(self.loglik_line, ignoreBounds=True)
        self.session.data_changed.connect(self.update_truth)
        self.update_truth()

    def set_theme(self, foreground: str) -> None:
        """Draw the truth in ``foreground`` (near-black on light, near-white on dark)."""
        colour = _TRUTH if foreground.lower() in ("#000000", "#000", "black") else foreground
        pen = _truth_pen(colour)
        for curve, label in zip(self.curves, self.labels, strict=True):
            curve.setPen(pen)
            label.setColor(colour)
        self.means_item.setPen(pg.mkPen(colour, width=1))
        self.means_item.setBrush(pg.mkBrush(colour))
        self.loglik_line.setPen(pen)
        self.loglik_line.label.setColor(colour)

    def set_visible(self, on: bool) -> None:
        self.visible = bool(on)
        self.update_truth()

    def flush(self) -> None:
        """Drawn at once; present for the window's ``extra_views``."""

    def update_truth(self) -> None:
        s = self.session
        truth = s.truth
        shown = self.visible and truth is not None and s.data is not None
        self.true_log_likelihood = (
            float(s.data.e_step(truth)[1]) if truth is not None and s.data is not None else None
        )
        k_true = truth.n_components if shown else 0
        for k in range(MAX_COMPONENTS):
            on = k < k_true
            if on:
                xy = ellipse_points(truth.means[k], truth.covariances[k], _N_STD, n_points=120)
                self.curves[k].setData(xy[:, 0], xy[:, 1])
                self.labels[k].setPos(float(truth.means[k, 0]), float(truth.means[k, 1]))
            self.curves[k].setVisible(on)
            self.labels[k].setVisible(on)
        if shown:
            self.means_item.setData(truth.means[:, 0], truth.means[:, 1])
            self.loglik_line.setValue(self.true_log_likelihood)
        else:
            self.means_item.setData([], [])
        self.means_item.setVisible(shown)
        self.loglik_line.setVisible(shown)
        if shown:
            # pyqtgraph updates a label's text only while it is visible: the
            # value set while the line was hidden would otherwise show as 0.
            self.loglik_line.label.valueChanged()


class TruthPanel(QtWidgets.QWidget):
    """Fitted components matched to the true ones, with their parameter errors."""

    def __init__(self, window, overlay: TruthOverlay, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("truthPanel")
        self.session = window.session
        self.overlay = overlay
        self.errors: ParameterErrors | None = None
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        self.label = QtWidgets.QLabel(objectName="truthLabel")
        self.label.setWordWrap(True)
        self.label.setTextFormat(QtCore.Qt.TextFormat.RichText)
        layout.addWidget(self.label)
        self.table = QtWidgets.QTableWidget(0, 6, objectName="truthTable")
        self.table.setHorizontalHeaderLabels(
            ["fit", "true", "π fit / true", "|Δπ|", "‖Δμ‖", "‖ΔΣ‖F"]
        )
        self.table.setToolTip(
            "Each fitted component paired with a true one (the pairing that minimises the "
            "total Bhattacharyya distance), and the errors of its parameters"
        )
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(
            QtWidgets.QHeaderView.ResizeMode.ResizeToContents
        )
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        layout.addWidget(self.table, 1)
        self.setMinimumWidth(440)
        self._throttle = RedrawThrottle(self.redraw, parent=self, busy=lambda: self.session.running)
        self.session.snapshot_changed.connect(self._throttle.request)
        self.session.data_changed.connect(self._throttle.request)
        self.session.run_state_changed.connect(self._throttle.flush)
        self.redraw()

    def flush(self) -> None:
        self._throttle.flush()

    def redraw(self) -> None:
        s = self.session
        truth = s.truth
        snap = s.history[s.index] if s.history else None
        if truth is None or snap is None:
            self.errors = None
            self.table.setRowCount(0)
            self.label.setText(
                "No ground truth: these data were not generated from a known mixture "
                "(File › Generate… makes some)."
            )
            return
        fitted = snap.mixture
        perm = match_components(fitted, truth)
        err = parameter_errors(fitted, truth, perm)
        self.errors = err
        true_ll = self.overlay.true_log_likelihood
        gap = snap.log_likelihood - true_ll
        self.label.setText(
            f"log-likelihood: fit <b>{snap.log_likelihood:.2f}</b>, true mixture "
            f"<b>{true_ll:.2f}</b> ({'+' if gap >= 0 else '−'}{abs(gap):.2f}). "
            "True ellipses: dashed black, means T1, T2, …"
        )
        self.table.setRowCount(fitted.n_components)
        for i in range(fitted.n_components):
            j = int(err.perm[i])
            cells = [
                f"{i + 1}",
                f"T{j + 1}" if j >= 0 else "—",
                f"{fitted.weights[i]:.3f} / {truth.weights[j]:.3f}" if j >= 0 else "—",
                f"{err.weights[i]:.3g}",
                f"{err.means[i]:.3g}",
                f"{err.covariances[i]:.3g}",
            ]
            for c, text in enumerate(cells):
                item = QtWidgets.QTableWidgetItem(text)
                if c == 0:
                    item.setForeground(QtGui.QBrush(qcolor(i)))
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(i, c, item)

    def matching(self) -> np.ndarray | None:
        """perm[i]: the true component fitted component i is paired with (None: no truth)."""
        return None if self.errors is None else self.errors.perm
