"""The lower bound: log p(X | theta) = L(q, theta) + KL(q || posterior), half-step by half-step.

For every snapshot of the history the view plots

- log p(X | theta), the log-likelihood (dark grey line);
- L = Q + H, the evidence lower bound (blue; E snapshots hollow circles,
  M snapshots filled squares, as on the log-likelihood plot);
- optionally Q = E_q[log p(X, Z | theta)] (green, dashed);

and, below, the gap KL = log p - L (vermillion, shaded), with optionally the
entropy H(q) on a right-hand axis (purple).  An E-step sets q to the
posterior, so the gap closes (KL = 0, the bound touches log p); an M-step
maximises Q with q fixed, so the bound rises, and log p with it.

Long histories stay cheap: the series live in growable numpy buffers that
only get the new snapshots appended (a full rebuild happens only when the
history was rewritten), and each redraw is a handful of ``setData`` calls on
slices of those buffers.
"""

from __future__ import annotations

import html
import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from emviz.runs.pacing import RedrawThrottle
from emviz.session import Session
from emviz.ui.docks import flow_row
from emviz.ui.views.axes import CompactAxis
from emviz.ui.views.series import PHASE_CODES, SnapshotSeries
from emviz.ui.views.style import BASE_POINT_SIZE, LINE_WIDTH, style_plot

__all__ = ["BoundView", "MAX_MARKERS"]

LOGP_COLOUR = "#333333"
BOUND_COLOUR = "#0072B2"
Q_COLOUR = "#009E73"
KL_COLOUR = "#D55E00"
H_COLOUR = "#CC79A7"
CURSOR_COLOUR = "#CC0000"
#: Above this many half-steps the E/M markers are dropped (they would overlap anyway).
MAX_MARKERS = 1500

CAPTION = (
    f"<span style='font-size:{BASE_POINT_SIZE + 2}pt;'><b>E-step closes the gap; "
    "M-step raises the bound.</b></span><br>"
    "log p(X|θ) = L(q, θ) + KL(q ‖ p(Z|X, θ)), with L = Q + H: "
    "the E-step makes q the posterior (KL = 0), the M-step maximises Q with q fixed."
)

#: What the view plots of each snapshot.  L = Q + H and KL = log p - L are
#: taken exactly as the Snapshot defines them.
_FIELDS = {
    "logp": (float, lambda s: s.log_likelihood),
    "q": (float, lambda s: s.expected_complete),
    "h": (float, lambda s: s.entropy),
    "bound": (float, lambda s: s.lower_bound),
    "kl": (float, lambda s: s.kl),
    "phase": (np.int8, lambda s: PHASE_CODES[s.phase]),
}


def _legend_font_size() -> str:
    return f"{BASE_POINT_SIZE - 1}pt"


class BoundView(QtWidgets.QWidget):
    """log p, L (and Q) on top; KL (and H) below; a cursor at the snapshot shown.

    ``curves`` holds the PlotCurveItems by name ("logp", "bound", "q", "kl",
    "h"); their ``getData()`` is what is drawn.  Clicking either plot shows
    that half-step (``session.set_index``).
    """

    def __init__(self, session: Session, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("boundView")
        self.session = session
        self.series = SnapshotSeries(_FIELDS)

        self.caption = QtWidgets.QLabel(CAPTION, objectName="boundCaption")
        self.caption.setWordWrap(True)
        self.readout = QtWidgets.QLabel(objectName="boundReadout")
        self.readout.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.readout.setWordWrap(True)
        self.show_q = QtWidgets.QCheckBox("Q = E_q[log p(X, Z|θ)]", objectName="showQCheck")
        self.show_q.setToolTip("Also plot Q, the expected complete-data log-likelihood (L = Q + H)")
        self.show_h = QtWidgets.QCheckBox("H(q), entropy (right axis)", objectName="showHCheck")
        self.show_h.setToolTip("Also plot the entropy of q on the gap plot's right axis")

        # Compact tick labels: a large data set's bound runs into the millions.
        self.top = pg.PlotWidget(objectName="boundPlot", axisItems={"left": CompactAxis("left")})
        self.bottom = pg.PlotWidget(objectName="klPlot", axisItems={"left": CompactAxis("left")})
        style_plot(self.top, "", "log p and bound L")
        style_plot(self.bottom, "half-step (E, M, E, M, ...)", "gap KL")
        for w in (self.top, self.bottom):
            item = w.getPlotItem()
            item.setMenuEnabled(False)
            item.showGrid(x=True, y=True, alpha=0.15)
            for name in ("left", "bottom"):
                item.getAxis(name).enableAutoSIPrefix(False)
            item.getAxis("left").setWidth(96)
        self.bottom.setXLink(self.top)
        self.top.setMinimumHeight(200)
        self.bottom.setMinimumHeight(140)

        legend = self.top.getPlotItem().addLegend(
            offset=(-10, -10), labelTextSize=_legend_font_size()
        )
        self.curves: dict[str, pg.PlotCurveItem] = {}
        self.curves["logp"] = pg.PlotCurveItem(pen=pg.mkPen(LOGP_COLOUR, width=LINE_WIDTH))
        self.curves["bound"] = pg.PlotCurveItem(pen=pg.mkPen(BOUND_COLOUR, width=2.5))
        self.curves["q"] = pg.PlotCurveItem(
            pen=pg.mkPen(Q_COLOUR, width=2.5, style=QtCore.Qt.PenStyle.DashLine)
        )
        self.gap_fill = pg.FillBetweenItem(
            self.curves["logp"], self.curves["bound"], brush=pg.mkBrush(213, 94, 0, 70)
        )
        self.top.addItem(self.gap_fill)
        for key, name in (("logp", "log p(X|θ)"), ("bound", "bound L = Q + H"), ("q", "")):
            self.top.addItem(self.curves[key])
            if name:
                legend.addItem(self.curves[key], name)
        self.e_item = pg.ScatterPlotItem(
            symbol="o", size=11, brush=pg.mkBrush("w"), pen=pg.mkPen(BOUND_COLOUR, width=2.5)
        )
        self.m_item = pg.ScatterPlotItem(
            symbol="s", size=10, brush=pg.mkBrush(BOUND_COLOUR), pen=pg.mkPen(BOUND_COLOUR, width=1)
        )
        self.top.addItem(self.e_item)
        self.top.addItem(self.m_item)
        legend.addItem(self.e_item, "L after E-step")
        legend.addItem(self.m_item, "L after M-step")

        self.curves["kl"] = pg.PlotCurveItem(
            pen=pg.mkPen(KL_COLOUR, width=2.5), fillLevel=0.0, brush=pg.mkBrush(213, 94, 0, 60)
        )
        self.bottom.addItem(self.curves["kl"])
        self.kl_e_item = pg.ScatterPlotItem(
            symbol="o", size=9, brush=pg.mkBrush("w"), pen=pg.mkPen(KL_COLOUR, width=2)
        )
        self.kl_m_item = pg.ScatterPlotItem(
            symbol="s", size=8, brush=pg.mkBrush(KL_COLOUR), pen=pg.mkPen(KL_COLOUR, width=1)
        )
        self.bottom.addItem(self.kl_e_item)
        self.bottom.addItem(self.kl_m_item)
        # The entropy is on another scale: its own ViewBox on the right axis.
        bottom_item = self.bottom.getPlotItem()
        self.h_box = pg.ViewBox()
        bottom_item.showAxis("right")
        bottom_item.scene().addItem(self.h_box)
        right = bottom_item.getAxis("right")
        right.linkToView(self.h_box)
        right.setLabel("entropy H", color=H_COLOUR, **{"font-size": f"{BASE_POINT_SIZE}pt"})
        right.enableAutoSIPrefix(False)
        self.h_box.setXLink(bottom_item)
        self.curves["h"] = pg.PlotCurveItem(pen=pg.mkPen(H_COLOUR, width=2.5))
        self.h_box.addItem(self.curves["h"])
        bottom_item.vb.sigResized.connect(self._sync_h_box)

        self.cursors = []
        for w in (self.top, self.bottom):
            line = pg.InfiniteLine(
                angle=90, movable=False, pen=pg.mkPen(CURSOR_COLOUR, width=LINE_WIDTH)
            )
            line.setZValue(-5)
            w.addItem(line, ignoreBounds=True)
            self.cursors.append(line)
            w.scene().sigMouseClicked.connect(lambda ev, w=w: self._on_click(w, ev))

        checks = flow_row(QtWidgets.QLabel("Also show:"), self.show_q, self.show_h)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.caption)
        layout.addWidget(self.readout)
        split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        split.addWidget(self.top)
        split.addWidget(self.bottom)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout.addWidget(split, 1)
        layout.addWidget(checks)

        self.show_q.toggled.connect(self._on_toggles)
        self.show_h.toggled.connect(self._on_toggles)
        self._dirty = False
        self._throttle = RedrawThrottle(self.redraw, parent=self, busy=lambda: session.running)
        session.history_changed.connect(self._throttle.request)
        session.snapshot_changed.connect(self._throttle.request)
        session.run_state_changed.connect(self._throttle.flush)
        self._on_toggles()

    # ------------------------------------------------------------ drawing

    def flush(self) -> None:
        """Draw what is pending now, shown or not (tests, export)."""
        self._throttle.flush()
        if self._dirty:
            self._draw()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._dirty:
            self._draw()

    def _sync_h_box(self) -> None:
        self.h_box.setGeometry(self.bottom.getPlotItem().vb.sceneBoundingRect())
        self.h_box.linkedViewChanged(self.bottom.getPlotItem().vb, self.h_box.XAxis)

    def _on_toggles(self) -> None:
        on_q = self.show_q.isChecked()
        self.curves["q"].setVisible(on_q)
        legend = self.top.getPlotItem().legend
        legend.removeItem(self.curves["q"])
        if on_q:
            legend.addItem(self.curves["q"], "Q = E_q[log p(X, Z|θ)]")
        on_h = self.show_h.isChecked()
        self.curves["h"].setVisible(on_h)
        item = self.bottom.getPlotItem()
        item.showAxis("right") if on_h else item.hideAxis("right")
        self._sync_h_box()
        self.redraw()

    def plotted(self) -> dict[str, np.ndarray]:
        """What the curves draw, by name: "x" and "logp", "bound", "q", "kl", "h"."""
        out = {}
        for key, curve in self.curves.items():
            x, y = curve.getData()
            x = np.zeros(0) if x is None else np.asarray(x)
            y = np.zeros(0) if y is None else np.asarray(y)
            out["x"] = x
            out[key] = y
        return out

    def set_theme(self, foreground: str) -> None:
        """The log p curve in the theme's foreground (it is near-black on light)."""
        colour = LOGP_COLOUR if foreground.lower() in ("#000000", "#000", "black") else foreground
        self.curves["logp"].setPen(pg.mkPen(colour, width=LINE_WIDTH))

    def redraw(self) -> None:
        # Hidden behind another tab it would cost a few milliseconds per
        # frame of a run for nothing: it is drawn when it is shown.
        if not self.isVisible():
            self._dirty = True
            return
        self._draw()

    def _draw(self) -> None:
        self._dirty = False
        s = self.session
        self.series.sync(s.history)
        ser = self.series
        n = ser.n
        x = ser.get("x")
        for key in ("logp", "bound", "q", "kl", "h"):
            self.curves[key].setData(x, ser.get(key))
        phase = ser.get("phase")
        if n <= MAX_MARKERS:
            bound, kl = ser.get("bound"), ser.get("kl")
            # The bound is not computed for every run (EM with missing
            # values): only finite values get markers.
            known = np.isfinite(bound)
            e = (phase == 1) & known
            m = (phase == 2) & known
            self.e_item.setData(x[e], bound[e])
            self.m_item.setData(x[m], bound[m])
            self.kl_e_item.setData(x[e], kl[e])
            self.kl_m_item.setData(x[m], kl[m])
        else:
            for item in (self.e_item, self.m_item, self.kl_e_item, self.kl_m_item):
                item.setData([], [])
        for line in self.cursors:
            line.setValue(max(s.index, 0))
        self.top.getPlotItem().vb.setXRange(-0.5, max(n - 0.5, 8.5), padding=0.02)
        for w in (self.top, self.bottom):
            w.getPlotItem().vb.enableAutoRange(axis="y")
        self.h_box.enableAutoRange(axis="y")
        self._update_readout()

    def _update_readout(self) -> None:
        s = self.session
        if not s.history or not 0 <= s.index < self.series.n:
            self.readout.setText("")
            return
        i = s.index
        snap = s.history[i]
        logp = self.series.get("logp")[i]
        q = self.series.get("q")[i]
        h = self.series.get("h")[i]
        kl = self.series.get("kl")[i]
        if math.isnan(q):
            why = (
                "EM with missing values (EM > Treat missing values with EM) does not compute it"
                if s.data is not None and s.data.marginal
                else "this history was computed without it"
            )
            self.readout.setText(f"The lower bound is not shown: {why}.")
            return
        phase = {"init": "start", "E": "after the E-step", "M": "after the M-step"}[snap.phase]
        text = (
            f"Half-step {i} ({phase}): "
            f"log p = <b>{logp:.4f}</b> = Q ({q:.4f}) + H ({h:.4f}) + "
            f"<span style='color:{KL_COLOUR}'>KL ({kl:.3g})</span>"
        )
        change = s.objective_changes().get(i)
        if change is not None:
            # Q and L of another objective: their difference is not a rise.
            text += f"; <b>the objective changed here</b> ({html.escape(change)})"
        elif i > 0 and snap.phase == "M":
            gain = self.series.get("bound")[i] - self.series.get("bound")[i - 1]
            text += f"; the M-step raised L by {gain:.4g}"
        self.readout.setText(text)

    # ------------------------------------------------------------ clicks

    def index_at(self, x: float) -> int:
        n = len(self.session.history)
        return int(min(max(round(x), 0), max(n - 1, 0)))

    def _on_click(self, widget: pg.PlotWidget, ev) -> None:
        if ev.button() != QtCore.Qt.MouseButton.LeftButton:
            return
        vb = widget.getPlotItem().vb
        if not vb.sceneBoundingRect().contains(ev.scenePos()):
            return
        ev.accept()
        self.session.set_index(self.index_at(vb.mapSceneToView(ev.scenePos()).x()))
