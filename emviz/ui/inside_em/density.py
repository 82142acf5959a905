"""The mixture density p(x | theta) of the snapshot shown, under the points.

A heat map (pg.ImageItem with a light colour map, so the points' colours
stay readable on top) and/or contours (pg.IsocurveItem) of the regions of
highest density holding 25 %, 50 %, 75 % and 95 % of the mass (as far as the
view shows it).  The grid covers the visible range and is recomputed when the
snapshot or the view range changes, through a RedrawThrottle.

The image is laid out so that pixel (i, j) is centred on
(x0 + (i + 1/2) dx, y0 + (j + 1/2) dy) and holds the density there; so the sum
of the pixels times dx dy is a Riemann sum of the density over the view, which
is about 1 when the view covers the data widely.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui

from emviz.runs.pacing import RedrawThrottle
from emviz.session import Session

__all__ = ["DensityOverlay", "HDR_MASSES", "mixture_density"]

#: Grid resolution (pixels along the longer side of the view).
RESOLUTION = 240
#: Masses of the highest-density regions drawn as contours.
HDR_MASSES = (0.25, 0.5, 0.75, 0.95)
Z_DENSITY = -20
_LOG_2PI = math.log(2.0 * math.pi)
_CONTOUR = "#444466"


def mixture_density(mixture, gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """p(x | theta) on the grid gx x gy, array of shape (len(gx), len(gy))."""
    xx = gx[:, None]
    yy = gy[None, :]
    out = np.zeros((len(gx), len(gy)))
    for k in range(mixture.n_components):
        w = mixture.weights[k]
        if w <= 0:
            continue
        (a, b), (_b, c) = mixture.covariances[k]
        det = a * c - b * b
        dx = xx - mixture.means[k, 0]
        dy = yy - mixture.means[k, 1]
        maha = (c * dx * dx - 2.0 * b * dx * dy + a * dy * dy) / det
        out += np.exp(math.log(w) - _LOG_2PI - 0.5 * math.log(det) - 0.5 * maha)
    return out


def _light_lut() -> np.ndarray:
    """White to a light lavender-grey, shape (256, 4): pale enough for coloured points on top."""
    t = np.linspace(0.0, 1.0, 256)[:, None]
    low = np.array([255.0, 255.0, 255.0])
    high = np.array([120.0, 120.0, 175.0])
    rgb = low + (high - low) * t**0.8
    alpha = np.full((256, 1), 255.0)
    return np.hstack([rgb, alpha]).astype(np.ubyte)


class DensityOverlay:
    """Heat map and contours of the shown mixture's density on ``plot``."""

    def __init__(self, session: Session, plot: pg.PlotWidget) -> None:
        self.session = session
        self.plot = plot
        self.heatmap_on = False
        self.contours_on = False
        self.image = pg.ImageItem(axisOrder="col-major")
        self.image.setLookupTable(_light_lut())
        self.image.setZValue(Z_DENSITY)
        self.image.setVisible(False)
        plot.addItem(self.image, ignoreBounds=True)
        self.isocurves: list[pg.IsocurveItem] = []
        for m in HDR_MASSES:
            iso = pg.IsocurveItem(level=0.0, pen=pg.mkPen(_CONTOUR, width=1.5 + 1.5 * (1 - m)))
            iso.setZValue(Z_DENSITY + 1)
            iso.setVisible(False)
            plot.addItem(iso, ignoreBounds=True)
            self.isocurves.append(iso)
        #: (x0, y0, dx, dy) of the last grid, and the density on it.
        self.grid: tuple[float, float, float, float] | None = None
        self.density: np.ndarray | None = None
        self._throttle = RedrawThrottle(self.redraw, interval_ms=40, parent=plot)
        session.snapshot_changed.connect(self._throttle.request)
        session.data_changed.connect(self._throttle.request)
        plot.getPlotItem().vb.sigRangeChanged.connect(lambda *_a: self._throttle.request())

    def flush(self) -> None:
        self._throttle.flush()

    @property
    def enabled(self) -> bool:
        return self.heatmap_on or self.contours_on

    def set_heatmap(self, on: bool) -> None:
        self.heatmap_on = bool(on)
        self.redraw()

    def set_contours(self, on: bool) -> None:
        self.contours_on = bool(on)
        self.redraw()

    def redraw(self) -> None:
        snap = self.session.history[self.session.index] if self.session.history else None
        if not self.enabled or snap is None:
            self.image.setVisible(False)
            for iso in self.isocurves:
                iso.setVisible(False)
            return
        vb = self.plot.getPlotItem().vb
        (x_lo, x_hi), (y_lo, y_hi) = vb.viewRange()
        w_px = max(vb.width(), 1.0)
        h_px = max(vb.height(), 1.0)
        scale = RESOLUTION / max(w_px, h_px)
        nx = max(int(round(w_px * scale)), 16)
        ny = max(int(round(h_px * scale)), 16)
        dx = (x_hi - x_lo) / nx
        dy = (y_hi - y_lo) / ny
        gx = x_lo + (np.arange(nx) + 0.5) * dx
        gy = y_lo + (np.arange(ny) + 0.5) * dy
        dens = mixture_density(snap.mixture, gx, gy)
        self.grid = (x_lo, y_lo, dx, dy)
        self.density = dens
        top = float(dens.max())
        self.image.setImage(dens, levels=(0.0, top if top > 0 else 1.0), autoLevels=False)
        self.image.setRect(QtCore.QRectF(x_lo, y_lo, x_hi - x_lo, y_hi - y_lo))
        self.image.setVisible(self.heatmap_on)
        levels = self.hdr_levels(dens)
        # IsocurveItem traces in the image's pixel coordinates (the centre of
        # pixel (i, j) at (i + 1/2, j + 1/2)), like the ImageItem: same map.
        tr = QtGui.QTransform()
        tr.translate(x_lo, y_lo)
        tr.scale(dx, dy)
        for iso, level in zip(self.isocurves, levels, strict=True):
            iso.setTransform(tr)
            iso.setData(dens, level)
            iso.setVisible(self.contours_on and level > 0)

    @staticmethod
    def hdr_levels(dens: np.ndarray) -> list[float]:
        """Density levels whose super-level sets hold HDR_MASSES of the gridded mass."""
        flat = np.sort(dens.ravel())[::-1]
        total = flat.sum()
        if not total > 0:
            return [0.0] * len(HDR_MASSES)
        cum = np.cumsum(flat) / total
        return [float(flat[min(np.searchsorted(cum, m), len(flat) - 1)]) for m in HDR_MASSES]
