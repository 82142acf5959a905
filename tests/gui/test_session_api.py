"""Session intents used by feature panels: set_start, edit_mixture, set_history, truth."""

from __future__ import annotations

import numpy as np
import pytest

from emviz.core import Mixture, initialize, iterate_em
from emviz.session import Session


@pytest.fixture
def session(qtbot):
    s = Session()
    s.load_dataset("old_faithful")
    yield s
    s.shutdown()


def test_set_start_replaces_the_history_and_follows_k(session, qtbot):
    start = initialize(session.X, 3, cov_type="diag", seed=4)
    with qtbot.waitSignal(session.history_changed):
        assert session.set_start(start)
    assert len(session.history) == 1 and session.index == 0
    assert session.history[0].mixture is start
    assert session.settings.n_components == 3 and session.settings.cov_type == "diag"
    session.step_e()
    session.step_m()
    expected = list(iterate_em(session.X, start, max_iter=1, tol=0.0))
    np.testing.assert_array_equal(session.history[-1].mixture.means, expected[-1].mixture.means)


def test_set_start_refuses_a_mixture_with_too_many_components(qtbot):
    s = Session()
    s.load_points(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]))
    before = list(s.history)
    errors = []
    s.error.connect(errors.append)
    mix = Mixture(np.full(4, 0.25), np.zeros((4, 2)), np.repeat(np.eye(2)[None], 4, 0))
    assert not s.set_start(mix)
    assert errors and "more than this data allows" in errors[0]
    assert s.history == before


def test_edit_mixture_after_steps_appends_a_new_start(session):
    for _ in range(4):
        session.step()
    session.set_index(2)  # back in the past: the future is dropped
    shown = session.history[2]
    means = shown.mixture.means.copy()
    means[0] += [0.5, 5.0]
    edited = Mixture(shown.mixture.weights, means, shown.mixture.covariances)
    assert session.edit_mixture(edited)
    assert [s.phase for s in session.history] == ["init", "E", "M", "init"]
    assert session.index == 3 and session.history[3].mixture is edited
    assert session.history[3].iteration == shown.iteration
    session.step_e()
    assert session.history[-1].iteration == shown.iteration + 1
    np.testing.assert_array_equal(session.history[-1].mixture.means, means)


def test_set_history_shows_a_replayed_run(session):
    start = initialize(session.X, 2, seed=7)
    snaps = list(iterate_em(session.X, start, bound=True, tol=1e-8))
    assert session.set_history(snaps)
    assert len(session.history) == len(snaps) and session.index == len(snaps) - 1
    assert all(s.resp is None for s in session.history)
    np.testing.assert_array_equal(session.current.resp, snaps[-1].resp)
    assert not session.set_history(snaps[1:])  # must start at an "init" snapshot


def test_generated_data_keep_their_truth(session):
    assert session.truth is None
    assert session.generate("well_separated", 300, 1, 3)
    assert session.truth is not None and session.truth.n_components == 3
    session.load_dataset("iris")
    assert session.truth is None


def test_session_snapshots_carry_the_bound(session):
    session.step()
    session.step()
    for snap in session.history[1:]:
        assert np.isfinite(snap.lower_bound)
        assert snap.lower_bound <= snap.log_likelihood + 1e-9 * abs(snap.log_likelihood)
