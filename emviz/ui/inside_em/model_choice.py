"""Model choice: BIC and AIC against K, from a few EM restarts per K, on a worker thread.

For K = 1..10 (at most the number of points) :func:`emviz.core.restarts.run_restarts`
runs EM from a few seeded starts with the session's covariance type,
``reg_covar``, ``tol`` and ``max_iter``; the best run's mixture gives the
BIC and AIC (:func:`emviz.core.em.bic`, :func:`emviz.core.em.aic`).  The K of
minimum BIC is marked.  Clicking a K replays that best run from its start
with :func:`emviz.core.em.iterate_em` (the same settings, so it ends on the
same mixture) and shows the whole history in the main view.

The computation is a :class:`emviz.runs.tasks.BackgroundTask`: Cancel sets
its stop flag, polled after every half-step; :meth:`ModelChoiceView.shutdown`
stops and waits (the window's close event calls it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets
from PySide6.QtCore import QThread, Signal, Slot

from emviz.core.em import aic, bic, iterate_em
from emviz.core.mixture import Mixture
from emviz.core.restarts import run_restarts
from emviz.core.settings import MAX_COMPONENTS
from emviz.runs.tasks import BackgroundTask
from emviz.session import Session
from emviz.ui.docks import flow_row, labelled
from emviz.ui.views.style import BASE_POINT_SIZE, LINE_WIDTH, style_plot

__all__ = ["KResult", "ModelChoiceView", "model_choice_job"]

BIC_COLOUR = "#0072B2"
AIC_COLOUR = "#E69F00"
CHOSEN_COLOUR = "#009E73"
LOADED_COLOUR = "#CC0000"


@dataclass(frozen=True, eq=False)
class KResult:
    """The best of the restarts at one K."""

    k: int
    start: Mixture
    mixture: Mixture
    log_likelihood: float
    bic: float
    aic: float
    n_runs: int
    cov_type: str


def model_choice_job(data, ks, n_runs, cov_type, reg_covar, tol, max_iter, seed):
    """The restarts for each K in turn, as a :class:`~emviz.runs.tasks.BackgroundTask` job.

    Returns ``job(progress, should_stop)``, which reports each K's
    :class:`KResult` as ``progress(done, total, result)`` and returns whether
    it was cancelled.  No Qt: it runs on the task's thread.
    """
    ks = list(ks)

    def job(progress, should_stop) -> bool:
        total = len(ks) * n_runs
        done = 0
        for k in ks:
            if should_stop():
                return True
            before = done
            result = run_restarts(
                data,
                k,
                n_runs,
                cov_type=cov_type,
                seed=seed,
                reg_covar=reg_covar,
                tol=tol,
                max_iter=max_iter,
                progress=lambda d, _t, b=before: progress(b + d, total),
                should_stop=should_stop,
            )
            if result.cancelled or result.best_run is None:
                return True
            best = result.runs[result.best_run]
            done = before + n_runs
            k_result = KResult(
                k=k,
                start=best.start,
                mixture=best.mixture,
                log_likelihood=best.log_likelihood,
                bic=bic(data, best.mixture),
                aic=aic(data, best.mixture),
                n_runs=n_runs,
                cov_type=cov_type,
            )
            progress(done, total, k_result)
        return False

    return job


class ModelChoiceView(QtWidgets.QWidget):
    """Controls, progress and the BIC/AIC plot.

    ``results`` maps K to its :class:`KResult`; ``bic_curve`` and
    ``aic_curve`` draw them; ``chosen_k`` is the K of minimum BIC.
    """

    computation_finished = Signal(bool)  # cancelled

    def __init__(self, session: Session, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("modelChoiceView")
        self.session = session
        self.results: dict[int, KResult] = {}
        self.k_max = MAX_COMPONENTS
        self.seed = 0
        # The computation runs as a BackgroundTask, a child of this view (so
        # of the window, whose shutdown_tasks stops it).
        self._computing = False
        self.task = BackgroundTask("model-choice", self)
        self.task.progress.connect(self._on_progress)
        self.task.partial.connect(self._on_k_done)
        self.task.result.connect(self._on_finished)
        self.task.failed.connect(self._on_failed)

        self.runs_spin = QtWidgets.QSpinBox(objectName="restartsSpin")
        self.runs_spin.setRange(1, 20)
        self.runs_spin.setValue(3)
        self.runs_spin.setToolTip("EM runs from different starts for each K; the best one counts")
        self.compute_button = QtWidgets.QPushButton(
            "Compute BIC/AIC", objectName="computeBicButton"
        )
        self.compute_button.setToolTip(
            "Fit K = 1 to 10 with a few restarts each (on a worker thread)"
        )
        self.cancel_button = QtWidgets.QPushButton("Cancel", objectName="cancelBicButton")
        self.cancel_button.setEnabled(False)
        self.progress = QtWidgets.QProgressBar(objectName="bicProgress")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status = QtWidgets.QLabel(
            "BIC = −2 log p + p log N and AIC = −2 log p + 2p: lower is better. "
            "Compute, then click a K to load its best fit.",
            objectName="bicStatus",
        )
        self.status.setWordWrap(True)

        self.plot = pg.PlotWidget(objectName="bicPlot")
        style_plot(self.plot, "number of components K", "criterion")
        item = self.plot.getPlotItem()
        item.setMenuEnabled(False)
        item.showGrid(x=True, y=True, alpha=0.15)
        for name in ("left", "bottom"):
            item.getAxis(name).enableAutoSIPrefix(False)
        item.getAxis("left").setWidth(90)
        item.getAxis("bottom").setTicks([[(k, str(k)) for k in range(1, MAX_COMPONENTS + 1)]])
        legend = item.addLegend(offset=(-10, 10), labelTextSize=f"{BASE_POINT_SIZE - 1}pt")
        self.bic_curve = pg.PlotDataItem(
            pen=pg.mkPen(BIC_COLOUR, width=LINE_WIDTH),
            symbol="o",
            symbolSize=11,
            symbolBrush=BIC_COLOUR,
            symbolPen=pg.mkPen("k", width=1),
        )
        self.aic_curve = pg.PlotDataItem(
            pen=pg.mkPen(AIC_COLOUR, width=2.5, style=QtCore.Qt.PenStyle.DashLine),
            symbol="s",
            symbolSize=10,
            symbolBrush=AIC_COLOUR,
            symbolPen=pg.mkPen("k", width=1),
        )
        self.chosen_item = pg.ScatterPlotItem(
            symbol="star", size=28, brush=pg.mkBrush(CHOSEN_COLOUR), pen=pg.mkPen("k", width=1.5)
        )
        for it, name in (
            (self.bic_curve, "BIC"),
            (self.aic_curve, "AIC"),
            (self.chosen_item, "chosen K (min BIC)"),
        ):
            self.plot.addItem(it)
            legend.addItem(it, name)
        self.chosen_text = pg.TextItem("", color=CHOSEN_COLOUR, anchor=(-0.25, 1.3))
        font = self.chosen_text.textItem.font()
        font.setPointSize(BASE_POINT_SIZE)
        font.setBold(True)
        self.chosen_text.setFont(font)
        self.plot.addItem(self.chosen_text, ignoreBounds=True)
        self.loaded_line = pg.InfiniteLine(
            angle=90,
            movable=False,
            pen=pg.mkPen(LOADED_COLOUR, width=2, style=QtCore.Qt.PenStyle.DotLine),
        )
        self.loaded_line.setZValue(-5)
        self.plot.addItem(self.loaded_line, ignoreBounds=True)
        self.plot.scene().sigMouseClicked.connect(self._on_click)

        # A row that wraps: in a narrow dock "Compute BIC/AIC" was cut to 90 of 152 px.
        row = flow_row(
            labelled("Runs per K", self.runs_spin), self.compute_button, self.cancel_button
        )
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(row)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.plot, 1)

        self.compute_button.clicked.connect(self.compute)
        self.cancel_button.clicked.connect(self.cancel)
        session.data_changed.connect(self._on_data_changed)
        session.settings_changed.connect(self._on_settings_changed)
        self.redraw()

    # ------------------------------------------------------------ state

    @property
    def running(self) -> bool:
        return self._computing

    @property
    def thread(self) -> QThread | None:
        """The thread of the computation in progress (or just ended)."""
        return self.task.thread

    @property
    def chosen_k(self) -> int | None:
        if not self.results:
            return None
        return min(self.results.values(), key=lambda r: r.bic).k

    def flush(self) -> None:
        """Nothing is throttled here; present for the window's extra_views."""

    def plotted(self) -> dict[str, np.ndarray]:
        """K, BIC and AIC as the curves draw them."""
        k, b = self.bic_curve.getData()
        _k, a = self.aic_curve.getData()
        empty = np.zeros(0)
        return {
            "k": empty if k is None else np.asarray(k),
            "bic": empty if b is None else np.asarray(b),
            "aic": empty if a is None else np.asarray(a),
        }

    # ------------------------------------------------------------ computing

    def compute(self) -> bool:
        """Start the restarts for K = 1..k_max on a worker thread."""
        s = self.session
        if s.X is None or self.running:
            return False
        self.cancel()
        self.results = {}
        st = s.settings
        ks = range(1, min(self.k_max, s.n_samples) + 1)
        job = model_choice_job(
            s.data,
            ks,
            self.runs_spin.value(),
            st.cov_type,
            st.reg_covar,
            st.tol,
            st.max_iter,
            self.seed,
        )
        self.progress.setRange(0, len(ks) * self.runs_spin.value())
        self.progress.setValue(0)
        self.compute_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.status.setText(f"Fitting K = 1 to {len(ks)}, {self.runs_spin.value()} runs each…")
        self.redraw()
        self._computing = True
        self.task.start(job)
        return True

    def cancel(self) -> None:
        """Stop the computation; the K finished so far stay."""
        if not self._computing:
            return
        self.task.cancel()  # anything still queued from it is ignored
        self._computing = False
        self.compute_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.status.setText(f"Cancelled; {len(self.results)} K computed.")
        self.computation_finished.emit(True)

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Stop every computation and wait for its thread (the window is closing)."""
        self._computing = False
        self.task.shutdown(timeout_ms)

    @property
    def live_threads(self) -> list[QThread]:
        return self.task.live_threads

    @Slot(int, int)
    def _on_progress(self, done: int, total: int) -> None:
        if self._computing:
            self.progress.setRange(0, total)
            self.progress.setValue(done)

    @Slot(object)
    def _on_k_done(self, result: KResult) -> None:
        if not self._computing:
            return
        self.results[result.k] = result
        self.redraw()

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        if self._computing:
            self.status.setText(f"Stopped: {message}")
            self._on_finished(True)

    @Slot(object)
    def _on_finished(self, cancelled: bool) -> None:
        if not self._computing:
            return
        self._computing = False
        self.compute_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        if not cancelled:
            k = self.chosen_k
            self.status.setText(
                f"Minimum BIC at K = {k}. Click a K on the plot to load its best fit "
                "(the dotted line marks the K shown)."
            )
        self.computation_finished.emit(cancelled)

    def _on_data_changed(self) -> None:
        self.cancel()
        self.results = {}
        self.status.setText("New data: compute BIC/AIC again.")
        self.redraw()

    def _on_settings_changed(self) -> None:
        if self.results and any(
            r.cov_type != self.session.settings.cov_type for r in self.results.values()
        ):
            self.cancel()
            self.results = {}
            self.status.setText("Covariance type changed: compute BIC/AIC again.")
        self.redraw()

    # ------------------------------------------------------------ drawing

    def redraw(self) -> None:
        ks = sorted(self.results)
        k = np.array(ks, dtype=float)
        self.bic_curve.setData(k, np.array([self.results[i].bic for i in ks], dtype=float))
        self.aic_curve.setData(k, np.array([self.results[i].aic for i in ks], dtype=float))
        best = self.chosen_k
        if best is None:
            self.chosen_item.setData([], [])
            self.chosen_text.setVisible(False)
        else:
            y = self.results[best].bic
            self.chosen_item.setData([best], [y])
            self.chosen_text.setText(f"K = {best}")
            self.chosen_text.setPos(best, y)
            self.chosen_text.setVisible(True)
        self.loaded_line.setValue(self.session.settings.n_components)
        self.plot.getPlotItem().setXRange(0.5, max(ks[-1] if ks else 1, 10) + 0.5, padding=0)

    # ------------------------------------------------------------ loading

    def load_k(self, k: int) -> bool:
        """Replay the best fit at ``k`` from its start and show its history."""
        s = self.session
        result = self.results.get(int(k))
        if result is None or s.data is None:
            return False
        st = s.settings
        snaps = list(
            iterate_em(
                None,
                result.start,
                data=s.data,
                cov_type=result.cov_type,
                reg_covar=st.reg_covar,
                tol=st.tol,
                max_iter=st.max_iter,
                bound=not s.data.marginal,
            )
        )
        ok = s.set_history(snaps)
        self.redraw()
        if ok:
            s.message.emit(f"loaded the best of {result.n_runs} runs at K = {k}")
        return ok

    def _on_click(self, ev) -> None:
        if ev.button() != QtCore.Qt.MouseButton.LeftButton or not self.results:
            return
        vb = self.plot.getPlotItem().vb
        if not vb.sceneBoundingRect().contains(ev.scenePos()):
            return
        x = vb.mapSceneToView(ev.scenePos()).x()
        k = min(self.results, key=lambda kk: abs(kk - x))
        if abs(k - x) <= 0.5:
            ev.accept()
            self.load_k(k)
