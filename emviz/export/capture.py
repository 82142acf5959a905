"""Pictures of the scatter plot (Qt): frames for an animation, PNG, and a vector SVG.

Everything here reads a main window's public handles: ``window.scatter``
(the pyqtgraph PlotWidget), ``window.session`` and ``window.flush()``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtSvg import QSvgGenerator

from emviz.export.writers import ExportCancelled
from emviz.ui.views.points import LEVELS
from emviz.ui.views.screen_aids import screen_aids_hidden

__all__ = [
    "capture_frames",
    "caption_font",
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
    """The caption of history snapshot ``index``: iteration, phase, log-likelihood."""
    snap = session.history[index]
    return (
        f"iteration {snap.iteration} · {_PHASE_NAMES.get(snap.phase, snap.phase)}"
        f" · log-likelihood {snap.log_likelihood:.6g}" + ("  ✓ converged" if snap.converged else "")
    )


def caption_font(caption: str, band: int, width: int) -> QtGui.QFont:
    """A bold font for ``caption`` in a band ``band`` pixels high: 55 % of the band,
    smaller where the text would be wider than ``width`` less a margin (a narrow
    frame cut the iteration number and "converged" off both ends)."""
    font = QtGui.QFont()
    font.setBold(True)
    size = max(6, int(band * 0.55))
    font.setPixelSize(size)
    room = max(1, width - 2 * max(4, band // 4))
    text = QtGui.QFontMetrics(font).horizontalAdvance(caption)
    if text > room:
        font.setPixelSize(max(6, int(size * room / text)))
    return font


def grab_view(
    window, size: tuple[int, int] | None = None, caption: str | None = None
) -> QtGui.QImage:
    """The scatter plot as shown, as a QImage; scaled to ``size`` and captioned if asked.

    Screen aids (the start editor's drag handles, the ghosts of the ellipses
    before a step; see :mod:`emviz.ui.views.screen_aids`) are left out.
    """
    window.flush()
    with screen_aids_hidden(window.scatter.scene()):
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
        p.setFont(caption_font(caption, band, image.width()))
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


def _vector_points_item(cloud) -> pg.GraphicsObject:
    """A temporary item drawing ``cloud``'s points (a PointCloudItem) as vector discs."""
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
            shown = np.isfinite(pts).all(axis=0)
            p.resetTransform()
            p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
            r = cloud.diameter / 2.0
            rim = QtGui.QPen(QtGui.QColor(0, 0, 0, 90), 1.0)
            for code in np.unique(codes):
                rgb = [int(round(v * step)) for v in (code // LEVELS**2, code // LEVELS % LEVELS,
                                                        code % LEVELS)]  # fmt: skip
                p.setBrush(QtGui.QColor(*rgb))
                p.setPen(rim)
                # A point with a missing coordinate is not drawn, as in the window.
                for x, y in pts[:, (codes == code) & shown].T:
                    p.drawEllipse(QtCore.QPointF(x, y), r, r)

    item = VectorPoints()
    item.setZValue(cloud.zValue())
    return item


@contextmanager
def _drawn_as_vectors(view) -> Iterator[None]:
    """While inside, every item of ``view``'s scene paints vectors, not pixmaps.

    Qt's item cache (``DeviceCoordinateCache``, which the axes and the ellipses
    use to redraw fast) paints an item as a bitmap of itself, and pyqtgraph's
    scatter items (the means) stamp their symbols from a pixmap atlas unless
    they are told they are being exported.  Both are turned off here and put
    back afterwards; the point cloud, which draws from a pixmap atlas or a
    raster, is replaced by circles (:func:`_vector_points_item`).
    """
    cloud = view.points
    vector = _vector_points_item(cloud)
    view.addItem(vector, ignoreBounds=True)
    was_visible = cloud.isVisible()
    cloud.setVisible(False)
    items = view.scene().items()
    caches = [item.cacheMode() for item in items]
    exporting = [item for item in items if hasattr(item, "setExportMode")]
    try:
        for item in items:
            item.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.NoCache)
        for item in exporting:
            item.setExportMode(True, {"antialias": True})
        yield
    finally:
        for item in exporting:
            item.setExportMode(False)
        for item, mode in zip(items, caches, strict=True):
            item.setCacheMode(mode)
        view.removeItem(vector)
        cloud.setVisible(was_visible)


def export_svg(window, path) -> Path:
    """The scatter plot as shown, as an SVG drawing: points, ellipses, means, axes,
    ticks and text as vector elements (no embedded bitmap).

    Qt's QSvgGenerator paints the view (pyqtgraph's SVGExporter cannot read
    the paths that Qt 6.11 writes) with every item drawn as vectors (see
    :func:`_drawn_as_vectors`), and the lines drawn in data coordinates are
    then mapped to pixels (see :func:`_flatten_thin_strokes`). The size is in
    pixels, ``width`` and ``height`` of the view. Screen aids (drag handles,
    ghosts) are left out, as in :func:`grab_view`.
    """
    window.flush()
    view = window.scatter
    w, h = view.width(), view.height()
    # SVG 1.1 has clip paths: the view box clips the ellipses to the plot.
    generator = QSvgGenerator(QSvgGenerator.SvgVersion.Svg11)
    generator.setFileName(str(path))
    generator.setSize(QtCore.QSize(w, h))
    generator.setViewBox(QtCore.QRect(0, 0, w, h))
    # The axes replay QPictures recorded at the screen's resolution, and fonts
    # are sized in points: the drawing must have the same dots per inch.
    generator.setResolution(view.logicalDpiX())
    generator.setTitle("emviz")
    if window.session.history:
        generator.setDescription(caption_text(window.session, window.session.index))
    # The view is recorded, then replayed into the SVG: painted straight in,
    # an item drawn after a clipped one (an axis after the plot area) is
    # written with that item's clip path, while a replay states every clip.
    picture = QtGui.QPicture()
    recorder = QtGui.QPainter(picture)
    try:
        with _drawn_as_vectors(view), screen_aids_hidden(view.scene()):
            view.render(recorder)
    finally:
        recorder.end()
    painter = QtGui.QPainter()
    if not painter.begin(generator):
        raise OSError(f"cannot write {path}")
    try:
        picture.play(painter)
    finally:
        painter.end()
    target = Path(path)
    if not target.is_file() or target.stat().st_size == 0:
        raise OSError(f"cannot write {path}")
    tree = ET.parse(target)
    root = tree.getroot()
    # Width and height in pixels rather than Qt's millimetres.
    root.set("width", str(w))
    root.set("height", str(h))
    _flatten_thin_strokes(root)
    tree.write(target, encoding="UTF-8", xml_declaration=True)
    return target


_SVG = "{http://www.w3.org/2000/svg}"
ET.register_namespace("", _SVG[1:-1])
ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_MATRIX = re.compile(
    rf"matrix\(({_NUMBER}),({_NUMBER}),({_NUMBER}),({_NUMBER}),({_NUMBER}),({_NUMBER})\)"
)
_PAIR = re.compile(rf"({_NUMBER}),({_NUMBER})")


def _flatten_thin_strokes(root: ET.Element) -> None:
    """Map lines drawn with a thin (cosmetic) pen to view pixels, dropping their scaling.

    pyqtgraph draws curves in data coordinates with a pen whose width is in
    pixels; Qt writes them as a group scaled by the data-to-pixel matrix
    (e.g. ``matrix(178.8,0,0,-9.0,...)``) with ``vector-effect="non-scaling-stroke"``.
    Renderers without that SVG 2 property (librsvg, many slide programs) then
    draw the pen 178 pixels wide.  Each such group whose children are all
    thin-pen paths or polylines of absolute M, L, C and Z commands gets its
    points mapped by the matrix, ``(x, y) -> (a x + c y + e, b x + d y + f)``,
    and loses the matrix: the same drawing in plain pixel coordinates.
    """
    lines = {f"{_SVG}path", f"{_SVG}polyline", f"{_SVG}polygon"}
    for group in root.iter(f"{_SVG}g"):
        match = _MATRIX.fullmatch(group.get("transform", ""))
        children = list(group)
        if match is None or not children:
            continue
        matrix = tuple(float(v) for v in match.groups())
        if matrix[:4] == (1.0, 0.0, 0.0, 1.0):
            continue  # a shift: every renderer draws the pen as it is
        if any(
            child.tag not in lines or child.get("vector-effect") != "non-scaling-stroke"
            for child in children
        ):
            continue
        if any(
            child.tag == f"{_SVG}path" and re.search(r"[A-BD-KN-Ya-z]", child.get("d", ""))
            for child in children
        ):
            continue  # a command other than M, L, C, Z: left as Qt wrote it

        for child in children:
            key = "d" if child.tag == f"{_SVG}path" else "points"
            child.set(key, _PAIR.sub(lambda m, t=matrix: _mapped_pair(m, t), child.get(key, "")))
        group.set("transform", "matrix(1,0,0,1,0,0)")


def _mapped_pair(pair: re.Match, matrix: tuple[float, ...]) -> str:
    """The point "x,y" of ``pair`` mapped by the SVG matrix (a, b, c, d, e, f)."""
    a, b, c, d, e, f = matrix
    x, y = float(pair[1]), float(pair[2])
    return f"{a * x + c * y + e:.6g},{b * x + d * y + f:.6g}"


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
