"""The restarts lab: many EM runs from different starts, and the local maxima they reach.

:func:`emviz.core.restarts.run_restarts` runs on a worker thread (a
:class:`BackgroundTask`), with a progress bar and Cancel; the panel then
lists every run, groups them into distinct local maxima, plots the final
log-likelihoods by maximum (the spread of EM's answers at a glance) and
loads a selected run, with its whole history, into the main view.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import Signal, Slot

from emviz.core.em import iterate_em
from emviz.core.init import INIT_METHODS
from emviz.core.restarts import RestartRun, RestartsResult, run_restarts
from emviz.core.settings import Settings
from emviz.runs.tasks import BackgroundTask
from emviz.ui.docks import flow_row, labelled
from emviz.ui.lab.labels import label_fill, place_labels, point_rects
from emviz.ui.views.palette import PALETTE_HEX
from emviz.ui.views.style import style_plot

__all__ = ["RESTART_TOL", "RestartsPanel"]

#: Convergence tolerance of the restarts (and of their replay): tighter than
#: the explorer's default, so that runs reaching the same maximum end close
#: enough together to be grouped (see :func:`emviz.core.restarts.run_restarts`).
RESTART_TOL = 1e-8

_BEST = "#CC0000"
_STRIP_WIDTH = 0.30


# ----------------------------------------------------------------------------------------------
# The panel


def _item(text: str, value: float | None = None, bold: bool = False) -> QtWidgets.QTableWidgetItem:
    item = QtWidgets.QTableWidgetItem(text)
    item.setFlags(item.flags() & ~QtCore.Qt.ItemFlag.ItemIsEditable)
    if value is not None:
        item.setData(QtCore.Qt.ItemDataRole.UserRole, value)
    item.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
    if bold:
        font = item.font()
        font.setBold(True)
        item.setFont(font)
    return item


def maximum_colour(m: int) -> str:
    """Colour of local maximum ``m`` (0 = best) in the strip plot and the tables."""
    return PALETTE_HEX[m % len(PALETTE_HEX)] if m != 6 else "#555555"


class RestartsPanel(QtWidgets.QWidget):
    """Controls, results tables and the strip plot of final log-likelihoods.

    Attributes
    ----------
    result : RestartsResult or None
        The last experiment (complete or cancelled).
    task : BackgroundTask
        The worker running :func:`run_restarts`.

    Signals
    -------
    results_changed()
        A new result is shown (or the results were cleared).
    run_loaded(int)
        Run ``index`` was replayed into the main view.
    """

    results_changed = Signal()
    run_loaded = Signal(int)

    def __init__(self, window, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("restartsPanel")
        self.window_ = window
        self.session = window.session
        self.result: RestartsResult | None = None
        self._params: dict | None = None  # settings the result was computed with
        self._data = None  # the PreparedData the result belongs to
        self.selected_run: int | None = None
        self.task = BackgroundTask("restarts", self)
        self.task.progress.connect(self._on_progress)
        self.task.result.connect(self._on_result)
        self.task.failed.connect(self._on_failed)
        self.task.finished.connect(self._on_finished)
        self._build()
        self.session.data_changed.connect(self._on_data_changed)
        self.session.settings_changed.connect(self._update_caption)
        self._update_caption()
        self._update_buttons()

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)

        self.caption = QtWidgets.QLabel(objectName="restartsCaption")
        self.caption.setWordWrap(True)
        layout.addWidget(self.caption)

        self.runs_spin = QtWidgets.QSpinBox(objectName="restartsRunsSpin")
        self.runs_spin.setRange(1, 2000)
        self.runs_spin.setValue(100)
        self.runs_spin.setToolTip("How many EM runs, each from its own random start")
        self.seed_spin = QtWidgets.QSpinBox(objectName="restartsSeedSpin")
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setToolTip("Seed of the experiment: the same seed repeats every run")
        # Rows that wrap (flow_row): docked beside the plots on a 1280-pixel
        # screen the panel had 500 of the 590 pixels one row needed.
        layout.addWidget(
            flow_row(labelled("Runs", self.runs_spin), labelled("Seed", self.seed_spin))
        )
        self.method_boxes: dict[str, QtWidgets.QCheckBox] = {}
        for m in INIT_METHODS:
            box = QtWidgets.QCheckBox(m, objectName=f"restartsMethod_{m}")
            box.setChecked(m in ("kmeans++", "random_from_data"))
            box.setToolTip("Initialisation methods are used in turn, run by run")
            box.toggled.connect(self._update_buttons)
            self.method_boxes[m] = box
        layout.addWidget(flow_row(QtWidgets.QLabel("Starts"), *self.method_boxes.values()))

        self.run_button = QtWidgets.QPushButton("Run restarts", objectName="restartsRunButton")
        self.run_button.setToolTip("Run EM from every start on a worker thread")
        self.run_button.clicked.connect(self.start)
        self.cancel_button = QtWidgets.QPushButton("Cancel", objectName="restartsCancelButton")
        self.cancel_button.setToolTip("Stop after the current half-step; keep the runs done")
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QtWidgets.QProgressBar(objectName="restartsProgress")
        self.progress.setFormat("%v / %m runs")
        self.progress.setValue(0)
        self.copy_button = QtWidgets.QPushButton("Copy as code", objectName="restartsCopyButton")
        self.copy_button.setToolTip("Copy Python code that repeats the selected run with fit()")
        self.copy_button.clicked.connect(self.copy_code)
        self.copy_action = QtGui.QAction("Copy as code", self)
        self.copy_action.triggered.connect(self.copy_code)
        self.results_changed.connect(self._update_copy)
        self.run_loaded.connect(self._update_copy)
        self._update_copy()
        row = QtWidgets.QHBoxLayout()
        row.addWidget(flow_row(self.run_button, self.cancel_button, self.copy_button))
        row.addWidget(self.progress, 1)
        layout.addLayout(row)

        self.summary = QtWidgets.QLabel(objectName="restartsSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(QtCore.Qt.TextFormat.RichText)
        layout.addWidget(self.summary)

        self.plot = pg.PlotWidget(objectName="restartsPlot")
        style_plot(self.plot, "local maximum (best first)", "final log-likelihood")
        item = self.plot.getPlotItem()
        item.setMenuEnabled(False)
        item.showGrid(y=True, alpha=0.15)
        item.getAxis("left").enableAutoSIPrefix(False)
        item.getAxis("left").setWidth(90)
        self.strip = pg.ScatterPlotItem(size=12, pen=pg.mkPen("k", width=1), hoverable=True)
        self.strip.sigClicked.connect(self._on_strip_clicked)
        self.plot.addItem(self.strip)
        self.best_item = pg.ScatterPlotItem(
            symbol="star", size=26, brush=pg.mkBrush(_BEST), pen=pg.mkPen("k", width=1.5)
        )
        self.best_item.setZValue(5)
        self.plot.addItem(self.best_item)
        self.selected_item = pg.ScatterPlotItem(
            symbol="o", size=24, brush=None, pen=pg.mkPen("k", width=3)
        )
        self.selected_item.setZValue(6)
        self.plot.addItem(self.selected_item)
        self.count_labels: list[pg.TextItem] = []
        # The counts and ticks are placed in pixels: again when the plot's size changes.
        self.plot.getPlotItem().vb.sigResized.connect(lambda *_: self.place_labels())
        self.plot.setMinimumHeight(220)

        self.maxima_table = QtWidgets.QTableWidget(0, 6, objectName="restartsMaxima")
        self.maxima_table.setHorizontalHeaderLabels(
            ["maximum", "log-likelihood", "runs", "share", "converged", "degenerate"]
        )
        self.maxima_table.setToolTip(
            "Distinct solutions: runs whose final mixtures agree up to a relabelling of the "
            "components. Click one to load its best run."
        )
        self.runs_table = QtWidgets.QTableWidget(0, 8, objectName="restartsTable")
        self.runs_table.setHorizontalHeaderLabels(
            [
                "run",
                "method",
                "log-likelihood",
                "iterations",
                "converged",
                "collapsed",
                "maximum",
                "seed",
            ]
        )
        self.runs_table.setToolTip(
            "Every run, best first. Select one to replay it in the main view"
        )
        for table in (self.maxima_table, self.runs_table):
            table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
            table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
            table.verticalHeader().setVisible(False)
            table.horizontalHeader().setSectionResizeMode(
                QtWidgets.QHeaderView.ResizeMode.ResizeToContents
            )
            table.horizontalHeader().setStretchLastSection(True)
            # Its size hint is its columns' width: the dock opens wide enough
            # for every column where the screen has room.
            table.setSizeAdjustPolicy(
                QtWidgets.QAbstractScrollArea.SizeAdjustPolicy.AdjustToContents
            )
        self.runs_table.setContextMenuPolicy(QtCore.Qt.ContextMenuPolicy.ActionsContextMenu)
        self.runs_table.addAction(self.copy_action)
        self.maxima_table.itemSelectionChanged.connect(self._on_maximum_selected)
        self.runs_table.itemSelectionChanged.connect(self._on_run_selected)

        split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        split.addWidget(self.plot)
        split.addWidget(self.maxima_table)
        split.addWidget(self.runs_table)
        split.setSizes([300, 150, 260])
        layout.addWidget(split, 1)

    # ------------------------------------------------------------------ state

    @property
    def running(self) -> bool:
        return self.task.running

    @property
    def n_done(self) -> int:
        """Runs completed by the worker so far (read from the worker, not the queue)."""
        worker = self.task.worker
        return (
            worker.n_done if worker is not None else (len(self.result.runs) if self.result else 0)
        )

    def methods(self) -> tuple[str, ...]:
        return tuple(m for m, box in self.method_boxes.items() if box.isChecked())

    def _update_caption(self, *_args) -> None:
        s = self.session.settings
        name = self.session.data_name or "the data"
        self.caption.setText(
            f"EM from many starts on <b>{name}</b> with K = {s.n_components}, "
            f"{s.cov_type} covariances (from the main controls). Each run climbs to a local "
            "maximum of the likelihood; which one depends on where it starts."
        )

    def _update_buttons(self, *_args) -> None:
        running = self.running
        self.run_button.setEnabled(not running and bool(self.methods()))
        self.cancel_button.setEnabled(running)
        for w in (self.runs_spin, self.seed_spin, *self.method_boxes.values()):
            w.setEnabled(not running)

    # ------------------------------------------------------------------ running

    def start(self) -> bool:
        """Run the experiment with the values shown (the Run restarts button)."""
        s = self.session
        if s.data is None or self.running or not self.methods():
            return False
        settings = s.settings
        params = dict(
            cov_type=settings.cov_type,
            reg_covar=settings.reg_covar,
            tol=RESTART_TOL,
            max_iter=settings.max_iter,
        )
        data = s.data
        k = settings.n_components
        n_runs = self.runs_spin.value()
        methods = self.methods()
        seed = self.seed_spin.value()

        def job(progress, should_stop):
            return run_restarts(
                data,
                k,
                n_runs,
                methods=methods,
                seed=seed,
                progress=progress,
                should_stop=should_stop,
                **params,
            )

        self._pending = (params, s.data)
        self.progress.setRange(0, n_runs)
        self.progress.setValue(0)
        self.summary.setText(f"Running {n_runs} fits on a worker thread…")
        self.task.start(job)
        self._update_buttons()
        return True

    def cancel(self) -> None:
        if self.running:
            self.task.cancel()
            self.summary.setText("Cancelling…")

    def shutdown(self) -> None:
        self.task.shutdown()

    @Slot(int, int)
    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    @Slot(object)
    def _on_result(self, result: RestartsResult) -> None:
        params, data = self._pending
        if data is not self.session.data:  # the data changed meanwhile
            return
        self.set_result(result, params, data)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.summary.setText(f"Restarts failed: {message}")
        self.session.error.emit(f"Restarts failed: {message}")

    @Slot()
    def _on_finished(self) -> None:
        self._update_buttons()

    def _on_data_changed(self) -> None:
        if self.running:
            self.task.cancel()
        self.set_result(None, None, None)
        self._update_caption()

    # ------------------------------------------------------------------ results

    def set_result(self, result: RestartsResult | None, params: dict | None, data) -> None:
        """Show ``result`` (None clears the view)."""
        self.result, self._params, self._data = result, params, data
        self.selected_run = None
        self._fill_tables()
        self._draw_strip()
        self._write_summary()
        self.results_changed.emit()

    def _write_summary(self) -> None:
        r = self.result
        if r is None:
            self.summary.setText("No restarts yet.")
            self.progress.setValue(0)
            return
        n = len(r.runs)
        if not n:
            self.summary.setText("Cancelled before any run finished.")
            return
        best = r.best
        done = f"{n} of {r.n_requested} runs (cancelled)" if r.cancelled else f"{n} runs"
        plural = "um" if len(r.maxima) == 1 else "a"
        text = f"{done}: <b>{len(r.maxima)} distinct local maxim{plural}</b>. "
        if best is not None:
            text += (
                f"The best honest one, log-likelihood {best.log_likelihood:.2f} "
                f"(<span style='color:{_BEST}'>★</span>), was reached by {best.count} of {n} "
                f"runs ({100.0 * best.count / n:.0f} %)."
            )
        n_degenerate = sum(m.degenerate for m in r.maxima)
        if n_degenerate:
            what = "Every maximum is" if best is None else f"{n_degenerate} of them are"
            text += (
                f" {what} <b>degenerate</b> (✗): a component at the covariance floor or on "
                "under two points, where the likelihood grows without bound as it shrinks."
            )
        self.summary.setText(text)

    def _fill_tables(self) -> None:
        r = self.result
        for table in (self.maxima_table, self.runs_table):
            table.blockSignals(True)
            table.clearSelection()
            table.setRowCount(0)
        if r is not None and r.runs:
            n = len(r.runs)
            self.maxima_table.setRowCount(len(r.maxima))
            honest = r.best
            for m, mx in enumerate(r.maxima):
                star = mx is honest
                mark = "★ " if star else ("✗ " if mx.degenerate else "")
                first = _item(f"{mark}#{m + 1}", m, bold=star)
                first.setForeground(QtGui.QBrush(QtGui.QColor(maximum_colour(m))))
                cells = [
                    first,
                    _item(f"{mx.log_likelihood:.3f}", bold=star),
                    _item(str(mx.count)),
                    _item(f"{100.0 * mx.count / n:.0f} %"),
                    _item("yes" if mx.converged else "no (max_iter)"),
                    _item("yes: unbounded" if mx.degenerate else "no"),
                ]
                for c, cell in enumerate(cells):
                    self.maxima_table.setItem(m, c, cell)
            best = r.best_run
            self._row_of_run: dict[int, int] = {}
            self.runs_table.setRowCount(n)
            runs = {run.index: run for run in r.runs}
            for row, i in enumerate(r.order):
                run = runs[int(i)]
                m = r.maximum_of(run.index)
                is_best = run.index == best
                first = _item(f"{'★ ' if is_best else ''}{run.index + 1}", run.index, is_best)
                mcell = _item(f"#{m + 1}")
                mcell.setForeground(QtGui.QBrush(QtGui.QColor(maximum_colour(m))))
                cells = [
                    first,
                    _item(run.method),
                    _item(f"{run.log_likelihood:.3f}", bold=is_best),
                    _item(str(run.n_iter)),
                    _item("yes" if run.converged else "no"),
                    _item(", ".join(str(k + 1) for k in run.collapsed) or "—"),
                    mcell,
                    _item(str(run.seed)),
                ]
                for c, cell in enumerate(cells):
                    self.runs_table.setItem(row, c, cell)
                self._row_of_run[run.index] = row
        for table in (self.maxima_table, self.runs_table):
            table.blockSignals(False)

    def strip_positions(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """x (maximum rank + jitter), y (final log-likelihood) and run index of every dot."""
        r = self.result
        if r is None or not r.runs:
            return np.zeros(0), np.zeros(0), np.zeros(0, dtype=int)
        xs, ys, idx = [], [], []
        runs = {run.index: run for run in r.runs}
        for m, mx in enumerate(r.maxima):
            count = len(mx.runs)
            # Deterministic spread: runs of a maximum fan out across its strip.
            offsets = np.zeros(1) if count == 1 else np.linspace(-_STRIP_WIDTH, _STRIP_WIDTH, count)
            perm = np.random.default_rng(m).permutation(count)
            for j, i in enumerate(mx.runs):
                xs.append(m + 1 + offsets[perm[j]])
                ys.append(runs[i].log_likelihood)
                idx.append(i)
        return np.array(xs), np.array(ys), np.array(idx, dtype=int)

    def _draw_strip(self) -> None:
        for label in self.count_labels:
            self.plot.removeItem(label)
        self.count_labels = []
        x, y, idx = self.strip_positions()
        r = self.result
        if r is None or not len(idx):
            self.strip.setData([], [])
            self.best_item.setData([], [])
            self.selected_item.setData([], [])
            return
        brushes = {m: pg.mkBrush(maximum_colour(m)) for m in range(len(r.maxima))}
        of = {i: m for m, mx in enumerate(r.maxima) for i in mx.runs}
        # Runs of a degenerate maximum are crosses: points of an unbounded
        # likelihood, not maxima to compare with the others.
        symbols = ["x" if r.maxima[of[int(i)]].degenerate else "o" for i in idx]
        self.strip.setData(
            x=x, y=y, data=idx, brush=[brushes[of[int(i)]] for i in idx], symbol=symbols
        )
        best = r.best_run
        j = int(np.flatnonzero(idx == best)[0])
        self.best_item.setData([x[j]], [y[j]])
        fill = label_fill(self.plot)
        for m, mx in enumerate(r.maxima):
            label = pg.TextItem(f"×{mx.count}", color=maximum_colour(m), fill=fill)
            label.setToolTip(f"maximum #{m + 1}: {mx.count} runs")
            font = label.textItem.font()
            font.setPointSize(11)
            font.setBold(True)
            label.setFont(font)
            label.setPos(m + 1, mx.log_likelihood)
            label.setZValue(4)
            self.plot.addItem(label, ignoreBounds=True)
            self.count_labels.append(label)
        vb = self.plot.getPlotItem().vb
        vb.setXRange(0.4, len(r.maxima) + 0.6, padding=0)
        lo, hi = float(y.min()), float(y.max())
        pad = max(0.08 * (hi - lo), 0.5)
        vb.setYRange(lo - pad, hi + 2.5 * pad, padding=0)
        self.place_labels()
        self._draw_selected()

    def tick_step(self) -> int:
        """Label every n-th maximum on the x axis, so that no two labels "#12" touch."""
        r = self.result
        n = len(r.maxima) if r is not None else 0
        vb = self.plot.getPlotItem().vb
        axis = self.plot.getPlotItem().getAxis("bottom")
        font = axis.style.get("tickFont") or axis.font()
        width = QtGui.QFontMetrics(font).horizontalAdvance(f"#{max(n, 1)}") + 8
        (x0, x1), _ = vb.viewRange()
        per_maximum = vb.width() / max(x1 - x0, 1e-9)  # pixels between two maxima
        if per_maximum <= 0:
            return 1
        return max(1, int(np.ceil(width / per_maximum)))

    def place_labels(self) -> None:
        """Axis ticks thinned to fit; the "×n" counts above their maxima, never overlapping.

        The counts go above their maximum's dots, or higher, or beside them;
        one that fits nowhere clear of the other counts and of the dots is
        hidden (its count is in the table and the dots' tooltips). The
        best maxima are placed first.
        """
        r = self.result
        if r is None or not r.maxima:
            return
        n = len(r.maxima)
        step = self.tick_step()
        major = [(m + 1, f"#{m + 1}") for m in range(0, n, step)]
        minor = [(m + 1, "") for m in range(n) if m % step]
        self.plot.getPlotItem().getAxis("bottom").setTicks([major, minor])
        x, y, _idx = self.strip_positions()
        vb = self.plot.getPlotItem().vb
        marks = point_rects(vb, x, y, float(self.strip.opts["size"]))
        # Above the dots (centred, or extending right or left), higher, beside, below.
        above = [(ax, ay) for ay in (1.6, 2.7, 3.8) for ax in (0.5, 0.0, 1.0)]
        anchors = (*above, (-0.4, 0.5), (1.4, 0.5), (0.5, -0.6))
        place_labels(self.count_labels, anchors, vb, marks)

    def _draw_selected(self) -> None:
        x, y, idx = self.strip_positions()
        if self.selected_run is None or not len(idx):
            self.selected_item.setData([], [])
            return
        j = np.flatnonzero(idx == self.selected_run)
        if len(j):
            self.selected_item.setData([x[j[0]]], [y[j[0]]])

    # ------------------------------------------------------------------ selecting

    def _on_strip_clicked(self, _item, points, _ev=None) -> None:
        if len(points):
            self.select_run(int(points[0].data()))

    def _on_maximum_selected(self) -> None:
        rows = self.maxima_table.selectionModel().selectedRows()
        if rows and self.result is not None:
            self.select_run(self.result.maxima[rows[0].row()].best_run)

    def _on_run_selected(self) -> None:
        rows = self.runs_table.selectionModel().selectedRows()
        if rows and self.result is not None:
            item = self.runs_table.item(rows[0].row(), 0)
            self.select_run(int(item.data(QtCore.Qt.ItemDataRole.UserRole)))

    def select_run(self, index: int) -> bool:
        """Replay run ``index`` from its start and show its whole history in the main view.

        The Model panel takes the run's settings (initialisation, seed, tol,
        max_iter...) with the history, which is kept: no new start.
        """
        r = self.result
        if r is None or self._data is not self.session.data:
            return False
        runs = {run.index: run for run in r.runs}
        if index not in runs:
            return False
        run = runs[index]
        p = self._params
        history = list(
            iterate_em(
                None,
                run.start,
                data=self._data,
                cov_type=p["cov_type"],
                reg_covar=p["reg_covar"],
                tol=p["tol"],
                max_iter=p["max_iter"],
                bound=not self._data.marginal,  # no lower bound for EM with missing values
            )
        )
        settings = Settings(
            n_components=run.start.n_components,
            cov_type=p["cov_type"],
            init=run.method,
            seed=run.seed,
            reg_covar=p["reg_covar"],
            tol=p["tol"],
            max_iter=p["max_iter"],
        )
        if not self.session.set_history(history, settings):
            return False
        self.selected_run = index
        row = self._row_of_run.get(index)
        if row is not None:
            self.runs_table.blockSignals(True)
            self.runs_table.selectRow(row)
            self.runs_table.blockSignals(False)
        self._draw_selected()
        m = r.maximum_of(index)
        self.session.message.emit(
            f"Run {index + 1} ({run.method}, seed {run.seed}) loaded: "
            f"{len(history)} half-steps to local maximum #{m + 1}, "
            f"log-likelihood {run.log_likelihood:.3f}"
        )
        self.run_loaded.emit(index)
        return True

    # ------------------------------------------------------------------ copy as code

    def _update_copy(self, *_args) -> None:
        ok = self.result is not None and self.selected_run is not None
        self.copy_button.setEnabled(ok)
        self.copy_action.setEnabled(ok)

    def copy_code(self) -> str:
        """Put code that repeats the selected run on the clipboard; return it ("" if none)."""
        r = self.result
        runs = {} if r is None else {run.index: run for run in r.runs}
        if self.selected_run not in runs or self._data is not self.session.data:
            return ""
        code = run_code(runs[self.selected_run], self._params, self._data, self.session.data_name)
        QtWidgets.QApplication.clipboard().setText(code)
        self.session.message.emit(f"Code repeating run {self.selected_run + 1} copied")
        return code

    def flush(self) -> None:
        """Nothing is deferred here; present for the window's ``extra_views``."""


#: Data sets up to this many points are written into the copied code itself.
INLINE_POINTS = 2000


def run_code(run: RestartRun, params: dict, data, name: str) -> str:
    """Python code that repeats ``run`` with :func:`emviz.core.fit`.

    ``params`` are the experiment's cov_type, reg_covar, tol and max_iter,
    ``data`` the points it ran on, ``name`` their data set's (or file's) name.
    ``X`` is a bundled data set when the points are exactly one, else the
    points themselves (at most :data:`INLINE_POINTS`), else read from the file.
    """
    marginal = bool(data.marginal)
    lines = _points_code(data.X, name, marginal)
    missing = ', missing="marginalize"' if marginal else ""
    lines.append(
        f"result = fit(X, {run.start.n_components}, cov_type={params['cov_type']!r}, "
        f"init={run.method!r}, seed={run.seed}, reg_covar={params['reg_covar']!r}, "
        f"tol={params['tol']!r}, max_iter={params['max_iter']}{missing})"
    )
    lines.append(f"print(result.log_likelihoods[-1])  # {run.log_likelihood!r}")
    return "\n".join(lines) + "\n"


def _points_code(X: np.ndarray, name: str, marginal: bool) -> list[str]:
    """Lines setting ``X`` to the points EM ran on (NaN: a missing coordinate)."""
    from emviz.core.datasets import DATASETS, load_dataset

    def head(*names: str) -> list[str]:
        return ["import numpy as np", f"from emviz.core import {', '.join(('fit', *names))}", ""]

    # EM ran on the complete rows, or on every row by EM for missing values.
    keep = f"X = X[~np.isnan(X).{'all' if marginal else 'any'}(axis=1)]"
    if name in DATASETS:
        given = load_dataset(name).X
        left_out = np.isnan(given).all(axis=1) if marginal else np.isnan(given).any(axis=1)
        if np.array_equal(given[~left_out], X, equal_nan=True):
            extra = [keep] if left_out.any() else []
            return [*head("load_dataset"), f"X = load_dataset({name!r}).X", *extra]
    if len(X) <= INLINE_POINTS:
        rows = (", ".join("np.nan" if np.isnan(v) else repr(float(v)) for v in xy) for xy in X)
        return [*head(), "X = np.array([", *(f"    [{row}]," for row in rows), "])"]
    return [
        *head("load_points"),
        "# Give the path of the data file (and its columns):",
        f'X = load_points({name or "points.csv"!r}, missing="keep").X',
        keep,
    ]
