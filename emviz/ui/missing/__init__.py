"""EM with missing coordinates, drawn: the E-step fills in what was not observed.

With EM > Treat missing values with EM, rows that lost one coordinate stay in
the fit.  Each is drawn at its current expected position (the
responsibility-weighted conditional mean of the missing coordinate given the
observed one), as a hollow diamond with a bar along the missing axis of +-1
posterior standard deviation.  The positions change at every E-step, so the
class sees EM "fill in" the data.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from emviz.runs.pacing import RedrawThrottle
from emviz.ui.views.palette import GREY, PALETTE_HEX
from emviz.ui.views.style import LINE_WIDTH

__all__ = ["MissingOverlay", "install"]

_DIAMOND_SIZE = 16


class MissingOverlay(QtCore.QObject):
    """Incomplete points at their expected positions, with their spread.

    Attributes
    ----------
    positions : array of shape (n_incomplete, 2)
        Where the incomplete points are drawn now (row order: missing x,
        then missing y, as in :class:`emviz.core.data.MissingData`).
    spread : array of shape (n_incomplete,)
        Half-length of each bar (posterior standard deviation).
    """

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.session = session = window.session
        self.positions = np.empty((0, 2))
        self.spread = np.empty(0)
        self.bars = pg.PlotCurveItem(connect="pairs", pen=pg.mkPen((70, 70, 70, 150), width=2))
        self.bars.setZValue(8)
        self.diamonds = pg.ScatterPlotItem(symbol="d", size=_DIAMOND_SIZE, pxMode=True)
        self.diamonds.setZValue(9)
        self._pens = [pg.mkPen(h, width=LINE_WIDTH) for h in PALETTE_HEX]
        self._grey_pen = pg.mkPen(tuple(int(c) for c in GREY), width=LINE_WIDTH)
        self._brush = pg.mkBrush(255, 255, 255, 230)
        window.scatter.addItem(self.bars)
        window.scatter.addItem(self.diamonds)
        self._throttle = RedrawThrottle(self.redraw, parent=self, busy=lambda: session.running)
        for signal in (session.snapshot_changed, session.data_changed):
            signal.connect(self._throttle.request)
        window.extra_views.append(self)
        self.redraw()

    def flush(self) -> None:
        self._throttle.flush()

    def redraw(self) -> None:
        s = self.session
        md = s.data
        if md is None or not s.history or md.n_incomplete == 0:
            self.positions, self.spread = np.empty((0, 2)), np.empty(0)
            self.bars.setData([], [])
            self.diamonds.setData([], [])
            return
        # The points sit where the responsibilities shown put them: after an
        # E-step (or at the start) under the mixture shown; after an M-step
        # under the mixture the M-step used, the previous one.
        index = s.index
        snap = s.history[index]
        mixture = snap.mixture if snap.phase != "M" else s.history[index - 1].mixture
        resp = s.resp_at(index)
        if resp is None:
            resp = s._posterior(mixture)
        points, spread = md.points(mixture, resp)
        rows = np.concatenate([md.idx_missing_x, md.idx_missing_y])
        self.positions = np.asarray(points[rows])
        self.spread = np.asarray(spread[rows])
        # Bars along the missing axis: x for the first group, y for the second.
        nx = md.idx_missing_x.shape[0]
        axis = np.zeros(len(rows), dtype=int)
        axis[nx:] = 1
        ends = np.repeat(self.positions, 2, axis=0)
        offsets = np.repeat(self.spread, 2) * np.tile([-1.0, 1.0], len(rows))
        ends[np.arange(len(ends)), np.repeat(axis, 2)] += offsets
        self.bars.setData(ends[:, 0], ends[:, 1])
        if snap.phase == "init":
            pens = [self._grey_pen] * len(rows)
        else:
            winners = np.argmax(np.asarray(s.resp_at(index))[rows], axis=1)
            pens = [self._pens[k] for k in winners]
        self.diamonds.setData(
            self.positions[:, 0], self.positions[:, 1], pen=pens, brush=self._brush
        )


def install(window) -> MissingOverlay:
    """The overlay and EM > Treat missing values with EM (``actions_by_key["treat_missing"]``)."""
    session = window.session
    overlay = MissingOverlay(window)
    action = window.menus["em"].addAction("Treat missing values with E&M")
    action.setObjectName("treatMissingAction")
    action.setCheckable(True)
    action.setToolTip(
        "Keep rows that lost one coordinate: EM fills in the missing value "
        "(off: those rows are left out)"
    )
    action.toggled.connect(session.set_treat_missing)

    def sync() -> None:  # enabled by the window's rule (emviz.ui.actions.action_states)
        action.blockSignals(True)
        action.setChecked(session.treat_missing)
        action.blockSignals(False)

    session.data_changed.connect(sync)
    window.register_action("treat_missing", action)
    sync()
    return overlay
