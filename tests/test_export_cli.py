"""The GIF encoder, and ``emviz export`` run as a user runs it (a subprocess, offscreen)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from emviz.export import _pack_codes, encode_gif, lzw_encode, median_cut, quantize_frames

ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------------- GIF encoder


def reference_lzw(data: bytes, min_code_size: int) -> bytes:
    """The textbook pixel-by-pixel GIF LZW, to check the run-skipping encoder against."""
    clear = 1 << min_code_size
    eoi = clear + 1
    codes, widths = [clear], [min_code_size + 1]
    table: dict[int, int] = {}
    width, next_code = min_code_size + 1, eoi + 1
    prefix = data[0]
    for c in data[1:]:
        key = (prefix << 8) | c
        if key in table:
            prefix = table[key]
            continue
        codes.append(prefix)
        widths.append(width)
        if next_code < 4096:
            table[key] = next_code
            next_code += 1
            if next_code > (1 << width) and width < 12:
                width += 1
        else:
            codes.append(clear)
            widths.append(width)
            table, width, next_code = {}, min_code_size + 1, eoi + 1
        prefix = c
    codes += [prefix, eoi]
    widths += [width, width]
    return _pack_codes(np.array(codes), np.array(widths))


def test_lzw_equals_the_textbook_encoder_on_runs_and_noise():
    rng = np.random.default_rng(0)
    for _ in range(60):
        n = int(rng.integers(1, 30000))
        k = int(rng.choice([2, 4, 16, 200, 256]))
        mcs = max(2, int(np.ceil(np.log2(k))))
        values = rng.integers(0, k, n // 2 + 1)
        lengths = rng.geometric(float(rng.choice([0.005, 0.05, 0.5, 0.95])), len(values))
        data = np.repeat(values, lengths)[:n].astype(np.uint8).tobytes()
        assert lzw_encode(data, mcs) == reference_lzw(data, mcs)


def decode_gif(data: bytes):
    from PySide6 import QtCore, QtGui

    buffer = QtCore.QBuffer()
    buffer.setData(QtCore.QByteArray(data))
    buffer.open(QtCore.QIODevice.OpenModeFlag.ReadOnly)
    reader = QtGui.QImageReader(buffer, b"gif")
    count = reader.imageCount()
    frames = []
    while True:
        image = reader.read()
        if image.isNull():
            break
        frames.append(image)
    return count, frames


def rgb(image) -> np.ndarray:
    from emviz.export import qimage_to_rgb

    return qimage_to_rgb(image)


@pytest.mark.parametrize(
    "n_colours, size, optimize",
    [(2, (7, 5), True), (4, (61, 33), True), (255, (180, 120), True), (256, (180, 120), False),
     (16, (1, 1), True), (200, (300, 7), True)],
)  # fmt: skip
def test_gif_decodes_to_exactly_the_pixels_encoded(qapp, n_colours, size, optimize):
    rng = np.random.default_rng(n_colours)
    palette = rng.integers(0, 256, (n_colours, 3)).astype(np.uint8)
    w, h = size
    frames = [rng.integers(0, n_colours, (h, w)).astype(np.uint8)]
    for i in range(4):
        frame = frames[-1].copy()
        if i == 1:
            pass  # an unchanged frame
        else:
            y, x = rng.integers(0, h), rng.integers(0, w)
            frame[y : y + h // 2 + 1, x : x + w // 3 + 1] = rng.integers(0, n_colours)
        frames.append(frame)
    data = encode_gif(palette, frames, [40, 50, 60, 70, 2000], optimize=optimize)
    assert data[:6] == b"GIF89a" and data[-1:] == b"\x3b"
    count, images = decode_gif(data)
    assert count == len(frames) == len(images)
    for frame, image in zip(frames, images, strict=True):
        assert (image.width(), image.height()) == (w, h)
        assert np.array_equal(rgb(image), palette[frame])


def test_quantized_frames_stay_close_and_few_colours_stay_exact(qapp):
    rng = np.random.default_rng(1)
    few = rng.integers(0, 256, (12, 3)).astype(np.uint8) & 0xF8  # one colour per bin
    frames = [few[rng.integers(0, 12, (40, 50))] for _ in range(3)]
    palette, indexed = quantize_frames(frames)
    for frame, idx in zip(frames, indexed, strict=True):
        assert np.array_equal(palette[idx], frame)
    smooth = np.dstack([*np.meshgrid(np.arange(256), np.arange(256)), np.full((256, 256), 128)])
    palette, (idx,) = quantize_frames([smooth.astype(np.uint8)])
    assert len(palette) <= 255
    assert np.abs(palette[idx].astype(int) - smooth).max() <= 24


def test_median_cut_keeps_few_colours():
    colours = np.array([[0, 0, 0], [255, 255, 255], [10, 20, 30]])
    assert np.array_equal(median_cut(colours, np.ones(3), 8), colours)
    assert len(median_cut(np.random.default_rng(0).random((500, 3)) * 255, np.ones(500), 16)) == 16


# ---------------------------------------------------------------------------- the command line


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    env.pop("EMVIZ_SETTINGS", None)
    return subprocess.run(
        [sys.executable, "-m", "emviz", "export", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=ROOT,
    )


def test_export_cli_writes_gif_png_and_json(qapp, tmp_path):
    common = ["--dataset", "old_faithful", "--k", "2", "--init", "random_from_data"]
    out = run_cli(*common, "--seed", "3", "--steps", "6", "--size", "240x180",
                  "--out", str(tmp_path / "run.gif"))  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "wrote" in out.stdout and "7 frames" in out.stdout
    count, frames = decode_gif((tmp_path / "run.gif").read_bytes())
    assert count == 7 and len(frames) == 7  # N + 1: the start and six half-steps
    assert frames[0].width() == 240 and frames[0].height() > 180  # with the caption band
    assert not np.array_equal(rgb(frames[0]), rgb(frames[-1]))

    out = run_cli(*common, "--seed", "3", "--steps", "6", "--size", "320x240", "--theme", "dark",
                  "--out", str(tmp_path / "final.png"))  # fmt: skip
    assert out.returncode == 0, out.stderr
    from PySide6 import QtGui

    image = QtGui.QImage(str(tmp_path / "final.png"))
    assert (image.width(), image.height()) == (320, 240)
    assert QtGui.QColor(image.pixel(300, 5)).lightnessF() < 0.2  # the dark theme

    out = run_cli(*common, "--seed", "3", "--steps", "6", "--out", str(tmp_path / "m.json"))
    assert out.returncode == 0, out.stderr
    record = json.loads((tmp_path / "m.json").read_text())
    assert record["iteration"] == 3 and record["phase"] == "M"
    assert len(record["weights"]) == 2 and np.isfinite(record["log_likelihood"])

    # The same run in-process gives the same mixture, bit for bit.
    from emviz.core.datasets import load_dataset
    from emviz.core.em import iterate_em
    from emviz.core.init import initialize

    X = load_dataset("old_faithful").X
    start = initialize(X, 2, method="random_from_data", cov_type="full", seed=3)
    snaps = list(iterate_em(X, start, max_iter=3, tol=1e-6, bound=True))
    assert np.array_equal(record["means"], snaps[6].mixture.means)
    assert record["log_likelihood"] == snaps[6].log_likelihood


@pytest.mark.parametrize(
    "args, message",
    [
        (["--dataset", "iris", "--out", "x.txt"], "--out must end in"),
        (["--k", "3", "--out", "x.png"], "one of the arguments"),
        (["--dataset", "iris", "--k", "12", "--out", "x.png"], "K must be between"),
        (["--dataset", "iris", "--steps", "-1", "--out", "x.png"], "--steps"),
        (["--data", "no/such/file.csv", "--out", "x.png"], "file not found"),
        (["--dataset", "iris", "--out", "no/such/folder/x.png"], "does not exist"),
    ],
    ids=["suffix", "no-data", "bad-k", "bad-steps", "missing-file", "missing-folder"],
)
def test_export_cli_bad_arguments_exit_1_with_a_message(args, message):
    out = run_cli(*args)
    assert out.returncode == 1
    assert message in out.stderr
    assert "Traceback" not in out.stderr


def test_export_cli_bad_data_file(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n3,oops\n")
    out = run_cli("--data", str(bad), "--out", str(tmp_path / "x.png"))
    assert out.returncode == 1
    assert "bad.csv" in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "x.png").exists()


def test_desktop_options_are_handled_before_qt(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    code = (
        "import sys; from emviz.cli import main; "
        f"rc = main(['--install-desktop', '--prefix', {str(tmp_path)!r}]); "
        "assert 'PySide6' not in sys.modules, 'Qt was imported'; sys.exit(rc)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "applications" / "emviz.desktop").is_file()
