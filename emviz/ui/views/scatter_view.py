"""The main plot: points coloured by responsibilities, means, covariance ellipses."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import Signal

from emviz.core.geometry import ellipses_points
from emviz.core.settings import MAX_COMPONENTS
from emviz.runs.pacing import RedrawThrottle
from emviz.session import Session
from emviz.ui.views.palette import GREY, PALETTE, blend, qcolor
from emviz.ui.views.points import PointCloudItem, quantize
from emviz.ui.views.style import LINE_WIDTH, set_axis_labels, style_plot

__all__ = ["N_STDS", "ScatterView"]

#: Mahalanobis radii of the ellipses drawn.
N_STDS = (1, 2, 3)
_ELLIPSE_STYLE = {
    1: (LINE_WIDTH, QtCore.Qt.PenStyle.SolidLine),
    2: (LINE_WIDTH - 0.5, QtCore.Qt.PenStyle.DashLine),
    3: (LINE_WIDTH - 1.0, QtCore.Qt.PenStyle.DotLine),
}
#: Clicks within this many pixels of a point select it.
PICK_RADIUS_PX = 12
#: Above this many points the cloud is drawn without outlines, and each
#: ellipse gets a dark casing: drawn in its own points' colour on a dense
#: cloud of them, a bare outline vanishes.
DENSE_POINTS = 3000
#: The casing: this colour, this many pixels wider than the line it frames.
_CASING_COLOUR = (20, 20, 20, 170)
_CASING_EXTRA = 3.0
#: The ellipses that get one: the 3-sd outline runs through the sparse edge
#: of a cloud, and its dotted casing cost as much to paint as the other two
#: together (14 ms a frame at K = 10).
_CASED_N_STDS = (1, 2)

_NOTHING = object()  # no vector drawing pending
_GREY_CODE = int(quantize(np.array([GREY]))[0])
_HARD_CODES = quantize(PALETTE)


def point_diameter(n: int) -> int:
    """Marker size in pixels: large for a classroom's few points, small for a carpet."""
    if n <= 500:
        return 13
    if n <= DENSE_POINTS:
        return 10
    if n <= 20000:
        return 7
    return 5


def _casing(pen: QtGui.QPen) -> QtGui.QPen:
    """A dark pen a few pixels wider than ``pen``, with its dashes, to draw beneath it.

    Dash patterns are in units of the pen's width, so the casing's is scaled
    to put its dashes under the line's; with flat ends it frames a dash's
    sides and leaves the gaps open, so dashed and dotted stay told apart.
    """
    width = pen.widthF()
    casing = QtGui.QPen(QtGui.QColor(*_CASING_COLOUR), width + _CASING_EXTRA)
    casing.setCosmetic(pen.isCosmetic())
    if pen.style() != QtCore.Qt.PenStyle.SolidLine:
        ratio = width / casing.widthF()
        casing.setDashPattern([d * ratio for d in pen.dashPattern()])
        casing.setDashOffset(pen.dashOffset() * ratio)
        casing.setCapStyle(QtCore.Qt.PenCapStyle.FlatCap)
    return casing


class ScatterView(pg.PlotWidget):
    """Points, means and ellipses of the snapshot shown.

    ``ellipse_curves[n_std][k]`` is the PlotCurveItem of component k at
    ``n_std`` standard deviations (hidden when k >= K or the level is off).
    """

    point_clicked = Signal(int)
    add_requested = Signal(float, float)
    #: The outline colour of the means changed (a QColor): overlays that draw
    #: the means' paths take it for their casing.
    mean_outline_changed = Signal(object)

    def __init__(self, session: Session, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("scatterPlot")
        self.session = session
        self.hard_assignment = False
        self.add_mode = False
        self.show_sd = {n: True for n in N_STDS}
        item = self.getPlotItem()
        item.setAspectLocked(True)
        item.showGrid(x=True, y=True, alpha=0.15)
        # The axes draw the grid across the whole plot, a costly antialiased
        # picture; cached as a pixmap it is redrawn only when the range changes.
        for name in ("left", "bottom", "top", "right"):
            item.getAxis(name).setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)
        item.setMenuEnabled(False)
        style_plot(self)
        self.points = PointCloudItem(point_diameter(0))
        self.points.raster_ready.connect(self._on_raster_ready)
        self.addItem(self.points)
        self.ellipse_curves: dict[int, list[pg.PlotCurveItem]] = {}
        # (n_std, k) -> (dense, pen width) the curve's casing was made for.
        self._casings: dict[tuple[int, int], tuple[bool, float]] = {}
        for n_std in N_STDS:
            width, dash = _ELLIPSE_STYLE[n_std]
            curves = []
            for k in range(MAX_COMPONENTS):
                pen = pg.mkPen(qcolor(k), width=width, style=dash)
                curve = pg.PlotCurveItem(pen=pen, antialias=True)
                curve.setZValue(10 - n_std)
                # Thick antialiased dashed outlines cost ~20 ms a paint for 30 of them;
                # cached as pixmaps they are re-rendered only when they change (the
                # M-steps), not at every E-step or raster update.
                curve.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)
                curve.setVisible(False)
                self.addItem(curve, ignoreBounds=True)
                curves.append(curve)
            self.ellipse_curves[n_std] = curves
        self.means_item = pg.ScatterPlotItem(symbol="+", size=30, pxMode=True)
        self._mean_brushes = [pg.mkBrush(qcolor(k)) for k in range(MAX_COMPONENTS)]
        self._mean_pen = pg.mkPen("k", width=2)
        self.means_item.setZValue(20)
        self.addItem(self.means_item, ignoreBounds=True)
        self.selected_item = pg.ScatterPlotItem(
            symbol="o", size=28, pen=pg.mkPen("k", width=3), brush=None
        )
        self.selected_item.setZValue(30)
        self._ellipses_key = None
        self._means_drawn: np.ndarray | None = None
        self._selected_drawn: tuple | None = None
        self._pending_vectors = _NOTHING
        self.addItem(self.selected_item, ignoreBounds=True)
        self._throttle = RedrawThrottle(self.redraw, parent=self, busy=lambda: session.running)
        session.data_changed.connect(self._on_data_changed)
        session.snapshot_changed.connect(self._throttle.request)
        session.run_state_changed.connect(self._throttle.flush)
        session.selection_changed.connect(self._throttle.request)
        self.scene().sigMouseClicked.connect(self._on_click)
        if session.X is not None:
            self._on_data_changed()

    # ------------------------------------------------------------ options

    def set_hard_assignment(self, on: bool) -> None:
        self.hard_assignment = bool(on)
        self.redraw()

    def set_sd_visible(self, n_std: int, on: bool) -> None:
        self.show_sd[n_std] = bool(on)
        self.redraw()

    def set_add_mode(self, on: bool) -> None:
        self.add_mode = bool(on)
        cursor = QtCore.Qt.CursorShape.CrossCursor if on else QtCore.Qt.CursorShape.ArrowCursor
        self.viewport().setCursor(cursor)

    def set_mean_outline(self, colour, width: float | None = None) -> None:
        """Outline the mean markers (and cased overlays on them, e.g. the mean paths) in ``colour``.

        For a theme switch: the theme's foreground, so the means stand out on
        its background. Applied at once, to the means drawn now too.

        Parameters
        ----------
        colour : anything :func:`pyqtgraph.mkColor` takes (a QColor, "#rrggbb", "k", ...)
        width : float, optional
            The outline's width in pixels; by default the current one.
        """
        qc = pg.mkColor(colour)
        if width is None:
            width = self._mean_pen.widthF()
        self._mean_pen = pg.mkPen(qc, width=width)
        self.means_item.setPen(self._mean_pen)
        self.mean_outline_changed.emit(QtGui.QColor(qc))

    def mean_outline(self) -> QtGui.QColor:
        """The colour the means are outlined in."""
        return QtGui.QColor(self._mean_pen.color())

    def set_equal_aspect(self, on: bool) -> None:
        """Equal scales on both axes (ellipses keep their true shape on screen)."""
        self.getPlotItem().setAspectLocked(bool(on))
        self.fit_view()

    def equal_aspect(self) -> bool:
        return bool(self.getPlotItem().vb.state["aspectLocked"])

    def fit_view(self) -> None:
        X = self.session.X
        if X is None or not len(X):
            return
        # Rows with a missing coordinate (NaN) have no place on the plot.
        finite = np.isfinite(X)
        if not finite.all(axis=0).all():
            X = X[finite.all(axis=1)]
            if not len(X):
                return
        lo, hi = X.min(axis=0), X.max(axis=0)
        span = np.maximum(hi - lo, 1e-9 * np.maximum(np.abs(hi), 1.0))
        span = np.where(span > 0, span, 1.0)
        self.getPlotItem().vb.setRange(
            xRange=(lo[0], lo[0] + span[0]), yRange=(lo[1], lo[1] + span[1]), padding=0.08
        )

    # ------------------------------------------------------------ drawing

    def flush(self) -> None:
        """Draw what is pending now: a redraw, a raster, a re-rasterisation after a zoom."""
        self._throttle.flush()
        self.points.flush()
        self._on_raster_ready()

    def _on_data_changed(self) -> None:
        s = self.session
        X = s.X if s.X is not None else np.zeros((0, 2))
        self.points.setDiameter(point_diameter(len(X)), outline=len(X) <= DENSE_POINTS)
        self.points.setPoints(X)
        self._ellipses_key = None
        self._means_drawn = None
        # The point selected before is not one of these.
        self._selected_drawn = None
        self.selected_item.setData([], [])
        set_axis_labels(self, *s.columns)
        self.fit_view()
        self.redraw()

    def colour_codes(self) -> np.ndarray:
        """Palette code of every point for the snapshot shown, int array of shape (n,)."""
        s = self.session
        snap = s.current
        n = s.n_samples
        if snap is None or snap.resp is None:
            return np.full(n, _GREY_CODE, dtype=np.intp)
        if self.hard_assignment:
            return _HARD_CODES[np.argmax(snap.resp, axis=1)]
        return quantize(blend(snap.resp))

    def _draw_ellipses(self, snap) -> None:
        """Ellipse curves of the mixture shown (skipped when neither it nor the options changed).

        An E-step leaves the mixture unchanged, so during a run every other
        snapshot needs no new ellipses.
        """
        mix = None if snap is None else snap.mixture
        key = (tuple(sorted(self.show_sd.items())), mix)
        if self._ellipses_key is not None and _same_mixture(self._ellipses_key, key):
            return
        self._ellipses_key = key
        k_now = 0 if mix is None else mix.n_components
        shown = tuple(n_std for n_std in self.ellipse_curves if self.show_sd[n_std])
        if k_now and shown:
            xy = ellipses_points(mix.means, mix.covariances, shown, n_points=120)
        for n_std, curves in self.ellipse_curves.items():
            for k, curve in enumerate(curves):
                if k < k_now and n_std in shown:
                    pts = xy[shown.index(n_std), k]
                    curve.setData(pts[:, 0], pts[:, 1])
                    curve.setVisible(True)
                else:
                    curve.setVisible(False)

    def _case_ellipses(self) -> None:
        """Give the 1- and 2-sd ellipses a dark casing on dense clouds, none on sparse ones.

        A curve's shadow pen is its casing, kept a fixed number of pixels
        wider than its pen (whose width the presentation mode changes); set
        only when that changes, as each change re-renders the cached curve.
        """
        dense = self.session.n_samples > DENSE_POINTS
        for n_std, curves in self.ellipse_curves.items():
            cased = dense and n_std in _CASED_N_STDS
            for k, curve in enumerate(curves):
                pen = curve.opts["pen"]
                key = (cased, pen.widthF())
                if self._casings.get((n_std, k)) == key:
                    continue
                self._casings[(n_std, k)] = key
                curve.setShadowPen(_casing(pen) if cased else None)

    def redraw(self) -> None:
        s = self.session
        snap = s.current
        self.points.setColours(None if snap is None else snap.resp, self.hard_assignment)
        self._pending_vectors = snap
        if not self.points.busy:
            self._draw_vectors()
        # Else the raster of a large cloud is being computed between events:
        # the ellipses and means follow when it is ready, in the same paint.

    def _on_raster_ready(self) -> None:
        # Also when the next raster job has started already (snapshots coming
        # faster than rasters): the ellipses never lag more than one job behind.
        if self._pending_vectors is not _NOTHING:
            self._draw_vectors()

    def _draw_vectors(self) -> None:
        """Ellipses, means and the selected point of the snapshot shown."""
        snap, self._pending_vectors = self._pending_vectors, _NOTHING
        if snap is _NOTHING:
            return
        s = self.session
        self._case_ellipses()
        self._draw_ellipses(snap)
        # Means and the selected point: only when they changed (an E-step moves nothing).
        means = None if snap is None else snap.mixture.means
        if not _same_array(means, self._means_drawn):
            self._means_drawn = means
            if means is None:
                self.means_item.setData([], [])
            else:
                self.means_item.setData(
                    x=means[:, 0],
                    y=means[:, 1],
                    brush=[self._mean_brushes[k] for k in range(len(means))],
                    pen=self._mean_pen,
                )
        sel = s.selected
        if sel is not None and (s.X is None or sel >= len(s.X)):
            sel = None
        key = None if sel is None else (sel, id(s.X))
        if key != self._selected_drawn:
            self._selected_drawn = key
            if sel is None:
                self.selected_item.setData([], [])
            else:
                self.selected_item.setData([s.X[sel, 0]], [s.X[sel, 1]])

    # ------------------------------------------------------------ clicks

    def nearest_point(self, x: float, y: float) -> int | None:
        """Index of the point nearest (x, y) within PICK_RADIUS_PX pixels, or None."""
        X = self.session.X
        if X is None or not len(X):
            return None
        pw, ph = self.getPlotItem().vb.viewPixelSize()
        d2 = ((X[:, 0] - x) / pw) ** 2 + ((X[:, 1] - y) / ph) ** 2
        if np.isnan(d2).all():
            return None
        i = int(np.nanargmin(d2))
        return i if d2[i] <= PICK_RADIUS_PX**2 else None

    def click_at(self, x: float, y: float) -> None:
        """What a left click at data coordinates (x, y) does."""
        if self.add_mode:
            self.add_requested.emit(float(x), float(y))
            return
        i = self.nearest_point(x, y)
        self.session.select(i)
        if i is not None:
            self.point_clicked.emit(i)

    def _on_click(self, ev) -> None:
        if ev.button() != QtCore.Qt.MouseButton.LeftButton:
            return
        vb = self.getPlotItem().vb
        if not vb.sceneBoundingRect().contains(ev.scenePos()):
            return
        pos = vb.mapSceneToView(ev.scenePos())
        ev.accept()
        self.click_at(pos.x(), pos.y())


def _same_array(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    if a is b:
        return True
    if a is None or b is None:
        return False
    return a.shape == b.shape and np.array_equal(a, b)


def _same_mixture(a: tuple, b: tuple) -> bool:
    """Whether two (options, mixture) keys draw the same ellipses."""
    if a[0] != b[0]:
        return False
    ma, mb = a[1], b[1]
    if ma is mb:
        return True
    if ma is None or mb is None:
        return False
    return (
        ma.means.shape == mb.means.shape
        and np.array_equal(ma.means, mb.means)
        and np.array_equal(ma.covariances, mb.covariances)
    )
