"""Reproducible runs: 63-bit seeds in the window, restart runs loaded with their
settings, and "Copy as code" that repeats a run outside the window."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtWidgets
from PySide6.QtCore import Qt

from emviz.core.init import initialize
from emviz.core.settings import SEED_MAX, Settings
from emviz.ui.lab import install
from emviz.ui.views.seed_edit import SeedEdit


@pytest.fixture(autouse=True)
def _settings_file(tmp_path, monkeypatch):
    """Remembered settings go to a temporary INI file, never the user's."""
    monkeypatch.setenv("EMVIZ_SETTINGS", str(tmp_path / "settings" / "emviz.ini"))


@pytest.fixture
def lab_window(window):
    lab = install(window)
    yield window, lab
    window.session.shutdown()
    assert not lab.live_threads


def seed_field(window) -> SeedEdit:
    field = window.findChild(SeedEdit, "seedSpinBox")
    assert field is not None
    return field


def run_restarts(qtbot, lab, n_runs: int, methods=("kmeans++", "random_from_data")):
    lab.show_dock("restarts")
    panel = lab.restarts
    for m, box in panel.method_boxes.items():
        box.setChecked(m in methods)
    panel.runs_spin.setValue(n_runs)
    panel.seed_spin.setValue(3)
    with qtbot.waitSignal(panel.task.finished, timeout=60000):
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not lab.live_threads, timeout=5000)
    return panel


def run_snippet(code: str) -> float:
    """Run copied code as a script would; the final log-likelihood it reaches."""
    namespace: dict = {}
    exec(compile(code, "<copied>", "exec"), namespace)  # noqa: S102 (our own code)
    return float(namespace["result"].log_likelihoods[-1])


# ---------------------------------------------------------------------------- 63-bit seeds


def test_the_largest_seed_typed_into_the_seed_field(qtbot, window, tmp_path):
    s = window.session
    field = seed_field(window)
    assert (field.minimum(), field.maximum()) == (0, SEED_MAX) and SEED_MAX == 2**63 - 1
    field.setFocus()
    field.selectAll()
    qtbot.keyClicks(field, str(SEED_MAX))
    assert s.settings.seed == 0  # taken on Enter, as the other number fields
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert s.settings.seed == SEED_MAX and field.value() == SEED_MAX
    expected = initialize(s.data, 2, method="kmeans++", cov_type="full", seed=SEED_MAX)
    assert len(s.history) == 1 and s.history[0].mixture.allclose(expected, rtol=0)
    # A digit more, or a letter, cannot be typed.
    qtbot.keyClick(field, Qt.Key.Key_End)
    qtbot.keyClicks(field, "7x")
    assert field.text() == str(SEED_MAX)
    # Saved and opened again, the session keeps the seed.
    from emviz.ui.files.session_io import save_session_file

    path = tmp_path / "big-seed.emviz"
    assert save_session_file(window, path), window.errors
    field.setValue(5)
    assert s.settings.seed == 5
    assert window.open_file(str(path)), window.errors
    assert s.settings.seed == SEED_MAX and field.value() == SEED_MAX
    assert s.history[0].mixture.allclose(expected, rtol=0)


def test_the_seed_field_steps_and_stays_in_range(qtbot, window):
    s = window.session
    field = seed_field(window)
    field.setValue(SEED_MAX - 1)
    field.setFocus()
    qtbot.keyClick(field, Qt.Key.Key_Up)
    assert s.settings.seed == SEED_MAX
    qtbot.keyClick(field, Qt.Key.Key_Up)  # no further
    assert s.settings.seed == SEED_MAX and field.text() == str(SEED_MAX)
    field.stepBy(-3)
    assert s.settings.seed == SEED_MAX - 3
    field.setValue(2**70)  # clamped, as a spin box would
    assert field.value() == SEED_MAX
    # Re-initialise after the largest seed goes round to 0 (no error).
    window.session.reinitialize()
    assert s.settings.seed == 0 and field.value() == 0 and not window.errors
    # Typed text that is no number is undone when the field is left.
    field.lineEdit().setText("")
    field.editingFinished.emit()
    assert field.text() == "0" and s.settings.seed == 0


def test_the_generate_dialog_takes_a_63_bit_seed(qtbot, window):
    from emviz.ui.views.dialogs import GenerateDialog

    dialog = GenerateDialog(window)
    qtbot.addWidget(dialog)
    dialog.seed_spin.setValue(SEED_MAX)
    values = dialog.values()
    assert values["seed"] == SEED_MAX
    assert window.session.generate(**values)


def test_the_command_line_takes_the_largest_seed(qtbot):
    from emviz.cli import build_parser

    assert build_parser().parse_args(["--seed", str(SEED_MAX)]).seed == SEED_MAX
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--seed", str(SEED_MAX + 1)])


# ---------------------------------------------------------------------------- set_history


def test_set_history_adopts_checked_settings_without_a_new_start(window):
    s = window.session
    for _ in range(3):
        s.step_iteration()
    history = list(s.history)
    shown = Settings(init="random_resp", seed=SEED_MAX, tol=1e-9, max_iter=50)
    assert s.set_history(history, shown)
    assert s.settings == shown and list(s.history) == history
    controls = window.controls
    assert controls.init_combo.currentData() == "random_resp"
    assert controls.seed_spin.value() == SEED_MAX
    assert controls.tol_edit.text() == "1e-09" and controls.max_iter_spin.value() == 50
    # Settings the rule refuses, or that do not match the history, change nothing.
    for bad, message in [
        (Settings(max_iter=0), "max_iter must be between"),
        (Settings(n_components=3), "do not match the history"),
        (Settings(cov_type="diag"), "do not match the history"),
    ]:
        assert not s.set_history(history[:1], bad)
        assert message in window.errors[-1]
        assert s.settings == shown and list(s.history) == history


# ---------------------------------------------------------------------------- restarts


def test_loading_a_restart_run_sets_the_model_panel_and_keeps_its_history(qtbot, lab_window):
    win, lab = lab_window
    s = win.session
    s.update_settings(n_components=3, max_iter=300)
    panel = run_restarts(qtbot, lab, 6)
    result = panel.result
    controls = win.controls
    for index in (int(result.order[-1]), int(result.order[0])):
        run = next(r for r in result.runs if r.index == index)
        with qtbot.waitSignal(panel.run_loaded):
            panel.runs_table.selectRow(panel._row_of_run[index])
        assert s.settings == Settings(
            n_components=3,
            cov_type="full",
            init=run.method,
            seed=run.seed,
            reg_covar=1e-6,
            tol=1e-8,
            max_iter=300,
        )
        assert run.seed > 2**31  # a 63-bit seed, shown as it is
        assert controls.init_combo.currentData() == run.method
        assert controls.seed_spin.value() == run.seed
        assert seed_field(win).text() == str(run.seed)
        assert controls.tol_edit.text() == "1e-08" and controls.max_iter_spin.value() == 300
        # The run's history is kept: no re-initialisation by the new settings.
        assert len(s.history) == 2 * run.n_iter + 1
        assert s.index == len(s.history) - 1
        assert s.history[-1].log_likelihood == pytest.approx(run.log_likelihood, rel=1e-12)
        # And the settings shown start this very run again.
        again = initialize(s.data, 3, method=run.method, cov_type="full", seed=run.seed)
        assert again.allclose(run.start, rtol=0)


def test_copy_as_code_repeats_the_run(qtbot, lab_window):
    win, lab = lab_window
    s = win.session
    s.update_settings(n_components=3)
    panel = run_restarts(qtbot, lab, 4)
    assert not panel.copy_button.isEnabled()  # no run selected yet
    result = panel.result
    index = int(result.order[-1])
    run = next(r for r in result.runs if r.index == index)
    panel.runs_table.selectRow(panel._row_of_run[index])
    assert panel.copy_button.isEnabled() and panel.copy_action.isEnabled()
    assert panel.copy_action in panel.runs_table.actions()  # the table's context menu
    QtWidgets.QApplication.clipboard().clear()
    qtbot.mouseClick(panel.copy_button, Qt.MouseButton.LeftButton)
    code = QtWidgets.QApplication.clipboard().text()
    assert "from emviz.core import fit, load_dataset" in code
    assert "X = load_dataset('old_faithful').X" in code
    assert f"seed={run.seed}" in code and f"init={run.method!r}" in code
    assert "tol=1e-08" in code and "max_iter=500" in code
    assert run_snippet(code) == pytest.approx(run.log_likelihood, rel=1e-9)
    # The context menu's entry copies the same.
    QtWidgets.QApplication.clipboard().clear()
    panel.copy_action.trigger()
    assert QtWidgets.QApplication.clipboard().text() == code


@pytest.mark.parametrize("treat_missing", [False, True], ids=["complete", "missing"])
def test_copy_as_code_on_a_data_set_with_missing_values(qtbot, lab_window, treat_missing):
    win, lab = lab_window
    s = win.session
    assert s.load_dataset("old_faithful_holes")
    s.set_treat_missing(treat_missing)
    panel = run_restarts(qtbot, lab, 2, methods=("kmeans++",))
    run = panel.result.runs[1]
    assert panel.select_run(run.index)
    code = panel.copy_code()
    assert "load_dataset('old_faithful_holes')" in code
    assert ('missing="marginalize"' in code) == treat_missing
    assert run_snippet(code) == pytest.approx(run.log_likelihood, rel=1e-9)


def test_copy_as_code_writes_points_of_no_data_set_into_the_code(qtbot, lab_window):
    win, lab = lab_window
    s = win.session
    rng = np.random.default_rng(1)
    X = np.concatenate([rng.normal(c, 0.7, size=(40, 2)) for c in (0, 3, 6)])
    s.load_points(X, "clicked points")
    s.update_settings(n_components=3, cov_type="diag")
    panel = run_restarts(qtbot, lab, 3, methods=("random_from_data",))
    run = panel.result.runs[2]
    assert panel.select_run(run.index)
    code = panel.copy_code()
    assert "X = np.array([" in code and "cov_type='diag'" in code
    assert run_snippet(code) == pytest.approx(run.log_likelihood, rel=1e-9)
    # After new data, there is nothing to copy.
    s.load_points(X[:50], "fewer")
    assert panel.copy_code() == "" and not panel.copy_button.isEnabled()
