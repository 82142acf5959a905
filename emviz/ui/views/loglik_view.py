"""The log-likelihood after every half-step, with a cursor at the one shown."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from emviz.runs.pacing import RedrawThrottle
from emviz.session import Session
from emviz.ui.views.axes import CompactAxis
from emviz.ui.views.series import PHASE_CODES, SnapshotSeries
from emviz.ui.views.style import LINE_WIDTH, style_plot

__all__ = ["LoglikView", "MAX_MARKERS", "gap_to_best"]

#: Beyond this many snapshots the E and M markers are left out (a few
#: pixels apart they are no longer told apart, and drawing thousands of
#: them made each frame of a long run slower than the one before).
MAX_MARKERS = 400

_LINE = "#555555"
_E_COLOUR = "#0072B2"
_M_COLOUR = "#D55E00"
_CURSOR = "#CC0000"
_CONVERGED = "#009E73"
#: Where the objective changed (reg_covar, an edited mixture): reddish purple.
_CHANGE = "#CC79A7"
_LL_LABEL = "log-likelihood"
_GAP_LABEL = "gap to best (log)"
#: Anchors of the "converged" label: its top right (below) or bottom right
#: (above) a little left of the star.
_TEXT_BELOW = (1.08, -0.15)
_TEXT_ABOVE = (1.08, 1.15)
#: Below this many lines of its font in height (or narrower than its legend)
#: the plot is a strip, as in presentation mode: the legend row and the axis
#: titles give their room to the curve, and the tooltip names the axes and
#: the markers.
COMPACT_LINES = 11
_COMPACT_TIP = (
    "log-likelihood (y) after each half-step (x: E, M, E, M, ...): "
    "hollow circles after an E-step, squares after an M-step, a star where EM converged"
)


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
        #: Show the gap to the best log-likelihood on a log scale.
        self.zoom_to_climb = False
        self._refit_y = False  # during a run: fit y anew once, not only when the curve leaves it
        #: A strip with no legend and no axis titles (see :data:`COMPACT_LINES`).
        self.compact = False
        item = self.getPlotItem()
        item.setMenuEnabled(False)
        item.showGrid(x=True, y=True, alpha=0.15)
        style_plot(self, "half-step (E, M, E, M, ...)", _LL_LABEL)
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
        legend = _legend_above(item)
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
            (self.e_item, "E-step"),
            (self.m_item, "M-step"),
            (self.converged_item, "converged"),
        ):
            self.addItem(it)
            legend.addItem(it, name)
        self.addItem(self.init_item)
        self.converged_text = pg.TextItem("converged", color=_CONVERGED, anchor=_TEXT_BELOW)
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
        #: Dashed lines where the objective changed (reg_covar, an edited
        #: mixture): a fall across one is not an EM step's.
        self.change_lines: list[pg.InfiniteLine] = []
        self._throttle = RedrawThrottle(self.redraw, parent=self, busy=lambda: session.running)
        session.history_changed.connect(self._throttle.request)
        session.snapshot_changed.connect(self._throttle.request)
        # Also when a run ends with nothing left to draw: the x range then
        # fits the history again.
        session.run_state_changed.connect(self._throttle.request)
        self.scene().sigMouseClicked.connect(self._on_click)
        # The automatic range is applied later than the redraw that asks for it.
        item.vb.sigYRangeChanged.connect(self._place_converged_text)
        self.redraw()

    def flush(self) -> None:
        self._throttle.flush()

    def resizeEvent(self, ev: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(ev)
        self.fit_to_size()

    def fit_to_size(self) -> None:
        """A strip (no legend, no axis titles) when too small for them, the full plot otherwise.

        Also called after a restyle: setting an axis title shows it again.
        """
        item = self.getPlotItem()
        legend = getattr(item, "legend", None)
        if legend is None:  # resized while pyqtgraph builds the widget
            return
        # Too short for a legend row and axis titles, or too narrow for the
        # legend's one row beside the left axis.
        needed = legend.effectiveSizeHint(QtCore.Qt.SizeHint.PreferredSize).width()
        compact = (
            self.height() < COMPACT_LINES * QtGui.QFontMetrics(self.font()).height()
            or self.width() < needed + item.getAxis("left").width()
        )
        if compact != self.compact:
            self.compact = compact
            # A hidden item still holds its row of the layout: taken out, the row closes.
            if compact:
                item.layout.removeItem(legend)
            else:
                item.layout.addItem(legend, 0, 1, alignment=QtCore.Qt.AlignmentFlag.AlignRight)
            legend.setVisible(not compact)
            self.setToolTip(_COMPACT_TIP if compact else "")
        for name in ("left", "bottom"):
            axis = item.getAxis(name)
            if axis.label.isVisible() == compact:
                axis.showLabel(not compact)

    def set_zoom_to_climb(self, on: bool) -> None:
        """Plot the gap to the best log-likelihood on a log scale (on) or the log-likelihood (off).

        The first M-steps usually gain far more than all the others together,
        so on a linear scale the rest of the curve looks flat, and the rise of
        each later M-step cannot be seen. EM's gains shrink about
        geometrically as it converges, so on a log scale of the gap
        ``L* - L_t`` (``L*`` the best value so far) every step is a visible
        drop, from the first to the last; see :func:`gap_to_best`.
        """
        self.zoom_to_climb = bool(on)
        self._refit_y = True
        axis = self.getPlotItem().getAxis("left")
        axis.set_powers_of_ten(self.zoom_to_climb)
        label = _GAP_LABEL if self.zoom_to_climb else _LL_LABEL
        # Its text only: the style (colour, size) the theme gave it stays.
        axis.setLabel(label)
        self.redraw()

    def shown_y(self, ll: np.ndarray) -> np.ndarray:
        """The heights plotted for log-likelihoods ``ll``: ``ll``, or log10 of their gap."""
        if not self.zoom_to_climb:
            return ll
        return np.log10(gap_to_best(ll))

    def redraw(self) -> None:
        series = self.series
        series.sync(self.session.history)
        n = series.n
        x, phase = series.get("x"), series.get("phase")
        ll = self.shown_y(series.get("ll"))
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
        self._place_converged_text()
        self.cursor.setValue(max(self.session.index, 0))
        self._draw_changes()
        vb = self.getPlotItem().vb
        running = self.session.running
        # Set only when it changes: setting even the same range makes the
        # view box signal a change of state, and the axes draw themselves anew.
        x_limit = _x_limit(n, running)
        if x_limit != self._x_limit:
            self._x_limit = x_limit
            vb.setXRange(-0.5, x_limit, padding=0.02)
        if n == 1 and not self.zoom_to_climb:
            # +-1 around the one value; around a value of 1e5 or more that
            # would need labels of seven or more significant digits, so
            # +-0.1 % there.
            half = 1.0
            if np.isfinite(ll[0]) and abs(ll[0]) >= 1e5:
                half = 1e-3 * abs(ll[0])
            vb.setYRange(ll[0] - half, ll[0] + half, padding=0)
            return
        if n and not running and not self.zoom_to_climb:
            vb.enableAutoRange(axis="y")
            return
        finite = ll[np.isfinite(ll)]
        if not finite.size:
            return
        low, high = float(finite.min()), float(finite.max())
        if running:
            # Redrawing the left axis and the grid is most of this plot's
            # cost, so during a run the y range changes only when the curve
            # leaves it, and then with room to grow.
            kept = [np.inf, -np.inf] if self._refit_y else vb.viewRange()[1]
            self._refit_y = False
            y_range = _y_range(low, high, kept, falling=self.zoom_to_climb)
            if y_range is not None:
                vb.setYRange(*y_range, padding=0)
        else:
            # The climb at rest, with room below the end of the curve for the
            # "converged" label: the end is at the top of the log-likelihood,
            # at the bottom of the gap.
            span = _span(low, high)
            below = 0.35 if self.zoom_to_climb else 0.1
            vb.setYRange(low - below * span, high + 0.1 * span, padding=0)
        self._place_converged_text()

    def _draw_changes(self) -> None:
        changes = self.session.objective_changes()
        while len(self.change_lines) > len(changes):
            self.removeItem(self.change_lines.pop())
        while len(self.change_lines) < len(changes):
            line = pg.InfiniteLine(
                angle=90,
                movable=False,
                pen=pg.mkPen(_CHANGE, width=2, style=QtCore.Qt.PenStyle.DashLine),
                label="objective changed",
                labelOpts={"position": 0.9, "color": _CHANGE, "rotateAxis": (1, 0)},
            )
            line.setZValue(-4)
            self.addItem(line, ignoreBounds=True)
            self.change_lines.append(line)
        for line, (index, what) in zip(self.change_lines, sorted(changes.items()), strict=True):
            line.setValue(index - 0.5)
            line.setToolTip(f"Before half-step {index}: {what}")

    def _place_converged_text(self, *_args) -> None:
        """The "converged" label beside its star, on the side of the plot with room for it.

        Left of the star (the last snapshots, on the right) and below it: the
        curve comes to the star from above on the log gap, and ends flat on
        the log-likelihood, so the space below and left of the star is empty.
        Only with too little room below (a range the user zoomed to) above it.
        """
        text = self.converged_text
        if not text.isVisible():
            return
        low, high = self.getPlotItem().vb.viewRange()[1]
        room = text.pos().y() - low > 0.2 * (high - low)
        anchor = _TEXT_BELOW if room else _TEXT_ABOVE
        if tuple(text.anchor) != anchor:
            text.setAnchor(anchor)

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


def gap_to_best(ll: np.ndarray) -> np.ndarray:
    """``L* - ll``, ``L*`` the best finite value, with the zeros raised to a floor.

    The best snapshot (and those level with it) have no gap, whose log would
    be minus infinity: they are drawn at a floor a decade below the smallest
    positive gap (or 1e-9 of the log-likelihood's size when none is
    positive), at the bottom of the axis.

    Parameters
    ----------
    ll : array of shape (n,)
        Log-likelihoods; non-finite ones give an infinite gap.

    Returns
    -------
    array of shape (n,), every finite value > 0
    """
    ll = np.asarray(ll, dtype=float)
    finite = np.isfinite(ll)
    gap = np.full(ll.shape, np.inf)
    if not finite.any():
        return gap
    best = float(ll[finite].max())
    gap[finite] = best - ll[finite]
    positive = gap[finite & (gap > 0)]
    floor = 0.1 * float(positive.min()) if positive.size else 1e-9 * max(abs(best), 1.0)
    np.maximum(gap, floor, out=gap)
    return gap


def _legend_above(item: pg.PlotItem) -> pg.LegendItem:
    """A one-row legend in the plot's title row, above the plotted area: never on the data.

    It takes the place of the plot's title (this plot has none); set as the
    plot item's ``legend``, so restyling code finds it as usual.
    """
    legend = pg.LegendItem(labelTextSize="11pt", colCount=3, frame=False)
    legend.layout.setContentsMargins(0, 0, 0, 0)
    item.layout.removeItem(item.titleLabel)
    item.titleLabel.setVisible(False)
    legend.setParentItem(item)
    item.layout.addItem(legend, 0, 1, alignment=QtCore.Qt.AlignmentFlag.AlignRight)
    item.legend = legend
    return legend


def _y_range(
    low: float, high: float, shown: list[float], falling: bool = False
) -> tuple[float, float] | None:
    """The y range during a run for values in [``low``, ``high``], or None to keep ``shown``.

    The shown range is kept while it holds every value; otherwise the new
    range has a margin of 5 % of the span behind and 30 % ahead, where the
    curve is heading: up for the log-likelihood (it never falls), down for
    its gap to the best (``falling``).
    """
    if shown[0] <= low and high <= shown[1]:
        return None
    span = _span(low, high)
    if falling:
        return low - 0.3 * span, high + 0.05 * span
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
