"""Inside EM > Why the M-step climbs: log p and the bound along the line through an M-step."""

from __future__ import annotations

import numpy as np
import pytest

from emviz.ui.inside_em.slice_view import SLICE_TS


@pytest.fixture
def view(window, qtbot):
    """The panel, opened from its menu entry as a user does."""
    window.inside_em.actions["slice_dock"].trigger()
    v = window.inside_em.slice_view
    qtbot.waitUntil(v.isVisible, timeout=5000)
    return v


def at(sl, t: float) -> int:
    i = int(np.argmin(np.abs(sl.ts - t)))
    assert abs(sl.ts[i] - t) < 1e-12
    return i


def drawn(view) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t, logp = view.curves["logp"].getData()
    t2, bound = view.curves["bound"].getData()
    np.testing.assert_array_equal(t, t2)
    return np.asarray(t), np.asarray(logp), np.asarray(bound)


@pytest.mark.parametrize("seed,k", [(0, 2), (4, 3)])
def test_after_an_e_step_the_bound_touches_and_peaks_at_the_m_step_to_come(window, view, seed, k):
    s = window.session
    assert s.update_settings(n_components=k, seed=seed)
    s.step_e()
    view.flush()
    t, logp, bound = drawn(view)
    np.testing.assert_array_equal(t, SLICE_TS)
    i0, i1 = at(view.slice, 0.0), at(view.slice, 1.0)
    e_snap = s.history[s.index]
    assert view.current_t == 0.0
    # The gap is closed at the current theta: q is its posterior.
    assert logp[i0] == pytest.approx(e_snap.log_likelihood, rel=1e-12)
    assert bound[i0] == pytest.approx(logp[i0], rel=1e-9)
    assert np.all(bound <= logp + 1e-9 * np.abs(logp))
    assert int(np.argmax(bound)) == i1
    assert "touches" in view.readout.text() and "(gap 0)" in view.readout.text()
    # t = 1 is the M-step that comes next.
    predicted = logp[i1]
    s.step_m()
    assert predicted == pytest.approx(s.history[s.index].log_likelihood, rel=1e-9)


def test_after_an_m_step_the_new_theta_is_the_peak_and_log_p_rose(window, view):
    s = window.session
    for _ in range(3):
        s.step_iteration()
    view.flush()
    t, logp, bound = drawn(view)
    i0, i1 = at(view.slice, 0.0), at(view.slice, 1.0)
    m_snap, e_snap = s.history[s.index], s.history[s.index - 1]
    assert m_snap.phase == "M" and view.current_t == 1.0
    assert logp[i0] == pytest.approx(e_snap.log_likelihood, rel=1e-12)
    assert logp[i1] == pytest.approx(m_snap.log_likelihood, rel=1e-12)
    assert bound[i0] == pytest.approx(logp[i0], rel=1e-9)
    assert int(np.argmax(bound)) == i1
    assert logp[i1] >= bound[i1] >= bound[i0]
    # The marker of the theta shown sits on log p at t = 1.
    x, y = view.now.getData()
    assert list(x) == [1.0] and y[0] == pytest.approx(logp[i1])
    assert "raised L by" in view.readout.text()


def test_the_slice_follows_the_history(window, view):
    s = window.session
    for _ in range(2):
        s.step_iteration()
    view.flush()
    late = drawn(view)[1].copy()
    s.set_index(1)  # back to the first E-step
    view.flush()
    assert view.current_t == 0.0
    assert not np.allclose(drawn(view)[1], late)
    assert drawn(view)[1][at(view.slice, 0.0)] == pytest.approx(s.history[1].log_likelihood)


def test_with_missing_values_the_panel_says_why_and_draws_nothing(window, view):
    s = window.session
    s.load_dataset("old_faithful_holes")
    window.actions_by_key["treat_missing"].trigger()
    s.step_e()
    s.step_m()
    view.flush()
    assert view.slice is None and "missing values" in view.readout.text()
    assert drawn(view)[1].size == 0 and not view.plot.isVisible()
    assert not window.errors


def test_presentation_strip_can_show_the_slice_in_place_of_the_log_likelihood(window):
    s = window.session
    s.step_iteration()
    inside = window.inside_em
    inside.actions["slice_strip"].setChecked(True)
    strip = inside.strip_slice
    assert not strip.isVisible()  # only in presentation mode
    window.classroom.set_presentation(True, full_screen=False)
    window.flush()
    assert strip.isVisible() and not window.loglik.isVisible()
    assert strip.slice is not None and strip.current_t == 1.0
    assert strip.plot.height() >= 80
    inside.actions["slice_strip"].setChecked(False)  # while presenting: back at once
    assert window.loglik.isVisible() and not strip.isVisible()
    inside.actions["slice_strip"].setChecked(True)
    assert strip.isVisible()
    window.classroom.set_presentation(False)
    assert window.loglik.isVisible() and not strip.isVisible()
