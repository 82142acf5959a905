"""Why the M-step climbs: log p and the bound L along the line through one M-step.

Bishop's figure 9.14, live.  For the half-step shown, the view takes the
M-step of that iteration: theta_old, the parameters the E-step used, and
theta_new, the M-step's result, with q the posterior under theta_old.  Along
the path theta(t) of :func:`emviz.core.bound_slice.bound_slice` (theta_old
at t = 0, theta_new at t = 1) it draws

- log p(X | theta(t)), the log-likelihood;
- L(q, theta(t)) = Q + H, the lower bound for that fixed q, with the gap
  KL = log p - L shaded between them.

The bound touches log p at t = 0 (q is the posterior there: KL = 0) and is
highest at t = 1 (the M-step maximises Q, and H does not depend on theta);
since log p >= L everywhere, log p(theta_new) >= L(theta_new) >=
L(theta_old) = log p(theta_old): the likelihood cannot fall.

After an E-step (or at the start) the M-step is the one to come, computed
here with the session's settings; after an M-step it is the one just taken.
A large data set's slice is computed on a background task.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from emviz.core.bound_slice import BoundSlice, bound_slice
from emviz.core.steps import e_step, m_step
from emviz.runs.pacing import RedrawThrottle
from emviz.runs.tasks import BackgroundTask
from emviz.session import Session
from emviz.ui.views.axes import CompactAxis
from emviz.ui.views.style import BASE_POINT_SIZE, LINE_WIDTH, style_plot

__all__ = ["SliceView", "SLICE_TS", "slice_inputs"]

#: The values of t the slice is drawn at: theta_old at 0, theta_new at 1.
SLICE_TS = np.linspace(-0.5, 1.5, 81)
#: Above this many point-evaluations (points x components x values of t) the
#: slice is computed on a background task.
ASYNC_WORK = 3_000_000

LOGP_COLOUR = "#333333"
BOUND_COLOUR = "#0072B2"
GAP_BRUSH = (213, 94, 0, 70)
NOW_COLOUR = "#CC0000"

CAPTION = (
    f"<span style='font-size:{BASE_POINT_SIZE + 2}pt;'><b>Why the M-step climbs</b></span><br>"
    "Along the line from θ<sub>old</sub> (t = 0) to the M-step's θ<sub>new</sub> (t = 1): "
    "the bound L(q, θ) for the E-step's q touches log p at θ<sub>old</sub> and peaks at "
    "θ<sub>new</sub>; log p stays above it, so log p(θ<sub>new</sub>) ≥ log p(θ<sub>old</sub>)."
)


def slice_inputs(session: Session, index: int):
    """The M-step the slice of snapshot ``index`` shows: ``(before, after, q, current_t)``.

    ``before`` and ``after`` are Mixtures (theta_old, theta_new), ``q`` the
    posterior under ``before`` (array of shape (n_samples, K)) and
    ``current_t`` where the snapshot shown sits on the path (0 or 1).
    None when there is nothing to show (no data, no history) or the slice
    does not apply (missing values: the bound is not computed).
    """
    data = session.data
    history = session.history
    if data is None or not 0 <= index < len(history) or data.marginal:
        return None
    snap = history[index]
    if snap.phase == "M" and index > 0:
        before = history[index - 1].mixture
        after = snap.mixture
        q = session.resp_at(index)
        if q is None:
            q = e_step(data, before)[0]
        return before, after, q, 1.0
    # At the start or after an E-step: the M-step to come.
    before = snap.mixture
    q = session.resp_at(index) if snap.phase == "E" else None
    if q is None:
        q = e_step(data, before)[0]
    st = session.settings
    after = m_step(data, q, st.cov_type, st.reg_covar, mixture=before)
    return before, after, q, 0.0


def _gap(logp: float, bound: float) -> float:
    """log p - L, with 0 for a difference at the rounding of their size (KL >= 0)."""
    gap = float(logp - bound)
    return 0.0 if abs(gap) <= 1e-12 * max(abs(logp), 1.0) else gap


class SliceView(QtWidgets.QWidget):
    """log p and L over t in [-0.5, 1.5] for the M-step of the half-step shown.

    ``curves`` holds the "logp" and "bound" PlotCurveItems (their
    ``getData()`` is what is drawn); ``slice`` is the :class:`BoundSlice`
    drawn, ``current_t`` where the snapshot shown sits (0 or 1).  A
    ``compact`` view is the plot alone, for presentation mode's strip.
    """

    def __init__(self, session: Session, parent=None, *, compact: bool = False) -> None:
        super().__init__(parent)
        self.setObjectName("sliceStrip" if compact else "sliceView")
        self.session = session
        self.slice: BoundSlice | None = None
        self.current_t = 0.0
        self._key: tuple | None = None
        self._dirty = False

        self.caption = QtWidgets.QLabel(CAPTION, objectName="sliceCaption")
        self.caption.setWordWrap(True)
        self.readout = QtWidgets.QLabel(objectName="sliceReadout")
        self.readout.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.readout.setWordWrap(True)

        self.plot = pg.PlotWidget(objectName="slicePlot", axisItems={"left": CompactAxis("left")})
        style_plot(self.plot, "t, along the line from θ old to θ new", "log p and bound L")
        item = self.plot.getPlotItem()
        item.setMenuEnabled(False)
        item.setMouseEnabled(x=False, y=False)
        item.showGrid(x=True, y=True, alpha=0.15)
        for name in ("left", "bottom"):
            item.getAxis(name).enableAutoSIPrefix(False)
        item.getAxis("left").setWidth(96)
        self.plot.setMinimumHeight(80 if compact else 240)
        legend = item.addLegend(offset=(-10, -10), labelTextSize=f"{BASE_POINT_SIZE - 1}pt")
        self.curves: dict[str, pg.PlotCurveItem] = {
            "logp": pg.PlotCurveItem(pen=pg.mkPen(LOGP_COLOUR, width=LINE_WIDTH + 0.5)),
            "bound": pg.PlotCurveItem(pen=pg.mkPen(BOUND_COLOUR, width=2.5)),
        }
        self.gap = pg.FillBetweenItem(
            self.curves["logp"], self.curves["bound"], brush=pg.mkBrush(*GAP_BRUSH)
        )
        self.plot.addItem(self.gap)
        self.plot.addItem(self.curves["logp"])
        self.plot.addItem(self.curves["bound"])
        legend.addItem(self.curves["logp"], "log p(X|θ(t))")
        legend.addItem(self.curves["bound"], "bound L(q, θ(t))")
        self.ends = pg.ScatterPlotItem(
            symbol="o", size=10, brush=pg.mkBrush("w"), pen=pg.mkPen(BOUND_COLOUR, width=2)
        )
        self.now = pg.ScatterPlotItem(
            symbol="o", size=15, brush=pg.mkBrush(NOW_COLOUR), pen=pg.mkPen("w", width=1.5)
        )
        self.plot.addItem(self.ends)
        self.plot.addItem(self.now)
        legend.addItem(self.now, "θ shown")
        # theta_old and theta_new named on the axis, dashed lines up from them.
        item.getAxis("bottom").setTicks(
            [
                [(0.0, "0: θ old"), (1.0, "1: θ new")],
                [(-0.5, "-0.5"), (0.5, "0.5"), (1.5, "1.5")],
            ]
        )
        self.marks = []
        for t in (0.0, 1.0):
            line = pg.InfiniteLine(
                pos=t,
                angle=90,
                movable=False,
                pen=pg.mkPen("#888888", width=1, style=QtCore.Qt.PenStyle.DashLine),
            )
            line.setZValue(-5)
            self.plot.addItem(line, ignoreBounds=True)
            self.marks.append(line)

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0 if compact else 4, 0 if compact else 4, 0, 0)
        layout.addWidget(self.caption)
        layout.addWidget(self.readout)
        layout.addWidget(self.plot, 1)
        # The strip of presentation mode: the plot alone (the narration says the rest).
        self.caption.setVisible(not compact)
        self.readout.setVisible(not compact)

        self.task = BackgroundTask("slice", self)
        self.task.result.connect(self._on_result)
        self.task.failed.connect(self._on_failed)
        self._throttle = RedrawThrottle(self.redraw, parent=self, busy=lambda: session.running)
        session.history_changed.connect(self._throttle.request)
        session.snapshot_changed.connect(self._throttle.request)
        session.data_changed.connect(self._throttle.request)
        session.settings_changed.connect(self._throttle.request)
        session.run_state_changed.connect(self._throttle.flush)

    # ------------------------------------------------------------ drawing

    def flush(self) -> None:
        """Draw what is pending now, computing the slice here (tests); hidden, it waits."""
        self._throttle.flush()
        if self.isVisible() and (self._dirty or self.task.running):
            self._draw(background=False)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._dirty:
            self._draw()

    def set_theme(self, foreground: str) -> None:
        """The log p curve in the theme's foreground (near-black on light)."""
        dark = foreground.lower() in ("#000000", "#000", "black")
        colour = LOGP_COLOUR if dark else foreground
        self.curves["logp"].setPen(pg.mkPen(colour, width=LINE_WIDTH + 0.5))

    def redraw(self) -> None:
        # Hidden behind another tab: drawn when shown.
        if not self.isVisible():
            self._dirty = True
            return
        self._draw()

    def _draw(self, background: bool = True) -> None:
        self._dirty = False
        s = self.session
        history = s.history
        shown = [id(history[i]) for i in (s.index - 1, s.index) if 0 <= i < len(history)]
        key = (id(s.data), s.index, *shown, s.settings)
        if key == self._key and self.slice is not None and not self.task.running:
            return
        self._key = key
        try:
            inputs = slice_inputs(s, s.index)
        except Exception as exc:  # a degenerate M-step: say so, keep the window
            self._show(None, f"No slice for this half-step: {exc}")
            return
        if inputs is None:
            why = (
                "EM with missing values does not compute the bound"
                if s.data is not None and s.data.marginal
                else "no data or no history"
            )
            self._show(None, f"The slice is not shown: {why}.")
            return
        before, after, q, current_t = inputs
        data = s.data
        work = data.n_samples * before.n_components * len(SLICE_TS)
        if background and work > ASYNC_WORK:
            self.readout.setText("Computing the slice…")
            self.task.start(
                lambda progress, should_stop: (
                    key,
                    current_t,
                    bound_slice(data, before, after, q, SLICE_TS),
                )
            )
            return
        self.task.cancel()
        self._show_slice(bound_slice(data, before, after, q, SLICE_TS), current_t)

    def _on_result(self, out) -> None:
        key, current_t, sl = out
        if key == self._key:
            self._show_slice(sl, current_t)

    def _on_failed(self, message: str) -> None:
        self._show(None, f"No slice for this half-step: {message}")

    def _show(self, sl: BoundSlice | None, text: str) -> None:
        self.slice = sl
        if sl is None:
            for curve in self.curves.values():
                curve.setData([], [])
            self.ends.setData([], [])
            self.now.setData([], [])
        # No slice, no axes: an empty plot would keep the last one's range.
        self.plot.setVisible(sl is not None)
        self.readout.setText(text)

    def _show_slice(self, sl: BoundSlice, current_t: float) -> None:
        self.current_t = current_t
        ts, logp, bound = sl.ts, sl.log_likelihood, sl.lower_bound
        self.curves["logp"].setData(ts, logp)
        self.curves["bound"].setData(ts, bound)
        i0 = int(np.argmin(np.abs(ts)))
        i1 = int(np.argmin(np.abs(ts - 1.0)))
        self.ends.setData(
            [ts[i0], ts[i1], ts[i0], ts[i1]], [logp[i0], logp[i1], bound[i0], bound[i1]]
        )
        i_now = i1 if current_t == 1.0 else i0
        self.now.setData([ts[i_now]], [logp[i_now]])
        # The y range: the curves near the two ends, where the argument is;
        # far out at t = -0.5 the likelihood can drop by orders more.
        near = (ts >= -0.25) & (ts <= 1.25)
        lo = float(min(logp[near].min(), bound[near].min()))
        hi = float(max(logp[near].max(), bound[near].max()))
        span = max(hi - lo, 1e-9 * max(abs(hi), 1.0))
        vb = self.plot.getPlotItem().vb
        vb.setXRange(float(ts[0]), float(ts[-1]), padding=0.02)
        vb.setYRange(lo - 0.08 * span, hi + 0.12 * span, padding=0)
        rise_l = bound[i1] - bound[i0]
        rise_p = logp[i1] - logp[i0]
        gap_new = _gap(logp[i1], bound[i1])
        if current_t == 0.0:
            text = (
                f"Shown: θ<sub>old</sub> (t = 0), where the bound touches log p "
                f"(gap {_gap(logp[i0], bound[i0]):.3g}). The M-step moves θ to the bound's peak at "
                f"t = 1: L will rise by <b>{rise_l:.4g}</b>, log p by <b>{rise_p:.4g}</b>."
            )
        else:
            text = (
                f"Shown: θ<sub>new</sub> (t = 1), the bound's peak. The M-step raised L by "
                f"<b>{rise_l:.4g}</b> and log p by <b>{rise_p:.4g}</b> ≥ that; the new gap "
                f"KL = {gap_new:.3g} is what the next E-step closes."
            )
        self._show(sl, text)
