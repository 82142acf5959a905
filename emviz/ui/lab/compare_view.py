"""Soft EM, hard (classification) EM and k-means from the same start, side by side.

From the session's starting mixture the three algorithms are run to the
end: soft EM (:func:`iterate_em`), classification EM (``iterate_em(...,
assignment="hard")``) and Lloyd's k-means from the start's means
(:func:`iterate_kmeans`).  The path of every component's mean is drawn on
the scatter plot (solid: soft EM, dashed: hard EM, dotted: k-means, each in
the component's colour, with a legend), and their log-likelihood curves are
plotted side by side in a dock.  Small data are computed at once; large data
on a worker thread (:class:`emviz.ui.lab.restarts_view.BackgroundTask`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets
from PySide6.QtCore import Signal, Slot

from emviz.core.data import Data
from emviz.core.em import iterate_em
from emviz.core.kmeans import iterate_kmeans
from emviz.core.mixture import Mixture
from emviz.core.settings import MAX_COMPONENTS
from emviz.runs.tasks import BackgroundTask
from emviz.ui.views.palette import qcolor
from emviz.ui.views.style import style_plot

__all__ = ["ALGORITHMS", "ComparePaths", "CompareView", "compute_paths"]

#: Key -> (legend name, pen style, end symbol).
ALGORITHMS = {
    "soft": ("soft EM", QtCore.Qt.PenStyle.SolidLine, "o"),
    "hard": ("hard (classification) EM", QtCore.Qt.PenStyle.DashLine, "s"),
    "kmeans": ("k-means", QtCore.Qt.PenStyle.DotLine, "t"),
}
#: Up to this much work (points x max_iter, the bound on each path's cost) the
#: paths are computed in the GUI thread; beyond it, on a worker. With tol = 0 a
#: path runs all of max_iter, so the number of points alone is no bound.
SYNC_WORK = 5000 * 500


@dataclass(frozen=True, eq=False)
class ComparePaths:
    """The three algorithms' runs from one start.

    ``means[a]``: array of shape (n_steps + 1, K, 2), the start then every M
    snapshot; ``log_likelihoods[a]``: array of shape (n_steps + 1,);
    ``iterations[a]``: iterations run; for a in ALGORITHMS.
    """

    start: Mixture
    means: dict
    log_likelihoods: dict
    iterations: dict


def compute_paths(
    data: Data,
    start: Mixture,
    *,
    reg_covar: float,
    tol: float,
    max_iter: int,
    should_stop=lambda: False,
) -> ComparePaths | None:
    """Run the three algorithms from ``start``; None if ``should_stop`` said so."""
    runs = {
        "soft": iterate_em(None, start, data=data, reg_covar=reg_covar, tol=tol, max_iter=max_iter),
        "hard": iterate_em(
            None,
            start,
            data=data,
            reg_covar=reg_covar,
            tol=tol,
            max_iter=max_iter,
            assignment="hard",
        ),
        "kmeans": iterate_kmeans(
            None, start.means, data=data, reg_covar=reg_covar, max_iter=max_iter
        ),
    }
    means, lls, iters = {}, {}, {}
    for key, gen in runs.items():
        m, ll, it = [], [], 0
        try:
            for snap in gen:
                if snap.phase != "E":
                    m.append(snap.mixture.means)
                    ll.append(snap.log_likelihood)
                    it = snap.iteration
                if should_stop():
                    return None
        finally:
            gen.close()
        means[key] = np.array(m)
        lls[key] = np.array(ll)
        iters[key] = it
    return ComparePaths(start, means, lls, iters)


class CompareView(QtWidgets.QWidget):
    """The log-likelihood curves (dock) and the mean paths (scatter overlay).

    Computing is on only while :attr:`enabled` (Lab › Compare …).

    Signals
    -------
    paths_changed()
        New paths are shown (or cleared).
    """

    paths_changed = Signal()

    def __init__(self, window, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("comparePanel")
        self.session = window.session
        self.scatter = window.scatter
        self.enabled = False
        self.paths: ComparePaths | None = None
        self._key = None  # (data, start mixture) the paths are for, or being computed for
        self.task = BackgroundTask("compare", self)
        self.task.result.connect(self._on_result)
        self.task.failed.connect(self._on_failed)
        self._build()
        self._make_overlay()
        s = self.session
        s.history_changed.connect(self.refresh)
        s.data_changed.connect(self.refresh)
        s.settings_changed.connect(self.refresh)
        s.snapshot_changed.connect(self._move_cursor)

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        self.label = QtWidgets.QLabel(objectName="compareLabel")
        self.label.setWordWrap(True)
        self.label.setTextFormat(QtCore.Qt.TextFormat.RichText)
        layout.addWidget(self.label)
        self.plot = pg.PlotWidget(objectName="comparePlot")
        style_plot(self.plot, "iteration", "log-likelihood")
        item = self.plot.getPlotItem()
        item.setMenuEnabled(False)
        item.showGrid(x=True, y=True, alpha=0.15)
        item.getAxis("left").enableAutoSIPrefix(False)
        item.getAxis("left").setWidth(90)
        legend = item.addLegend(offset=(-10, -10), labelTextSize="11pt")
        self.curves = {}
        colours = {"soft": "#0072B2", "hard": "#D55E00", "kmeans": "#009E73"}
        for key, (name, style, symbol) in ALGORITHMS.items():
            curve = pg.PlotDataItem(
                pen=pg.mkPen(colours[key], width=3, style=style),
                symbol=symbol,
                symbolSize=7,
                symbolBrush=colours[key],
                symbolPen=None,
            )
            self.plot.addItem(curve)
            legend.addItem(curve, name)
            self.curves[key] = curve
        self.cursor = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#CC0000", width=2))
        self.plot.addItem(self.cursor, ignoreBounds=True)
        self.plot.setMinimumHeight(200)
        layout.addWidget(self.plot, 1)

    def _make_overlay(self) -> None:
        self.path_items: dict[str, list[pg.PlotDataItem]] = {}
        for key, (_name, style, _symbol) in ALGORITHMS.items():
            items = []
            for k in range(MAX_COMPONENTS):
                pen = pg.mkPen(qcolor(k), width=3, style=style)
                it = pg.PlotDataItem(pen=pen, antialias=True)
                it.setZValue(18)
                it.setVisible(False)
                self.scatter.addItem(it, ignoreBounds=True)
                items.append(it)
            self.path_items[key] = items
        self.end_items = {}
        for key, (_name, _style, symbol) in ALGORITHMS.items():
            it = pg.ScatterPlotItem(symbol=symbol, size=14, pen=pg.mkPen("k", width=1.5))
            it.setZValue(19)
            self.scatter.addItem(it, ignoreBounds=True)
            self.end_items[key] = it
        self.legend = pg.LegendItem(offset=(10, 10), labelTextSize="11pt")
        self.legend.setParentItem(self.scatter.getPlotItem().vb)
        for name, style, symbol in ALGORITHMS.values():
            sample = pg.PlotDataItem(
                pen=pg.mkPen("#333333", width=3, style=style),
                symbol=symbol,
                symbolBrush="#999999",
                symbolPen="k",
            )
            self.legend.addItem(sample, f"{name} path")
        self.legend.setVisible(False)

    # ------------------------------------------------------------------ control

    def set_enabled(self, on: bool) -> None:
        self.enabled = bool(on)
        if not self.enabled:
            self.task.cancel()
        self.refresh()

    def shutdown(self) -> None:
        self.task.shutdown()

    def flush(self) -> None:
        """Paths are drawn when they arrive; present for the window's ``extra_views``."""

    def refresh(self) -> None:
        """Recompute the paths if the start (or the data or settings) changed."""
        s = self.session
        if not self.enabled or s.data is None or not s.history:
            self._key = None
            self.paths = None
            self._draw()
            return
        if s.data.marginal:
            self.task.cancel()
            self._key = None
            self.paths = None
            self._draw()
            self.label.setText(
                "The comparison does not apply with missing values: hard EM and k-means "
                "need every coordinate (EM > Treat missing values with EM is on)."
            )
            return
        st = s.settings
        start = s.history[0].mixture
        key = (s.data, start, st.reg_covar, st.tol, st.max_iter)
        old = self._key
        # Data and start by identity (both are immutable), settings by value.
        if old is not None and key[0] is old[0] and key[1] is old[1] and key[2:] == old[2:]:
            return
        self._key = key
        data = s.data
        kwargs = dict(reg_covar=st.reg_covar, tol=st.tol, max_iter=st.max_iter)
        if data.n_samples * st.max_iter <= SYNC_WORK:
            self.task.cancel()
            try:
                paths = compute_paths(data, start, **kwargs)
            except ValueError as exc:  # EmvizError: say so, keep the window going
                self._on_failed(str(exc))
                return
            self._show(paths, key)
            return
        self.paths = None
        self._draw()
        self.label.setText("Computing the three paths on a worker thread…")

        def job(_progress, should_stop):
            return key, compute_paths(data, start, should_stop=should_stop, **kwargs)

        self.task.start(job)

    @Slot(object)
    def _on_result(self, out) -> None:
        key, paths = out
        if paths is not None and key is self._key:
            self._show(paths, key)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.paths = None
        self._draw()
        self.label.setText(f"Could not run the comparison: {message}")

    def _show(self, paths: ComparePaths, key) -> None:
        self.paths = paths
        self._draw()
        self.paths_changed.emit()

    # ------------------------------------------------------------------ drawing

    def _move_cursor(self) -> None:
        s = self.session
        if s.history:
            self.cursor.setValue(s.history[s.index].iteration)

    def _draw(self) -> None:
        p = self.paths
        show = self.enabled and p is not None
        self.legend.setVisible(show)
        for key in ALGORITHMS:
            items = self.path_items[key]
            k_now = p.means[key].shape[1] if show else 0
            for k, it in enumerate(items):
                if k < k_now:
                    xy = p.means[key][:, k, :]
                    it.setData(xy[:, 0], xy[:, 1])
                it.setVisible(k < k_now)
            if show:
                last = p.means[key][-1]
                self.end_items[key].setData(
                    x=last[:, 0], y=last[:, 1], brush=[pg.mkBrush(qcolor(k)) for k in range(k_now)]
                )
                ll = p.log_likelihoods[key]
                self.curves[key].setData(np.arange(len(ll), dtype=float), ll)
            else:
                self.end_items[key].setData([], [])
                self.curves[key].setData([], [])
        if not self.enabled:
            self.label.setText("Off: turn on Lab › Compare soft EM, hard EM and k-means.")
        elif p is not None:
            parts = [
                f"{ALGORITHMS[a][0]}: <b>{p.log_likelihoods[a][-1]:.2f}</b> ({p.iterations[a]} it.)"
                for a in ALGORITHMS
            ]
            self.label.setText(
                "From the same start, final log-likelihood: " + " · ".join(parts) + ". "
                "Hard EM and k-means give each point to one component, so they stop "
                "sooner and usually lower."
            )
        self._move_cursor()
