"""The explorer window, driven as a user drives it (pytest-qt, offscreen)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import Qt

from emviz.core.geometry import ellipse_points
from emviz.ui.views.controls import DELAYS
from emviz.ui.views.points import quantize
from emviz.ui.views.scatter_view import _HARD_CODES, N_STDS

NAMES = (
    "eStepButton",
    "mStepButton",
    "iterateButton",
    "runButton",
    "stopButton",
    "resetButton",
    "reinitButton",
    "kSpinBox",
    "covTypeCombo",
    "initCombo",
    "seedSpinBox",
    "speedSlider",
    "historySlider",
    "scatterPlot",
    "loglikPlot",
    "paramTable",
)


def w(window, name):
    widget = window.findChild(QtWidgets.QWidget, name)
    assert widget is not None, name
    return widget


def click(qtbot, window, name):
    qtbot.mouseClick(w(window, name), Qt.MouseButton.LeftButton)


def set_speed(window, delay):
    w(window, "speedSlider").setValue(DELAYS.index(delay))


def phases(session):
    return [s.phase for s in session.history]


def assert_views_match(window):
    """Ellipses, means and table show exactly the current snapshot."""
    window.flush()
    snap = window.session.current
    mix = snap.mixture
    for n_std in N_STDS:
        for k in range(mix.n_components):
            x, y = window.scatter.ellipse_curves[n_std][k].getData()
            expected = ellipse_points(mix.means[k], mix.covariances[k], n_std, n_points=120)
            np.testing.assert_allclose(x, expected[:, 0])
            np.testing.assert_allclose(y, expected[:, 1])
        for k in range(mix.n_components, 10):
            assert not window.scatter.ellipse_curves[n_std][k].isVisible()
    mx, my = window.scatter.means_item.getData()
    np.testing.assert_allclose(np.column_stack([mx, my]), mix.means)
    table = window.param_table.values()
    np.testing.assert_allclose(table[:, 0], mix.weights, rtol=5e-3)
    np.testing.assert_allclose(table[:, 1:3], mix.means, rtol=5e-3)
    assert w(window, "historySlider").value() == window.session.index
    assert window.loglik.cursor.value() == window.session.index


# ---------------------------------------------------------------------------- start


def test_starts_ready_to_teach(window):
    s = window.session
    for name in NAMES:
        w(window, name)
    assert s.n_samples == 272 and s.data_name == "old_faithful"
    assert len(s.history) == 1 and s.current.phase == "init"
    assert s.current.mixture.n_components == 2
    assert window.controls.next_label.text() == "Next step: E-step"
    assert not w(window, "mStepButton").isEnabled()
    assert "E-step first" in w(window, "mStepButton").toolTip()
    assert not w(window, "stopButton").isEnabled()
    assert "not running" in w(window, "stopButton").toolTip()
    assert "(E)" in w(window, "eStepButton").toolTip()
    # Before any E-step the points are neutral grey.
    assert len(np.unique(window.scatter.points.codes())) == 1
    assert w(window, "speedSlider").value() < w(window, "speedSlider").maximum()
    status = window.status_label.text()
    assert "272 points" in status and "K = 2" in status and "iteration 0" in status
    assert_views_match(window)


# ---------------------------------------------------------------------------- steps


def test_e_then_m_buttons(qtbot, window):
    s = window.session
    click(qtbot, window, "eStepButton")
    assert phases(s) == ["init", "E"]
    assert s.current.resp.shape == (272, 2)
    codes = window.scatter.points.codes()
    np.testing.assert_array_equal(
        codes, quantize(s.current.resp @ np.array([[0, 114, 178], [230, 159, 0]], float))
    )
    assert not w(window, "eStepButton").isEnabled()
    assert w(window, "mStepButton").isEnabled()
    assert "M-step" in window.controls.next_label.text()
    assert "M-step comes next" in w(window, "eStepButton").toolTip()
    before = s.history[1].mixture
    click(qtbot, window, "mStepButton")
    assert phases(s) == ["init", "E", "M"]
    assert not s.current.mixture.allclose(before)
    assert s.history[2].log_likelihood >= s.history[1].log_likelihood
    assert_views_match(window)
    assert "iteration 1, M-step" in window.status_label.text()


def test_iterate_button_does_e_and_m(qtbot, window):
    s = window.session
    click(qtbot, window, "iterateButton")
    assert phases(s) == ["init", "E", "M"]
    click(qtbot, window, "eStepButton")
    click(qtbot, window, "iterateButton")  # from an E snapshot: just the M-step
    assert phases(s) == ["init", "E", "M", "E", "M"]
    assert [h.iteration for h in s.history] == [0, 1, 1, 2, 2]
    assert_views_match(window)


def test_scrub_back_then_step_truncates_future(qtbot, window):
    s = window.session
    for _ in range(3):
        click(qtbot, window, "iterateButton")
    assert len(s.history) == 7
    old_future = s.history[3]
    w(window, "historySlider").setValue(2)
    assert s.index == 2 and s.current.phase == "M"
    assert_views_match(window)
    assert w(window, "forwardButton").isEnabled()
    click(qtbot, window, "eStepButton")
    assert len(s.history) == 4 and s.index == 3
    assert s.history[3] is not old_future
    assert w(window, "historySlider").maximum() == 3
    assert not w(window, "forwardButton").isEnabled()


def test_reset_and_reinit(qtbot, window):
    s = window.session
    click(qtbot, window, "iterateButton")
    click(qtbot, window, "resetButton")
    assert s.index == 0 and len(s.history) == 3
    assert not w(window, "resetButton").isEnabled()
    assert "initial" in w(window, "resetButton").toolTip()
    start = s.current.mixture
    click(qtbot, window, "reinitButton")
    assert s.settings.seed == 1 and w(window, "seedSpinBox").value() == 1
    assert len(s.history) == 1
    assert not s.current.mixture.allclose(start)
    assert s.n_samples == 272


# ---------------------------------------------------------------------------- settings


def test_settings_reinitialise_and_keep_data(qtbot, window):
    s = window.session
    click(qtbot, window, "iterateButton")
    w(window, "kSpinBox").setValue(3)
    assert s.settings.n_components == 3 and len(s.history) == 1
    assert s.current.mixture.n_components == 3 and s.n_samples == 272
    assert window.param_table.rowCount() == 3
    w(window, "covTypeCombo").setCurrentText("spherical")
    assert s.current.mixture.cov_type == "spherical"
    combo = w(window, "initCombo")
    combo.setCurrentIndex(combo.findData("random_resp"))
    assert s.settings.init == "random_resp"
    w(window, "seedSpinBox").setValue(7)
    assert s.settings.seed == 7
    click(qtbot, window, "iterateButton")
    assert s.current.mixture.cov_type == "spherical"
    assert_views_match(window)
    edit = window.findChild(QtWidgets.QLineEdit, "tolEdit")
    edit.setText("0.01")
    edit.editingFinished.emit()
    assert s.settings.tol == 0.01
    assert len(s.history) == 3  # tol does not re-initialise


def test_speed_slider_maximum_is_fastest(window):
    slider = w(window, "speedSlider")
    slider.setValue(slider.maximum())
    assert window.session.delay == 0.0
    slider.setValue(0)
    assert window.session.delay == max(DELAYS)


# ---------------------------------------------------------------------------- running


def test_run_finishes_with_run_finished(qtbot, fast):
    s = fast.session
    with qtbot.waitSignal(s.run_finished, timeout=20000) as blocker:
        click(qtbot, fast, "runButton")
    assert blocker.args == ["converged"]
    assert not s.running and s.current.converged and s.at_end
    ll = [h.log_likelihood for h in s.history]
    assert np.all(np.diff(ll) >= -1e-9)
    assert not w(fast, "runButton").isEnabled()
    assert "converged" in w(fast, "runButton").toolTip()
    assert "converged" in fast.status_label.text()
    assert fast.loglik.converged_text.isVisible()
    assert_views_match(fast)


def test_pause_stops_history_growing_and_resume_continues(qtbot, window):
    s = window.session
    # A run that cannot converge before Pause, however slowly the GUI thread
    # gets to the click (Old Faithful converges in 13 half-steps, 0.2 s here).
    s.update_settings(tol=0.0, max_iter=60)
    set_speed(window, 0.015)
    click(qtbot, window, "runButton")
    assert s.running and w(window, "runButton").text() == "Pause"
    assert not w(window, "eStepButton").isEnabled()
    assert "while EM runs" in w(window, "eStepButton").toolTip()
    qtbot.waitUntil(lambda: len(s.history) >= 4, timeout=5000)
    click(qtbot, window, "runButton")
    assert s.paused and not s.running
    n = len(s.history)
    qtbot.wait(150)
    assert len(s.history) == n
    assert w(window, "runButton").text() == "Resume"
    assert w(window, "stopButton").isEnabled()
    w(window, "speedSlider").setValue(w(window, "speedSlider").maximum())
    with qtbot.waitSignal(s.run_finished, timeout=20000) as blocker:
        click(qtbot, window, "runButton")
    assert blocker.args == ["max_iter"]
    assert len(s.history) > n and s.current.iteration == 60


def test_stop_mid_run_leaves_a_consistent_state(qtbot, window):
    s = window.session
    s.update_settings(tol=1e-13)  # so that the run cannot converge before Stop
    set_speed(window, 0.015)
    click(qtbot, window, "runButton")
    qtbot.waitUntil(lambda: len(s.history) >= 5, timeout=5000)
    with qtbot.waitSignal(s.run_finished, timeout=1000) as blocker:
        click(qtbot, window, "stopButton")
    assert blocker.args == ["stopped"]
    n = len(s.history)
    qtbot.wait(100)
    assert len(s.history) == n and s.at_end and not s.running and not s.paused
    ph = phases(s)
    # init, then E, M pairs, and a last E if the run stopped after an E-step.
    assert ph[0] == "init" and ph[1:] == ["E", "M"] * ((n - 1) // 2) + ["E"] * ((n - 1) % 2)
    assert [h.iteration for h in s.history] == [(i + 1) // 2 for i in range(n)]
    assert s.current.resp.shape == (272, 2)
    assert_views_match(window)
    # EM continues exactly from where it stopped.
    click(qtbot, window, "iterateButton")
    assert s.history[-1].phase == "M" and s.history[-1].iteration == s.history[n - 1].iteration + (
        s.history[n - 1].phase == "M"
    )
    qtbot.waitUntil(lambda: not s.live_threads, timeout=3000)


def test_closing_during_a_run_leaves_no_thread(qtbot, window):
    s = window.session
    s.update_settings(tol=0.0)  # runs to max_iter: still going when the window closes
    set_speed(window, 0.015)
    click(qtbot, window, "runButton")
    qtbot.waitUntil(lambda: len(s.history) >= 3, timeout=5000)
    (thread,) = s.live_threads  # the run's worker thread
    assert thread.isRunning()
    window.close()
    assert not thread.isRunning()
    assert not s.running and not s.live_threads


def test_stale_snapshots_after_stop_are_ignored(qtbot, fast):
    s = fast.session
    s.set_delay(0.0)
    s.run()
    s.stop()
    n = len(s.history)
    qtbot.waitUntil(lambda: not s.live_threads, timeout=3000)
    qtbot.wait(20)
    assert len(s.history) == n


# ---------------------------------------------------------------------------- history


def test_history_slider_back_forward_and_loglik_click(qtbot, window):
    s = window.session
    for _ in range(2):
        click(qtbot, window, "iterateButton")
    slider = w(window, "historySlider")
    assert slider.maximum() == 4 and slider.value() == 4
    click(qtbot, window, "backButton")
    assert s.index == 3 and slider.value() == 3
    click(qtbot, window, "forwardButton")
    assert s.index == 4
    slider.setValue(1)
    assert s.index == 1 and s.current.phase == "E"
    assert_views_match(window)
    # Click on the log-likelihood plot at half-step 3.
    plot = w(window, "loglikPlot")
    window.flush()
    vb = plot.getPlotItem().vb
    vb.updateAutoRange()  # the view range follows the data lazily, at the next paint
    ll = s.history[3].log_likelihood
    scene_pos = vb.mapViewToScene(QtCore.QPointF(3.0, ll))
    view_pos = plot.mapFromScene(scene_pos)
    qtbot.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton, pos=view_pos)
    qtbot.waitUntil(lambda: s.index == 3, timeout=2000)
    assert slider.value() == 3


# ---------------------------------------------------------------------------- keyboard


def focus_field(qtbot, window, field):
    """Keys to ``field`` of the active ``window``."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    field.setFocus()
    qtbot.waitUntil(field.hasFocus, timeout=2000)


def test_one_key_shortcuts_work_after_setting_k_in_its_field(qtbot, window):
    # A lecturer sets K with the spin box's arrows or by typing, then presses
    # E: the field used to swallow it (and Space blanked the field).
    s = window.session
    spin = window.controls.k_spin
    focus_field(qtbot, window, spin)
    qtbot.keyClick(spin, Qt.Key.Key_Up)
    assert s.settings.n_components == 3 and phases(s) == ["init"]
    qtbot.keyClick(spin, Qt.Key.Key_E)
    assert phases(s) == ["init", "E"]
    assert spin.text() == "3" and not spin.hasFocus()
    # Typed and not yet committed: the shortcut commits it first.
    focus_field(qtbot, window, spin)
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin, "4")
    assert s.settings.n_components == 3  # not committed while typing
    qtbot.keyClick(spin, Qt.Key.Key_Space)
    assert s.settings.n_components == 4 and s.current.mixture.n_components == 4
    assert phases(s) == ["init", "E", "M"] and spin.text() == "4"
    # Digits still go into the field; Ctrl+Z with nothing pending is the
    # window's Undo (K back to 3), not the field's.
    focus_field(qtbot, window, spin)
    qtbot.keyClick(spin, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert s.settings.n_components == 3 and spin.text() == "3"


def test_keys_that_belong_to_a_number_stay_in_its_field(qtbot, window):
    s = window.session
    edit = window.controls.reg_edit
    focus_field(qtbot, window, edit)
    edit.selectAll()
    qtbot.keyClicks(edit, "2e-5")  # "e" is an exponent here, not the E-step
    assert phases(s) == ["init"] and edit.hasFocus()
    qtbot.keyClick(edit, Qt.Key.Key_M)  # an M-step needs an E-step first: disabled
    qtbot.keyClick(window, Qt.Key.Key_E)
    assert phases(s) == ["init", "E"]
    assert s.settings.reg_covar == 2e-5


def test_keyboard_shortcuts(qtbot, window):
    s = window.session
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    qtbot.keyClick(window, Qt.Key.Key_E)
    assert phases(s) == ["init", "E"]
    qtbot.keyClick(window, Qt.Key.Key_M)
    assert phases(s) == ["init", "E", "M"]
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert len(s.history) == 5
    qtbot.keyClick(window, Qt.Key.Key_Left)
    assert s.index == 3
    qtbot.keyClick(window, Qt.Key.Key_Right)
    assert s.index == 4
    qtbot.keyClick(window, Qt.Key.Key_Home)
    assert s.index == 0
    qtbot.keyClick(window, Qt.Key.Key_End)
    assert s.index == 4
    set_speed(window, 0.04)
    qtbot.keyClick(window, Qt.Key.Key_R)
    assert s.running
    qtbot.keyClick(window, Qt.Key.Key_R)
    assert s.paused and not s.running
    qtbot.keyClick(window, Qt.Key.Key_S)
    assert not s.paused
    qtbot.waitUntil(lambda: not s.live_threads, timeout=3000)
    qtbot.keyClick(window, Qt.Key.Key_H)
    assert window.scatter.hard_assignment
    calls = []
    window.ask_open_path = lambda: calls.append("open")
    window.ask_generate = lambda: calls.append("generate")
    qtbot.keyClick(window, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(window, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    assert calls == ["open", "generate"]
    qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert not window.isVisible()


def test_shortcuts_are_in_menus_and_tooltips(window):
    keys = {}
    for menu in window.menuBar().findChildren(QtWidgets.QMenu):
        for action in menu.actions():
            keys[action.objectName()] = action.shortcut().toString()
    expected = {
        "eAction": "E",
        "mAction": "M",
        "iterateAction": "Space",
        "runAction": "R",
        "backAction": "Left",
        "forwardAction": "Right",
        "resetAction": "Home",
        "openAction": "Ctrl+O",
        "generateAction": "Ctrl+G",
        "quitAction": "Ctrl+Q",
    }
    for name, key in expected.items():
        assert keys.get(name) == key, name
    assert "(Space)" in w(window, "iterateButton").toolTip()
    assert "(R)" in w(window, "runButton").toolTip()


# ---------------------------------------------------------------------------- scatter


def test_click_point_shows_its_responsibilities(qtbot, window):
    s = window.session
    click(qtbot, window, "eStepButton")
    window.flush()
    i = int(np.argmax(s.X[:, 0]))
    plot = w(window, "scatterPlot")
    vb = plot.getPlotItem().vb
    view_pos = plot.mapFromScene(vb.mapViewToScene(QtCore.QPointF(*s.X[i])))
    qtbot.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton, pos=view_pos)
    qtbot.waitUntil(lambda: s.selected == i, timeout=2000)
    window.flush()
    np.testing.assert_allclose(window.resp_view.values(), s.current.resp[i])
    assert f"Point {i + 1}" in window.resp_view.title.text()
    # The bars follow the history.
    click(qtbot, window, "mStepButton")
    click(qtbot, window, "eStepButton")
    window.flush()
    np.testing.assert_allclose(window.resp_view.values(), s.current.resp[i])
    # A click far from every point clears the selection.
    window.scatter.click_at(s.X[:, 0].max() + 100, s.X[:, 1].max() + 100)
    assert s.selected is None


def test_display_toggles(qtbot, window):
    s = window.session
    click(qtbot, window, "eStepButton")
    window.findChild(QtWidgets.QCheckBox, "sd3Check").setChecked(False)
    assert not window.scatter.ellipse_curves[3][0].isVisible()
    assert window.scatter.ellipse_curves[1][0].isVisible()
    window.findChild(QtWidgets.QCheckBox, "hardCheck").setChecked(True)
    codes = window.scatter.points.codes()
    np.testing.assert_array_equal(codes, _HARD_CODES[np.argmax(s.current.resp, axis=1)])
    window.actions_by_key["aspect"].setChecked(True)
    assert window.scatter.equal_aspect()


def test_add_points_mode(qtbot, window):
    s = window.session
    click(qtbot, window, "iterateButton")
    mixture = s.current.mixture
    window.findChild(QtWidgets.QCheckBox, "addCheck").setChecked(True)
    window.scatter.click_at(3.0, 70.0)
    assert s.n_samples == 273
    np.testing.assert_allclose(s.X[-1], [3.0, 70.0])
    assert len(s.history) == 1 and s.current.mixture.allclose(mixture)
    click(qtbot, window, "iterateButton")
    assert s.current.resp is not None and s.current.resp.shape == (273, 2)


# ---------------------------------------------------------------------------- data


def test_bad_file_keeps_data_and_history(qtbot, window, tmp_path):
    s = window.session
    click(qtbot, window, "iterateButton")
    X, history, index = s.X, list(s.history), s.index
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n3,x\n4,5\n")
    window.ask_open_path = lambda: str(bad)
    window.actions_by_key["open"].trigger()
    assert s.X is X and s.history == history and s.index == index
    assert len(window.errors) == 1
    assert "bad.csv" in window.errors[0] and "line 3" in window.errors[0]
    assert "column b" in window.errors[0]
    box = window.findChild(QtWidgets.QMessageBox, "errorBox")
    assert box is not None and "line 3" in box.text()
    box.close()
    assert not window.open_file(str(tmp_path / "missing.csv"))
    assert "not found" in window.errors[-1] and s.X is X


def test_open_file_with_three_columns_asks_which(qtbot, window, tmp_path):
    s = window.session
    path = tmp_path / "three.csv"
    path.write_text("a,b,c\n1,2,3\n4,5,6\n7,8,10\n2,2,2\n")
    asked = []

    def ask(p, names):
        asked.append(names)
        return ("b", "c")

    window.ask_columns = ask
    assert window.open_file(str(path))
    assert asked == [("a", "b", "c")]
    np.testing.assert_array_equal(s.X, [[2, 3], [5, 6], [8, 10], [2, 2]])
    assert s.columns == ("b", "c")
    assert window.scatter.getPlotItem().getAxis("bottom").labelText == "b"
    assert s.settings.n_components == 2 and len(s.history) == 1


def test_drop_a_file(qtbot, window, tmp_path):
    path = tmp_path / "two.txt"
    path.write_text("x y\n" + "\n".join(f"{i} {i * i % 7}" for i in range(20)))
    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(path))])
    pos = QtCore.QPointF(100, 100)
    enter = QtGui.QDragEnterEvent(
        pos.toPoint(),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dragEnterEvent(enter)
    assert enter.isAccepted()
    drop = QtGui.QDropEvent(
        pos,
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(drop)
    qtbot.waitUntil(lambda: window.session.n_samples == 20, timeout=2000)


def test_generate_and_datasets_menu(qtbot, window):
    s = window.session
    window.ask_generate = lambda: {
        "preset": "well_separated",
        "n_samples": 300,
        "seed": 1,
        "n_components": 4,
    }
    window.actions_by_key["generate"].trigger()
    assert s.n_samples == 300 and len(s.history) == 1
    window.dataset_actions["iris"].trigger()
    assert s.n_samples == 150 and s.columns == ("petal_length_cm", "petal_width_cm")
    window.dataset_actions["penguins"].trigger()
    assert s.n_samples > 300
    assert window.errors == []


def test_generate_dialog_values(qtbot, window):
    from emviz.ui.views.dialogs import GenerateDialog

    dialog = GenerateDialog(window)
    qtbot.addWidget(dialog)
    dialog.preset_combo.setCurrentIndex(dialog.preset_combo.findData("moons"))
    assert not dialog.k_spin.isEnabled()
    values = dialog.values()
    assert values["preset"] == "moons" and values["n_components"] is None
    assert window.session.generate(**values)


def test_three_points_and_ten_components(qtbot, fast):
    s = fast.session
    s.load_points(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]))
    assert s.n_samples == 3 and s.settings.n_components == 2
    assert w(fast, "kSpinBox").maximum() == 3
    w(fast, "kSpinBox").setValue(3)
    with qtbot.waitSignal(s.run_finished, timeout=20000):
        click(qtbot, fast, "runButton")
    assert_views_match(fast)
    rng = np.random.default_rng(0)
    s.load_points(rng.normal(size=(400, 2)) + rng.integers(0, 5, size=(400, 1)) * 4)
    w(fast, "kSpinBox").setValue(10)
    assert s.current.mixture.n_components == 10
    click(qtbot, fast, "iterateButton")
    assert_views_match(fast)
    assert fast.errors == []


def test_large_data_run(qtbot, fast):
    s = fast.session
    rng = np.random.default_rng(1)
    s.load_points(rng.normal(size=(100_000, 2)) * [1, 2] + rng.integers(0, 3, (100_000, 1)) * 5)
    assert fast.scatter.points.diameter <= 5
    s.update_settings(max_iter=5)
    with qtbot.waitSignal(s.run_finished, timeout=30000) as blocker:
        click(qtbot, fast, "runButton")
    assert blocker.args in (["max_iter"], ["converged"])
    fast.flush()
    assert fast.scatter.grab().width() > 0


# ---------------------------------------------------------------------------- command line


def test_command_line_options(qtbot):
    from emviz.cli import create_main_window

    win = create_main_window(
        [
            "emviz",
            "--dataset",
            "iris",
            "--k",
            "3",
            "--cov-type",
            "diag",
            "--init",
            "kmeans",
            "--seed",
            "5",
        ]
    )
    qtbot.addWidget(win)
    s = win.session
    assert s.data_name == "iris" and s.n_samples == 150
    assert s.settings.n_components == 3 and s.current.mixture.cov_type == "diag"
    assert w(win, "kSpinBox").value() == 3 and w(win, "covTypeCombo").currentText() == "diag"
    assert w(win, "initCombo").currentData() == "kmeans" and w(win, "seedSpinBox").value() == 5
    win.close()


def test_command_line_file(qtbot, tmp_path):
    from emviz.cli import create_main_window

    path = tmp_path / "pts.csv"
    path.write_text("u,v\n" + "\n".join(f"{i},{(i * 3) % 5}" for i in range(10)))
    win = create_main_window([str(path)])
    qtbot.addWidget(win)
    assert win.session.n_samples == 10 and win.session.columns == ("u", "v")
    win.close()


def test_help_exits_before_qt():
    out = subprocess.run(
        [sys.executable, "-m", "emviz", "--help"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0
    for option in ("--dataset", "--k", "--cov-type", "--init", "--seed", "FILE"):
        assert option in out.stdout


@pytest.mark.parametrize("argv", [["--k", "11"], ["--cov-type", "round"]])
def test_bad_options_exit_with_usage(argv):
    from emviz.cli import main

    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2


def test_the_loglik_x_range_grows_in_steps_during_a_run_and_fits_at_rest(window, qtbot):
    from emviz.ui.views.loglik_view import _x_limit

    assert _x_limit(13, running=True) == 19.5  # steps of 10, 20, 50, 100, ... during a run
    assert _x_limit(21, running=True) == 49.5
    assert _x_limit(101, running=True) == 199.5
    assert _x_limit(200, running=True) == 199.5
    assert _x_limit(201, running=True) == 499.5
    assert _x_limit(4, running=True) == 9.5
    assert _x_limit(13, running=False) == 12.5  # at rest: up to the last snapshot
    s = window.session
    s.set_delay(0.0)
    with qtbot.waitSignal(s.run_finished, timeout=10000):
        s.run()
    window.flush()
    right = window.loglik.getPlotItem().vb.viewRange()[0][1]
    n = len(s.history)
    assert n - 0.5 <= right <= max(n - 0.5, 8.5) + 0.5  # padding only


def test_the_loglik_y_range_changes_only_when_the_curve_leaves_it_during_a_run(window, qtbot):
    from emviz.ui.views.loglik_view import _y_range

    assert _y_range(-10.0, -5.0, [-11.0, -4.0]) is None  # inside: kept
    low, high = _y_range(-10.0, -3.0, [-11.0, -4.0])  # above: room to grow upwards
    assert low == -10.0 - 0.05 * 7.0 and high == -3.0 + 0.3 * 7.0
    s = window.session
    # 40 half-steps, paced: a frame every snapshot or two, however busy the machine.
    s.update_settings(tol=1e-300, max_iter=20)
    s.set_delay(0.03)
    view = window.loglik
    vb = view.getPlotItem().vb
    seen = []  # (y range, lowest and highest log-likelihood so far) after each redraw
    redraw = view.redraw

    def recorded() -> None:
        redraw()
        if s.running:
            ll = [snap.log_likelihood for snap in s.history]
            seen.append((tuple(vb.viewRange()[1]), min(ll), max(ll)))

    view._throttle._redraw = recorded
    with qtbot.waitSignal(s.run_finished, timeout=10000):
        s.run()
    assert len(seen) >= 3
    # The curve is always in view, and the range changed less often than it was drawn.
    assert all(r[0] <= low and high <= r[1] for r, low, high in seen)
    assert len({r for r, _, _ in seen}) < len(seen)
    window.flush()
    ll = [snap.log_likelihood for snap in s.history]

    def fits() -> bool:  # at rest: the history, with pyqtgraph's padding only
        bottom, top = vb.viewRange()[1]
        return bottom <= min(ll) and max(ll) <= top and top - bottom < 1.5 * (max(ll) - min(ll))

    qtbot.waitUntil(fits, timeout=5000)  # the view box applies auto-range when it paints


def test_loglik_plot_follows_the_history_and_drops_markers_on_long_runs(window, monkeypatch):
    from emviz.ui.views import loglik_view

    s = window.session
    view = window.loglik
    for _ in range(3):
        s.step_iteration()
    window.flush()

    def plotted():
        x, y = view.curve.getData()
        return list(x), list(y)

    assert plotted() == (
        list(range(len(s.history))),
        [snap.log_likelihood for snap in s.history],
    )
    # Stepping from the past rewrites the future, and the plot with it.
    s.set_index(2)
    s.step_e() if s.next_phase == "E" else s.step_m()
    window.flush()
    assert plotted()[1] == [snap.log_likelihood for snap in s.history]
    assert len(view.e_item.getData()[0]) + len(view.m_item.getData()[0]) == len(s.history) - 1
    monkeypatch.setattr(loglik_view, "MAX_MARKERS", 3)
    s.step_iteration()
    window.flush()
    assert len(plotted()[0]) == len(s.history) > 3
    assert len(view.e_item.getData()[0]) == len(view.m_item.getData()[0]) == 0
    assert len(view.init_item.getData()[0]) == 1  # the start keeps its diamond
    # New data: a history of one snapshot, shorter than the plot's.
    s.load_points(s.X[:60].copy(), name="first 60")
    window.flush()
    assert plotted()[1] == [s.history[0].log_likelihood]


def test_the_selected_point_marker_goes_with_the_data(window):
    s = window.session
    s.select(5)
    window.flush()
    assert len(window.scatter.selected_item.getData()[0]) == 1
    s.load_points(s.X[:40].copy() + 100.0, name="elsewhere")
    window.flush()
    assert s.selected is None
    assert len(window.scatter.selected_item.getData()[0]) == 0


def test_status_bar_says_when_max_iter_stopped_the_run(window, qtbot):
    s = window.session
    s.update_settings(max_iter=2)
    s.set_delay(0.0)
    assert window.status_text().endswith("·   not converged")
    with qtbot.waitSignal(s.run_finished, timeout=10000):
        s.run()
    window.flush()
    assert not s.history[s.index].converged
    assert window.status_text().endswith("not converged: max_iter = 2 reached")


def test_going_back_in_history_during_a_run_says_it_stopped_the_run(window, qtbot):
    s = window.session
    s.update_settings(tol=1e-300, max_iter=50)  # still running when we go back
    s.set_delay(0.05)
    messages = []
    s.message.connect(messages.append)
    with qtbot.waitSignal(s.history_changed, timeout=10000):
        s.run()
    qtbot.waitUntil(lambda: len(s.history) >= 3, timeout=10000)
    with qtbot.waitSignal(s.run_finished, timeout=10000):
        s.set_index(1)
    assert not s.running and s.index == 1
    assert "run stopped to show half-step 1" in messages


def test_the_sessions_messages_are_seen_in_the_status_bar(window, qtbot):
    bar = window.statusBar()
    # Old Faithful opens with a message about the axes' scales, shown before
    # the window is: it, not the status line, is what is seen.
    assert "separate scales" in bar.currentMessage()
    assert not window.status_label.isVisible()
    bar.clearMessage()
    qtbot.waitUntil(window.status_label.isVisible)
    window.session.message.emit("converged after 6 iterations")
    assert bar.currentMessage() == "converged after 6 iterations"
    qtbot.waitUntil(lambda: not window.status_label.isVisible())  # the message in its place
    bar.clearMessage()
    qtbot.waitUntil(window.status_label.isVisible)


def test_going_back_clears_a_message_about_a_later_step(window, qtbot):
    s = window.session
    bar = window.statusBar()
    for _ in range(3):
        s.step_iteration()
    s.message.emit("converged after 3 iterations")  # as the end of a run says it
    s.set_index(len(s.history) - 1)
    assert bar.currentMessage() == "converged after 3 iterations"
    s.back()
    assert bar.currentMessage() == ""
    qtbot.waitUntil(window.status_label.isVisible)
    # A message about the step shown stays.
    s.message.emit("run stopped to show half-step 4")
    s.set_index(s.index)
    assert bar.currentMessage() == "run stopped to show half-step 4"


def test_the_shortcuts_list_has_every_command_with_a_shortcut(qtbot, window):
    # It listed only the window's own actions: not F11, Ctrl+Z, Ctrl+S, T, D...
    from PySide6 import QtGui

    rows = window.shortcut_rows()
    listed = {keys for _menu, keys, _text in rows}
    for keys in ("E", "Space", "Left", "Ctrl+O", "Ctrl+Z", "Ctrl+S", "Ctrl+Shift+O", "F11", "T"):
        assert keys in listed, keys
    native = QtGui.QKeySequence.SequenceFormat.NativeText
    with_keys = {id(a) for a in window.findChildren(QtGui.QAction) if a.shortcut().toString(native)}
    assert len(rows) == len(with_keys)
    window.show_keys()
    box = window.findChild(QtWidgets.QMessageBox, "keysBox")
    qtbot.waitUntil(box.isVisible, timeout=2000)
    for _menu, keys, text in rows:
        assert f"<b>{keys}</b>" in box.text() and text in box.text()
    box.close()


@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e6])
def test_parameter_table_numbers_fit_their_columns(qtbot, window, scale):
    # 0.000623 was cut to "0.0006…" in a column of ordinary width.
    rng = np.random.default_rng(5)
    X = np.concatenate([rng.normal(-1, 0.3, (200, 2)), rng.normal(1, 0.2, (200, 2))]) * scale
    s = window.session
    s.load_points(X)
    s.step_iteration()
    window.flush()
    table = window.param_table
    mix = s.current.mixture
    cov = mix.covariances
    expected = np.column_stack([mix.weights, mix.means, cov[:, 0, 0], cov[:, 0, 1], cov[:, 1, 1]])
    np.testing.assert_allclose(table.values(), expected, rtol=5e-3)
    metrics = table.fontMetrics()
    for r in range(table.rowCount()):
        for c in range(1, table.columnCount()):
            text = table.item(r, c).text()
            assert metrics.horizontalAdvance(text) + 8 <= table.columnWidth(c), text


def test_a_narrow_parameter_table_scrolls_rather_than_cut_numbers(qtbot, window):
    # With a panel docked beside the plots the table had 38-pixel columns.
    from emviz.ui.views.param_table import ParamTable

    s = window.session
    s.update_settings(n_components=3)
    s.step_iteration()
    table = ParamTable(s)
    qtbot.addWidget(table)
    metrics = table.fontMetrics()

    def cut():
        return [
            table.item(r, c).text()
            for r in range(table.rowCount())
            for c in range(1, table.columnCount())
            if metrics.horizontalAdvance(table.item(r, c).text()) + 6 > table.columnWidth(c)
        ]

    for width, scrolls in ((700, False), (360, False), (260, True), (700, False)):
        table.resize(width, 200)
        table.show()
        qtbot.waitExposed(table)
        qtbot.waitUntil(
            lambda: not cut() and (table.horizontalScrollBar().maximum() > 0) == scrolls,
            timeout=2000,
        )
        if not scrolls:  # the columns share the whole width
            total = sum(table.columnWidth(c) for c in range(table.columnCount()))
            assert total >= table.viewport().width() - 2


def test_zoom_to_the_climb_spreads_the_steps_after_the_first_m_step(window, qtbot):
    # The log-likelihood's climb after the first M-step looks flat on a linear
    # scale; zoomed (Z), the plot shows the log10 of the gap to the best
    # value, where each later step is a visible drop.
    import numpy as np

    s = window.session
    for _ in range(8):
        s.step_iteration()
    window.flush()
    view = window.loglik
    vb = view.getPlotItem().vb
    ll = np.array([snap.log_likelihood for snap in s.history])
    first_m = [i for i, snap in enumerate(s.history) if snap.phase == "M"][0]
    # Every snapshot in view: the climb after the first jump looks flat.
    qtbot.waitUntil(
        lambda: vb.viewRange()[1][0] <= min(ll) and vb.viewRange()[1][1] >= max(ll), timeout=2000
    )
    low, high = vb.viewRange()[1]
    assert np.ptp(ll[first_m:]) < 0.2 * (high - low)
    window.actions_by_key["climb"].trigger()  # View > zoom to the climb (Z)
    window.flush()
    y = view.shown_y(ll)
    gap = ll.max() - ll
    np.testing.assert_allclose(y[gap > 0], np.log10(gap[gap > 0]))
    assert (y[gap == 0] < y[gap > 0].min()).all()
    low, high = vb.viewRange()[1]
    assert low <= y.min() and high >= y.max()
    assert np.ptp(y[first_m:]) > 0.5 * (high - low)
    # New steps keep to the gap: the newest, best, snapshot at the bottom.
    s.step_iteration()
    window.flush()
    ll = np.array([snap.log_likelihood for snap in s.history])
    y = view.shown_y(ll)
    low, high = vb.viewRange()[1]
    assert low <= y[-1] == y.min() and high >= y.max()
    window.actions_by_key["climb"].trigger()
    window.flush()
    qtbot.waitUntil(lambda: vb.viewRange()[1][0] <= ll[0], timeout=2000)


def test_the_column_dialog_offers_a_bundled_data_sets_own_columns(qtbot):
    # Iris opened through File > Open showed its sepal columns, which hardly
    # separate the species; the bundled data set is meant for the petal's.
    from emviz.core.io import numeric_columns
    from emviz.core.resources import resource_path
    from emviz.ui.views.dialogs import ColumnDialog

    names = numeric_columns(resource_path("datasets", "iris.csv"))
    assert names[:2] == ("sepal_length_cm", "sepal_width_cm")
    dialog = ColumnDialog("iris.csv", names)
    qtbot.addWidget(dialog)
    assert dialog.columns() == ("petal_length_cm", "petal_width_cm")
    # Any other file: its first two numeric columns.
    other = ColumnDialog("measurements.csv", names)
    qtbot.addWidget(other)
    assert other.columns() == names[:2]


# ---------------------------------------------------------------------------- fitting the screen


def test_the_window_opens_fitted_to_its_screen(qtbot, window):
    # It opened at 1500 x 950 whatever the screen: on a 1280 x 720 projector
    # the side panel and the history bar were off the screen.
    from emviz.ui.layout import PREFERRED_SIZE, fitted_size

    available = window.screen().availableGeometry()
    qtbot.waitUntil(lambda: available.contains(window.frameGeometry()))
    # (On this 800 x 800 offscreen screen the window's minimum width is more.)
    assert window.size() == fitted_size(available).expandedTo(window.minimumSizeHint())
    assert fitted_size(QtCore.QRect(0, 0, 1280, 720)) == QtCore.QSize(1177, 662)
    assert fitted_size(QtCore.QRect(0, 0, 2560, 1440)) == PREFERRED_SIZE


def test_a_remembered_geometry_is_restored_only_if_it_still_fits(qtbot, window):
    # Remembered on a large monitor, restored on a projector: refused, fitted instead.
    from emviz.ui.layout import fitted_size

    available = window.screen().availableGeometry()
    qtbot.waitUntil(lambda: available.contains(window.frameGeometry()))
    big = window.saveGeometry()
    fits = window.minimumSizeHint().expandedTo(QtCore.QSize(300, 300)) + QtCore.QSize(2, 2)
    assert fits.width() + 8 <= available.width() and fits.height() + 8 <= available.height()
    window.setGeometry(QtCore.QRect(available.topLeft() + QtCore.QPoint(3, 3), fits))
    qtbot.waitUntil(lambda: window.size() == fits)
    small = window.saveGeometry()
    # A geometry of a window twice the screen's size, as a larger screen left it.
    window.setGeometry(0, 0, 2 * available.width(), 2 * available.height())
    qtbot.waitUntil(lambda: window.width() == 2 * available.width())
    too_big = window.saveGeometry()

    assert window.restoreGeometry(small)
    qtbot.waitUntil(lambda: window.size() == fits)
    assert not window.restoreGeometry(too_big)
    assert available.contains(window.frameGeometry())
    assert window.size() == fitted_size(available).expandedTo(window.minimumSizeHint())
    assert window.restoreGeometry(big)


def test_the_readout_shows_the_numbers_of_the_snapshot_shown(qtbot, window):
    from emviz.ui.views.readout import readout_rows

    s = window.session
    s.step_iteration()
    s.step_iteration()
    window.flush()
    snap = s.history[s.index]
    loglik, rows = readout_rows(s)
    change = snap.log_likelihood - s.history[s.index - 2].log_likelihood
    assert f"{snap.log_likelihood:.2f}".replace("-", "−") in loglik
    assert f"+{change:.3g}" in loglik
    m = snap.mixture
    assert len(rows) == m.n_components
    for k, (pi, mu, sigma) in enumerate(rows):
        cov = m.covariances[k]
        rho = cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1])
        assert pi == f"π {m.weights[k]:.3g}"
        assert mu == f"μ ({m.means[k][0]:.3g}, {m.means[k][1]:.3g})".replace("-", "−")
        assert f"{np.sqrt(cov[0, 0]):.3g}" in sigma and f"ρ {rho:.3g}".replace("-", "−") in sigma
    # Hidden beside the table; shown (and drawn) in presentation mode.
    assert not window.readout.isVisible()
    window.classroom.set_presentation(True, full_screen=False)
    qtbot.waitUntil(window.readout.isVisible)
    assert "π" in window.readout.text() and "−" in window.readout.text()
    window.classroom.set_presentation(False)
    assert not window.readout.isVisible()


def test_the_history_label_keeps_its_width_as_the_steps_go_by(qtbot, window):
    # Its width followed its text: the slider, and in a narrow window the
    # plots, moved at every step (an exported animation changed size mid-way).
    s = window.session
    for _ in range(4):
        s.step()
    window.flush()
    widths = set()
    for i in range(len(s.history)):
        s.set_index(i)
        window.flush()
        widths.add(window.history_label.sizeHint().width())
    assert len(widths) == 1


def test_presentation_mode_closes_panels_and_toolbars_and_puts_them_back(qtbot, window):
    # The panels and toolbars took the room the plot needs on a projector.
    toolbar = window.addToolBar("extra")
    toolbar.addAction("x")
    dock = window.findChild(QtWidgets.QDockWidget, "boundDock")
    dock.toggleViewAction().trigger()
    qtbot.waitUntil(dock.isVisible)
    # Laid out: the toolbar above the plots, the dock beside them.
    qtbot.waitUntil(
        lambda: (
            window.centralWidget().geometry().top() > toolbar.geometry().bottom()
            and window.centralWidget().geometry().right() < dock.geometry().left()
        )
    )
    parts = window.layout_parts
    before = [parts.main_split.sizes(), parts.left_split.sizes()]
    window.classroom.set_presentation(True, full_screen=False)
    assert not dock.isVisible() and not toolbar.isVisible()
    assert window.readout.isVisible() and not parts.history_bar.isVisible()
    assert window.controls.button_columns == 2
    window.classroom.set_presentation(False)
    qtbot.waitUntil(lambda: dock.isVisible() and toolbar.isVisible())
    assert window.controls.button_columns == 3
    qtbot.waitUntil(lambda: [parts.main_split.sizes(), parts.left_split.sizes()] == before)
