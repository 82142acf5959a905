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
from emviz.ui.views.screen_aids import mark_screen_aid
from emviz.ui.views.style import LINE_WIDTH, set_axis_labels, style_plot
from emviz.ui.views.transitions import (
    BLEND_MAX_POINTS,
    MixtureParams,
    Transition,
    interpolate_params,
    mix_colours,
    transition_duration,
)

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

#: Ghosts, the ellipses before the last step: faint and dashed, below the
#: ellipses shown (z 7..9).
_GHOST_ALPHA = 110
_GHOST_WIDTH = 2.0
_Z_GHOSTS = 6

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
        self.ghost_curves: list[pg.PlotCurveItem] = []
        for k in range(MAX_COMPONENTS):
            pen = pg.mkPen(qcolor(k, _GHOST_ALPHA), width=_GHOST_WIDTH)
            pen.setStyle(QtCore.Qt.PenStyle.DashLine)
            curve = pg.PlotCurveItem(pen=pen, antialias=True, connect="finite")
            curve.setZValue(_Z_GHOSTS)
            curve.setVisible(False)
            mark_screen_aid(curve)  # an aid on screen, not part of an exported snapshot
            self.addItem(curve, ignoreBounds=True)
            self.ghost_curves.append(curve)
        #: Steps glide and blend (see :mod:`emviz.ui.views.transitions`).
        self.animate = True
        self.transition = Transition(self)
        self.transition.frame.connect(self._on_transition_frame)
        self._last_snap = None  # the snapshot shown, or being glided to
        self._last_raw = None  # the same, as the history holds it
        self._last_index = -1  # and its index in the history
        self._drawn_fast_run = False  # the last snapshot drawn came in a fast run
        self._shown_params: MixtureParams | None = None  # the ellipses drawn now
        self._shown_rgb: np.ndarray | None = None  # the point colours now, if known
        self._ghost_params: MixtureParams | None = None
        # The transition under way: (from, to) parameters and colours (None: no change).
        self._glide: tuple[MixtureParams, MixtureParams] | None = None
        self._blend: tuple[np.ndarray, np.ndarray] | None = None
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
        self._end_transition()
        self.redraw()

    def set_sd_visible(self, n_std: int, on: bool) -> None:
        self.show_sd[n_std] = bool(on)
        self._end_transition()
        self._draw_ghosts()
        self.redraw()

    def set_animate(self, on: bool) -> None:
        """Let steps glide and blend, with ghosts of the ellipses before (on), or change at once."""
        self.animate = bool(on)
        if not self.animate:
            self._end_transition()
            self._set_ghost(None)
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
        """Draw what is pending now: a redraw, a raster, a re-rasterisation after a zoom.

        A transition under way ends: the snapshot shown is drawn exactly (as
        exports and scripts expect).
        """
        self._throttle.flush()
        self._end_transition()
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
        # Nothing to glide from: other points, another start.
        self.transition.stop()
        self._last_snap = self._last_raw = None
        self._shown_params = None
        self._shown_rgb = None
        self._set_ghost(None)
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
        self._draw_ellipse_params(None if mix is None else MixtureParams.of(mix))

    def _draw_ellipse_params(self, params: MixtureParams | None) -> None:
        """Draw the ellipses of ``params`` (None: none) at the levels shown."""
        self._shown_params = params
        k_now = 0 if params is None else params.n_components
        shown = tuple(n_std for n_std in self.ellipse_curves if self.show_sd[n_std])
        if k_now and shown:
            xy = ellipses_points(params.means, params.covariances, shown, n_points=120)
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
        # The history's own snapshot: ``current`` gives an E snapshot a new
        # object (with its responsibilities) at every call.
        raw = s.history[s.index] if 0 <= s.index < len(s.history) else None
        if raw is self._last_raw and self.transition.active:
            # The same target (a new selection, a restyle): the glide goes on.
            self._draw_selection()
            return
        if raw is self._last_raw:
            self._last_snap = snap
        else:
            previous, self._last_snap, self._last_raw = self._last_snap, snap, raw
            adjacent = abs(s.index - self._last_index) == 1
            self._last_index = s.index
            duration = transition_duration(s.running, s.delay) if self.animate else 0.0
            if not s.running and self._drawn_fast_run:
                duration = 0.0  # the last frame of a fast run: at once, as the others
            self._drawn_fast_run = s.running and duration == 0.0
            # Only between neighbouring snapshots: one step, one notch of the
            # history. A jump (the end of a fast run drawn at once, a slider
            # dragged through many steps, back to the start) is shown at once.
            if duration > 0 and adjacent and previous is not None and snap is not None:
                self._set_ghost(_changed_params(previous, snap))
                if self._begin_transition(previous, snap, duration):
                    return
            else:
                self._set_ghost(None)
        self.transition.stop()
        self._glide = self._blend = None
        self._shown_rgb = None
        self.points.setColours(None if snap is None else snap.resp, self.hard_assignment)
        self._pending_vectors = snap
        if not self.points.busy:
            self._draw_vectors()
        # Else the raster of a large cloud is being computed between events:
        # the ellipses and means follow when it is ready, in the same paint.

    # ------------------------------------------------------------ transitions

    def _rgb_of(self, snap) -> np.ndarray:
        """Colours of the points for ``snap``, array of shape (n, 3), as :meth:`colour_codes`."""
        n = self.session.n_samples
        if snap is None or snap.resp is None or snap.resp.shape[0] != n:
            return np.tile(np.asarray(GREY, float), (n, 1))
        if self.hard_assignment:
            return PALETTE[np.argmax(snap.resp, axis=1)]
        return blend(snap.resp)

    def _begin_transition(self, previous, snap, duration: float) -> bool:
        """Start gliding from what is shown to ``snap``; False when nothing would move."""
        target = MixtureParams.of(snap.mixture)
        start = self._shown_params
        glide = None
        if start is not None and start.n_components == target.n_components:
            if not start.same_as(target):
                glide = (start, target)
        blend_ = None
        n = self.session.n_samples
        small = 0 < n <= BLEND_MAX_POINTS and self.points.mode == "points"
        if small and snap.resp is not previous.resp:
            # From the colours shown now: mid-blend when steps come quickly.
            old = self._shown_rgb if self._shown_rgb is not None else self._rgb_of(previous)
            new = self._rgb_of(snap)
            if old.shape == new.shape and not np.array_equal(old, new):
                blend_ = (old, new)
        if glide is None and blend_ is None:
            self._glide = self._blend = None
            return False
        self._glide, self._blend = glide, blend_
        if blend_ is None:
            # The colours change at once (a raster of many points is
            # recoloured once, not at every frame); the ellipses glide.
            self._shown_rgb = None
            self.points.setColours(snap.resp, self.hard_assignment)
        if glide is None:
            self._pending_vectors = snap
            self._draw_vectors()
        self._draw_selection()
        self.transition.start(duration)
        return True

    def _on_transition_frame(self, s: float) -> None:
        """One frame of the transition, ``s`` the eased progress in (0, 1]."""
        snap = self._last_snap
        if s >= 1.0:
            self._end_transition()
            return
        if self._glide is not None:
            params = interpolate_params(*self._glide, s)
            self._ellipses_key = None  # the ellipses drawn are no snapshot's
            self._draw_ellipse_params(params)
            self._draw_means(params.means)
        if self._blend is not None and snap is not None:
            rgb = mix_colours(*self._blend, s)
            self._shown_rgb = rgb
            self.points.setCodes(quantize(rgb))

    def _end_transition(self) -> None:
        """Jump to the end of the transition under way (if any): the target exactly."""
        if self._glide is None and self._blend is None:
            self.transition.stop()
            return
        self.transition.stop()
        snap = self._last_snap
        if self._blend is not None:
            self._shown_rgb = self._blend[1]
            self.points.setColours(None if snap is None else snap.resp, self.hard_assignment)
        self._glide = self._blend = None
        self._pending_vectors = snap
        self._draw_vectors()

    def _set_ghost(self, params: MixtureParams | None) -> None:
        if params is None and self._ghost_params is None:
            return  # none shown (every snapshot of a fast run comes here)
        self._ghost_params = params
        self._draw_ghosts()

    def _draw_ghosts(self) -> None:
        """The ghosts: the ellipses before the last step, at the levels shown, faint and dashed."""
        params = self._ghost_params
        shown = tuple(n_std for n_std in self.ellipse_curves if self.show_sd[n_std])
        k_now = 0 if params is None or not shown else params.n_components
        if k_now:
            xy = ellipses_points(params.means, params.covariances, shown, n_points=120)
        for k, curve in enumerate(self.ghost_curves):
            if k >= k_now:
                curve.setVisible(False)
                continue
            gap = np.full((1, 2), np.nan)
            pts = np.concatenate([part for i in range(len(shown)) for part in (xy[i, k], gap)])
            curve.setData(pts[:, 0], pts[:, 1], connect="finite")
            curve.setVisible(True)

    def ghosts_shown(self) -> MixtureParams | None:
        """The parameters whose ellipses are drawn as ghosts, or None."""
        return self._ghost_params

    def shown_params(self) -> MixtureParams | None:
        """The parameters of the ellipses drawn now (in between two snapshots mid-glide)."""
        return self._shown_params

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
        self._case_ellipses()
        self._draw_ellipses(snap)
        # Means and the selected point: only when they changed (an E-step moves nothing).
        means = None if snap is None else snap.mixture.means
        if not _same_array(means, self._means_drawn):
            self._draw_means(means)
        self._draw_selection()

    def _draw_means(self, means: np.ndarray | None) -> None:
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

    def _draw_selection(self) -> None:
        s = self.session
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


def _changed_params(previous, snap) -> MixtureParams | None:
    """The parameters of ``previous`` if ``snap`` has other ellipses (same K), else None."""
    before, after = previous.mixture, snap.mixture
    if before is after or before.n_components != after.n_components:
        return None
    params = MixtureParams.of(before)
    return None if params.same_as(MixtureParams.of(after)) else params


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
