"""Paths: where each mean has been, up to the snapshot shown, fading with age.

Means move only at M-steps, so the path of component k is its mean at the
start and after every M-step up to the snapshot shown.  The segments are cut
into age bands (the newest few, then bands twice as long each), one
PlotCurveItem per band and component with a lower alpha for older bands, so a
path of thousands of steps is still a dozen curve items.  Optionally the
1-sd ellipses of past M-steps are drawn faintly (the last ``PAST_ELLIPSES``).

The paths are drawn above the points and the ellipses (below the mean
markers), thick, and cased in the colour that outlines the means (the
theme's foreground, see :meth:`ScatterView.set_mean_outline`): a coloured
line alone vanishes on a cloud of its own colour, cased it reads on light
and dark backgrounds alike.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui

from emviz.core.geometry import ellipse_points
from emviz.core.settings import MAX_COMPONENTS
from emviz.runs.pacing import RedrawThrottle
from emviz.session import Session
from emviz.ui.views.palette import qcolor

__all__ = ["AGE_BANDS", "TrailsOverlay"]

#: (first age, alpha) of each band; segment age 0 is the latest move.
AGE_BANDS = ((0, 255), (3, 200), (8, 150), (16, 105), (32, 70), (64, 40))
#: How many past ellipses per component at most.
PAST_ELLIPSES = 25
#: Above the points (z 0), the ghosts (6) and the current ellipses (7..9);
#: below the means (20) whose path they are.
Z_TRAILS = 15
Z_PAST_ELLIPSES = 4
#: Width of a path, and of its casing, in pixels.
TRAIL_WIDTH = 4.5
CASING_WIDTH = 8.0
_DEFAULT_OUTLINE = "#000000"


def _mix(colour: QtGui.QColor, background: QtGui.QColor, share: float) -> QtGui.QColor:
    """``share`` of ``colour`` over ``1 - share`` of ``background``, opaque."""
    return QtGui.QColor(
        *(
            round(share * a + (1.0 - share) * b)
            for a, b in zip(colour.getRgb()[:3], background.getRgb()[:3], strict=True)
        )
    )


class TrailsOverlay:
    """Mean paths (and optionally past ellipses) on the scatter plot.

    ``curves[k][b]`` is the curve of component k's segments in age band b.
    """

    def __init__(self, session: Session, plot: pg.PlotWidget) -> None:
        self.session = session
        self.plot = plot
        self.enabled = False
        self.show_ellipses = False
        self.curves: list[list[pg.PlotCurveItem]] = []
        for k in range(MAX_COMPONENTS):
            row = []
            for _first, alpha in AGE_BANDS:
                pen = pg.mkPen(qcolor(k, alpha), width=TRAIL_WIDTH)
                pen.setCapStyle(QtCore.Qt.PenCapStyle.RoundCap)
                pen.setJoinStyle(QtCore.Qt.PenJoinStyle.RoundJoin)
                curve = pg.PlotCurveItem(pen=pen, antialias=True)
                curve.setZValue(Z_TRAILS)
                curve.setVisible(False)
                plot.addItem(curve, ignoreBounds=True)
                row.append(curve)
            self.curves.append(row)
        self.dots = pg.ScatterPlotItem(size=9, pxMode=True)
        self.dots.setZValue(Z_TRAILS)
        plot.addItem(self.dots, ignoreBounds=True)
        self.ellipses: list[pg.PlotCurveItem] = []
        for k in range(MAX_COMPONENTS):
            curve = pg.PlotCurveItem(pen=pg.mkPen(qcolor(k, 70), width=1.5), connect="finite")
            curve.setZValue(Z_PAST_ELLIPSES)
            curve.setVisible(False)
            plot.addItem(curve, ignoreBounds=True)
            self.ellipses.append(curve)
        self._dot_brushes = [pg.mkBrush(qcolor(k, 220)) for k in range(MAX_COMPONENTS)]
        outline = getattr(plot, "mean_outline", None)
        self.set_outline(outline() if callable(outline) else _DEFAULT_OUTLINE)
        changed = getattr(plot, "mean_outline_changed", None)
        if changed is not None:
            changed.connect(self.set_outline)
        self._throttle = RedrawThrottle(self.redraw, parent=plot, busy=lambda: session.running)
        session.snapshot_changed.connect(self._throttle.request)
        session.history_changed.connect(self._throttle.request)
        session.run_state_changed.connect(self._throttle.flush)

    def flush(self) -> None:
        self._throttle.flush()

    def set_outline(self, colour) -> None:
        """Case the paths and their dots in ``colour`` (the outline of the means).

        A band fades with age towards the plot's background: its line is the
        component's colour mixed with the background (opaque, as a
        translucent line would show its casing through it and look dark),
        its casing the outline at the band's opacity.
        """
        base = pg.mkColor(colour)
        self.outline = QtGui.QColor(base)
        background = self._background()
        for k, row in enumerate(self.curves):
            for curve, (_first, alpha) in zip(row, AGE_BANDS, strict=True):
                line = _mix(qcolor(k), background, alpha / 255.0)
                pen = pg.mkPen(line, width=TRAIL_WIDTH)
                c = QtGui.QColor(base)
                c.setAlpha(alpha)
                casing = pg.mkPen(c, width=CASING_WIDTH)
                for p in (pen, casing):
                    p.setCapStyle(QtCore.Qt.PenCapStyle.RoundCap)
                    p.setJoinStyle(QtCore.Qt.PenJoinStyle.RoundJoin)
                curve.setPen(pen)
                curve.setShadowPen(casing)
        dot_pen = QtGui.QColor(base)
        dot_pen.setAlpha(200)
        self.dots.setPen(pg.mkPen(dot_pen, width=1.5))

    def _background(self) -> QtGui.QColor:
        """The plot's background colour (white if it has none)."""
        brush = self.plot.backgroundBrush()
        if brush.style() == QtCore.Qt.BrushStyle.NoBrush:
            return QtGui.QColor("white")
        return QtGui.QColor(brush.color())

    def set_enabled(self, on: bool) -> None:
        self.enabled = bool(on)
        self.redraw()

    def set_ellipses(self, on: bool) -> None:
        self.show_ellipses = bool(on)
        self.redraw()

    def path(self) -> np.ndarray:
        """Means at the start and after each M-step up to the snapshot shown, shape (T, K, 2)."""
        s = self.session
        if not s.history:
            return np.zeros((0, 0, 2))
        shown = s.history[: s.index + 1]
        k_now = shown[-1].mixture.n_components
        means = [
            snap.mixture.means
            for snap in shown
            if snap.phase != "E" and snap.mixture.n_components == k_now
        ]
        return np.asarray(means, dtype=float)

    def _hide(self) -> None:
        for row in self.curves:
            for c in row:
                c.setVisible(False)
        for c in self.ellipses:
            c.setVisible(False)
        self.dots.setData([], [])

    def redraw(self) -> None:
        if not self.enabled:
            self._hide()
            return
        p = self.path()
        if p.shape[0] < 1:
            self._hide()
            return
        t, k_now = p.shape[0], p.shape[1]
        n_seg = t - 1
        for k in range(MAX_COMPONENTS):
            for b, (first, _alpha) in enumerate(AGE_BANDS):
                curve = self.curves[k][b]
                last = AGE_BANDS[b + 1][0] if b + 1 < len(AGE_BANDS) else n_seg
                # Segment i (from point i to i + 1) has age n_seg - 1 - i.
                lo = max(n_seg - last, 0)
                hi = n_seg - first  # exclusive, in segments
                if k >= k_now or hi <= lo:
                    curve.setVisible(False)
                    continue
                pts = p[lo : hi + 1, k]
                curve.setData(pts[:, 0], pts[:, 1])
                curve.setVisible(True)
        flat = p[:-1].reshape(-1, 2) if t > 1 else np.zeros((0, 2))
        brushes = [self._dot_brushes[k] for _ in range(t - 1) for k in range(k_now)]
        self.dots.setData(flat[:, 0], flat[:, 1], brush=brushes)
        s = self.session
        shown = [snap for snap in s.history[: s.index] if snap.phase != "E"][-PAST_ELLIPSES:]
        for k in range(MAX_COMPONENTS):
            curve = self.ellipses[k]
            if not self.show_ellipses or k >= k_now or not shown:
                curve.setVisible(False)
                continue
            parts = []
            for snap in shown:
                if snap.mixture.n_components != k_now:
                    continue
                xy = ellipse_points(
                    snap.mixture.means[k], snap.mixture.covariances[k], 1, n_points=60
                )
                parts.append(xy)
                parts.append(np.full((1, 2), np.nan))
            if not parts:
                curve.setVisible(False)
                continue
            xy = np.concatenate(parts)
            curve.setData(xy[:, 0], xy[:, 1], connect="finite")
            curve.setVisible(True)
