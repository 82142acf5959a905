"""``emviz FILE`` in a subprocess: no input may print a traceback, crash or hang the app.

Each bad file is opened with ``emviz --check FILE`` (the window's own opening
path, offscreen, painted once, then exit): status 1, the reason on standard
error naming the file, and never "Traceback". Without a display, ``emviz``
says so in one line pointing to ``emviz export`` and exits with status 1
instead of Qt's abort.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from emviz.cli import display_problem
from emviz.core.init import initialize
from emviz.core.session_file import session_text

ROOT = Path(__file__).resolve().parents[1]


def run_emviz(*args: str, stdin: str | None = None, env: dict | None = None, timeout=120):
    environ = dict(os.environ if env is None else env, PYTHONPATH=str(ROOT))
    environ.pop("PYTHONFAULTHANDLER", None)
    return subprocess.run(
        [sys.executable, "-m", "emviz", *args],
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=environ,
        timeout=timeout,
    )


def session(tmp_path: Path, name: str, change=None) -> Path:
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(c, 0.5, size=(20, 2)) for c in (0, 4, 8)])
    settings = {
        "n_components": 3,
        "cov_type": "full",
        "init": "kmeans++",
        "seed": 0,
        "reg_covar": 1e-6,
        "tol": 1e-6,
        "max_iter": 500,
    }
    doc = json.loads(session_text(X, settings, initialize(X, 3, seed=0), 4))
    if change is not None:
        change(doc, X)
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


def k_eleven(doc, X):
    doc["settings"]["n_components"] = 11
    doc["start"] = initialize(X, 11, seed=0).to_dict()


def npy(header: dict, data: bytes = b"") -> bytes:
    f = io.BytesIO()
    np.lib.format.write_array_header_1_0(f, header)
    return f.getvalue() + data


BAD_FILES = {
    "long-quoted-field.csv": (
        lambda p: p.write_text('a,b\n1,2\n"' + "x" * 200_000 + '",3\n'),
        "line 3: a field longer than",
    ),
    "liar.npy": (
        lambda p: p.write_bytes(
            npy({"descr": "<f8", "fortran_order": False, "shape": (10**12, 2)}, bytes(64))
        ),
        "the header announces shape (1000000000000, 2)",
    ),
    "cut.npy": (
        lambda p: p.write_bytes(b"\x93NUMPY\x01\x00\x20\x00{'descr': '<f8', 'fortran_order"),
        "its header cannot be read",
    ),
    "not-numbers.csv": (lambda p: p.write_text("a,b\n1,2\n3,oops\n"), "'oops' is not a number"),
    "missing.csv": (lambda p: None, "file not found"),
}

BAD_SESSIONS = {
    "k11.emviz": (k_eleven, "settings.n_components must be at most 10; got 11"),
    "seed.emviz": (
        lambda d, X: d["settings"].update(seed=10**40),
        "settings.seed must be at most 9223372036854775807",
    ),
    "max-iter.emviz": (
        lambda d, X: d["settings"].update(max_iter=10**30),
        "settings.max_iter must be at most 100000",
    ),
    "overflow.emviz": (
        lambda d, X: d["data"]["points"].__setitem__(2, [10**400, 1]),
        "data.points[2] holds a number too large for a float",
    ),
    "note.emviz": (lambda d, X: d.update(note="n" * 200_000), "note is too long"),
}


def assert_refused(out, path: str, message: str) -> None:
    assert out.returncode == 1, out.stderr
    assert "Traceback" not in out.stderr and "Traceback" not in out.stdout
    assert f"emviz: {path}" in out.stderr and message in out.stderr, out.stderr


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_a_bad_data_file_is_refused_with_its_reason(tmp_path, name):
    make, message = BAD_FILES[name]
    path = tmp_path / name
    make(path)
    assert_refused(run_emviz("--check", str(path)), str(path), message)


@pytest.mark.parametrize("name", sorted(BAD_SESSIONS))
def test_a_bad_session_is_refused_with_the_field(tmp_path, name):
    change, message = BAD_SESSIONS[name]
    path = session(tmp_path, name, change)
    assert_refused(run_emviz("--check", str(path)), str(path), message)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_is_refused_at_once(device):
    if not os.path.exists(device):
        pytest.skip(f"no {device}")
    out = run_emviz("--check", device, timeout=60)
    assert_refused(out, device, "this is a character device, not a regular file")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_with_no_writer_does_not_block(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    out = run_emviz("--check", str(fifo), timeout=60)
    assert_refused(out, str(fifo), "named pipe (FIFO)")


def test_good_files_open(tmp_path):
    csv = tmp_path / "ok.csv"
    csv.write_text("a,b\n1,2\n3,4\n5,7\n")
    out = run_emviz("--check", str(csv))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "emviz: opened ok.csv: 3 points, K = 2"
    out = run_emviz("--check", str(session(tmp_path, "good.emviz")))
    assert out.returncode == 0 and "60 points, K = 3" in out.stdout, out.stderr


def test_standard_input_is_read_once():
    out = run_emviz("--check", "/dev/stdin", stdin="a,b,c\n1,2,3\n4,5,6\n7,8,10\n")
    assert out.returncode == 0, out.stderr
    assert "3 points" in out.stdout and "Traceback" not in out.stderr


def test_a_bad_stream_on_standard_input_is_refused():
    out = run_emviz("--check", "/dev/stdin", stdin="a,b\n1,2\n3,oops\n")
    assert_refused(out, "/dev/stdin", "'oops' is not a number")


# ---------------------------------------------------------------------------- no display


def without_display(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)
    env.update(extra)
    return env


def assert_no_display_line(out, why: str) -> None:
    """One line on standard error naming the reason and ``emviz export``; status 1."""
    assert out.returncode == 1, (out.returncode, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("emviz needs a graphical display")
    assert "'emviz export" in lines[0]
    assert why in lines[0] and "Traceback" not in out.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11 and Wayland checks")
@pytest.mark.parametrize(
    "extra, why",
    [
        ({}, "neither DISPLAY nor WAYLAND_DISPLAY is set"),
        ({"QT_QPA_PLATFORM": "xcb"}, "DISPLAY"),
        ({"DISPLAY": ":59"}, "no X server answers on DISPLAY=:59"),
        ({"QT_QPA_PLATFORM": "xcb", "DISPLAY": ":97"}, "no X server answers on DISPLAY=:97"),
    ],
    ids=["nothing", "xcb", "dead-display", "xcb-dead-display"],
)
def test_no_display_is_one_line_and_status_1(tmp_path, extra, why):
    for number in (59, 97):
        if os.path.exists(f"/tmp/.X11-unix/X{number}"):
            pytest.skip(f"an X server runs on :{number} here")
    out = run_emviz(env=without_display(**extra), timeout=60)
    assert_no_display_line(out, why)
    assert "xcb" not in out.stderr.lower().replace("qt_qpa_platform", "")  # not Qt's message


def test_a_platform_qt_cannot_open_is_the_same_line_not_an_abort():
    # The check before Qt lets unknown platforms through: Qt's own fatal
    # error (an abort, status 134) is caught and replaced.
    out = run_emviz(env=without_display(QT_QPA_PLATFORM="nosuchplatform"), timeout=60)
    assert_no_display_line(out, "nosuchplatform")


def test_display_problem_follows_the_requested_platform():
    linux = "linux"
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, linux) is None
    assert display_problem({"QT_QPA_PLATFORM": "minimal"}, linux) is None
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0"}, linux) is None
    assert (
        display_problem({"QT_QPA_PLATFORM": "wayland;xcb", "WAYLAND_DISPLAY": "w"}, linux) is None
    )
    assert "Wayland" in display_problem({}, linux)
    assert "emviz export" in display_problem({}, linux)
    assert "\n" not in display_problem({"DISPLAY": ":59"}, linux)
    assert "DISPLAY=nonsense" in display_problem({"DISPLAY": "nonsense"}, linux)
    assert display_problem({}, "darwin") is None and display_problem({}, "win32") is None


def test_check_needs_no_display(tmp_path):
    csv = tmp_path / "ok.csv"
    csv.write_text("a,b\n1,2\n3,4\n")
    out = run_emviz("--check", str(csv), env=without_display(QT_QPA_PLATFORM="xcb"))
    assert out.returncode == 0, out.stderr


def test_export_refuses_a_session_the_window_refuses(tmp_path):
    path = session(tmp_path, "k11.emviz", k_eleven)
    out = run_emviz("export", "--session", str(path), "--out", str(tmp_path / "x.png"))
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "settings.n_components must be at most 10; got 11" in out.stderr
    assert not (tmp_path / "x.png").exists()


def test_check_waits_for_a_session_replayed_in_the_background(tmp_path):
    def long(doc, X):  # 60 points x K = 3 x 12,001 snapshots: past the background threshold
        doc["settings"].update(tol=0, max_iter=100_000)
        doc["n_half_steps"] = doc["current"] = 12_000

    out = run_emviz("--check", str(session(tmp_path, "long.emviz", long)))
    assert out.returncode == 0, out.stderr
    assert "emviz: opened" in out.stdout and "K = 3" in out.stdout


def test_a_large_file_loads_in_the_background_and_its_errors_are_reported(tmp_path):
    rows = [f"{i},{(i * 7) % 13}" for i in range(400_000)]  # over 4 MB: a worker thread
    good = tmp_path / "big.csv"
    good.write_text("a,b\n" + "\n".join(rows) + "\n")
    out = run_emviz("--check", str(good))
    assert out.returncode == 0 and "400000 points" in out.stdout, out.stderr
    rows[-1] = "1,oops"
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n" + "\n".join(rows) + "\n")
    assert_refused(run_emviz("--check", str(bad)), str(bad), "line 400001, column b: 'oops'")


def test_help_lists_presentation_and_theme():
    out = run_emviz("--help")
    assert out.returncode == 0
    assert "--presentation" in out.stdout and "--theme {light,dark}" in out.stdout
    bad = run_emviz("--theme", "blue")
    assert bad.returncode == 2 and "invalid choice: 'blue'" in bad.stderr
