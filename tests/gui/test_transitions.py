"""Steps the audience can see: ellipses glide, colours blend, ghosts stay until the next step.

The transition's clock is replaced by a fake one that the tests move by
hand, and frames are ticked by hand: no sleeps, no timing thresholds. A step
taken at rest is drawn at once (the redraw is not deferred), so the tests
read the plot right after it; ``flush()`` would end the transition.
"""

from __future__ import annotations

import numpy as np
import pytest

from emviz.ui.views import transitions
from emviz.ui.views.points import quantize
from emviz.ui.views.transitions import (
    DURATION_S,
    MixtureParams,
    ease,
    interpolate_params,
    transition_duration,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def _transitions_on(monkeypatch, _steps_at_once):
    """The transitions' real duration (the GUI tests' conftest sets it to 0)."""
    monkeypatch.setattr(transitions, "DURATION_S", DURATION_S)


@pytest.fixture
def clocked(window):
    """The window with the scatter plot's transition on a fake clock."""
    clock = FakeClock()
    window.scatter.transition.clock = clock
    return window, clock


def _frame_at(window, clock, share: float) -> None:
    """Move the fake clock to ``share`` of the transition and draw that frame."""
    tr = window.scatter.transition
    clock.now = tr._started + share * tr.duration
    tr.tick()


def _history_numbers(session):
    return [
        (
            snap.phase,
            snap.log_likelihood,
            snap.mixture.means.copy(),
            snap.mixture.covariances.copy(),
        )
        for snap in session.history
    ]


def _ellipse_xy(scatter, k: int = 0) -> np.ndarray:
    x, y = scatter.ellipse_curves[1][k].getData()
    return np.column_stack([x, y])


def test_an_e_step_blends_the_colours_and_ends_exactly_at_the_new(clocked):
    window, clock = clocked
    s, scatter = window.session, window.scatter
    old = scatter.points.codes().copy()  # grey: the start has no responsibilities
    s.step_e()
    assert scatter.transition.active
    new = quantize(scatter._rgb_of(s.current))
    assert not np.array_equal(old, new)
    _frame_at(window, clock, 0.5)
    mid = scatter.points.codes()
    # In between: neither the old colours nor the new ones, but their mix.
    assert not np.array_equal(mid, old) and not np.array_equal(mid, new)
    grey = np.full((s.n_samples, 3), 150.0)
    expected = quantize(0.5 * grey + 0.5 * scatter._rgb_of(s.current))
    np.testing.assert_array_equal(mid, expected)
    _frame_at(window, clock, 1.0)
    assert not scatter.transition.active
    np.testing.assert_array_equal(scatter.points.codes(), scatter.colour_codes())


def test_an_m_step_glides_the_ellipses_positive_definite_to_the_new(clocked):
    window, clock = clocked
    s, scatter = window.session, window.scatter
    s.step_e()
    _frame_at(window, clock, 1.0)
    before = MixtureParams.of(s.current.mixture)
    xy_before = _ellipse_xy(scatter)
    s.step_m()
    after = MixtureParams.of(s.current.mixture)
    assert scatter.transition.active
    for share in (0.25, 0.5, 0.75):
        _frame_at(window, clock, share)
        shown = scatter.shown_params()
        e = ease(share)
        # The means on the segment between the old and the new ones ...
        np.testing.assert_allclose(shown.means, (1 - e) * before.means + e * after.means)
        # ... the covariances positive definite and in between on the diagonal.
        for cov in shown.covariances:
            assert np.all(np.linalg.eigvalsh(cov) > 0)
        lo = np.minimum(before.covariances, after.covariances)
        hi = np.maximum(before.covariances, after.covariances)
        diag = np.diagonal(shown.covariances, axis1=1, axis2=2)
        assert np.all(diag >= np.diagonal(lo, axis1=1, axis2=2) - 1e-9)
        assert np.all(diag <= np.diagonal(hi, axis1=1, axis2=2) + 1e-9)
        # The ellipse drawn is that of the parameters in between, not the old or new.
        xy = _ellipse_xy(scatter)
        assert not np.allclose(xy, xy_before)
        mx, my = scatter.means_item.getData()
        np.testing.assert_allclose(np.column_stack([mx, my]), shown.means)
    _frame_at(window, clock, 1.0)
    assert not scatter.transition.active
    shown = scatter.shown_params()
    np.testing.assert_array_equal(shown.means, after.means)
    np.testing.assert_array_equal(shown.covariances, after.covariances)
    mx, my = scatter.means_item.getData()
    np.testing.assert_array_equal(np.column_stack([mx, my]), after.means)


def test_ghosts_show_the_ellipses_before_a_step_until_the_next(clocked):
    window, clock = clocked
    s, scatter = window.session, window.scatter
    s.step_e()
    _frame_at(window, clock, 1.0)
    # An E-step moves no ellipse: no ghost.
    assert scatter.ghosts_shown() is None
    assert not any(c.isVisible() for c in scatter.ghost_curves)
    before = s.current.mixture
    s.step_m()
    _frame_at(window, clock, 1.0)
    ghost = scatter.ghosts_shown()
    assert ghost is not None
    np.testing.assert_array_equal(ghost.means, before.means)
    k = before.n_components
    assert all(c.isVisible() for c in scatter.ghost_curves[:k])
    assert not any(c.isVisible() for c in scatter.ghost_curves[k:])
    # Faint and dashed.
    pen = scatter.ghost_curves[0].opts["pen"]
    assert pen.color().alpha() < 160 and pen.style() != pen.style().SolidLine
    gx, _ = scatter.ghost_curves[0].getData()
    assert np.isfinite(gx).sum() > 0
    # The next step replaces them: after an E-step none, after an M-step the new "before".
    s.step_e()
    assert scatter.ghosts_shown() is None
    assert not any(c.isVisible() for c in scatter.ghost_curves)
    _frame_at(window, clock, 1.0)
    before = s.current.mixture
    s.step_m()
    np.testing.assert_array_equal(scatter.ghosts_shown().means, before.means)


def test_with_the_toggle_off_a_step_is_immediate_and_leaves_no_ghost(clocked):
    window, _clock = clocked
    s, scatter = window.session, window.scatter
    action = window.actions_by_key["animate"]
    assert action.isCheckable() and action.isChecked()
    assert action in window.menus["view"].actions()
    action.trigger()  # View > Animate steps, off
    assert not scatter.animate
    s.step_e()
    assert not scatter.transition.active
    np.testing.assert_array_equal(scatter.points.codes(), scatter.colour_codes())
    s.step_m()
    assert not scatter.transition.active
    assert scatter.ghosts_shown() is None
    np.testing.assert_array_equal(scatter.shown_params().means, s.current.mixture.means)


def test_turning_the_toggle_off_mid_transition_jumps_to_the_end(clocked):
    window, clock = clocked
    s, scatter = window.session, window.scatter
    s.step_iteration()
    assert scatter.transition.active
    window.actions_by_key["animate"].trigger()
    assert not scatter.transition.active
    np.testing.assert_array_equal(scatter.shown_params().means, s.current.mixture.means)
    np.testing.assert_array_equal(scatter.points.codes(), scatter.colour_codes())


def test_fast_runs_change_at_once_slow_ones_glide_shorter_than_the_delay():
    assert transition_duration(False, 0.0) == DURATION_S
    assert transition_duration(True, 0.0) == 0.0
    assert transition_duration(True, 0.12) == 0.0
    for delay in (0.2, 0.3, 0.5, 2.0):
        assert 0 < transition_duration(True, delay) < delay


def test_a_fast_run_draws_no_transition(fast, qtbot):
    s, scatter = fast.session, fast.scatter
    started = []
    scatter.transition.frame.connect(started.append)
    s.run()
    qtbot.waitUntil(lambda: not s.running, timeout=20000)
    scatter.flush()
    assert not scatter.transition.active and started == []
    assert scatter.ghosts_shown() is None
    np.testing.assert_array_equal(scatter.shown_params().means, s.current.mixture.means)


def test_a_new_target_mid_transition_starts_from_the_state_shown(clocked):
    window, clock = clocked
    s, scatter = window.session, window.scatter
    for _ in range(3):
        s.step_iteration()
    _frame_at(window, clock, 1.0)
    # Back two half-steps quickly, as a slider dragged through the history.
    s.back()
    s.back()  # an E snapshot: other colours and the same ellipses as the M before it
    _frame_at(window, clock, 0.5)
    mid = scatter.shown_params()
    s.forward()
    # The new transition starts where the last one was, not from a snapshot.
    assert scatter._glide[0] is mid
    _frame_at(window, clock, 1.0)
    np.testing.assert_array_equal(scatter.shown_params().means, s.current.mixture.means)


def test_the_animation_leaves_em_numbers_unchanged(window, qtbot):
    s = window.session
    for _ in range(4):
        s.step_iteration()
        window.flush()
    animated = _history_numbers(s)
    s.reset()
    window.scatter.set_animate(False)  # (flush ended each transition above)
    s.update_settings(n_components=s.settings.n_components)  # the same start again
    for _ in range(4):
        s.step_iteration()
        window.flush()
    plain = _history_numbers(s)
    assert len(animated) == len(plain)
    for a, b in zip(animated, plain, strict=True):
        assert a[0] == b[0] and a[1] == b[1]
        np.testing.assert_array_equal(a[2], b[2])
        np.testing.assert_array_equal(a[3], b[3])


def test_interpolated_covariances_stay_positive_definite_for_rotations():
    rng = np.random.default_rng(3)
    for _ in range(50):
        a = rng.normal(size=(3, 2, 2))
        b = rng.normal(size=(3, 2, 2))
        start = MixtureParams(np.full(3, 1 / 3), rng.normal(size=(3, 2)), a @ a.swapaxes(1, 2))
        end = MixtureParams(
            np.array([0.2, 0.3, 0.5]), rng.normal(size=(3, 2)), b @ b.swapaxes(1, 2)
        )
        assert interpolate_params(start, end, 0.0) is start
        assert interpolate_params(start, end, 1.0) is end
        for s in np.linspace(0.05, 0.95, 7):
            mid = interpolate_params(start, end, s)
            assert np.all(np.linalg.eigvalsh(mid.covariances) > 0)
            assert mid.weights.sum() == pytest.approx(1.0)
        # Close to the ends, close to their covariances.
        np.testing.assert_allclose(
            interpolate_params(start, end, 1e-9).covariances, start.covariances, atol=1e-6
        )


def test_a_jump_through_the_history_is_shown_at_once(clocked):
    window, clock = clocked
    s, scatter = window.session, window.scatter
    for _ in range(4):
        s.step_iteration()
    _frame_at(window, clock, 1.0)
    s.set_index(2)  # the history slider dragged over several steps at once
    assert not scatter.transition.active
    np.testing.assert_array_equal(scatter.shown_params().means, s.current.mixture.means)
    np.testing.assert_array_equal(scatter.points.codes(), scatter.colour_codes())
    s.forward()  # one notch: a glide
    assert scatter.transition.active


def test_flush_ends_a_transition_at_the_snapshot_shown(clocked):
    # Exports and scripts call flush(): they must picture the snapshot itself.
    window, _clock = clocked
    s, scatter = window.session, window.scatter
    s.step_e()
    s.step_m()
    assert scatter.transition.active
    window.flush()
    assert not scatter.transition.active
    np.testing.assert_array_equal(scatter.shown_params().means, s.current.mixture.means)
    np.testing.assert_array_equal(scatter.points.codes(), scatter.colour_codes())


def test_the_last_frame_of_a_fast_run_is_drawn_at_once(window):
    # The window draws a run's last snapshot after the run has stopped; after
    # a fast run it is shown at once, like the frames before it. The run's
    # redraws are played by hand: the session running at delay 0 shows
    # snapshot 3, then, stopped, its neighbour 4.
    s, scatter = window.session, window.scatter
    for _ in range(3):
        s.step_iteration()
    s.set_index(2)
    window.flush()
    s.set_delay(0.0)
    s.running = True
    s._history.set_index(3)
    scatter.redraw()
    assert not scatter.transition.active
    s.running = False
    s._history.set_index(4)
    scatter.redraw()
    assert not scatter.transition.active
    np.testing.assert_array_equal(scatter.shown_params().means, s.current.mixture.means)
    # A single step after the run glides again.
    s.back()
    assert scatter.transition.active


def test_a_raster_of_many_points_is_recoloured_once_while_the_ellipses_glide(clocked):
    window, clock = clocked
    s, scatter = window.session, window.scatter
    X = np.random.default_rng(0).normal(size=(transitions.BLEND_MAX_POINTS + 1, 2))
    s.load_points(X, "many.csv", ("a", "b"))
    window.flush()
    s.step_e()
    # No blend: the new colours at once (one raster job), nothing to glide at an E-step.
    assert scatter._blend is None and not scatter.transition.active
    window.flush()
    s.step_m()
    assert scatter.transition.active and scatter._blend is None
    _frame_at(window, clock, 0.5)
    assert scatter._glide is not None
    _frame_at(window, clock, 1.0)
    np.testing.assert_array_equal(scatter.shown_params().means, s.current.mixture.means)
