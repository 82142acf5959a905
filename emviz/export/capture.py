"""Pictures of the scatter plot (Qt): frames for an animation, PNG, and a vector SVG.

Everything here reads a main window's public handles: ``window.scatter``
(the pyqtgraph PlotWidget), ``window.session`` and ``window.flush()``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui
from PySide6.QtSvg import QSvgGenerator

from emviz.export.writers import ExportCancelled
from emviz.ui.points import LEVELS

__all__ = [
    "capture_frames",
    "caption_text",
    "export_png",
    "export_svg",
    "grab_view",
    "qimage_to_rgb",
]

_PHASE_NAMES = {"init": "start", "E": "E-step", "M": "M-step"}


def qimage_to_rgb(image) -> np.ndarray:
    """A QImage as a uint8 array of shape (height, width, 3)."""
    img = image.convertToFormat(QtGui.QImage.Format.Format_RGB888)
    w, h, stride = img.width(), img.height(), img.bytesPerLine()
    buf = np.frombuffer(img.constBits(), dtype=np.uint8, count=stride * h)
    return buf.reshape(h, stride)[:, : 3 * w].reshape(h, w, 3).copy()


def _theme_colours(window) -> tuple[str, str]:
    """(background, foreground) of the scatter plot, as colour names."""
    bg = window.scatter.backgroundBrush().color()
    light = bg.lightnessF() > 0.5
    return bg.name(), ("#000000" if light else "#F0F0F0")


def caption_text(session, index: int) -> str:
    snap = session.history[index]
    return (
        f"iteration {snap.iteration} · {_PHASE_NAMES.get(snap.phase, snap.phase)}"
        f" · log-likelihood {snap.log_likelihood:.6g}" + ("  ✓ converged" if snap.converged else "")
    )


def grab_view(window, size: tuple[int, int] | None = None, caption: str | None = None):
    """The scatter plot as shown, as a QImage; scaled to ``size`` and captioned if asked."""
    window.flush()
    pix = window.scatter.grab()
    image = pix.toImage().convertToFormat(QtGui.QImage.Format.Format_RGB32)
    if size is not None and (image.width(), image.height()) != tuple(size):
        image = image.scaled(
            size[0],
            size[1],
            QtCore.Qt.AspectRatioMode.IgnoreAspectRatio,
            QtCore.Qt.TransformationMode.SmoothTransformation,
        )
    if caption:
        bg, fg = _theme_colours(window)
        band = max(28, image.height() // 14)
        out = QtGui.QImage(image.width(), image.height() + band, QtGui.QImage.Format.Format_RGB32)
        out.fill(QtGui.QColor(bg))
        p = QtGui.QPainter(out)
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        p.setRenderHint(QtGui.QPainter.RenderHint.TextAntialiasing)
        font = QtGui.QFont()
        font.setPixelSize(int(band * 0.55))
        font.setBold(True)
        p.setFont(font)
        p.setPen(QtGui.QColor(fg))
        p.drawText(
            QtCore.QRect(0, 0, image.width(), band), QtCore.Qt.AlignmentFlag.AlignCenter, caption
        )
        p.drawImage(0, band, image)
        p.end()
        image = out
    return image


def export_png(window, path, size: tuple[int, int] | None = None) -> Path:
    """The scatter plot as shown (with everything drawn on it) as a PNG file."""
    image = grab_view(window, size)
    if not image.save(str(path), "PNG"):
        raise OSError(f"cannot write {path}")
    return Path(path)


def _vector_points_item(cloud):
    """A temporary item drawing ``cloud``'s points as vector discs (for SVG)."""
    xy = cloud.positions().T
    codes = np.asarray(cloud.codes())
    step = 255.0 / (LEVELS - 1)

    class VectorPoints(pg.GraphicsObject):
        def boundingRect(self):
            return cloud.boundingRect()

        def paint(self, p, *args):
            if not xy.shape[1]:
                return
            pts = pg.functions.transformCoordinates(p.transform(), xy)
            p.resetTransform()
            p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
            r = cloud.diameter / 2.0
            rim = QtGui.QPen(QtGui.QColor(0, 0, 0, 90), 1.0)
            for code in np.unique(codes):
                rgb = [int(round(v * step)) for v in (code // LEVELS**2, code // LEVELS % LEVELS,
                                                        code % LEVELS)]  # fmt: skip
                p.setBrush(QtGui.QColor(*rgb))
                p.setPen(rim)
                for x, y in pts[:, codes == code].T:
                    p.drawEllipse(QtCore.QPointF(x, y), r, r)

    item = VectorPoints()
    item.setZValue(cloud.zValue())
    return item


def export_svg(window, path) -> Path:
    """The scatter plot as shown, as an SVG drawing: points, ellipses, axes and text as vectors.

    Qt's QSvgGenerator paints the view (pyqtgraph's SVGExporter cannot read
    the paths that Qt 6.11 writes); the points are drawn as circles for it.
    The size is in pixels, ``width`` and ``height`` of the view.
    """
    import re

    window.flush()
    view = window.scatter
    w, h = view.width(), view.height()
    generator = QSvgGenerator()
    generator.setFileName(str(path))
    generator.setSize(QtCore.QSize(w, h))
    generator.setViewBox(QtCore.QRect(0, 0, w, h))
    generator.setTitle("emviz")
    if window.session.history:
        generator.setDescription(caption_text(window.session, window.session.index))
    cloud = view.points
    vector = _vector_points_item(cloud)
    view.addItem(vector, ignoreBounds=True)
    was_visible = cloud.isVisible()
    cloud.setVisible(False)
    painter = QtGui.QPainter()
    try:
        if not painter.begin(generator):
            raise OSError(f"cannot write {path}")
        try:
            view.render(painter)
        finally:
            painter.end()
    finally:
        view.removeItem(vector)
        cloud.setVisible(was_visible)
    target = Path(path)
    if not target.is_file() or target.stat().st_size == 0:
        raise OSError(f"cannot write {path}")
    # Width and height in pixels rather than Qt's millimetres.
    text = target.read_text(encoding="utf-8")
    head, sep, rest = text.partition("viewBox=")
    head = re.sub(r'width="[^"]*"', f'width="{w}"', head, count=1)
    head = re.sub(r'height="[^"]*"', f'height="{h}"', head, count=1)
    target.write_text(head + sep + rest, encoding="utf-8")
    return target


def capture_frames(
    window,
    start: int = 0,
    stop: int | None = None,
    *,
    size: tuple[int, int] | None = None,
    caption: bool = True,
    progress: Callable[[int], bool] | None = None,
) -> list[np.ndarray]:
    """RGB frames of the scatter plot for history snapshots ``start``..``stop`` (inclusive).

    The snapshot shown is restored afterwards.  ``progress(i)`` is called after
    each frame; returning False cancels (raises :class:`ExportCancelled`).
    """
    s = window.session
    if not s.history:
        raise ValueError("no history to export: load data first")
    last = len(s.history) - 1
    stop = last if stop is None else min(int(stop), last)
    start = max(0, int(start))
    if start > stop:
        raise ValueError(f"the first step ({start}) is after the last ({stop})")
    shown = s.index
    frames = []
    try:
        for n, i in enumerate(range(start, stop + 1)):
            s.set_index(i)
            text = caption_text(s, i) if caption else None
            frames.append(qimage_to_rgb(grab_view(window, size, text)))
            if progress is not None and progress(n + 1) is False:
                raise ExportCancelled
    finally:
        s.set_index(shown)
    return frames
