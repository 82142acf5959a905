"""``emviz export`` run as a user runs it (a subprocess, offscreen)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def decode_gif(data: bytes):
    """(frame count Qt reads, the frames as QImages): the GIF as another reader sees it."""
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
        (["--dataset", "iris", "--captions", "--out", "x.png"], "--captions goes with"),
        (["--dataset", "iris", "--captions", "loud", "--out", "x.gif"], "invalid choice"),
    ],
    ids=[
        "suffix",
        "no-data",
        "bad-k",
        "bad-steps",
        "missing-file",
        "missing-folder",
        "captions-on-png",
        "bad-level",
    ],  # fmt: skip
)
def test_export_cli_bad_arguments_exit_1_with_a_message(args, message):
    out = run_cli(*args)
    assert out.returncode == 1
    assert message in out.stderr
    assert "Traceback" not in out.stderr


def test_export_cli_writes_narration_captions_beside_the_animation(tmp_path):
    from emviz.core.datasets import load_dataset
    from emviz.core.em import iterate_em
    from emviz.core.init import initialize
    from emviz.core.narration import narrate
    from emviz.export.writers import frame_delays

    out = run_cli("--dataset", "old_faithful", "--k", "2", "--init", "random_from_data",
                  "--seed", "3", "--steps", "5", "--size", "240x180", "--frame-ms", "700",
                  "--captions", "detailed", "--out", str(tmp_path / "run.gif"))  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "captions in run.vtt" in out.stdout
    text = (tmp_path / "run.vtt").read_text(encoding="utf-8")
    assert text.startswith("WEBVTT\n\n")
    cues = [block.split("\n") for block in text.strip().split("\n\n")[1:]]
    assert [c[0] for c in cues] == ["1", "2", "3", "4", "5", "6"]  # a cue per frame
    # Each cue lasts as long as its frame of the GIF.
    ends = np.cumsum(frame_delays(6, 700))
    starts = np.concatenate([[0], ends[:-1]])

    def stamp(ms):
        return f"00:{ms // 60000:02d}:{ms % 60000 // 1000:02d}.{ms % 1000:03d}"

    assert [c[1] for c in cues] == [f"{stamp(a)} --> {stamp(b)}" for a, b in zip(starts, ends)]
    # The narration of the same run, computed in-process from the core.
    X = load_dataset("old_faithful").X
    start = initialize(X, 2, method="random_from_data", cov_type="full", seed=3)
    snaps = list(iterate_em(X, start, max_iter=3, tol=1e-6, bound=True))
    for i in range(1, 6):
        assert cues[i][2] == " ".join(narrate(snaps[i - 1], snaps[i], "detailed").split())


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


def _box_centre(values: list[tuple[float, float]]) -> np.ndarray:
    xy = np.array(values)
    return (xy.min(axis=0) + xy.max(axis=0)) / 2


def test_export_cli_svg_is_all_vectors(tmp_path):
    import re
    import xml.etree.ElementTree as ET

    out = run_cli("--dataset", "old_faithful", "--k", "2", "--init", "random_from_data",
                  "--seed", "3", "--steps", "6", "--size", "640x480",
                  "--out", str(tmp_path / "v.svg"))  # fmt: skip
    assert out.returncode == 0, out.stderr
    svg = "{http://www.w3.org/2000/svg}"
    root = ET.parse(tmp_path / "v.svg").getroot()
    assert (root.get("width"), root.get("height")) == ("640", "480")
    # No embedded bitmap: the ellipses, means, axes and text were 10 images.
    assert not list(root.iter(f"{svg}image"))
    assert "data:image" not in (tmp_path / "v.svg").read_text()
    assert len(list(root.iter(f"{svg}circle"))) == 272  # the points

    # Axis labels and tick labels are text.
    texts = {"".join(t.itertext()).strip() for t in root.iter(f"{svg}text")}
    assert {"eruptions_min", "waiting_min"} <= texts
    assert {"2", "3", "4", "5", "60", "80"} <= texts

    # Each component: three ellipse outlines (1, 2, 3 standard deviations) and
    # a "+" for its mean, in its colour and in pixels (no scaling matrix left
    # for a renderer without non-scaling strokes to thicken the pen by).
    pair = re.compile(r"(-?[\d.e+-]+),(-?[\d.e+-]+)")
    ellipses: dict[str, list] = {}
    means: dict[str, np.ndarray] = {}
    for group in root.iter(f"{svg}g"):
        a, b, c, d = (
            float(v)
            for v in re.findall(r"[-\d.e+]+", group.get("transform", "matrix(1,0,0,1,0,0)"))[:4]
        )
        for path in group.findall(f"{svg}path"):
            points = [(float(x), float(y)) for x, y in pair.findall(path.get("d"))]
            if path.get("vector-effect") == "non-scaling-stroke":
                assert (a, b, c, d) == (1, 0, 0, 1), "a thin line left in data coordinates"
            if len(points) > 50 and group.get("fill") == "none":
                ellipses.setdefault(group.get("stroke"), []).append(points)
            elif len(points) == 13 and group.get("fill") not in (None, "none"):
                means[group.get("fill")] = _box_centre(points)
    assert len(means) == 2 and set(ellipses) == set(means)
    for colour, centre in means.items():
        assert len(ellipses[colour]) == 3
        sizes = []
        for points in ellipses[colour]:
            np.testing.assert_allclose(_box_centre(points), centre, atol=1.0)
            sizes.append(np.ptp(np.array(points), axis=0))
        assert (np.diff(np.array(sizes)[:, 0]) != 0).all()  # three different sizes

    # Every line is at least partly inside the clip it is drawn with (an axis
    # drawn with the clip of the plot area or of a label would vanish).
    clips = {}
    for clip in root.iter(f"{svg}clipPath"):
        xy = np.array(pair.findall(clip.find(f"{svg}path").get("d")), dtype=float)
        clips[clip.get("id")] = (xy.min(axis=0), xy.max(axis=0))
    checked = 0
    for outer in root.iter(f"{svg}g"):
        ref = re.fullmatch(r"url\(#(.+)\)", outer.get("clip-path", ""))
        if ref is None:
            continue
        lo, hi = clips[ref[1]]
        for inner in outer.iter(f"{svg}g"):
            a, b, c, d, e, f = (
                float(v)
                for v in re.findall(r"[-\d.e+]+", inner.get("transform", "matrix(1,0,0,1,0,0)"))
            )
            if (a, b, c, d) != (1, 0, 0, 1):
                continue
            for line in inner.findall(f"{svg}polyline"):
                xy = np.array(pair.findall(line.get("points")), dtype=float) + (e, f)
                assert (xy.max(axis=0) >= lo - 1).all() and (xy.min(axis=0) <= hi + 1).all()
                checked += 1
    assert checked > 20  # the grid lines and the axis lines


def test_export_cli_writes_mp4_that_reads_back(tmp_path):
    pytest.importorskip("imageio_ffmpeg")
    from tests.test_export_writers import read_mp4

    out = run_cli("--dataset", "old_faithful", "--k", "2", "--steps", "2", "--size", "160x120",
                  "--frame-ms", "80", "--out", str(tmp_path / "run.mp4"))  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "3 frames" in out.stdout
    frames, (w, h) = read_mp4(tmp_path / "run.mp4")
    assert w == 160 and h > 120  # with the caption band
    # 25 frames a second: 80 ms is 2 frames; the last frame stays 2.5 s, 62 frames.
    assert len(frames) == 2 + 2 + 62


def test_export_cli_mp4_without_the_video_extra_says_what_to_install(tmp_path):
    code = (
        "import sys; sys.modules['imageio_ffmpeg'] = None\n"
        "from emviz.export.command import main_export\n"
        "sys.exit(main_export(['--dataset', 'iris', '--out', "
        f"{str(tmp_path / 'run.mp4')!r}]))\n"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env
    )
    assert out.returncode == 1
    assert "pip install 'emviz[video]'" in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "run.mp4").exists()


def test_export_of_data_no_fit_can_use_is_a_message_not_a_traceback(tmp_path):
    # The file reads fine, but its values are beyond what the fit computes
    # with: the export printed a traceback of the EmvizError raised then.
    data = tmp_path / "huge.csv"
    data.write_text("a,b\n1e308,1e308\n-1e308,-1e308\n1,2\n3,4\n")
    result = run_cli("--data", str(data), "--out", str(tmp_path / "x.png"))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "huge.csv: column 'a' has values as large as 1e+308" in result.stderr
    assert not (tmp_path / "x.png").exists()
