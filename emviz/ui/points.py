"""Many coloured points, drawn fast.

pyqtgraph's ``ScatterPlotItem`` keeps a Python object per point and costs
several microseconds per point on every colour change: half a second at
100,000 points. :class:`PointCloudItem` instead quantises each point's
colour to a fixed palette of 16 levels per channel (4096 colours, never
more), pre-renders one disc per palette colour into a single atlas pixmap,
and draws every point with one ``QPainter.drawPixmapFragments`` call. A
colour update is then a few numpy operations on arrays of shape (n,).

Above :data:`RASTER_MIN` points even one fragment per point costs too much
(about 50 ms at 100,000), and the points overlap into a carpet anyway: they
are then splatted as small discs straight into a screen-sized image with
numpy and drawn with a single ``drawImage``.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui

from emviz.ui.palette import GREY

__all__ = ["LEVELS", "PointCloudItem", "quantize"]

#: Levels per colour channel of the shared palette.
LEVELS = 16
#: From this many points on, points are rasterised (no antialiasing, no rim).
RASTER_MIN = 20_000
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
    codes = np.arange(n)
    levels = np.stack([codes // (LEVELS * LEVELS), (codes // LEVELS) % LEVELS, codes % LEVELS], 1)
    rgb = levels * _STEP  # (n, 3)
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


class PointCloudItem(pg.GraphicsObject):
    """Points of fixed pixel size, each with a colour from the shared palette."""

    _atlas_cache: dict[tuple[int, bool], tuple[QtGui.QPixmap, np.ndarray]] = {}

    def __init__(self, diameter: int = 10) -> None:
        super().__init__()
        self._xy = np.zeros((2, 0))
        self._codes = np.zeros(0, dtype=np.intp)
        self._bounds = QtCore.QRectF()
        self._frags = pg.Qt.internals.PrimitiveArray(QtGui.QPainter.PixmapFragment, 10)
        self.setDiameter(diameter)

    def setDiameter(self, diameter: int, outline: bool = True) -> None:
        key = (int(diameter), bool(outline))
        if key not in self._atlas_cache:
            self._atlas_cache[key] = (_atlas(*key), _source_rects(key[0]))
        self.diameter = key[0]
        self._pixmap, self._rects = self._atlas_cache[key]
        r = max(1, (self.diameter - 1) // 2)
        self._offsets = [
            (dx, dy)
            for dx in range(-r, r + 1)
            for dy in range(-r, r + 1)
            if dx * dx + dy * dy <= r * r + 0.5
        ]
        self.prepareGeometryChange()
        self.update()

    def setPoints(self, X: np.ndarray) -> None:
        """Positions, array of shape (n, 2)."""
        self.prepareGeometryChange()
        self._xy = np.ascontiguousarray(np.asarray(X, dtype=np.float64).T)
        if self._xy.shape[1]:
            lo = self._xy.min(axis=1)
            hi = self._xy.max(axis=1)
            self._bounds = QtCore.QRectF(lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1])
        else:
            self._bounds = QtCore.QRectF()
        if self._codes.shape[0] != self._xy.shape[1]:
            self._codes = np.full(self._xy.shape[1], quantize(np.array([GREY]))[0])
        self.update()

    def setCodes(self, codes: np.ndarray) -> None:
        """Palette codes (see :func:`quantize`), int array of shape (n,)."""
        self._codes = np.asarray(codes, dtype=np.intp)
        self.update()

    def codes(self) -> np.ndarray:
        return self._codes

    def boundingRect(self) -> QtCore.QRectF:
        # Points have a size in pixels: pad the data rectangle by one diameter.
        pw, ph = self.pixelWidth(), self.pixelHeight()
        pad_x = (pw or 0.0) * self.diameter
        pad_y = (ph or 0.0) * self.diameter
        return self._bounds.adjusted(-pad_x, -pad_y, pad_x, pad_y)

    def viewTransformChanged(self) -> None:
        self.prepareGeometryChange()

    def pixelPadding(self) -> float:
        return self.diameter

    def dataBounds(self, ax, frac=1.0, orthoRange=None):
        if not self._xy.shape[1]:
            return None
        return float(self._xy[ax].min()), float(self._xy[ax].max())

    def paint(self, p: QtGui.QPainter, *args) -> None:
        n = self._xy.shape[1]
        if not n:
            return
        pts = pg.functions.transformCoordinates(p.transform(), self._xy)
        pts = np.clip(pts, -(2**30), 2**30)
        p.resetTransform()
        if n >= RASTER_MIN:
            self._paint_raster(p, pts)
            return
        self._frags.resize(n)
        frags = self._frags.ndarray()
        frags[:, 0:2] = pts.T
        frags[:, 2:6] = self._rects[self._codes]
        frags[:, 6:10] = (1.0, 1.0, 0.0, 1.0)
        p.drawPixmapFragments(*self._frags.drawargs(), self._pixmap)

    def _paint_raster(self, p: QtGui.QPainter, pts: np.ndarray) -> None:
        dev = p.device()
        w, h = int(dev.width()), int(dev.height())
        if w <= 0 or h <= 0:
            return
        ix = np.rint(pts[0]).astype(np.intp)
        iy = np.rint(pts[1]).astype(np.intp)
        r = max(abs(dx) for dx, _ in self._offsets)
        inside = (ix >= r) & (ix < w - r) & (iy >= r) & (iy < h - r)
        flat = iy[inside] * w + ix[inside]
        colour = _LUT32[self._codes[inside]]
        buf = np.zeros(w * h, dtype=np.uint32)
        for dx, dy in self._offsets:
            buf[flat + (dy * w + dx)] = colour
        image = QtGui.QImage(buf.data, w, h, 4 * w, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
        p.drawImage(0, 0, image)


def _lut32() -> np.ndarray:
    codes = np.arange(LEVELS**3)
    r = np.rint((codes // (LEVELS * LEVELS)) * _STEP).astype(np.uint32)
    g = np.rint(((codes // LEVELS) % LEVELS) * _STEP).astype(np.uint32)
    b = np.rint((codes % LEVELS) * _STEP).astype(np.uint32)
    return np.uint32(0xFF000000) | (r << 16) | (g << 8) | b


_LUT32 = _lut32()
