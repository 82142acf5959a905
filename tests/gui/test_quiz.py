"""Quiz mode, "Predict, then reveal": guesses, reveal, scores, keys (pytest-qt, offscreen)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore, QtWidgets
from PySide6.QtCore import Qt

from emviz.ui.quiz import NUDGE_SHARE, SHARE_STEP
from emviz.ui.quiz.panel import SLIDER_STEPS


def mahalanobis_mean(guess, mixture) -> float:
    """The M-step score, computed independently: mean of sqrt(d^T Sigma^-1 d)."""
    out = []
    for g, mu, cov in zip(guess, mixture.means, mixture.covariances, strict=True):
        d = np.asarray(g) - mu
        out.append(np.sqrt(d @ np.linalg.inv(cov) @ d))
    return float(np.mean(out))


def history_state(session) -> tuple:
    """The history as it is: length, index and the snapshots themselves."""
    return len(session.history), session.index, tuple(id(s) for s in session.history)


def view_to_widget(plot, x, y) -> QtCore.QPoint:
    vb = plot.getPlotItem().vb
    return plot.mapFromScene(vb.mapViewToScene(QtCore.QPointF(x, y)))


@pytest.fixture
def quiz(window):
    window.flush()
    return window.quiz


def key(qtbot, window, k, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(window, k, modifier)
    window.flush()


# ----------------------------------------------------------------------------- mode


def test_p_and_the_toolbar_button_toggle_quiz_mode(qtbot, window, quiz):
    action = window.actions_by_key["quiz"]
    assert action.isCheckable() and not quiz.on
    assert "P" in action.shortcut().toString()
    key(qtbot, window, Qt.Key.Key_P)
    assert quiz.on and action.isChecked()
    qtbot.waitUntil(quiz.dock.isVisible)
    key(qtbot, window, Qt.Key.Key_P)
    assert not quiz.on and not action.isChecked()
    # The toolbar's modes bar holds the same action, with its icon.
    bar = window.findChild(QtWidgets.QToolBar, "modesToolBar")
    assert action in bar.actions() and not action.icon().isNull()
    button = bar.widgetForAction(action)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert quiz.on
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert not quiz.on
    # F1's list names it.
    assert any(keys == "P" and "Quiz" in text for _m, keys, text in window.shortcut_rows())


def test_esc_leaves_quiz_mode_and_removes_the_ghosts(qtbot, window, quiz):
    s = window.session
    quiz.set_on(True)
    assert s.step_e()
    window.flush()
    quiz.set_guess_mean(0, s.history[s.index].mixture.means[0] + 0.3)
    assert quiz.reveal() is not None
    window.flush()
    assert quiz.overlay.ghost_shown()
    key(qtbot, window, Qt.Key.Key_Escape)
    assert not quiz.on
    assert not quiz.overlay.ghost_shown()
    assert not any(item.isVisible() for item in quiz.overlay.mean_items)
    qtbot.waitUntil(lambda: not quiz.dock.isVisible())


# ----------------------------------------------------------------------------- M-step


def test_an_m_step_guess_is_scored_by_the_mean_mahalanobis_distance(qtbot, window, quiz):
    s = window.session
    assert s.step_e()
    quiz.set_on(True)
    window.flush()
    assert quiz.phase == "M"
    handles = quiz.overlay.mean_items
    k = s.settings.n_components
    assert [h.isVisible() for h in handles[:k]] == [True] * k
    before = history_state(s)
    old = s.history[s.index].mixture
    guess = old.means + np.array([[0.2, 3.0], [-0.1, -2.0]])
    for j in range(k):
        # The drag's path: the handle moves, the quiz hears of it.
        handles[j].setPos(*guess[j])
    np.testing.assert_allclose(quiz.guess_means, guess)
    assert history_state(s) == before  # guessing never touches the history
    with qtbot.waitSignal(quiz.revealed) as blocker:
        key(qtbot, window, Qt.Key.Key_Return)
    result = blocker.args[0]
    assert len(s.history) == before[0] + 1 and s.index == before[1] + 1
    new = s.history[s.index]
    assert new.phase == "M"
    assert result.kind == "M"
    assert result.error == pytest.approx(mahalanobis_mean(guess, new.mixture), rel=1e-10)
    assert quiz.score.count("M") == 1
    assert quiz.score.mean("M") == pytest.approx(result.error)
    # The ghost: the guessed means, faded, with lines to the true ones.
    assert quiz.overlay.ghost_shown()
    gx, gy = quiz.overlay.ghost_means.getData()
    np.testing.assert_allclose(np.c_[gx, gy], guess)
    assert "Score: 1 guess." in quiz.panel.score_label.text()
    assert f"{result.error:.2f}" in quiz.panel.last_label.text()


def test_the_reveal_is_the_sessions_own_step(window, quiz):
    # The same history as a normal step: same parameters, same likelihood.
    s = window.session
    s.step_e()
    normal = s.step_m() and s.history[s.index]
    s.back()
    quiz.set_on(True)
    quiz.reveal()
    revealed = s.history[s.index]
    np.testing.assert_array_equal(revealed.mixture.means, normal.mixture.means)
    np.testing.assert_array_equal(revealed.mixture.covariances, normal.mixture.covariances)
    assert revealed.log_likelihood == normal.log_likelihood
    assert len(s.history) == 3


def test_tab_and_the_arrow_keys_move_a_guessed_mean(qtbot, window, quiz):
    s = window.session
    s.step_e()
    quiz.set_on(True)
    window.flush()
    before = history_state(s)
    start = quiz.guess_means.copy()
    (x0, x1), (y0, y1) = window.scatter.getPlotItem().vb.viewRange()
    assert quiz.selected == 0
    key(qtbot, window, Qt.Key.Key_Tab)
    assert quiz.selected == 1
    key(qtbot, window, Qt.Key.Key_Right)
    key(qtbot, window, Qt.Key.Key_Up)
    key(qtbot, window, Qt.Key.Key_Up)
    expected = start[1] + [NUDGE_SHARE * (x1 - x0), 2 * NUDGE_SHARE * (y1 - y0)]
    np.testing.assert_allclose(quiz.guess_means[1], expected)
    np.testing.assert_allclose(quiz.guess_means[0], start[0])
    # The arrows were the quiz's, not the history's; the handle followed.
    assert history_state(s) == before
    p = quiz.overlay.mean_items[1].pos()
    np.testing.assert_allclose([p.x(), p.y()], expected)
    key(qtbot, window, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert quiz.selected == 0


def test_a_real_mouse_drag_moves_a_guessed_mean(qtbot, window, quiz):
    s = window.session
    s.step_e()
    quiz.set_on(True)
    window.flush()
    plot = window.scatter
    qtbot.wait(50)
    a = quiz.guess_means[0].copy()
    b = a + np.array([0.4, 3.0])
    vp = plot.viewport()
    before = history_state(s)
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=view_to_widget(plot, *a))
    for t in np.linspace(0.0, 1.0, 8)[1:]:
        qtbot.wait(25)  # pyqtgraph drops mouse moves closer together than its rate limit
        qtbot.mouseMove(vp, view_to_widget(plot, *(a + t * (b - a))))
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=view_to_widget(plot, *b))
    pw, ph = plot.getPlotItem().vb.viewPixelSize()
    got = quiz.guess_means[0]
    assert abs(got[0] - b[0]) <= 1.5 * pw and abs(got[1] - b[1]) <= 1.5 * ph
    assert history_state(s) == before


# ----------------------------------------------------------------------------- E-step


def test_an_e_step_guess_is_scored_by_the_mean_absolute_error(qtbot, window, quiz):
    s = window.session
    quiz.set_on(True)
    window.flush()
    assert quiz.phase == "E"
    before = history_state(s)
    # Pick a point with a click on the plot, as a student would.
    i = 17
    plot = window.scatter
    qtbot.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton, pos=view_to_widget(plot, *s.X[i]))
    window.flush()
    assert quiz.point == plot.nearest_point(*s.X[i])
    i = quiz.point
    slider = quiz.panel.sliders[0]
    assert slider.isVisible() and not quiz.panel.sliders[1].isVisible()  # K = 2: one slider
    slider.setValue(round(0.7 * SLIDER_STEPS))
    np.testing.assert_allclose(quiz.guess_resp, [0.7, 0.3])
    assert history_state(s) == before
    with qtbot.waitSignal(quiz.revealed) as blocker:
        qtbot.mouseClick(quiz.panel.reveal_button, Qt.MouseButton.LeftButton)
    result = blocker.args[0]
    assert s.history[s.index].phase == "E" and len(s.history) == before[0] + 1
    true = s.resp_at(s.index)[i]
    assert result.kind == "E" and result.point == i
    assert result.error == pytest.approx(float(np.mean(np.abs([0.7, 0.3] - true))))
    window.flush()
    assert quiz.overlay.ghost_label.isVisible()
    assert f"{true[0]:.2f}" in quiz.overlay.ghost_label.toPlainText()


def test_the_running_score_accumulates(window, quiz):
    s = window.session
    quiz.set_on(True)
    errors = {"E": [], "M": []}
    rng = np.random.default_rng(0)
    for _ in range(2):
        quiz.pick_random_point(rng)
        quiz.set_guess_share(0, 0.4)
        errors["E"].append(quiz.reveal().error)
        quiz.set_guess_mean(1, s.history[s.index].mixture.means[1] + 0.5)
        errors["M"].append(quiz.reveal().error)
    assert quiz.score.n_guesses == 4
    assert quiz.score.count("E") == 2 and quiz.score.count("M") == 2
    assert quiz.score.mean("E") == pytest.approx(np.mean(errors["E"]))
    assert quiz.score.mean("M") == pytest.approx(np.mean(errors["M"]))
    assert len(s.history) == 5
    quiz.reset_score()
    assert quiz.score.n_guesses == 0


def test_k3_sliders_rescale_and_the_keys_set_one(qtbot, window, quiz):
    s = window.session
    assert s.update_settings(n_components=3)
    quiz.set_on(True)
    quiz.pick_point(5)
    window.flush()
    shown = [sl.isVisible() for sl in quiz.panel.sliders[:4]]
    assert shown == [True, True, True, False]
    quiz.panel.sliders[2].setValue(round(0.6 * SLIDER_STEPS))
    np.testing.assert_allclose(quiz.guess_resp, [0.2, 0.2, 0.6])
    assert quiz.selected == 2
    key(qtbot, window, Qt.Key.Key_Up)
    assert quiz.guess_resp[2] == pytest.approx(0.6 + SHARE_STEP)
    assert quiz.guess_resp.sum() == pytest.approx(1.0)
    key(qtbot, window, Qt.Key.Key_Tab)
    key(qtbot, window, Qt.Key.Key_Down)
    assert quiz.selected == 0
    assert quiz.guess_resp.sum() == pytest.approx(1.0)
    guess = quiz.guess_resp.copy()
    result = quiz.reveal()
    assert result.error == pytest.approx(np.mean(np.abs(guess - s.resp_at(s.index)[5])))


def test_an_e_step_with_no_point_is_done_but_not_scored(window, quiz):
    s = window.session
    quiz.set_on(True)
    assert quiz.point is None
    assert quiz.reveal() is None
    assert len(s.history) == 2 and quiz.score.n_guesses == 0


# ----------------------------------------------------------------------------- history


def test_it_works_after_going_back_in_the_history(qtbot, window, quiz):
    s = window.session
    for _ in range(3):
        s.step_iteration()
    s.set_index(1)  # after the first E-step: an M-step comes next
    window.flush()
    quiz.set_on(True)
    assert quiz.phase == "M"
    np.testing.assert_allclose(quiz.guess_means, s.history[1].mixture.means)
    quiz.set_guess_mean(0, s.history[1].mixture.means[0] + [0.1, 1.0])
    guess = quiz.guess_means.copy()
    assert len(s.history) == 7 and s.index == 1
    result = quiz.reveal()
    # As the session's step from there: the future is dropped, one M-step added.
    assert len(s.history) == 3 and s.index == 2
    assert result.error == pytest.approx(mahalanobis_mean(guess, s.history[2].mixture))


def test_normal_steps_in_quiz_mode_step_without_scoring(qtbot, window, quiz):
    s = window.session
    quiz.set_on(True)
    quiz.pick_point(3)
    key(qtbot, window, Qt.Key.Key_E)
    assert s.history[s.index].phase == "E"
    assert quiz.score.n_guesses == 0 and quiz.phase == "M"
    np.testing.assert_allclose(quiz.guess_means, s.history[s.index].mixture.means)


def test_enter_in_a_text_field_does_not_reveal(qtbot, window, quiz):
    s = window.session
    quiz.set_on(True)
    field = window.findChild(QtWidgets.QAbstractSpinBox)
    assert field is not None
    field.setFocus()
    qtbot.waitUntil(field.hasFocus)
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert len(s.history) == 1


# ----------------------------------------------------------------------------- other modes


def test_quiz_with_missing_values(qtbot, window, quiz):
    s = window.session
    assert s.load_dataset("old_faithful_holes")
    s.set_treat_missing(True)
    assert s.n_incomplete > 0
    quiz.set_on(True)
    missing = np.isnan(s.X).any(axis=1)
    assert not quiz.pick_point(int(np.flatnonzero(missing)[0]))  # not drawn where it is
    i = int(np.flatnonzero(~missing)[0])
    assert quiz.pick_point(i)
    quiz.set_guess_share(0, 0.25)
    result = quiz.reveal()
    true = s.resp_at(s.index)[i]
    assert result.error == pytest.approx(np.mean(np.abs(np.array([0.25, 0.75]) - true)))
    quiz.set_guess_mean(0, s.history[s.index].mixture.means[0] + 0.2)
    guess = quiz.guess_means.copy()
    result = quiz.reveal()
    assert result.error == pytest.approx(mahalanobis_mean(guess, s.history[s.index].mixture))


def test_quiz_in_presentation_mode(qtbot, window, quiz):
    classroom = window.classroom
    quiz.set_on(True)
    classroom.set_presentation(True, full_screen=False)
    # Presentation mode closes the panels; the quiz's comes back.
    qtbot.waitUntil(lambda: quiz.dock.isVisible())
    assert quiz.on
    # For the room: the compact panel takes the side column's place (the keys
    # do the buttons' work), so the scatter plot keeps most of the width.
    side = window.layout_parts.side_scroll
    assert not side.isVisible()
    assert not quiz.panel.step_buttons.isVisible() and not quiz.panel.score_buttons.isVisible()
    assert window.scatter.width() > quiz.dock.width()
    # Esc leaves the quiz first, then presentation mode.
    key(qtbot, window, Qt.Key.Key_Escape)
    assert not quiz.on and classroom.presenting and side.isVisible()
    key(qtbot, window, Qt.Key.Key_Escape)
    assert not classroom.presenting
    quiz.set_on(True)  # outside presentation mode: the panel with its buttons
    assert side.isVisible() and quiz.panel.step_buttons.isVisible()
