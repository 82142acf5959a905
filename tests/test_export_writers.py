"""The Qt-free writers: GIF through Pillow and MP4 through imageio-ffmpeg, written and
read back; and that they import and work where Qt cannot be imported."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageSequence

from emviz.export.writers import (
    MP4_FPS,
    MP4_UNAVAILABLE,
    ExportCancelled,
    encode_gif,
    frame_delays,
    write_gif,
    write_mp4,
)

ROOT = Path(__file__).resolve().parents[1]


def run_python(code: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen")
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env, cwd=ROOT
    )


def read_gif(path) -> tuple[list[np.ndarray], list[int], dict]:
    """(RGB frames, delays in ms, the first frame's info) as Pillow reads them."""
    with Image.open(path) as im:
        assert im.format == "GIF"
        info = dict(im.info)
        frames, delays = [], []
        for frame in ImageSequence.Iterator(im):
            delays.append(frame.info["duration"])
            frames.append(np.asarray(frame.convert("RGB")))
    return frames, delays, info


def random_frames(n_colours: int, size: tuple[int, int], seed: int = 0) -> list[np.ndarray]:
    """Five RGB frames of ``n_colours`` colours; each differs from the one before."""
    rng = np.random.default_rng(seed)
    palette = rng.integers(0, 256, (n_colours, 3)).astype(np.uint8)
    w, h = size
    index = rng.integers(0, n_colours, (h, w))
    frames = [palette[index]]
    for _ in range(4):
        index = index.copy()
        y, x = rng.integers(0, h), rng.integers(0, w)
        index[y : y + h // 2 + 1, x : x + w // 3 + 1] = (index[y, x] + 1) % n_colours
        frames.append(palette[index])
    return frames


# ---------------------------------------------------------------------------- GIF


@pytest.mark.parametrize(
    "n_colours, size", [(2, (7, 5)), (4, (61, 33)), (200, (180, 120)), (256, (300, 7))]
)
def test_gif_reads_back_frame_for_frame_with_its_delays(tmp_path, n_colours, size):
    frames = random_frames(n_colours, size, seed=n_colours)
    delays = [40, 50, 60, 70, 2000]
    path = write_gif(tmp_path / "run.gif", frames, delays)
    back, back_delays, info = read_gif(path)
    assert len(back) == 5
    assert back_delays == delays
    assert info["loop"] == 0  # repeats for ever
    for frame, image in zip(frames, back, strict=True):
        assert image.shape == (size[1], size[0], 3)
        # 256 colours or fewer: every pixel exact.
        assert np.array_equal(image, frame)


def test_gif_known_pixel_keeps_its_colour(tmp_path):
    white = np.full((40, 60, 3), 255, dtype=np.uint8)
    first = white.copy()
    first[10, 20] = (200, 30, 90)
    second = white.copy()
    second[30, 50] = (10, 120, 250)
    back, delays, _ = read_gif(write_gif(tmp_path / "p.gif", [first, second], frame_delays(2, 100)))
    assert delays == [100, 2500]
    assert tuple(back[0][10, 20]) == (200, 30, 90)
    assert tuple(back[1][10, 20]) == (255, 255, 255)  # the second frame is drawn whole
    assert tuple(back[1][30, 50]) == (10, 120, 250)


def test_gif_of_many_colours_stays_close():
    u, v = np.meshgrid(np.arange(256), np.arange(256))
    smooth = np.dstack([u, v, np.full((256, 256), 128)]).astype(np.uint8)
    import io

    with Image.open(io.BytesIO(encode_gif([smooth], 100))) as im:
        back = np.asarray(im.convert("RGB")).astype(int)
    assert np.abs(back - smooth).max() <= 24


def test_cancelled_gif_writes_no_file(tmp_path):
    seen = []

    def progress(i: int) -> bool:
        seen.append(i)
        return i < 2

    with pytest.raises(ExportCancelled):
        write_gif(tmp_path / "x.gif", random_frames(4, (20, 10)), 100, progress=progress)
    assert seen == [1, 2]
    assert not (tmp_path / "x.gif").exists()


def test_gif_refuses_frames_of_different_sizes(tmp_path):
    frames = [np.zeros((10, 10, 3), np.uint8), np.zeros((10, 11, 3), np.uint8)]
    with pytest.raises(ValueError, match="frame 1"):
        write_gif(tmp_path / "x.gif", frames, 100)
    with pytest.raises(ValueError, match="no frames"):
        write_gif(tmp_path / "x.gif", [], 100)


# ---------------------------------------------------------------------------- MP4


def read_mp4(path) -> tuple[list[np.ndarray], tuple[int, int]]:
    """(RGB frames, (width, height)) decoded by imageio-ffmpeg's ffmpeg."""
    import re

    import imageio_ffmpeg

    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24"]
    out = subprocess.run([*cmd, "-"], capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    stream = re.search(rb"Video: h264.*?, (\d+)x(\d+)", out.stderr)
    assert stream is not None, out.stderr.decode(errors="replace")
    w, h = int(stream[1]), int(stream[2])
    raw = np.frombuffer(out.stdout, np.uint8)
    return list(raw.reshape(-1, h, w, 3)), (w, h)


def test_mp4_reads_back_each_frame_held_for_its_delay(tmp_path):
    pytest.importorskip("imageio_ffmpeg")
    colours = [(220, 40, 40), (40, 200, 40), (40, 40, 220)]
    frames = [np.full((48, 64, 3), c, dtype=np.uint8) for c in colours]
    delays = [40, 80, 120]  # 1, 2 and 3 frames at 25 per second
    assert MP4_FPS == 25
    path = write_mp4(tmp_path / "run.mp4", frames, delays)
    back, size = read_mp4(path)
    assert size == (64, 48)
    assert len(back) == 6
    # Lossy, so colours are near: the frames come in order, each held its time.
    shown = [int(np.argmax(f.reshape(-1, 3).mean(axis=0))) for f in back]
    assert shown == [0, 1, 1, 2, 2, 2]


def test_mp4_of_odd_size_is_padded_to_even(tmp_path):
    pytest.importorskip("imageio_ffmpeg")
    frames = [np.full((47, 65, 3), 128, dtype=np.uint8)] * 2
    back, size = read_mp4(write_mp4(tmp_path / "odd.mp4", frames, 40))
    assert size == (66, 48) and len(back) == 2


def test_mp4_without_the_video_extra_says_what_to_install(tmp_path):
    code = (
        "import sys; sys.modules['imageio_ffmpeg'] = None\n"
        "import numpy as np\n"
        "from emviz.export.writers import ffmpeg_path, write_mp4\n"
        "assert ffmpeg_path() is None\n"
        "try:\n"
        f"    write_mp4({str(tmp_path / 'x.mp4')!r}, [np.zeros((8, 8, 3), np.uint8)], 40)\n"
        "except RuntimeError as exc:\n"
        "    print(exc)\n"
    )
    out = run_python(code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == MP4_UNAVAILABLE
    assert "emviz[video]" in MP4_UNAVAILABLE
    assert not (tmp_path / "x.mp4").exists()


# ---------------------------------------------------------------------------- no Qt


def test_writers_import_and_write_without_qt(tmp_path):
    code = (
        "import sys; sys.modules['PySide6'] = None\n"
        "import numpy as np\n"
        "import emviz.export\n"
        "from emviz.export.writers import write_gif, frame_delays\n"
        "frames = [np.zeros((8, 8, 3), np.uint8), np.full((8, 8, 3), 255, np.uint8)]\n"
        f"write_gif({str(tmp_path / 'a.gif')!r}, frames, frame_delays(2))\n"
        "assert sys.modules['PySide6'] is None\n"
        "assert not any(m.startswith('pyqtgraph') for m in sys.modules), 'pyqtgraph was imported'\n"
        "assert 'emviz.export.capture' not in sys.modules\n"
    )
    out = run_python(code)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "a.gif").stat().st_size > 0
