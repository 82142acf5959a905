"""Exports: the view as PNG/SVG, a run as an animated GIF (or MP4), the mixture as JSON,
the responsibilities as CSV; and the headless ``emviz export`` command.

Qt cannot write GIF and Pillow is not a dependency, so this module carries a
small GIF89a encoder (:func:`write_gif`): a median-cut palette shared by all
frames, frames after the first reduced to the rectangle that changed (the
unchanged pixels inside it transparent), and LZW compression.  MP4 is written
by piping raw frames to an ``ffmpeg`` binary (``imageio-ffmpeg``'s, or one on
the PATH) when one is available.

``emviz export --dataset old_faithful --k 2 --steps 20 --out run.gif`` builds
the window offscreen, takes ``--steps`` half-steps and writes the file; see
``emviz export --help``.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

__all__ = [
    "EXPORT_SUFFIXES",
    "capture_frames",
    "encode_gif",
    "export_csv",
    "export_json",
    "export_png",
    "export_svg",
    "ffmpeg_path",
    "lzw_encode",
    "main_export",
    "median_cut",
    "mixture_record",
    "quantize_frames",
    "write_gif",
    "write_gif_indexed",
    "write_mp4",
]

#: What ``emviz export --out`` can write.
EXPORT_SUFFIXES = (".gif", ".png", ".svg", ".json", ".csv", ".mp4")
#: Default size of exported frames, pixels.
DEFAULT_SIZE = (800, 600)
#: Default time a GIF frame is shown, milliseconds; the last one stays longer.
DEFAULT_FRAME_MS = 600
LAST_FRAME_MS = 2500

_PHASE_NAMES = {"init": "start", "E": "E-step", "M": "M-step"}


class ExportCancelled(Exception):
    """The user pressed Cancel; nothing was written."""


# ============================================================================
# GIF89a encoder (numpy + the standard library)


#: Runs of one palette index at least this long are consumed in jumps.
_RUN_MIN = 12


def lzw_encode(indices: bytes | np.ndarray, min_code_size: int) -> bytes:
    """GIF's variable-width LZW of a stream of palette indices.

    Parameters
    ----------
    indices : bytes or uint8 array
        Palette indices, each below ``2 ** min_code_size``.
    min_code_size : int
        2 to 8: the bits of the palette index.

    Returns
    -------
    bytes
        The packed code stream (least significant bit first), not yet cut
        into sub-blocks; starts with a clear code, ends with end-of-information.

    Notes
    -----
    The standard greedy LZW, one dictionary look-up per pixel, except inside
    long runs of one index (a plot's background, the transparent pixels of a
    frame that changed little): the table's entries for runs of a value v are
    always v, vv, vvv, ... up to some length, so a run is matched in jumps
    to the longest such entry instead of pixel by pixel.  The output is
    identical to the pixel-by-pixel encoder's.
    """
    if isinstance(indices, bytes):
        data = indices
        arr = np.frombuffer(data, dtype=np.uint8)
    else:
        arr = np.ascontiguousarray(indices, dtype=np.uint8).ravel()
        data = arr.tobytes()
    clear = 1 << min_code_size
    eoi = clear + 1
    first_width = min_code_size + 1
    codes: list[int] = [clear]
    widths: list[int] = [first_width]
    if not data:
        codes.append(eoi)
        widths.append(first_width)
        return _pack_codes(np.array(codes, dtype=np.int64), np.array(widths, dtype=np.int64))

    # Long runs: [start, end) of each run of one value at least _RUN_MIN long.
    n = len(arr)
    change = np.flatnonzero(arr[1:] != arr[:-1]) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [n]])
    long = (ends - starts) >= _RUN_MIN
    runs = list(zip(starts[long].tolist(), ends[long].tolist(), strict=True))

    emit_code, emit_width = codes.append, widths.append
    table: dict[int, int] = {}
    get = table.get
    # run_codes[v][m]: the code of v repeated m times; run_info: code -> (v, m).
    run_codes = [[-1, v] for v in range(clear)]
    run_info = {v: (v, 1) for v in range(clear)}
    width = first_width
    next_code = eoi + 1
    limit = 1 << width

    def add(prefix: int, c: int, key: int) -> None:
        """Emit ``prefix`` and enter prefix + c in the table (or clear a full table)."""
        nonlocal width, next_code, limit, table, get, run_codes, run_info
        emit_code(prefix)
        emit_width(width)
        if next_code < 4096:
            table[key] = next_code
            info = run_info.get(prefix)
            if info is not None and info[0] == c and info[1] == len(run_codes[c]) - 1:
                run_codes[c].append(next_code)
                run_info[next_code] = (c, info[1] + 1)
            next_code += 1
            # The decoder adds its entry one code later: it reads the next
            # code with one more bit once its table reaches 2**width.
            if next_code > limit and width < 12:
                width += 1
                limit <<= 1
        else:
            # Table full: start again (a clear code at the current width).
            emit_code(clear)
            emit_width(width)
            table = {}
            get = table.get
            run_codes = [[-1, v] for v in range(clear)]
            run_info = {v: (v, 1) for v in range(clear)}
            width = first_width
            limit = 1 << width
            next_code = eoi + 1

    prefix = data[0]
    pos = 1
    for run_start, run_end in runs + [(n, n)]:
        if run_start > pos:
            # Pixel by pixel: the hot loop.
            for c in data[pos:run_start]:
                key = (prefix << 8) | c
                code = get(key)
                if code is not None:
                    prefix = code
                    continue
                if next_code < 4095:  # add() inlined: the common case
                    emit_code(prefix)
                    emit_width(width)
                    table[key] = next_code
                    info = run_info.get(prefix)
                    if info is not None and info[0] == c and info[1] == len(run_codes[c]) - 1:
                        run_codes[c].append(next_code)
                        run_info[next_code] = (c, info[1] + 1)
                    next_code += 1
                    if next_code > limit and width < 12:
                        width += 1
                        limit <<= 1
                else:
                    add(prefix, c, key)
                prefix = c
            pos = run_start
        if run_end <= pos:
            continue
        v = data[pos]
        i = pos
        while i < run_end:
            info = run_info.get(prefix)
            if info is not None and info[0] == v:
                chain = run_codes[v]
                m = info[1]
                longest = len(chain) - 1
                if m < longest:
                    take = min(run_end - i, longest - m)
                    prefix = chain[m + take]
                    i += take
                    continue
            key = (prefix << 8) | v
            code = get(key)
            if code is not None:
                prefix = code
            else:
                add(prefix, v, key)
                prefix = v
            i += 1
        pos = run_end
    emit_code(prefix)
    emit_width(width)
    codes.append(eoi)
    widths.append(width)
    return _pack_codes(np.array(codes, dtype=np.int64), np.array(widths, dtype=np.int64))


def _pack_codes(codes: np.ndarray, widths: np.ndarray) -> bytes:
    """Concatenate codes of the given bit widths, least significant bit first."""
    starts = np.concatenate([[0], np.cumsum(widths)[:-1]])
    total = int(widths.sum())
    bits = np.zeros(total + (-total) % 8, dtype=np.uint8)
    for b in range(int(widths.max())):
        has = widths > b
        bits[starts[has] + b] = (codes[has] >> b) & 1
    return np.packbits(bits, bitorder="little").tobytes()


def _sub_blocks(data: bytes) -> bytes:
    out = bytearray()
    for i in range(0, len(data), 255):
        chunk = data[i : i + 255]
        out.append(len(chunk))
        out += chunk
    out.append(0)
    return bytes(out)


def median_cut(colours: np.ndarray, counts: np.ndarray, n: int) -> np.ndarray:
    """A palette of at most ``n`` colours for weighted colours, by median cut.

    Parameters
    ----------
    colours : array of shape (m, 3)
        Distinct colours, channels 0..255.
    counts : array of shape (m,)
        How many pixels have each colour.
    n : int

    Returns
    -------
    uint8 array of shape (p, 3), p <= n
        The count-weighted mean colour of each box.
    """
    colours = np.asarray(colours, dtype=np.float64)
    counts = np.asarray(counts, dtype=np.float64)
    if len(colours) <= n:
        return np.rint(colours).astype(np.uint8)

    def scored(idx: np.ndarray) -> tuple[float, int, np.ndarray]:
        # Split first the box whose widest channel, weighted by its pixels, is largest.
        if len(idx) < 2:
            return -1.0, 0, idx
        c = colours[idx]
        spans = c.max(axis=0) - c.min(axis=0)
        ch = int(np.argmax(spans))
        return float(spans[ch] * math.sqrt(counts[idx].sum())), ch, idx

    boxes = [scored(np.arange(len(colours)))]
    while len(boxes) < n:
        best = max(range(len(boxes)), key=lambda i: boxes[i][0])
        score, ch, idx = boxes[best]
        if score <= 0:
            break
        boxes.pop(best)
        order = idx[np.argsort(colours[idx, ch], kind="stable")]
        cum = np.cumsum(counts[order])
        cut = int(np.searchsorted(cum, cum[-1] / 2.0))
        cut = min(max(cut, 1), len(order) - 1)
        boxes += [scored(order[:cut]), scored(order[cut:])]
    palette = np.array(
        [np.average(colours[idx], axis=0, weights=counts[idx]) for _s, _c, idx in boxes]
    )
    return np.rint(palette).astype(np.uint8)


def _nearest(colours: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Index of the nearest palette colour for each colour, array of shape (m,)."""
    pal = palette.astype(np.float64)
    out = np.empty(len(colours), dtype=np.intp)
    for i in range(0, len(colours), 4096):
        c = colours[i : i + 4096].astype(np.float64)
        d = ((c[:, None, :] - pal[None, :, :]) ** 2).sum(axis=2)
        out[i : i + 4096] = np.argmin(d, axis=1)
    return out


def quantize_frames(frames: Sequence[np.ndarray], n_colours: int = 255):
    """One shared palette for RGB frames, and each frame as palette indices.

    Colours are first binned to 5 bits a channel (32768 bins, counted with
    ``bincount``: linear time); a median cut of the occupied bins, weighted by
    their pixels, gives the palette, and each bin maps to its nearest palette
    colour.  With at most ``n_colours`` occupied bins every bin keeps its own
    mean colour, so a frame of few colours (one per bin) is kept exactly.

    Parameters
    ----------
    frames : sequence of uint8 arrays of shape (height, width, 3)
    n_colours : int
        At most 256.

    Returns
    -------
    palette : uint8 array of shape (p, 3)
    indexed : list of uint8 arrays of shape (height, width)
    """
    bins = [
        ((f[..., 0] >> 3).astype(np.int32) << 10)
        | ((f[..., 1] >> 3).astype(np.int32) << 5)
        | (f[..., 2] >> 3).astype(np.int32)
        for f in frames
    ]
    counts = np.zeros(32768)
    sampled = np.zeros(32768)
    sums = np.zeros((32768, 3))
    for f, b in zip(frames, bins, strict=True):
        flat = b.ravel()
        counts += np.bincount(flat, minlength=32768)
        # The mean colour of a bin from every third pixel (a bin missed there
        # takes its centre): the weighted bincounts are the slow part.
        sub = flat[::3]
        rgb = f.reshape(-1, 3)[::3]
        sampled += np.bincount(sub, minlength=32768)
        for c in range(3):
            sums[:, c] += np.bincount(sub, weights=rgb[:, c], minlength=32768)
    used = np.flatnonzero(counts)
    centre = np.stack([(used >> 10) & 31, (used >> 5) & 31, used & 31], 1) * 8.0 + 4.0
    seen = sampled[used] > 0
    mean = np.where(seen[:, None], sums[used] / np.maximum(sampled[used], 1)[:, None], centre)
    palette = median_cut(mean, counts[used], n_colours)
    lut = np.zeros(32768, dtype=np.uint8)
    lut[used] = _nearest(mean, palette)
    return palette, [lut[b] for b in bins]


def _color_table(palette: np.ndarray) -> tuple[bytes, int]:
    """The colour table padded to a power of two (at least 4), and its size exponent."""
    n = max(len(palette), 2)
    bits = max(2, int(math.ceil(math.log2(n))))
    table = np.zeros((1 << bits, 3), dtype=np.uint8)
    table[: len(palette)] = palette
    return table.tobytes(), bits


def encode_gif(
    palette: np.ndarray,
    frames: Sequence[np.ndarray],
    delays_ms: Sequence[int] | int = DEFAULT_FRAME_MS,
    *,
    loop: bool = True,
    optimize: bool = True,
    progress: Callable[[int], bool] | None = None,
) -> bytes:
    """The bytes of an animated GIF89a of palette-indexed frames.

    Parameters
    ----------
    palette : uint8 array of shape (p, 3), p <= 256
    frames : sequence of uint8 arrays of shape (height, width)
        Palette indices, all frames the same size.
    delays_ms : int or sequence of int
        How long each frame is shown (GIF counts in hundredths of a second).
    loop : bool
        Loop forever (the NETSCAPE2.0 extension).
    optimize : bool
        Frames after the first hold only the rectangle that changed, with the
        unchanged pixels in it transparent (needs a free palette entry, so
        ``p`` must be below 256; otherwise whole rectangles are stored).
    progress : callable, optional
        Called with the number of frames encoded; returning False cancels
        (raises :class:`ExportCancelled`).

    Returns
    -------
    bytes
    """
    palette = np.asarray(palette, dtype=np.uint8).reshape(-1, 3)
    if not 1 <= len(palette) <= 256:
        raise ValueError(f"a GIF palette has 1 to 256 colours; got {len(palette)}")
    if not len(frames):
        raise ValueError("no frames to write")
    h, w = frames[0].shape
    if not (1 <= w <= 65535 and 1 <= h <= 65535):
        raise ValueError(f"frame size {w} x {h} is out of GIF's range")
    if isinstance(delays_ms, int | np.integer):
        delays_ms = [int(delays_ms)] * len(frames)
    transparent = len(palette) if (optimize and len(palette) < 256) else None
    if transparent is not None:
        palette = np.vstack([palette, [[255, 0, 255]]]).astype(np.uint8)
    table, bits = _color_table(palette)
    out = bytearray(b"GIF89a")
    # Logical screen descriptor: global colour table of 2**bits entries.
    out += w.to_bytes(2, "little") + h.to_bytes(2, "little")
    out += bytes([0x80 | ((bits - 1) << 4) | (bits - 1), 0, 0])
    out += table
    if loop:
        out += b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    min_code_size = max(2, bits)
    previous: np.ndarray | None = None
    for i, frame in enumerate(frames):
        frame = np.asarray(frame, dtype=np.uint8)
        if frame.shape != (h, w):
            raise ValueError(f"frame {i} is {frame.shape[1]} x {frame.shape[0]}, not {w} x {h}")
        x0, y0, x1, y1 = 0, 0, w, h
        tile = frame
        use_transparent = False
        if optimize and previous is not None:
            changed = frame != previous
            if not changed.any():
                changed[0, 0] = True  # GIF needs at least one pixel per frame
            rows = np.flatnonzero(changed.any(axis=1))
            cols = np.flatnonzero(changed.any(axis=0))
            y0, y1, x0, x1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
            tile = frame[y0:y1, x0:x1]
            if transparent is not None:
                tile = np.where(changed[y0:y1, x0:x1], tile, np.uint8(transparent))
                use_transparent = True
        delay = max(0, int(round(delays_ms[i] / 10.0)))
        # Graphic control extension: disposal 1 (keep), transparency flag.
        flags = (1 << 2) | (1 if use_transparent else 0)
        out += bytes([0x21, 0xF9, 4, flags]) + delay.to_bytes(2, "little")
        out += bytes([transparent if use_transparent else 0, 0])
        # Image descriptor (no local colour table, not interlaced).
        out += b"\x2c" + b"".join(v.to_bytes(2, "little") for v in (x0, y0, x1 - x0, y1 - y0))
        out += b"\x00"
        out.append(min_code_size)
        out += _sub_blocks(lzw_encode(np.ascontiguousarray(tile).tobytes(), min_code_size))
        previous = frame
        if progress is not None and progress(i + 1) is False:
            raise ExportCancelled
    out += b"\x3b"
    return bytes(out)


def write_gif_indexed(path, palette, frames, delays_ms=DEFAULT_FRAME_MS, **kwargs) -> Path:
    """Write palette-indexed frames as an animated GIF; see :func:`encode_gif`."""
    data = encode_gif(palette, frames, delays_ms, **kwargs)
    path = Path(path)
    path.write_bytes(data)
    return path


def write_gif(
    path,
    frames: Sequence[np.ndarray],
    delays_ms: Sequence[int] | int = DEFAULT_FRAME_MS,
    *,
    progress: Callable[[int], bool] | None = None,
) -> Path:
    """Write RGB frames (uint8 arrays of shape (h, w, 3)) as an animated GIF."""
    palette, indexed = quantize_frames(frames)
    return write_gif_indexed(path, palette, indexed, delays_ms, progress=progress)


# ============================================================================
# MP4 through ffmpeg (optional)


def ffmpeg_path() -> str | None:
    """An ffmpeg binary: imageio-ffmpeg's if installed, else one on the PATH, else None."""
    try:
        import imageio_ffmpeg  # type: ignore[import-not-found]

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:
        return shutil.which("ffmpeg")


MP4_UNAVAILABLE = (
    "MP4 export needs ffmpeg: install imageio-ffmpeg (pip install imageio-ffmpeg) "
    "or put an ffmpeg binary on the PATH. Animated GIF export works without it."
)


def write_mp4(path, frames: Sequence[np.ndarray], delays_ms: Sequence[int] | int) -> Path:
    """Write RGB frames as an H.264 MP4 with ffmpeg; each frame held for its delay."""
    exe = ffmpeg_path()
    if exe is None:
        raise RuntimeError(MP4_UNAVAILABLE)
    if isinstance(delays_ms, int | np.integer):
        delays_ms = [int(delays_ms)] * len(frames)
    fps = 25
    h, w, _ = frames[0].shape
    cmd = [
        exe, "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
        "-s", f"{w}x{h}", "-r", str(fps), "-i", "-",
        "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", "-pix_fmt", "yuv420p",
        "-c:v", "libx264", str(path),
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for frame, ms in zip(frames, delays_ms, strict=True):
            raw = np.ascontiguousarray(frame, dtype=np.uint8).tobytes()
            for _ in range(max(1, round(ms * fps / 1000))):
                proc.stdin.write(raw)
        proc.stdin.close()
        err = proc.stderr.read().decode(errors="replace")
        if proc.wait() != 0:
            raise RuntimeError(f"ffmpeg failed: {err.strip()}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return Path(path)


# ============================================================================
# Qt side: frames of the view, PNG, SVG


def qimage_to_rgb(image) -> np.ndarray:
    """A QImage as a uint8 array of shape (height, width, 3)."""
    from PySide6 import QtGui

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
    from PySide6 import QtCore, QtGui

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
    import pyqtgraph as pg
    from PySide6 import QtCore, QtGui

    from emviz.ui.points import LEVELS

    xy = cloud._xy
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

    from PySide6 import QtCore, QtGui
    from PySide6.QtSvg import QSvgGenerator

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


def frame_delays(n: int, frame_ms: int = DEFAULT_FRAME_MS) -> list[int]:
    """Every frame ``frame_ms``, the last one longer, so a looping GIF pauses at the end."""
    delays = [int(frame_ms)] * n
    if n:
        delays[-1] = max(int(frame_ms), LAST_FRAME_MS)
    return delays


# ============================================================================
# JSON and CSV


def mixture_record(session, index: int | None = None) -> dict:
    """The mixture of a snapshot as a JSON-ready dict (Mixture.to_dict plus context)."""
    if not session.history:
        raise ValueError("no mixture: load data first")
    i = session.index if index is None else index
    snap = session.history[i]
    record = snap.mixture.to_dict()
    record.update(
        log_likelihood=float(snap.log_likelihood),
        iteration=int(snap.iteration),
        phase=snap.phase,
        converged=bool(snap.converged),
        history_index=int(i),
        data={"source": session.data_name, "columns": list(session.columns)},
        n_samples=int(session.n_samples),
    )
    return record


def export_json(session, path) -> Path:
    """The mixture shown, as JSON (see :func:`mixture_record`)."""
    text = json.dumps(mixture_record(session), indent=2, ensure_ascii=False)
    Path(path).write_text(text + "\n", encoding="utf-8")
    return Path(path)


def responsibilities(session) -> np.ndarray:
    """Responsibilities of the snapshot shown, array of shape (n_samples, K).

    For the starting point ("init", which has none yet) they are the posterior
    under the starting mixture: what the first E-step will compute.
    """
    snap = session.current
    if snap is None:
        raise ValueError("no responsibilities: load data first")
    if snap.resp is not None:
        return snap.resp
    from emviz.core.em import e_step_prepared

    return e_step_prepared(session.data, snap.mixture)[0]


def export_csv(session, path) -> Path:
    """Columns x, y, r_1, ..., r_K: every point with its responsibilities."""
    resp = responsibilities(session)
    X = session.X
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["x", "y"] + [f"r_{k + 1}" for k in range(resp.shape[1])])
        for row in np.column_stack([X, resp]):
            writer.writerow([repr(float(v)) for v in row])
    return Path(path)


# ============================================================================
# The headless command line


class _Parser(argparse.ArgumentParser):
    """Usage errors exit with status 1 and a one-line reason."""

    def error(self, message: str):  # noqa: D401
        self.print_usage(sys.stderr)
        self.exit(1, f"emviz export: error: {message}\n")


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"size must be WIDTHxHEIGHT, e.g. 800x600; got {text!r}"
        ) from None
    if not (100 <= w <= 4000 and 100 <= h <= 4000):
        raise argparse.ArgumentTypeError(f"width and height must be 100 to 4000; got {text!r}")
    return w, h


def _steps(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--steps must be an integer; got {text!r}") from None
    if not 0 <= n <= 5000:
        raise argparse.ArgumentTypeError(f"--steps must be 0 to 5000; got {n}")
    return n


def build_export_parser() -> argparse.ArgumentParser:
    from emviz.core.datasets import DATASETS
    from emviz.core.init import INIT_METHODS
    from emviz.core.mixture import COV_TYPES
    from emviz.core.settings import parse_k as _k
    from emviz.core.settings import parse_seed as _seed

    p = _Parser(
        prog="emviz export",
        description="Run EM headless (no window appears) and write the animation of the run "
        "(.gif, .mp4), the final view (.png, .svg), the final mixture (.json) or the "
        "responsibilities (.csv).",
        epilog="Example: emviz export --dataset old_faithful --k 2 --init random_from_data "
        "--seed 3 --steps 20 --out run.gif",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--dataset", choices=sorted(DATASETS), help="a bundled data set")
    src.add_argument("--data", metavar="FILE", help="a data file (CSV, TSV, text or .npy)")
    src.add_argument(
        "--session", metavar="FILE.emviz", help="a saved session (its data, settings and start)"
    )
    p.add_argument(
        "--columns", nargs=2, metavar=("X", "Y"), help="the two columns of --data to use"
    )
    p.add_argument("--k", type=_k, default=2, metavar="K", help="components, 1 to 10 (default 2)")
    p.add_argument("--cov-type", choices=COV_TYPES, default="full", help="default full")
    p.add_argument("--init", choices=INIT_METHODS, default="kmeans++", help="default kmeans++")
    p.add_argument("--seed", type=_seed, default=0, help="seed of the initialisation (default 0)")
    p.add_argument(
        "--steps",
        type=_steps,
        default=None,
        metavar="N",
        help="half-steps to run (E, M, E, ...; default 20, or the session's own); "
        "a GIF gets N + 1 frames, fewer if EM converges first",
    )
    p.add_argument(
        "--out",
        required=True,
        metavar="FILE",
        help="output file: " + ", ".join(EXPORT_SUFFIXES) + " (chosen by the suffix)",
    )
    p.add_argument(
        "--size",
        type=_size,
        default=DEFAULT_SIZE,
        metavar="WxH",
        help="size of the plot in pixels (default 800x600; a GIF adds a caption band)",
    )
    p.add_argument(
        "--frame-ms",
        type=int,
        default=DEFAULT_FRAME_MS,
        metavar="MS",
        help=f"how long each frame shows (default {DEFAULT_FRAME_MS}; the last stays longer)",
    )
    p.add_argument("--theme", choices=("light", "dark"), default="light", help="default light")
    p.add_argument(
        "--presentation",
        action="store_true",
        help="large fonts, thick lines and big points, as in presentation mode (F11)",
    )
    p.add_argument("--no-caption", action="store_true", help="no iteration caption on GIF frames")
    return p


def _fail(message: str) -> int:
    print(f"emviz export: {message}", file=sys.stderr)
    return 1


def _fit_scatter(window, size: tuple[int, int], app) -> None:
    """Resize the window until its scatter plot has ``size`` pixels (as near as it can)."""
    for _ in range(6):
        app.processEvents()
        dw = size[0] - window.scatter.width()
        dh = size[1] - window.scatter.height()
        if not dw and not dh:
            return
        window.resize(window.width() + dw, window.height() + dh)
    app.processEvents()


def main_export(argv: Sequence[str] | None = None) -> int:
    """``emviz export ...``: returns the exit status (0 written, 1 an error)."""
    args = build_export_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    out = Path(args.out)
    suffix = out.suffix.lower()
    if suffix not in EXPORT_SUFFIXES:
        return _fail(f"--out must end in one of {', '.join(EXPORT_SUFFIXES)}; got {args.out!r}")
    if not out.parent.is_dir():
        return _fail(f"the folder of --out does not exist: {out.parent}")
    if args.frame_ms < 10:
        return _fail(f"--frame-ms must be at least 10; got {args.frame_ms}")
    if suffix == ".mp4" and ffmpeg_path() is None:
        return _fail(MP4_UNAVAILABLE)
    if args.columns and not args.data:
        return _fail("--columns goes with --data")
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    # Validate the input before Qt starts.
    loaded = sf = None
    try:
        if args.session:
            from emviz.core.session_file import load_session

            sf = load_session(args.session)
        elif args.data:
            from emviz.core.io import load_points

            loaded = load_points(args.data, tuple(args.columns) if args.columns else None)
    except (OSError, ValueError) as exc:
        return _fail(str(exc))
    steps = args.steps
    if steps is None:
        steps = sf.n_half_steps if sf is not None else 20

    from PySide6 import QtCore, QtWidgets

    from emviz.app import build_window, configure_application

    def quiet(mode, context, message):  # the offscreen platform's chatter is not news
        if "propagateSizeHints" not in message:
            sys.stderr.write(message + "\n")

    QtCore.qInstallMessageHandler(quiet)
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(["emviz-export"])
    configure_application(app, persistent=False)
    window = build_window(args.k, args.cov_type, args.init, args.seed)
    session = window.session
    try:
        from emviz.ui import classroom

        if not hasattr(window, "classroom"):
            classroom.install(window)
        window.classroom.set_theme(args.theme, persist=False)
        if args.presentation:
            window.classroom.set_presentation(True, full_screen=False)
        ok = True
        if sf is not None:
            from emviz.ui.session_io import apply_session_file

            ok = apply_session_file(window, sf, with_history=False)
        elif loaded is not None:
            session.load_points(loaded.X, Path(loaded.path).name, loaded.columns)
        else:
            ok = session.load_dataset(args.dataset)
        if not ok or not session.history:
            return _fail("; ".join(window.errors) or "could not load the data")
        for _ in range(steps):
            if not session.step():
                if window.errors:
                    return _fail(window.errors[-1])
                break
        window.show()
        _fit_scatter(window, args.size, app)
        try:
            if suffix in (".gif", ".mp4"):
                frames = capture_frames(window, size=args.size, caption=not args.no_caption)
                delays = frame_delays(len(frames), args.frame_ms)
                if suffix == ".gif":
                    write_gif(out, frames, delays)
                else:
                    write_mp4(out, frames, delays)
                what = f"{len(frames)} frames"
            elif suffix == ".png":
                export_png(window, out, args.size)
                what = f"{args.size[0]} x {args.size[1]} view"
            elif suffix == ".svg":
                export_svg(window, out)
                what = "view"
            elif suffix == ".json":
                export_json(session, out)
                what = "mixture"
            else:
                export_csv(session, out)
                what = "responsibilities"
        except (OSError, ValueError, RuntimeError) as exc:
            return _fail(f"cannot write {out}: {exc}")
        snap = session.history[-1]
        print(
            f"wrote {out} ({what}; {len(session.history) - 1} half-steps, "
            f"iteration {snap.iteration}, log-likelihood {snap.log_likelihood:.6g})"
        )
        return 0
    finally:
        session.shutdown()
        window.close()
        window.deleteLater()


# ============================================================================
# The window's Export menu


class ExportActions:
    """File > Export: the actions and their dialogs (tests replace the ``ask_*`` methods)."""

    def __init__(self, window) -> None:
        from PySide6 import QtGui

        self.window = window
        from PySide6 import QtWidgets

        file_menu = window.menus["file"]
        menu = QtWidgets.QMenu("E&xport", file_menu)
        # Before the separator and Quit, as in every desktop application.
        quit_action = window.actions_by_key["quit"]
        before = file_menu.actions()[file_menu.actions().index(quit_action) - 1]
        file_menu.insertMenu(before if before.isSeparator() else quit_action, menu)
        menu.setObjectName("exportMenu")
        menu.setToolTipsVisible(True)
        self.menu = menu
        self.actions: dict[str, QtGui.QAction] = {}
        items = (
            ("png", "View as &PNG…", "Ctrl+E", "The plot as shown, as a PNG image", self.png),
            ("svg", "View as &SVG…", "", "The plot as an SVG drawing (for slides)", self.svg),
            ("gif", "Run as animated &GIF…", "", "The history, or part of it, as a GIF", self.gif),
            ("mp4", "Run as &MP4 video…", "", "The history as an MP4 video", self.mp4),
            ("json", "Mixture as &JSON…", "", "The mixture shown, with its log-likelihood",
             self.json),
            ("csv", "&Responsibilities as CSV…", "",
             "Every point with its responsibilities r_1..r_K", self.csv),
        )  # fmt: skip
        for key, text, shortcut, tip, slot in items:
            action = QtGui.QAction(text, window)
            action.setObjectName(f"export_{key}Action")
            if shortcut:
                action.setShortcut(QtGui.QKeySequence(shortcut))
            action.setToolTip(tip)
            action.setStatusTip(tip)
            action.triggered.connect(lambda _c=False, f=slot: f())
            menu.addAction(action)
            window.addAction(action)
            self.actions[key] = action
        if ffmpeg_path() is None:
            a = self.actions["mp4"]
            a.setEnabled(False)
            a.setText("Run as MP4 video (needs ffmpeg)")
            a.setToolTip(MP4_UNAVAILABLE)
            a.setStatusTip(MP4_UNAVAILABLE)

    # ---------------------------------------------------------------- dialogs

    def ask_path(self, title: str, suffix: str, filter_: str) -> str | None:
        from PySide6 import QtWidgets

        from emviz.ui.classroom import last_folder, remember_folder

        name = (self.window.session.data_name or "emviz").replace(" ", "_")
        start = str(Path(last_folder()) / f"{Path(name).stem}{suffix}")
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self.window, title, start, filter_)
        if not path:
            return None
        if not path.lower().endswith(suffix):
            path += suffix
        remember_folder(path)
        return path

    def ask_range(self) -> tuple[int, int, int] | None:
        """(first step, last step, ms per frame), or None if cancelled."""
        from PySide6 import QtWidgets

        s = self.window.session
        last = len(s.history) - 1
        dialog = QtWidgets.QDialog(self.window)
        dialog.setWindowTitle("Export the run")
        form = QtWidgets.QFormLayout(dialog)
        first = QtWidgets.QSpinBox(objectName="firstStepSpin")
        first.setRange(0, last)
        end = QtWidgets.QSpinBox(objectName="lastStepSpin")
        end.setRange(0, last)
        end.setValue(last)
        ms = QtWidgets.QSpinBox(objectName="frameMsSpin")
        ms.setRange(20, 10000)
        ms.setSingleStep(100)
        ms.setValue(DEFAULT_FRAME_MS)
        ms.setSuffix(" ms")
        form.addRow(QtWidgets.QLabel(f"The history has {last + 1} snapshots (0 to {last})."))
        form.addRow("From step", first)
        form.addRow("To step", end)
        form.addRow("Each frame", ms)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(dialog.accept)
        buttons.rejected.connect(dialog.reject)
        form.addRow(buttons)
        if dialog.exec() != QtWidgets.QDialog.DialogCode.Accepted:
            return None
        a, b = sorted((first.value(), end.value()))
        return a, b, ms.value()

    # ---------------------------------------------------------------- actions

    def _guard(self, what: str, func: Callable[[], object]) -> bool:
        try:
            func()
        except ExportCancelled:
            self.window.statusBar().showMessage("Export cancelled: nothing was written", 6000)
            return False
        except (OSError, ValueError, RuntimeError) as exc:
            self.window.show_error(f"Could not export {what}: {exc}")
            return False
        return True

    def _done(self, path: str) -> bool:
        self.window.statusBar().showMessage(f"Exported {path}", 8000)
        return True

    def png(self, path: str | None = None) -> bool:
        path = path or self.ask_path("Export the view as PNG", ".png", "PNG images (*.png)")
        if not path:
            return False
        return self._guard("the view", lambda: export_png(self.window, path)) and self._done(path)

    def svg(self, path: str | None = None) -> bool:
        path = path or self.ask_path("Export the view as SVG", ".svg", "SVG drawings (*.svg)")
        if not path:
            return False
        return self._guard("the view", lambda: export_svg(self.window, path)) and self._done(path)

    def json(self, path: str | None = None) -> bool:
        path = path or self.ask_path("Export the mixture", ".json", "JSON (*.json)")
        if not path:
            return False
        ok = self._guard("the mixture", lambda: export_json(self.window.session, path))
        return ok and self._done(path)

    def csv(self, path: str | None = None) -> bool:
        path = path or self.ask_path("Export the responsibilities", ".csv", "CSV (*.csv)")
        if not path:
            return False
        ok = self._guard("the responsibilities", lambda: export_csv(self.window.session, path))
        return ok and self._done(path)

    def gif(self, path: str | None = None, steps: tuple[int, int, int] | None = None) -> bool:
        return self._animation(".gif", path, steps)

    def mp4(self, path: str | None = None, steps: tuple[int, int, int] | None = None) -> bool:
        if ffmpeg_path() is None:
            self.window.show_error(MP4_UNAVAILABLE)
            return False
        return self._animation(".mp4", path, steps)

    def _animation(self, suffix: str, path, steps) -> bool:
        from PySide6 import QtCore, QtWidgets

        s = self.window.session
        if not s.history:
            self.window.show_error("Nothing to export: load data first.")
            return False
        steps = steps or self.ask_range()
        if not steps:
            return False
        what = "GIF" if suffix == ".gif" else "MP4 video"
        path = path or self.ask_path(f"Export the run as {what}", suffix, f"{what} (*{suffix})")
        if not path:
            return False
        first, last, ms = steps
        n = last - first + 1
        dialog = QtWidgets.QProgressDialog(f"Drawing {n} frames…", "Cancel", 0, 2 * n, self.window)
        dialog.setObjectName("exportProgress")
        dialog.setWindowTitle(f"Export {what}")
        dialog.setWindowModality(QtCore.Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(0)
        dialog.setValue(0)
        self.progress_dialog = dialog

        def tick(offset: int):
            def step(i: int) -> bool:
                dialog.setValue(offset + i)
                QtWidgets.QApplication.processEvents()
                return not dialog.wasCanceled()

            return step

        def run() -> None:
            frames = capture_frames(self.window, first, last, progress=tick(0))
            dialog.setLabelText(f"Writing {Path(path).name}…")
            delays = frame_delays(len(frames), ms)
            if suffix == ".gif":
                # Encoded in memory first: a cancelled export leaves no file.
                palette, indexed = quantize_frames(frames)
                data = encode_gif(palette, indexed, delays, progress=tick(n))
                Path(path).write_bytes(data)
            else:
                write_mp4(path, frames, delays)

        try:
            ok = self._guard("the run", run)
        finally:
            dialog.reset()
            dialog.close()
        return ok and self._done(path)


def install(window) -> None:
    """File > Export submenu (PNG, SVG, GIF, MP4, JSON, CSV)."""
    window.exporter = ExportActions(window)


def main(argv: Iterable[str] | None = None) -> int:  # pragma: no cover - alias
    return main_export(None if argv is None else list(argv))
