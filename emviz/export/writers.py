"""Files that need no Qt: an animated GIF (Pillow), an MP4 video (imageio-ffmpeg),
the mixture as JSON and the responsibilities as CSV.

Frames are RGB arrays (uint8, shape (height, width, 3)) captured by
:mod:`emviz.export.capture`; the JSON and CSV writers read a session's
``history``, ``index``, ``current``, ``X``, ``data``, ``data_name``,
``columns`` and ``n_samples``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

__all__ = [
    "DEFAULT_FRAME_MS",
    "DEFAULT_SIZE",
    "EXPORT_SUFFIXES",
    "LAST_FRAME_MS",
    "MP4_FPS",
    "MP4_UNAVAILABLE",
    "ExportCancelled",
    "encode_gif",
    "export_csv",
    "export_json",
    "ffmpeg_path",
    "frame_delays",
    "mixture_record",
    "responsibilities",
    "write_gif",
    "write_mp4",
]

#: What ``emviz export --out`` can write.
EXPORT_SUFFIXES = (".gif", ".png", ".svg", ".json", ".csv", ".mp4")
#: Default size of exported frames, pixels.
DEFAULT_SIZE = (800, 600)
#: Default time a GIF frame is shown, milliseconds; the last one stays longer.
DEFAULT_FRAME_MS = 600
LAST_FRAME_MS = 2500
#: Frame rate of an MP4: each frame is repeated to last its delay.
MP4_FPS = 25

MP4_UNAVAILABLE = (
    "MP4 export needs the optional video package: pip install 'emviz[video]' "
    "(imageio-ffmpeg, which brings its own ffmpeg). Animated GIF export works without it."
)


class ExportCancelled(Exception):
    """The user pressed Cancel; nothing was written."""


def frame_delays(n: int, frame_ms: int = DEFAULT_FRAME_MS) -> list[int]:
    """Every frame ``frame_ms``, the last one longer, so a looping GIF pauses at the end."""
    delays = [int(frame_ms)] * n
    if n:
        delays[-1] = max(int(frame_ms), LAST_FRAME_MS)
    return delays


def _delays(delays_ms: Sequence[int] | int, n: int) -> list[int]:
    if isinstance(delays_ms, int | np.integer):
        return [int(delays_ms)] * n
    delays = [int(d) for d in delays_ms]
    if len(delays) != n:
        raise ValueError(f"{n} frames but {len(delays)} delays")
    return delays


def _check_frames(frames: Sequence[np.ndarray]) -> tuple[int, int]:
    """(height, width) shared by all ``frames``, each an RGB array of shape (h, w, 3)."""
    if not len(frames):
        raise ValueError("no frames to write")
    shape = np.shape(frames[0])
    if len(shape) != 3 or shape[2] != 3:
        raise ValueError(f"frames must be RGB arrays of shape (h, w, 3); got {shape}")
    for i, frame in enumerate(frames):
        if np.shape(frame) != shape:
            raise ValueError(f"frame {i} has shape {np.shape(frame)}, not {shape}")
    return shape[0], shape[1]


# ============================================================================
# Animated GIF


def encode_gif(
    frames: Sequence[np.ndarray],
    delays_ms: Sequence[int] | int = DEFAULT_FRAME_MS,
    *,
    loop: bool = True,
    progress: Callable[[int], bool] | None = None,
) -> bytes:
    """An animated GIF of RGB frames, as bytes.

    Parameters
    ----------
    frames : sequence of uint8 arrays of shape (height, width, 3)
        The frames, all of one size.
    delays_ms : int or sequence of int
        How long each frame shows, milliseconds (GIF keeps hundredths of a second).
    loop : bool
        Whether the animation repeats for ever.
    progress : callable, optional
        Called with the number of frames reduced to a palette so far;
        returning False cancels (raises :class:`ExportCancelled`).

    Notes
    -----
    Each frame gets its own palette of at most 256 colours (Pillow's median
    cut, no dithering), so a frame of 256 colours or fewer is stored exactly.
    Pillow stores each frame after the first as the rectangle that changed,
    and merges a frame identical to the one before into it (its delay added).
    """
    from PIL import Image

    h, w = _check_frames(frames)
    if not (w <= 65535 and h <= 65535):
        raise ValueError(f"frame size {w} x {h} is out of GIF's range")
    delays = _delays(delays_ms, len(frames))
    images = []
    for i, frame in enumerate(frames):
        rgb = Image.fromarray(np.ascontiguousarray(frame, dtype=np.uint8))
        images.append(rgb.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE))
        if progress is not None and progress(i + 1) is False:
            raise ExportCancelled
    buffer = io.BytesIO()
    options = {"loop": 0} if loop else {}
    images[0].save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=delays,
        disposal=1,
        **options,
    )
    return buffer.getvalue()


def write_gif(
    path,
    frames: Sequence[np.ndarray],
    delays_ms: Sequence[int] | int = DEFAULT_FRAME_MS,
    *,
    progress: Callable[[int], bool] | None = None,
) -> Path:
    """Write RGB frames as an animated GIF (see :func:`encode_gif`).

    The file is written only once every frame is encoded, so a cancelled
    export leaves no file.
    """
    data = encode_gif(frames, delays_ms, progress=progress)
    path = Path(path)
    path.write_bytes(data)
    return path


# ============================================================================
# MP4 through imageio-ffmpeg (the optional ``video`` extra)


def ffmpeg_path() -> str | None:
    """imageio-ffmpeg's ffmpeg binary, or None when the ``video`` extra is not installed."""
    try:
        import imageio_ffmpeg
    except ImportError:
        return None
    try:
        return imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError:  # installed without a binary for this platform
        return None


def write_mp4(path, frames: Sequence[np.ndarray], delays_ms: Sequence[int] | int) -> Path:
    """Write RGB frames as an H.264 MP4 (yuv420p, :data:`MP4_FPS` frames per second).

    Each frame is repeated ``round(delay * MP4_FPS / 1000)`` times (at least
    once), so it shows for its delay; an odd width or height is padded to
    even, as yuv420p needs.  Raises RuntimeError with :data:`MP4_UNAVAILABLE`
    when imageio-ffmpeg is missing.
    """
    if ffmpeg_path() is None:
        raise RuntimeError(MP4_UNAVAILABLE)
    import imageio_ffmpeg

    h, w = _check_frames(frames)
    delays = _delays(delays_ms, len(frames))
    writer = imageio_ffmpeg.write_frames(
        str(path),
        (w, h),
        fps=MP4_FPS,
        codec="libx264",
        pix_fmt_in="rgb24",
        pix_fmt_out="yuv420p",
        macro_block_size=1,
        ffmpeg_log_level="error",
        output_params=["-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2"],
    )
    writer.send(None)  # starts ffmpeg
    try:
        for frame, ms in zip(frames, delays, strict=True):
            raw = np.ascontiguousarray(frame, dtype=np.uint8).tobytes()
            for _ in range(max(1, round(ms * MP4_FPS / 1000))):
                writer.send(raw)
    finally:
        writer.close()
    return Path(path)


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
    return session.data.e_step(snap.mixture)[0]


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
