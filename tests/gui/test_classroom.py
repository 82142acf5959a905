"""Classroom and sharing, driven through the window: sessions, exports, presentation
mode, themes, remembered settings and undo (pytest-qt, offscreen)."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import Qt

from emviz.ui.views import palette as pal


@pytest.fixture(autouse=True)
def _settings_file(tmp_path, monkeypatch):
    """Remembered settings go to a temporary INI file, never the user's."""
    path = tmp_path / "settings" / "emviz.ini"
    monkeypatch.setenv("EMVIZ_SETTINGS", str(path))
    return path


def equip(window):
    """The classroom, session and export features (every window has them: FEATURES)."""
    from emviz import export
    from emviz.ui import classroom
    from emviz.ui.files import session_io

    for attr, module in (
        ("classroom", classroom),
        ("session_io", session_io),
        ("exporter", export),
    ):
        if not hasattr(window, attr):
            module.install(window)
    return window


@pytest.fixture
def win(window):
    equip(window)
    yield window
    # The theme is the application's: leave it light for the next test.
    window.classroom.set_theme("light", persist=False)


def same_float(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def assert_same_history(a, b) -> None:
    """Snapshot by snapshot, bit for bit."""
    assert len(a) == len(b)
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        where = f"snapshot {i}"
        assert (x.iteration, x.phase, x.converged, x.collapsing) == (
            y.iteration,
            y.phase,
            y.converged,
            y.collapsing,
        ), where
        assert x.log_likelihood == y.log_likelihood, where
        assert same_float(x.expected_complete, y.expected_complete), where
        assert same_float(x.entropy, y.entropy), where
        assert x.mixture.cov_type == y.mixture.cov_type, where
        for name in ("weights", "means", "covariances"):
            assert np.array_equal(getattr(x.mixture, name), getattr(y.mixture, name)), where


def state(session):
    return (
        session.X,
        session.data_name,
        session.settings,
        tuple(session.history),
        session.index,
    )


def assert_state_is(session, before) -> None:
    X, name, settings, history, index = before
    assert session.X is X or np.array_equal(session.X, X)
    assert session.data_name == name
    assert session.settings == settings
    assert len(session.history) == len(history)
    assert all(a is b for a, b in zip(session.history, history, strict=True))
    assert session.index == index


# ---------------------------------------------------------------------------- sessions


def test_saved_session_reopens_to_the_same_history(qtbot, win, tmp_path):
    s = win.session
    win.findChild(QtWidgets.QSlider, "speedSlider").setValue(10)  # as fast as possible
    with qtbot.waitSignal(s.run_finished, timeout=10000):
        s.run()
    qtbot.waitUntil(lambda: not s.live_threads, timeout=3000)
    s.step()
    s.step()  # stepped on past convergence
    s.set_index(5)
    saved = list(s.history)
    path = tmp_path / "lecture.emviz"
    assert win.session_io.save(str(path))
    assert json.loads(path.read_text())["n_half_steps"] == len(saved) - 1

    # Something else is open when the file is reopened.
    assert s.load_dataset("iris")
    assert win.session_io.open(str(path))
    assert_same_history(s.history, saved)
    assert s.index == 5 and s.data_name == "old_faithful"
    assert s.columns == ("eruptions_min", "waiting_min")
    win.flush()
    assert win.history_slider.value() == 5

    # And from the command line, in a new window.
    from emviz.cli import create_main_window

    other = create_main_window([str(path)])
    qtbot.addWidget(other)
    assert_same_history(other.session.history, saved)
    assert other.session.index == 5
    assert not other.errors
    other.close()


def test_file_open_and_drop_accept_sessions(qtbot, win, tmp_path):
    s = win.session
    s.step()
    path = tmp_path / "s.emviz"
    assert win.session_io.save(str(path))
    saved = list(s.history)
    s.load_dataset("iris")
    win.ask_open_path = lambda: str(path)
    win.actions_by_key["open"].trigger()
    assert_same_history(s.history, saved)
    s.load_dataset("iris")
    assert win.open_file(str(path))  # what dropping the file does
    assert_same_history(s.history, saved)


def _saved_text(win, tmp_path) -> str:
    win.session.step()
    path = tmp_path / "good.emviz"
    assert win.session_io.save(str(path))
    return path.read_text()


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda t: t[: len(t) // 2], "truncated"),
        (lambda t: t.replace('"n_half_steps"', '"n_half_steps" 12,', 1), "corrupt"),
        (lambda t: t.replace('"version": 1', '"version": 7', 1), "newer emviz"),
        (lambda t: "", "empty"),
        (lambda t: '{"hello": 1}', "not an emviz session"),
        (lambda t: t.replace('"n_components": 2', '"n_components": "two"', 1), "n_components"),
    ],
    ids=["truncated", "corrupt", "future-version", "empty", "not-a-session", "bad-field"],
)
def test_bad_session_file_shows_a_message_and_keeps_the_session(
    qtbot, win, tmp_path, damage, message
):
    bad = tmp_path / "bad.emviz"
    bad.write_text(damage(_saved_text(win, tmp_path)))
    s = win.session
    s.step()
    before = state(s)
    n_errors = len(win.errors)
    assert not win.session_io.open(str(bad))
    assert len(win.errors) == n_errors + 1
    assert message in win.errors[-1]
    box = win.findChild(QtWidgets.QMessageBox, "errorBox")
    assert box is not None and message in box.text()
    assert_state_is(s, before)
    assert not win.classroom.undo_stack.canUndo()


def test_save_without_data_or_to_a_bad_folder_says_why(win, tmp_path):
    assert not win.session_io.save(str(tmp_path / "missing" / "x.emviz"))
    assert "Could not save" in win.errors[-1]


# ---------------------------------------------------------------------------- exports


def test_export_png_svg_json_csv(qtbot, win, tmp_path):
    s = win.session
    for _ in range(3):
        s.step()
    win.flush()
    ex = win.exporter
    w, h = win.scatter.width(), win.scatter.height()

    assert ex.png(str(tmp_path / "v.png"))
    image = QtGui.QImage(str(tmp_path / "v.png"))
    assert not image.isNull() and (image.width(), image.height()) == (w, h)

    assert ex.svg(str(tmp_path / "v.svg"))
    root = ET.parse(tmp_path / "v.svg").getroot()
    assert root.tag.endswith("svg")
    assert (root.get("width"), root.get("height")) == (str(w), str(h))
    assert root.get("viewBox") == f"0 0 {w} {h}"
    # The points are vector circles, not one embedded image each.
    svg = "{http://www.w3.org/2000/svg}"
    assert len(list(root.iter(f"{svg}circle"))) == 272

    assert ex.json(str(tmp_path / "m.json"))
    record = json.loads((tmp_path / "m.json").read_text())
    snap = s.history[s.index]
    assert record["phase"] == snap.phase == "E"
    assert record["iteration"] == snap.iteration
    assert record["log_likelihood"] == snap.log_likelihood
    assert np.array_equal(record["means"], snap.mixture.means)
    assert np.array_equal(record["covariances"], snap.mixture.covariances)

    assert ex.csv(str(tmp_path / "r.csv"))
    rows = (tmp_path / "r.csv").read_text().splitlines()
    assert rows[0] == "x,y,r_1,r_2"
    table = np.loadtxt(tmp_path / "r.csv", delimiter=",", skiprows=1)
    assert table.shape == (272, 4)
    assert np.array_equal(table[:, :2], s.X)
    np.testing.assert_allclose(table[:, 2:], s.current.resp, rtol=1e-15)
    assert not win.errors


def _read_gif(path):
    reader = QtGui.QImageReader(str(path))
    assert reader.format() == b"gif"
    count = reader.imageCount()
    frames = []
    while True:
        image = reader.read()
        if image.isNull():
            break
        frames.append(image)
    return count, frames


def test_export_gif_of_part_of_the_history(qtbot, win, tmp_path):
    s = win.session
    for _ in range(6):
        s.step()
    s.set_index(4)
    path = tmp_path / "run.gif"
    assert win.exporter.gif(str(path), steps=(1, 5, 100))
    count, frames = _read_gif(path)
    assert count == 5 and len(frames) == 5
    w, h = win.scatter.width(), win.scatter.height()
    for image in frames:
        assert image.width() == w and image.height() > h  # a caption band on top
    assert s.index == 4  # the snapshot shown is put back
    assert not win.errors
    # Frames differ as EM moves.
    assert frames[0] != frames[-1]


def test_cancelled_gif_export_writes_nothing(qtbot, win, tmp_path, monkeypatch):
    s = win.session
    for _ in range(4):
        s.step()
    monkeypatch.setattr(QtWidgets.QProgressDialog, "wasCanceled", lambda self: True)
    path = tmp_path / "run.gif"
    assert not win.exporter.gif(str(path), steps=(0, 4, 100))
    assert not path.exists()
    assert "cancelled" in win.statusBar().currentMessage()
    assert s.index == 4


def test_mp4_item_explains_when_unavailable(win, monkeypatch):
    from emviz import export

    action = win.exporter.actions["mp4"]
    if export.ffmpeg_path() is None:
        assert not action.isEnabled()
        assert "ffmpeg" in action.toolTip()


# ---------------------------------------------------------------------------- presentation


def test_presentation_mode_toggles_fonts_lines_markers_and_back(qtbot, win):
    c = win.classroom
    sc = win.scatter
    model_box = [b for b in win.findChildren(QtWidgets.QGroupBox) if b.title() == "Model"][0]

    def look():
        return (
            win.font().pointSize(),
            sc.ellipse_curves[1][0].opts["pen"].widthF(),
            sc.means_item.opts["size"],
            sc.points.diameter,
            win.loglik.curve.opts["pen"].widthF(),
            sc.getPlotItem().getAxis("bottom").style["tickFont"].pointSize(),
            model_box.isVisible(),
            win.param_table.isVisible(),
            win.param_caption.isVisible(),
            win.menuBar().font().pointSize(),
            win.findChild(QtWidgets.QDockWidget, "boundDock").font().pointSize(),
        )

    normal = look()
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=2000)
    qtbot.keyClick(win, Qt.Key.Key_F11)
    assert c.presenting and c.presentation_action.isChecked()
    qtbot.waitUntil(win.isFullScreen, timeout=2000)
    big = look()
    assert big[0] == 20 and normal[0] == 12
    assert big[1] > 1.5 * normal[1]  # thick ellipses
    assert big[2] > normal[2] and big[3] > normal[3]  # big means and points
    assert big[4] > normal[4] and big[5] > normal[5]
    assert big[6:9] == (False, False, False)  # controls reduced to the essentials
    assert big[9] == big[10] == 20  # menus and docks readable too
    assert win.findChild(QtWidgets.QToolButton, "eStepButton").isVisible()
    # Data loaded during the presentation get big points too.
    win.session.load_dataset("iris")
    win.flush()
    assert sc.points.diameter == big[3]

    win.session.load_dataset("old_faithful")
    qtbot.keyClick(win, Qt.Key.Key_F11)
    assert not c.presenting
    qtbot.waitUntil(lambda: not win.isFullScreen(), timeout=2000)
    assert look() == normal
    # Esc also leaves.
    c.set_presentation(True)
    qtbot.keyClick(win, Qt.Key.Key_Escape)
    assert not c.presenting and look() == normal


def test_theme_switch_changes_backgrounds_and_keeps_the_palette_readable(qtbot, win):
    c = win.classroom
    plots = [win.scatter, win.loglik]
    assert all(p.backgroundBrush().color().name() == "#ffffff" for p in plots)
    original = pal.PALETTE.copy()
    win.findChild(QtGui.QAction, "theme_darkAction").trigger()
    assert c.theme == "dark"
    dark_bg = QtGui.QColor("#15181D")
    assert all(p.backgroundBrush().color() == dark_bg for p in plots)
    axis = win.scatter.getPlotItem().getAxis("left")
    assert axis.textPen().color().lightnessF() > 0.8
    app = QtWidgets.QApplication.instance()
    assert app.palette().color(QtGui.QPalette.ColorRole.Window).lightnessF() < 0.3

    def luminance(rgb):
        c = np.asarray(rgb, float) / 255
        c = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]

    bg = luminance([dark_bg.red(), dark_bg.green(), dark_bg.blue()])
    for k, rgb in enumerate(pal.PALETTE):
        contrast = (luminance(rgb) + 0.05) / (bg + 0.05)
        assert contrast >= 3.0, f"component {k + 1} is unreadable on the dark background"
    # The ellipses follow the swapped colours.
    assert win.scatter.ellipse_curves[1][6].opts["pen"].color() == pal.qcolor(6)
    assert pal.qcolor(6).lightnessF() > 0.8

    # Lines drawn in the foreground colour follow it: the true mixture and log p.
    truth = win.lab.truth
    assert truth.curves[0].opts["pen"].color().lightnessF() > 0.8
    assert win.inside_em.bound_view.curves["logp"].opts["pen"].color().lightnessF() > 0.8

    c.set_theme("light")
    assert all(p.backgroundBrush().color().name() == "#ffffff" for p in plots)
    assert np.array_equal(pal.PALETTE, original)
    assert truth.curves[0].opts["pen"].color().lightnessF() < 0.2


# ---------------------------------------------------------------------------- settings


def test_settings_persist_across_two_windows(qtbot, tmp_path, _settings_file):
    from emviz.cli import create_main_window
    from emviz.ui.remembered import last_folder, remember_folder

    first = equip(create_main_window([]))
    qtbot.addWidget(first)
    first.show()
    first.classroom.set_theme("dark")
    first.controls.speed_slider.setValue(3)
    # restoreGeometry keeps a window on its screen (800 x 800 offscreen): the
    # height is chosen to fit, the width is the window's narrowest.
    avail = first.screen().availableGeometry()
    first.resize(first.minimumSizeHint().width(), 555)
    qtbot.waitUntil(lambda: first.height() == 555, timeout=2000)
    width = min(first.width(), avail.width())
    folder = tmp_path / "lectures"
    folder.mkdir()
    remember_folder(folder / "week1.emviz")
    first.close()
    assert _settings_file.exists()
    assert first.classroom.theme == "dark"

    second = equip(create_main_window([]))
    qtbot.addWidget(second)
    try:
        assert second.classroom.theme == "dark"
        assert second.scatter.backgroundBrush().color() == QtGui.QColor("#15181D")
        assert second.controls.speed_slider.value() == 3
        assert second.height() == 555 and abs(second.width() - width) <= 2
        assert last_folder() == str(folder)
    finally:
        second.classroom.set_theme("light", persist=False)
        second.close()


def test_first_open_starts_in_the_bundled_data_sets_and_save_never_there(tmp_path):
    from emviz.core.resources import resource_path
    from emviz.ui.remembered import last_folder, remember_folder

    bundled = resource_path("datasets")
    # Nothing remembered yet: Open shows the data sets, Save the home folder.
    assert Path(last_folder(opening=True)) == bundled
    assert Path(last_folder()) == Path.home()
    # Opening a bundled file does not make the package a place to save in.
    remember_folder(bundled / "iris.csv")
    assert Path(last_folder()) == Path.home()
    assert Path(last_folder(opening=True)) == bundled
    # A folder of the user's is remembered for both.
    mine = tmp_path / "lectures"
    mine.mkdir()
    remember_folder(mine / "week1.csv")
    assert last_folder() == last_folder(opening=True) == str(mine)


def test_nothing_is_remembered_outside_the_app(qtbot, monkeypatch, tmp_path):
    from emviz.ui.remembered import settings_store

    monkeypatch.delenv("EMVIZ_SETTINGS")
    app = QtCore.QCoreApplication.instance()
    assert app.organizationName() != "emviz"
    assert settings_store() is None


# ---------------------------------------------------------------------------- undo


def test_undo_restores_data_settings_and_history_exactly(qtbot, win):
    s = win.session
    c = win.classroom
    for _ in range(5):
        s.step()
    s.set_index(3)
    before = state(s)
    assert not c.undo_stack.canUndo()

    win.dataset_actions["iris"].trigger()
    assert s.data_name == "iris"
    s.update_settings(n_components=3)
    s.step()
    after = state(s)
    assert "load iris" in c.undo_action.text().lower()

    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=2000)
    qtbot.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert_state_is(s, before)
    win.flush()
    assert win.controls.k_spin.value() == 2
    assert win.history_slider.value() == 3
    # The status bar says what the key press took back.
    assert win.statusBar().currentMessage().lower() == "undone: load iris"

    qtbot.keyClick(
        win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    assert_state_is(s, after)
    assert win.controls.k_spin.value() == 3
    assert win.statusBar().currentMessage().lower() == "redone: load iris"

    c.undo_action.trigger()
    assert_state_is(s, before)
    # A new step after an undo drops the undone future.
    s.step()
    assert not c.undo_stack.canRedo()


def test_a_new_start_that_drops_the_history_can_be_undone(qtbot, win):
    s = win.session
    c = win.classroom
    for _ in range(6):
        s.step()
    before = state(s)
    n_commands = c.undo_stack.count()
    s.update_settings(n_components=3)  # re-initialises: the history is gone
    assert c.undo_stack.count() == n_commands + 1
    assert len(s.history) == 1 and s.settings.n_components == 3
    assert "re-initialise" in c.undo_action.text().lower()
    after = state(s)
    c.undo_action.trigger()
    assert_state_is(s, before)
    assert s.settings.n_components == 2
    c.redo_action.trigger()
    assert_state_is(s, after)
    # Stepping back and on again drops the future but keeps the start: no
    # new command (and the undone re-initialisation is gone for good).
    c.undo_action.trigger()
    s.set_index(0)
    s.step()
    assert len(s.history) == 2
    assert c.undo_stack.count() == n_commands and not c.undo_stack.canRedo()


def test_clear_added_points_and_undo_it(qtbot, win):
    s = win.session
    c = win.classroom
    n = s.n_samples
    assert not c.clear_action.isEnabled()
    s.add_points([[3.0, 70.0]])
    s.add_points([[3.2, 71.0]])
    assert s.n_samples == n + 2 and c.clear_action.isEnabled()
    assert "2 added points" in c.clear_action.text()
    with_added = state(s)
    c.clear_action.trigger()
    assert s.n_samples == n and not c.clear_action.isEnabled()
    assert np.array_equal(s.X, with_added[0][:n])
    c.undo_action.trigger()
    assert_state_is(s, with_added)
    assert c.clear_action.isEnabled()
    c.undo_action.trigger()  # the second added point
    assert s.n_samples == n + 1


def test_opening_a_session_can_be_undone(qtbot, win, tmp_path):
    s = win.session
    s.step()
    path = tmp_path / "s.emviz"
    win.session_io.save(str(path))
    s.load_dataset("iris")
    before = state(s)
    assert win.session_io.open(str(path))
    win.classroom.undo_action.trigger()
    assert_state_is(s, before)


# ---------------------------------------------------------------------------- command line


def test_command_line_starts_presenting_in_a_theme_for_this_start_only(qtbot, _settings_file):
    from emviz.cli import create_main_window
    from emviz.ui.classroom import PRESENTATION_POINT_SIZE

    first = equip(create_main_window(["--presentation", "--theme", "dark"]))
    qtbot.addWidget(first)
    try:
        c = first.classroom
        assert c.presenting and c.presentation_action.isChecked()
        qtbot.waitUntil(first.isFullScreen, timeout=2000)
        assert c.theme == "dark" and c.theme_actions["dark"].isChecked()
        assert first.scatter.backgroundBrush().color() == QtGui.QColor("#15181D")
        assert first.font().pointSize() == PRESENTATION_POINT_SIZE
    finally:
        first.close()  # in the dark theme: closing restores the application's light palette
    # --theme is for that start only: the next plain start has the remembered (light) theme.
    second = equip(create_main_window([]))
    qtbot.addWidget(second)
    try:
        assert second.classroom.theme == "light" and not second.classroom.presenting
    finally:
        second.close()
