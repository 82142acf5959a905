"""Many coloured points, drawn fast, from ten to a million.

Two ways of drawing, chosen from how many points are *in view*:

- **Points** (fewer than :data:`RASTER_MIN` in view). pyqtgraph's
  ``ScatterPlotItem`` keeps a Python object per point and costs several
  microseconds per point on every colour change, so instead each point's
  colour is quantised to a fixed palette of 16 levels per channel (4096
  colours, never more), one disc per palette colour is pre-rendered into a
  single atlas pixmap, and every point is drawn with one
  ``QPainter.drawPixmapFragments`` call.
- **Raster** (more in view). The points in view are binned into the screen
  pixels of the view (a small disc of pixels per point while that stays
  cheap, one pixel per point beyond that); each pixel's colour is the mean
  of its points' colours (``np.bincount`` of the colours over the pixel
  index of each point, divided by the counts) and its opacity grows with
  the number of points, ``1 - (1 - ALPHA_ONE) ** count``. One ``drawImage``.

What depends on the view (which points are in it, each one's pixel, the
counts per pixel) is computed when the view changes, and what depends on
the colours (the sums per pixel) when they change: during an EM run the
view is still, so a new snapshot costs one small matrix product
(responsibilities times palette) and three ``bincount`` calls. Panning or
zooming a large cloud moves the last raster with the view at once and
re-rasterises at most every :data:`RERASTER_MS` milliseconds (so it is
sharp again at every zoom level); zoomed in far enough, the points in view
fall below :data:`RASTER_MIN` and are drawn as points again.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui

from emviz.ui.views.palette import GREY, PALETTE

__all__ = ["ALPHA_ONE", "LEVELS", "RASTER_MIN", "PointCloudItem", "quantize"]

#: Levels per colour channel of the shared palette.
LEVELS = 16
#: From this many points in view on, points are rasterised.
RASTER_MIN = 20_000
#: Opacity of a raster pixel covered by one point; n points give 1 - (1 - ALPHA_ONE) ** n.
ALPHA_ONE = 0.8
#: Pixel-disc entries (points in view times pixels per disc) a raster may use;
#: beyond it, discs shrink (13 pixels, then 5, then 1 per point).
SPLAT_BUDGET = 2_000_000
#: Points per step of a raster job (one step between two events of the GUI).
JOB_SLICE = 250_000
#: After the view changes, the raster is recomputed at most this often (ms).
RERASTER_MS = 60
_STEP = 255.0 / (LEVELS - 1)


def quantize(rgb: np.ndarray) -> np.ndarray:
    """Palette code of each colour.

    Parameters
    ----------
    rgb : array of shape (n, 3)
        Colours, channels in [0, 255].

    Returns
    -------
    int array of shape (n,)
        ``r * LEVELS**2 + g * LEVELS + b`` with each channel rounded to a level.
    """
    q = np.rint(np.asarray(rgb, dtype=np.float64) * (1.0 / _STEP)).astype(np.intp)
    np.clip(q, 0, LEVELS - 1, out=q)
    return (q[:, 0] * LEVELS + q[:, 1]) * LEVELS + q[:, 2]


def _code_rgb() -> np.ndarray:
    """Colour of every palette code, array of shape (LEVELS**3, 3)."""
    codes = np.arange(LEVELS**3)
    levels = np.stack([codes // (LEVELS * LEVELS), (codes // LEVELS) % LEVELS, codes % LEVELS], 1)
    return levels * _STEP


_CODE_RGB = _code_rgb()
_GREY_CODE = int(quantize(np.array([GREY]))[0])
_HARD_CODES = quantize(PALETTE)


def _atlas(diameter: int, outline: bool) -> QtGui.QPixmap:
    """One antialiased disc per palette colour, in a LEVELS**1.5-square grid of cells."""
    cell = diameter + 2
    n = LEVELS**3
    cols = 64
    rows = -(-n // cols)
    yy, xx = np.mgrid[0:cell, 0:cell] + 0.5
    c = cell / 2.0
    d = np.hypot(xx - c, yy - c)
    r = diameter / 2.0
    alpha = np.clip(r + 0.5 - d, 0.0, 1.0)  # coverage of each pixel
    # A darker rim keeps overlapping points apart (only for small n).
    rim = np.clip(d - (r - 1.6), 0.0, 1.0) if outline else np.zeros_like(d)
    rgb = _CODE_RGB  # (n, 3)
    shade = 1.0 - 0.45 * rim  # (cell, cell)
    img = np.zeros((rows * cell, cols * cell, 4), dtype=np.uint8)
    # Premultiplied BGRA, cell by cell via a reshape of the grid.
    grid = img.reshape(rows, cell, cols, cell, 4)
    full = np.zeros((rows * cols, 3))
    full[:n] = rgb
    full = full.reshape(rows, cols, 3)
    for ch, src in ((0, 2), (1, 1), (2, 0)):
        vals = full[:, :, src][:, None, :, None] * (shade * alpha)[None, :, None, :]
        grid[..., ch] = np.rint(vals).astype(np.uint8)
    a = np.zeros((rows, cols))
    a.reshape(-1)[:n] = 1.0
    grid[..., 3] = np.rint(255 * a[:, None, :, None] * alpha[None, :, None, :]).astype(np.uint8)
    qimg = QtGui.QImage(
        img.data,
        img.shape[1],
        img.shape[0],
        img.strides[0],
        QtGui.QImage.Format.Format_ARGB32_Premultiplied,
    ).copy()
    return QtGui.QPixmap.fromImage(qimg)


def _source_rects(diameter: int) -> np.ndarray:
    cell = diameter + 2
    codes = np.arange(LEVELS**3)
    rects = np.empty((codes.size, 4))
    rects[:, 0] = (codes % 64) * cell
    rects[:, 1] = (codes // 64) * cell
    rects[:, 2] = cell
    rects[:, 3] = cell
    return rects


def _disc_offsets(r: int) -> list[tuple[int, int]]:
    """Pixel offsets of a disc of radius r (13 pixels for r = 2, 5 for r = 1, 1 for r = 0)."""
    return [
        (dx, dy)
        for dy in range(-r, r + 1)
        for dx in range(-r, r + 1)
        if dx * dx + dy * dy <= r * r + 0.5
    ]


class _View:
    """What one view (transform and device size) makes of the points.

    Attributes
    ----------
    key : tuple
        The transform and device size it was computed for.
    mode : {"points", "raster"}
    idx : int array of shape (m,) or None
        The points in view (None: all of them).
    m : int
        How many points are in view.
    device_rect : QRectF
        Where the raster goes, in device pixels.
    transform : QTransform
        Data to device, when computed.
    """

    def __init__(self, key, mode, idx, m, device_rect, transform) -> None:
        self.key = key
        self.mode = mode
        self.idx = idx
        self.m = m
        self.device_rect = device_rect
        self.transform = transform
        # Raster only: the padded grid, the compact id of every (point, disc pixel)
        # pair, the occupied pixels and their counts.
        self.radius = 0
        self.footprint = 1
        self.grid_shape = (0, 0)
        self.cid: np.ndarray | None = None
        self.occupied: np.ndarray | None = None
        self.alpha_bits: np.ndarray | None = None
        self.scale: np.ndarray | None = None
        self.alpha: np.ndarray | None = None


class PointCloudItem(pg.GraphicsObject):
    """Points of fixed pixel size coloured from responsibilities (or palette codes).

    Colours come from :meth:`setColours` (responsibilities, blended over the
    component palette, or hard: the most responsible component's colour) or
    from :meth:`setCodes` (palette codes, see :func:`quantize`). After a
    paint, :attr:`mode` says how the points were drawn ("points" or
    "raster") and :attr:`n_in_view` how many were in view.
    """

    #: A raster job ended (its picture is ready, or it was dropped with the view).
    raster_ready = QtCore.Signal()

    _atlas_cache: dict[tuple[int, bool], tuple[QtGui.QPixmap, np.ndarray]] = {}

    def __init__(self, diameter: int = 10) -> None:
        super().__init__()
        self._xy = np.zeros((2, 0))
        self._finite: np.ndarray | None = None  # indices of the finite points (None: all)
        self._bounds = QtCore.QRectF()
        self._data_bounds: tuple[tuple[float, float], tuple[float, float]] | None = None
        self._frags = pg.Qt.internals.PrimitiveArray(QtGui.QPainter.PixmapFragment, 10)
        # Colour source: responsibilities, or explicit codes, or neither (grey).
        self._resp: np.ndarray | None = None
        self._hard = False
        self._explicit_codes: np.ndarray | None = None
        self._colour_version = 0
        self._codes_cache: tuple[int, np.ndarray] | None = None
        # View state and the last raster or point codes drawn.
        self._view: _View | None = None
        self._view_version = 0
        self._drawn: tuple | None = None  # (colour_version, view_version)
        self._image: QtGui.QImage | None = None
        self._image_stamp: tuple | None = None  # (colour_version, view_version) of _image
        self._image_buf: np.ndarray | None = None
        # The raster job in progress: a generator that yields between slices.
        self._job = None
        self._job_stamp: tuple | None = None
        self._job_timer = QtCore.QTimer(self)
        self._job_timer.setSingleShot(True)
        self._job_timer.setInterval(0)
        self._job_timer.timeout.connect(self._step_job)
        self._point_codes: np.ndarray | None = None
        self._due = False
        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(RERASTER_MS)
        self._timer.timeout.connect(self._on_timer)
        #: How the last paint drew the points: "points" or "raster".
        self.mode = "points"
        #: Points in view at the last paint.
        self.n_in_view = 0
        self.setDiameter(diameter)

    # ----------------------------------------------------------------- setters

    def setDiameter(self, diameter: int, outline: bool = True) -> None:
        key = (int(diameter), bool(outline))
        if key not in self._atlas_cache:
            self._atlas_cache[key] = (_atlas(*key), _source_rects(key[0]))
        self.diameter = key[0]
        self._pixmap, self._rects = self._atlas_cache[key]
        self._invalidate_view()
        self.prepareGeometryChange()
        self.update()

    def setPoints(self, X: np.ndarray) -> None:
        """Positions, array of shape (n, 2)."""
        self.prepareGeometryChange()
        self._xy = np.ascontiguousarray(np.asarray(X, dtype=np.float64).T)
        # Points with a missing (NaN) or infinite coordinate are not drawn.
        finite = np.isfinite(self._xy).all(axis=0)
        self._finite = None if finite.all() else np.flatnonzero(finite)
        shown = self._xy if self._finite is None else self._xy[:, self._finite]
        if shown.shape[1]:
            lo = shown.min(axis=1)
            hi = shown.max(axis=1)
            self._bounds = QtCore.QRectF(lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1])
            self._data_bounds = ((float(lo[0]), float(hi[0])), (float(lo[1]), float(hi[1])))
        else:
            self._bounds = QtCore.QRectF()
            self._data_bounds = None
        n = self._xy.shape[1]
        if self._resp is not None and self._resp.shape[0] != n:
            self._resp = None
        if self._explicit_codes is not None and self._explicit_codes.shape[0] != n:
            self._explicit_codes = None
        self._colours_changed()
        self._invalidate_view()
        self.update()

    def positions(self) -> np.ndarray:
        """The positions set by :meth:`setPoints`, a read-only array of shape (n, 2)."""
        xy = self._xy.T.view()
        xy.flags.writeable = False
        return xy

    def setCodes(self, codes: np.ndarray) -> None:
        """Palette codes (see :func:`quantize`), int array of shape (n,)."""
        self._explicit_codes = np.asarray(codes, dtype=np.intp)
        self._resp = None
        self._colours_changed()

    def setColours(self, resp: np.ndarray | None, hard: bool = False) -> None:
        """Colour by responsibilities, array of shape (n, K) (None: grey, not assigned yet).

        Soft: each point's colour is the responsibility-weighted mean of the
        palette; hard: the colour of its most responsible component.
        """
        if resp is self._resp and bool(hard) == self._hard and self._explicit_codes is None:
            return  # an M snapshot shows the responsibilities of the E snapshot before it
        self._resp = resp
        self._hard = bool(hard)
        self._explicit_codes = None
        self._colours_changed()

    def _colours_changed(self) -> None:
        self._colour_version += 1
        if not self._start_pending_job():
            self.update()

    @property
    def busy(self) -> bool:
        """Whether a raster job is computing new colours (``raster_ready`` follows)."""
        return self._job is not None

    def _start_pending_job(self) -> bool:
        """In raster mode with a still view: rasterise the new colours at once, in slices.

        The last raster stays on screen meanwhile, and the item repaints once,
        when the new one is ready. Returns whether a job is running.
        """
        if self._job is not None:
            return True  # it finishes first; _job_done starts the next one
        view = self._view
        if view is None or view.mode != "raster" or self._image is None:
            return False
        stamp = (self._colour_version, self._view_version)
        if self._image_stamp is None or self._image_stamp[1] != stamp[1]:
            return False
        if self._image_stamp == stamp:
            return False
        self._start_job(view, stamp)
        self._job_timer.start()
        return True

    def _invalidate_view(self) -> None:
        self._view = None
        self._image = None
        self._image_stamp = None
        self._cancel_job()
        self._timer.stop()

    # ----------------------------------------------------------------- colours

    def _source(self) -> tuple:
        """What the colours are computed from (kept by a raster job while it runs)."""
        return (self._resp, self._hard, self._explicit_codes)

    @staticmethod
    def _rgb(source: tuple, idx) -> np.ndarray | None:
        """Colours of the points ``idx`` (a slice or an index array), shape (3, m); None if grey."""
        resp, hard, explicit = source
        if explicit is not None:
            return np.ascontiguousarray(_CODE_RGB[explicit[idx]].T)
        if resp is None:
            return None
        resp = resp[idx]
        pal = PALETTE[: resp.shape[1]]
        if hard:
            return np.ascontiguousarray(pal[np.argmax(resp, axis=1)].T)
        # One (3, K) x (K, m) product: resp is read once.
        return pal.T @ resp.T

    def _codes_for(self, idx: np.ndarray | None) -> np.ndarray:
        """Palette codes of the points ``idx`` (None: all), int array of shape (m,)."""
        m = self._xy.shape[1] if idx is None else idx.shape[0]
        if self._explicit_codes is not None:
            return self._explicit_codes if idx is None else self._explicit_codes[idx]
        resp = self._resp
        if resp is None:
            return np.full(m, _GREY_CODE, dtype=np.intp)
        if idx is not None:
            resp = resp[idx]
        if self._hard:
            return _HARD_CODES[np.argmax(resp, axis=1)]
        return quantize(resp @ PALETTE[: resp.shape[1]])

    def codes(self) -> np.ndarray:
        """Palette code of every point (see :func:`quantize`), int array of shape (n,)."""
        if self._codes_cache is None or self._codes_cache[0] != self._colour_version:
            self._codes_cache = (self._colour_version, self._codes_for(None))
        return self._codes_cache[1]

    # -------------------------------------------------------------- geometry

    def boundingRect(self) -> QtCore.QRectF:
        # Points have a size in pixels: pad the data rectangle by one diameter.
        # A view squeezed to (nearly) nothing has a singular device transform,
        # and pyqtgraph's pixel size then overflows: no padding is needed there.
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            pw, ph = self.pixelWidth(), self.pixelHeight()
        pad_x = (pw if math.isfinite(pw or 0.0) else 0.0) * self.diameter
        pad_y = (ph if math.isfinite(ph or 0.0) else 0.0) * self.diameter
        return self._bounds.adjusted(-pad_x, -pad_y, pad_x, pad_y)

    def viewTransformChanged(self) -> None:
        self.prepareGeometryChange()

    def pixelPadding(self) -> float:
        return self.diameter

    def dataBounds(self, ax, frac=1.0, orthoRange=None):
        if self._data_bounds is None:
            return None
        return self._data_bounds[ax]

    # ------------------------------------------------------------------ view

    def flush(self) -> None:
        """Finish a raster job now, and let the next paint re-rasterise at once if the view
        changed (tests, export)."""
        self._timer.stop()
        self._on_timer()
        self._finish_job()

    def _on_timer(self) -> None:
        self._due = True
        self.update()

    def _view_rect(self, t: QtGui.QTransform, w: int, h: int) -> tuple[int, int, int, int]:
        """Device pixels of the view box, (x0, y0, width, height), clipped to the device."""
        vb = self.getViewBox()
        if vb is not None and hasattr(vb, "viewRect"):
            rect = t.mapRect(vb.viewRect())
        else:
            rect = QtCore.QRectF(0, 0, w, h)
        x0 = max(0, int(math.floor(rect.left())))
        y0 = max(0, int(math.floor(rect.top())))
        x1 = min(w, int(math.ceil(rect.right())))
        y1 = min(h, int(math.ceil(rect.bottom())))
        return x0, y0, max(0, x1 - x0), max(0, y1 - y0)

    def _make_view(self, key, t: QtGui.QTransform, w: int, h: int) -> _View:
        n = self._xy.shape[1]
        x0, y0, width, height = self._view_rect(t, w, h)
        rect = QtCore.QRectF(x0, y0, width, height)
        if n < RASTER_MIN:
            # Few points: all of them, as points (the painter clips).
            m = n if self._finite is None else self._finite.size
            return _View(key, "points", self._finite, m, rect, QtGui.QTransform(t))
        # Device position relative to the view's corner: u = sx x + dx - x0.
        u = self._xy[0] * t.m11()
        u += t.dx() - x0
        v = self._xy[1] * t.m22()
        v += t.dy() - y0
        inside = u >= 0
        inside &= u < width
        inside &= v >= 0
        inside &= v < height
        m = int(np.count_nonzero(inside))
        if m < RASTER_MIN:
            # Points: those whose disc reaches into the view.
            pad = self.diameter
            near = (u >= -pad) & (u < width + pad) & (v >= -pad) & (v < height + pad)
            return _View(key, "points", np.flatnonzero(near), m, rect, QtGui.QTransform(t))
        idx = None if m == n else np.flatnonzero(inside)
        if idx is not None:
            u, v = u[idx], v[idx]
        view = _View(key, "raster", idx, m, rect, QtGui.QTransform(t))
        # Discs of pixels while the budget allows, single pixels beyond.
        r = 0
        for radius in (min(2, self.diameter // 2), 1):
            if radius > 0 and m * len(_disc_offsets(radius)) <= SPLAT_BUDGET:
                r = radius
                break
        offsets = _disc_offsets(r)
        gw, gh = width + 2 * r, height + 2 * r
        pix = v.astype(np.intp)  # floor: u and v are >= 0 here
        pix += r
        pix *= gw
        pix += u.astype(np.intp)
        pix += r
        if r:
            off = np.array([dy * gw + dx for dx, dy in offsets], dtype=np.intp)
            pix = (pix[:, None] + off[None, :]).ravel()  # point-major, like np.repeat
        counts = np.bincount(pix, minlength=gw * gh)
        occupied = np.flatnonzero(counts)
        cnt = counts[occupied].astype(np.float64)
        # Compact pixel ids (0..n_occupied-1) keep the per-snapshot bincounts small.
        lookup = np.empty(gw * gh, dtype=np.intp)
        lookup[occupied] = np.arange(occupied.size)
        alpha = 1.0 - (1.0 - ALPHA_ONE) ** cnt
        view.radius, view.footprint, view.grid_shape = r, len(offsets), (gh, gw)
        view.cid = lookup[pix]
        view.occupied = occupied
        view.alpha = alpha
        view.scale = alpha / cnt  # premultiplied mean: sum * alpha / count
        view.alpha_bits = np.rint(255.0 * alpha).astype(np.uint32) << np.uint32(24)
        return view

    # ---------------------------------------------------------------- paint

    def paint(self, p: QtGui.QPainter, *args) -> None:
        n = self._xy.shape[1]
        if not n:
            return
        t = p.transform()
        dev = p.device()
        w, h = int(dev.width()), int(dev.height())
        if w <= 0 or h <= 0:
            return
        key = (t.m11(), t.m12(), t.m21(), t.m22(), t.dx(), t.dy(), w, h)
        view = self._view
        if view is None or view.key != key:
            if view is not None and n >= RASTER_MIN and not self._due:
                # The view is moving: show the last picture moved with it, and
                # re-rasterise when the timer says so.
                if not self._timer.isActive():
                    self._timer.start()
                self._paint_stale(p, t)
                return
            self._view = view = self._make_view(key, t, w, h)
            self._view_version += 1
        self._due = False
        self.mode = view.mode
        self.n_in_view = view.m
        if view.mode == "raster":
            self._paint_raster(p, view)
        else:
            self._paint_points(p, t, view)

    def _paint_stale(self, p: QtGui.QPainter, t: QtGui.QTransform) -> None:
        view = self._view
        if view.mode == "points":
            self._paint_points(p, t, view)
            return
        if self._image is None:
            return
        # Old device rectangle -> data -> new device rectangle.
        inv, ok = view.transform.inverted()
        if not ok:
            return
        target = t.mapRect(inv.mapRect(view.device_rect))
        r = view.radius
        source = QtCore.QRectF(r, r, view.device_rect.width(), view.device_rect.height())
        p.resetTransform()
        p.drawImage(target, self._image, source)

    def _paint_points(self, p: QtGui.QPainter, t: QtGui.QTransform, view: _View) -> None:
        stamp = (self._colour_version, self._view_version)
        if self._drawn != stamp or self._point_codes is None:
            self._point_codes = self._codes_for(view.idx)
            self._drawn = stamp
        xy = self._xy if view.idx is None else self._xy[:, view.idx]
        m = xy.shape[1]
        if not m:
            return
        pts = pg.functions.transformCoordinates(t, xy)
        pts = np.clip(pts, -(2**30), 2**30)
        p.resetTransform()
        self._frags.resize(m)
        frags = self._frags.ndarray()
        frags[:, 0:2] = pts.T
        frags[:, 2:6] = self._rects[self._point_codes]
        frags[:, 6:10] = (1.0, 1.0, 0.0, 1.0)
        p.drawPixmapFragments(*self._frags.drawargs(), self._pixmap)

    def _paint_raster(self, p: QtGui.QPainter, view: _View) -> None:
        stamp = (self._colour_version, self._view_version)
        if self._image_stamp != stamp:
            if self._image is None or self._image_stamp[1] != stamp[1]:
                # Nothing to show for this view yet: rasterise now, in one go.
                self._start_job(view, stamp)
                self._finish_job()
            elif self._job is None:
                # New colours: rasterised in slices between events; until
                # then the last raster stays on screen.
                self._start_job(view, stamp)
                self._job_timer.start()
        if self._image is None:
            return
        r = view.radius
        rect = view.device_rect
        p.resetTransform()
        p.drawImage(rect, self._image, QtCore.QRectF(r, r, rect.width(), rect.height()))

    # ------------------------------------------------------------ raster jobs

    def _start_job(self, view: _View, stamp: tuple) -> None:
        self._job = self._raster_job(view, self._source())
        self._job_stamp = stamp

    def _cancel_job(self) -> None:
        had = self._job is not None
        self._job = None
        self._job_stamp = None
        self._job_timer.stop()
        if had:
            self.raster_ready.emit()

    def _step_job(self) -> None:
        """One slice of the raster job (a timer event); the next one is queued after it."""
        if self._job is None:
            return
        try:
            next(self._job)
        except StopIteration as done:
            self._job_done(done.value)
            return
        self._job_timer.start()

    def _finish_job(self) -> None:
        if self._job is None:
            return
        self._job_timer.stop()
        while True:
            try:
                next(self._job)
            except StopIteration as done:
                self._job_done(done.value)
                return

    def _job_done(self, image: QtGui.QImage) -> None:
        stamp = self._job_stamp
        self._job = None
        self._job_stamp = None
        self._image = image
        self._image_stamp = stamp
        # Newer colours came meanwhile: their job starts now (this picture shows meanwhile).
        self._start_pending_job()
        self.update()
        self.raster_ready.emit()

    def _raster_job(self, view: _View, source: tuple):
        """Generator: the raster of ``source``'s colours, a slice of points per step.

        Returns (as StopIteration.value) premultiplied ARGB32 of the padded grid.
        """
        gh, gw = view.grid_shape
        n_occ = view.occupied.size
        f = view.footprint
        value = view.alpha_bits.copy()
        if source[0] is None and source[2] is None:
            # Not assigned yet: every pixel grey, opacity by density.
            for c, shift in ((0, 16), (1, 8), (2, 0)):
                level = np.rint(GREY[c] * view.alpha).astype(np.uint32)
                value |= level << np.uint32(shift)
        else:
            sums = np.zeros((3, n_occ))
            step = max(1, JOB_SLICE // f)
            for start in range(0, view.m, step):
                stop = min(start + step, view.m)
                ids = slice(start, stop) if view.idx is None else view.idx[start:stop]
                rgb = self._rgb(source, ids)
                cid = view.cid[start * f : stop * f]
                for c in range(3):
                    weights = rgb[c] if f == 1 else np.repeat(rgb[c], f)
                    sums[c] += np.bincount(cid, weights=weights, minlength=n_occ)
                if stop < view.m:
                    yield
            sums *= view.scale
            np.minimum(sums, 255.0, out=sums)
            levels = np.rint(sums).astype(np.uint32)
            value |= levels[0] << np.uint32(16)
            value |= levels[1] << np.uint32(8)
            value |= levels[2]
        buf = np.zeros(gh * gw, dtype=np.uint32)
        buf[view.occupied] = value
        self._image_buf = buf  # the QImage below shares this memory
        fmt = QtGui.QImage.Format.Format_ARGB32_Premultiplied
        return QtGui.QImage(buf.data, gw, gh, 4 * gw, fmt)
