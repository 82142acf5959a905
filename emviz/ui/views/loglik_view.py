"""The log-likelihood after every half-step, with a cursor at the one shown."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from emviz.runs.pacing import RedrawThrottle
from emviz.session import Session
from emviz.ui.views.axes import CompactAxis
from emviz.ui.views.series import PHASE_CODES, SnapshotSeries
from emviz.ui.views.style import LINE_WIDTH, style_plot

__all__ = ["LoglikView", "MAX_MARKERS"]

#: Beyond this many snapshots the E and M markers are left out (a few
#: pixels apart they are no longer told apart, and drawing thousands of
#: them made each frame of a long run slower than the one before).
MAX_MARKERS = 400

_LINE = "#555555"
_E_COLOUR = "#0072B2"
_M_COLOUR = "#D55E00"
_CURSOR = "#CC0000"
_CONVERGED = "#009E73"


class LoglikView(pg.PlotWidget):
    """x: index of the half-step in the history; y: log p(X | theta).

    E snapshots are hollow blue circles, M snapshots filled orange squares
    (up to :data:`MAX_MARKERS` snapshots), the starting point a grey
    diamond. An E-step leaves theta unchanged, so an E point sits at the
    height of the M point before it: the likelihood only rises at M-steps,
    and never falls.
    """

    def __init__(self, session: Session, parent=None) -> None:
        super().__init__(parent, axisItems={"left": CompactAxis("left", min_width=96)})
        self.setObjectName("loglikPlot")
        self.session = session
        self.series = SnapshotSeries(
            {
                "ll": (float, lambda s: s.log_likelihood),
                "phase": (np.int8, lambda s: PHASE_CODES[s.phase]),
                "converged": (bool, lambda s: s.converged),
            }
        )
        self._x_limit: float | None = None
        #: Fit the y axis to the snapshots from the first M-step on.
        self.zoom_to_climb = False
        self._refit_y = False  # during a run: fit y anew once, not only when the curve leaves it
        item = self.getPlotItem()
        item.setMenuEnabled(False)
        item.showGrid(x=True, y=True, alpha=0.15)
        style_plot(self, "half-step (E, M, E, M, ...)", "log-likelihood")
        for name in ("left", "bottom"):
            item.getAxis(name).enableAutoSIPrefix(False)
        # Wide enough for its labels: those of a large data set's
        # log-likelihood (-1.71526e6) need more than the usual margin.
        item.getAxis("left").setWidth(None)
        # The axes draw the grid across the whole plot, a costly antialiased
        # picture; cached as a pixmap it is redrawn only when the range
        # changes, which the x range below does in steps.
        for name in ("left", "bottom"):
            item.getAxis(name).setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)
        legend = item.addLegend(offset=(-10, -10), labelTextSize="11pt")
        self.curve = pg.PlotCurveItem(pen=pg.mkPen(_LINE, width=2))
        self.addItem(self.curve)
        self.init_item = pg.ScatterPlotItem(
            symbol="d", size=14, brush=pg.mkBrush("#999999"), pen=pg.mkPen("k", width=1.5)
        )
        self.e_item = pg.ScatterPlotItem(
            symbol="o", size=11, brush=pg.mkBrush("w"), pen=pg.mkPen(_E_COLOUR, width=2.5)
        )
        self.m_item = pg.ScatterPlotItem(
            symbol="s", size=10, brush=pg.mkBrush(_M_COLOUR), pen=pg.mkPen(_M_COLOUR, width=1)
        )
        self.converged_item = pg.ScatterPlotItem(
            symbol="star", size=26, brush=pg.mkBrush(_CONVERGED), pen=pg.mkPen("k", width=1.5)
        )
        for it, name in (
            (self.e_item, "after E-step"),
            (self.m_item, "after M-step"),
            (self.converged_item, "converged"),
        ):
            self.addItem(it)
            legend.addItem(it, name)
        self.addItem(self.init_item)
        self.converged_text = pg.TextItem("converged", color=_CONVERGED, anchor=(1.0, 1.2))
        font = self.converged_text.textItem.font()
        font.setPointSize(12)
        font.setBold(True)
        self.converged_text.setFont(font)
        self.addItem(self.converged_text, ignoreBounds=True)
        self.converged_text.setVisible(False)
        self.cursor = pg.InfiniteLine(
            angle=90, movable=False, pen=pg.mkPen(_CURSOR, width=LINE_WIDTH)
        )
        self.cursor.setZValue(-5)
        self.addItem(self.cursor, ignoreBounds=True)
        self._throttle = RedrawThrottle(self.redraw, parent=self, busy=lambda: session.running)
        session.history_changed.connect(self._throttle.request)
        session.snapshot_changed.connect(self._throttle.request)
        # Also when a run ends with nothing left to draw: the x range then
        # fits the history again.
        session.run_state_changed.connect(self._throttle.request)
        self.scene().sigMouseClicked.connect(self._on_click)
        self.redraw()

    def flush(self) -> None:
        self._throttle.flush()

    def set_zoom_to_climb(self, on: bool) -> None:
        """Fit the y axis to the climb after the first M-step (on) or to every snapshot (off).

        The first M-step usually gains far more than all the others together,
        so fitted to every snapshot the rest of the curve looks flat, and the
        rise of each later M-step cannot be seen.
        """
        self.zoom_to_climb = bool(on)
        self._refit_y = True
        self.redraw()

    def _climb_start(self, phase: np.ndarray) -> int:
        """Index of the first snapshot the y axis fits: 0, or the first M-step's."""
        if not self.zoom_to_climb:
            return 0
        m_steps = np.flatnonzero(phase == PHASE_CODES["M"])
        # With fewer than two M-steps there is no climb after the first yet.
        return int(m_steps[0]) if m_steps.size >= 2 else 0

    def redraw(self) -> None:
        series = self.series
        series.sync(self.session.history)
        n = series.n
        x, ll, phase = series.get("x"), series.get("ll"), series.get("phase")
        self.curve.setData(x, ll)
        markers = n <= MAX_MARKERS
        for item, code in ((self.init_item, 0), (self.e_item, 1), (self.m_item, 2)):
            mask = phase == code
            if not markers and code:
                mask[:] = False
            item.setData(x[mask], ll[mask])
        conv = np.flatnonzero(series.get("converged"))
        self.converged_item.setData(x[conv], ll[conv])
        if conv.size:
            self.converged_text.setPos(conv[-1], ll[conv[-1]])
        self.converged_text.setVisible(bool(conv.size))
        self.cursor.setValue(max(self.session.index, 0))
        vb = self.getPlotItem().vb
        running = self.session.running
        # Set only when it changes: setting even the same range makes the
        # view box signal a change of state, and the axes draw themselves anew.
        x_limit = _x_limit(n, running)
        if x_limit != self._x_limit:
            self._x_limit = x_limit
            vb.setXRange(-0.5, x_limit, padding=0.02)
        if n == 1:
            # +-1 around the one value; around a value of 1e5 or more that
            # would need labels of seven or more significant digits, so
            # +-0.1 % there.
            half = 1.0
            if np.isfinite(ll[0]) and abs(ll[0]) >= 1e5:
                half = 1e-3 * abs(ll[0])
            vb.setYRange(ll[0] - half, ll[0] + half, padding=0)
            return
        start = self._climb_start(phase)
        if n and not running and not start:
            vb.enableAutoRange(axis="y")
            return
        shown = ll[start:]
        finite = shown[np.isfinite(shown)]
        if not finite.size:
            return
        low, high = float(finite.min()), float(finite.max())
        if running:
            # Redrawing the left axis and the grid is most of this plot's
            # cost, so during a run the y range changes only when the curve
            # leaves it, and then with room to grow.
            kept = [np.inf, -np.inf] if self._refit_y else vb.viewRange()[1]
            self._refit_y = False
            y_range = _y_range(low, high, kept)
            if y_range is not None:
                vb.setYRange(*y_range, padding=0)
        else:
            # The climb at rest, with room above for the "converged" label.
            span = _span(low, high)
            vb.setYRange(low - 0.05 * span, high + 0.15 * span, padding=0)

    def index_at(self, x: float) -> int:
        n = len(self.session.history)
        return int(min(max(round(x), 0), max(n - 1, 0)))

    def _on_click(self, ev) -> None:
        if ev.button() != QtCore.Qt.MouseButton.LeftButton:
            return
        vb = self.getPlotItem().vb
        if not vb.sceneBoundingRect().contains(ev.scenePos()):
            return
        ev.accept()
        self.session.set_index(self.index_at(vb.mapSceneToView(ev.scenePos()).x()))


def _y_range(low: float, high: float, shown: list[float]) -> tuple[float, float] | None:
    """The y range during a run for values in [``low``, ``high``], or None to keep ``shown``.

    The shown range is kept while it holds every value; otherwise the new
    range has a margin of 5 % of the span below and 30 % above, where the
    log-likelihood is heading (it never falls).
    """
    if shown[0] <= low and high <= shown[1]:
        return None
    span = _span(low, high)
    return low - 0.05 * span, high + 0.3 * span


def _span(low: float, high: float) -> float:
    """``high - low``, or a sliver of their size when they coincide."""
    return max(high - low, 1e-9 * max(abs(low), abs(high), 1.0))


def _x_limit(n: int, running: bool) -> float:
    """Right end of the x range for ``n`` snapshots.

    At rest the range ends at the last snapshot.  During a run it grows in
    steps, to the next of 10, 20, 50, 100, 200, 500, ..., not with every
    snapshot, so that the axes and grid are redrawn only a few times a run.
    """
    if not running:
        return max(n - 0.5, 8.5)
    limit = 10
    while limit < n:
        # 10 -> 20 -> 50 -> 100 -> 200 -> ...
        limit = limit * 5 // 2 if str(limit)[0] == "2" else limit * 2
    return limit - 0.5
