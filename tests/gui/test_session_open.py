"""Opening ``.emviz`` files through the window: what the file may hold is what the
window allows (one settings rule), and a refused file leaves the session as it was."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import shiboken6
from PySide6 import QtWidgets
from PySide6.QtCore import Qt

from emviz.core.init import initialize
from emviz.core.session_file import session_text


@pytest.fixture(autouse=True)
def _settings_file(tmp_path, monkeypatch):
    """Remembered settings go to a temporary INI file, never the user's."""
    monkeypatch.setenv("EMVIZ_SETTINGS", str(tmp_path / "settings" / "emviz.ini"))


def session_doc(n_components: int = 3, n_points: int = 60, n_half_steps: int = 4) -> dict:
    """A valid session document (as JSON data) on three blobs."""
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(c, 0.5, size=(n_points // 3, 2)) for c in (0, 4, 8)])
    start = initialize(X, 3, seed=0)
    settings = {
        "n_components": 3,
        "cov_type": "full",
        "init": "kmeans++",
        "seed": 0,
        "reg_covar": 1e-6,
        "tol": 1e-6,
        "max_iter": 500,
    }
    doc = json.loads(session_text(X, settings, start, n_half_steps, source="blobs"))
    if n_components != 3:
        doc["settings"]["n_components"] = n_components
        doc["start"] = initialize(X, n_components, seed=0).to_dict()
    return doc


def write(tmp_path: Path, doc: dict, name: str = "s.emviz") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


def state(session):
    return (session.X, session.data_name, session.settings, tuple(session.history), session.index)


def assert_unchanged(session, before) -> None:
    X, name, settings, history, index = before
    assert session.X is X
    assert session.data_name == name
    assert session.settings == settings
    assert len(session.history) == len(history)
    assert all(a is b for a, b in zip(session.history, history, strict=True))
    assert session.index == index


def open_refused(window, path: Path) -> str:
    """Open ``path`` as File > Open does; it must be refused: the message shown."""
    s = window.session
    s.step()
    s.step()
    before = state(s)
    n_errors = len(window.errors)
    assert not window.open_file(str(path))
    assert len(window.errors) == n_errors + 1
    box = window.findChild(QtWidgets.QMessageBox, "errorBox")
    assert box is not None and box.text() == window.errors[-1]
    assert_unchanged(s, before)
    window.flush()
    window.grab()  # a paint after the refusal: nothing of the file reached the views
    return window.errors[-1]


def test_a_session_with_k_above_the_palette_is_refused_and_the_work_kept(window, tmp_path):
    path = write(tmp_path, session_doc(n_components=11), "eleven.emviz")
    message = open_refused(window, path)
    assert "eleven.emviz" in message
    assert "settings.n_components must be at most 10; got 11" in message


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("seed", 10**40, "settings.seed must be at most 9223372036854775807"),
        ("max_iter", 10**30, "settings.max_iter must be at most 100000"),
        ("seed", -1, "settings.seed must be at least 0"),
        ("init", "magic", "settings.init must be one of kmeans++"),
    ],
)
def test_settings_the_window_cannot_hold_are_refused(window, tmp_path, field, value, message):
    doc = session_doc()
    doc["settings"][field] = value
    text = open_refused(window, write(tmp_path, doc))
    assert "s.emviz" in text and message in text
    # And the settings still change as usual afterwards (no OverflowError in a spin box).
    spin = window.findChild(QtWidgets.QAbstractSpinBox, "seedSpinBox")
    spin.setValue(7)
    assert window.session.settings.seed == 7
    assert window.findChild(QtWidgets.QSpinBox, "maxIterSpinBox").value() == 500


def test_a_session_with_tol_zero_opens_and_k_and_seed_still_change(window, tmp_path):
    doc = session_doc()
    doc["settings"]["tol"] = 0
    assert window.open_file(str(write(tmp_path, doc)))
    s = window.session
    assert s.settings.tol == 0.0 and s.settings.n_components == 3 and len(s.history) == 5
    n_errors = len(window.errors)
    window.findChild(QtWidgets.QSpinBox, "kSpinBox").setValue(2)
    assert s.settings.n_components == 2 and s.current.mixture.n_components == 2
    window.findChild(QtWidgets.QAbstractSpinBox, "seedSpinBox").setValue(4)
    assert s.settings.seed == 4 and s.settings.tol == 0.0
    assert len(window.errors) == n_errors


def test_apply_session_file_checks_settings_of_a_hand_built_session(window, tmp_path):
    """A SessionFile built in code (not read from a file) goes through the same rule."""
    import dataclasses

    from emviz.core.session_file import load_session
    from emviz.ui.files.session_io import apply_session_file

    sf = load_session(write(tmp_path, session_doc()))
    bad = dataclasses.replace(sf, settings={**sf.settings, "seed": 2**64})
    s = window.session
    before = state(s)
    assert not apply_session_file(window, bad)
    assert "the seed must be between 0 and 9223372036854775807" in window.errors[-1]
    assert_unchanged(s, before)


def test_the_spin_boxes_take_their_ranges_from_the_rule(window):
    from emviz.core.settings import MAX_COMPONENTS, MAX_ITER_MAX, SEED_MAX

    # The seed's field is a SeedEdit (63-bit seeds), the others QSpinBoxes.
    spin = {name: window.findChild(QtWidgets.QAbstractSpinBox, name) for name in
            ("kSpinBox", "seedSpinBox", "maxIterSpinBox")}  # fmt: skip
    assert spin["kSpinBox"].minimum() == 1
    assert spin["kSpinBox"].maximum() == min(MAX_COMPONENTS, window.session.n_samples)
    assert (spin["seedSpinBox"].minimum(), spin["seedSpinBox"].maximum()) == (0, SEED_MAX)
    assert (spin["maxIterSpinBox"].minimum(), spin["maxIterSpinBox"].maximum()) == (
        1,
        MAX_ITER_MAX,
    )


@pytest.mark.parametrize("argv", [["--seed", str(2**63)], ["--k", "0"], ["--seed", "-1"]])
def test_the_command_line_refuses_what_the_window_refuses(argv, capsys):
    from emviz.cli import build_parser

    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(argv)
    assert exc.value.code == 2
    assert "must be between" in capsys.readouterr().err


# ---------------------------------------------------------------------------- long replays


def long_session(tmp_path: Path, n_half_steps: int = 3000) -> Path:
    doc = session_doc(n_half_steps=0)
    doc["settings"]["tol"] = 0  # never converges: every half-step is computed
    doc["settings"]["max_iter"] = 100_000
    doc["n_half_steps"] = doc["current"] = n_half_steps
    note = "first line of a long note " + "x" * 500 + "\n" + "second line\n" * 1000
    doc["note"] = note
    return write(tmp_path, doc, "long.emviz")


@pytest.fixture
def background(monkeypatch):
    """Every replay goes to the background task (as one of 100,000 half-steps would)."""
    from emviz.ui.files import session_io

    monkeypatch.setattr(session_io, "ASYNC_REPLAY_WORK", 0)
    monkeypatch.setattr(session_io, "_SHOW_AFTER_MS", 0)
    return session_io


def test_a_long_replay_runs_in_the_background_with_progress(qtbot, window, tmp_path, background):
    opener = background.session_opener(window)
    steps: list[int] = []
    opener.task.progress.connect(lambda done, total: steps.append(done))
    s = window.session
    with qtbot.waitSignal(opener.finished, timeout=60000) as outcome:
        assert window.open_file(str(long_session(tmp_path)))
        assert opener.running
        dialog = window.findChild(QtWidgets.QProgressDialog, "sessionProgressDialog")
        assert dialog is not None and dialog.labelText() == "Opening long.emviz…"
    assert outcome.args == ["opened"]
    qtbot.waitUntil(lambda: not opener.task.live_threads, timeout=5000)
    assert len(s.history) == 3001 and s.index == 3000 and s.settings.tol == 0.0
    # (A modal progress dialog handles events in setValue: reports may be seen out of order.)
    assert len(steps) > 50 and len(set(steps)) == len(steps) and max(steps) == 3001
    assert opener.dialog is None and (not shiboken6.isValid(dialog) or not dialog.isVisible())
    # The note: its first line only, cut, in the status bar.
    message = window.statusBar().currentMessage()
    assert "first line of a long note" in message and len(message) < 250
    assert "second line" not in message


def test_cancel_keeps_the_session_as_it_was(qtbot, window, tmp_path, background):
    opener = background.session_opener(window)
    s = window.session
    s.step()
    before = state(s)
    path = long_session(tmp_path, n_half_steps=100_000)
    with qtbot.waitSignal(opener.task.progress, timeout=60000):
        assert window.open_file(str(path))
    dialog = window.findChild(QtWidgets.QProgressDialog, "sessionProgressDialog")
    button = dialog.findChild(QtWidgets.QPushButton)
    assert button.text() == "Cancel"
    with qtbot.waitSignal(opener.finished, timeout=5000) as outcome:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert outcome.args == ["cancelled"]
    qtbot.waitUntil(lambda: not opener.task.live_threads, timeout=10000)
    window.flush()
    assert_unchanged(s, before)
    assert "cancelled" in window.statusBar().currentMessage()
    assert not window.errors


def test_closing_the_window_mid_replay_stops_the_thread(qtbot, window, tmp_path, background):
    opener = background.session_opener(window)
    with qtbot.waitSignal(opener.task.progress, timeout=60000):
        assert window.open_file(str(long_session(tmp_path, n_half_steps=100_000)))
    window.close()
    assert not opener.task.live_threads and not opener.running


def test_a_bad_long_session_is_reported_from_the_background(qtbot, window, tmp_path, background):
    monkeypatch_size = pytest.MonkeyPatch()
    monkeypatch_size.setattr(background, "ASYNC_SESSION_BYTES", 0)  # read it there too
    try:
        opener = background.session_opener(window)
        doc = session_doc()
        doc["settings"]["n_components"] = 11
        s = window.session
        before = state(s)
        with qtbot.waitSignal(opener.finished, timeout=60000) as outcome:
            assert window.open_file(str(write(tmp_path, doc, "bad.emviz")))
        assert outcome.args == ["failed"]
        qtbot.waitUntil(lambda: not opener.task.live_threads, timeout=5000)
        assert "bad.emviz" in window.errors[-1] and "settings.n_components" in window.errors[-1]
        assert_unchanged(s, before)
    finally:
        monkeypatch_size.undo()


def test_a_session_in_missing_values_mode_saves_and_reopens(window, tmp_path):
    # Save refused with "X contains NaN" whenever EM treated missing values:
    # the user could not keep that work at all.
    from emviz.ui.files.session_io import open_session, save_session_file

    s = window.session
    s.load_dataset("old_faithful_holes")
    assert s.set_treat_missing(True) and s.n_incomplete > 0
    for _ in range(3):
        assert s.step_iteration()
    saved = [snap.log_likelihood for snap in s.history]
    n_incomplete, index = s.n_incomplete, s.index
    path = tmp_path / "holes.emviz"
    assert save_session_file(window, path), window.errors
    doc = json.loads(path.read_text())
    assert doc["data"]["treat_missing"] is True
    assert any(None in p for p in doc["data"]["points"])

    s.set_treat_missing(False)
    s.load_dataset("iris")
    assert open_session(window, path), window.errors
    assert s.treat_missing and s.n_incomplete == n_incomplete
    assert window.actions_by_key["treat_missing"].isChecked()
    assert s.index == index
    np.testing.assert_allclose([snap.log_likelihood for snap in s.history], saved, rtol=1e-12)
