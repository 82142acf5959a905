"""History: cursor, truncation and responsibilities on demand, with no Qt and no widget."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from emviz.core import e_step, initialize, iterate_em, prepare
from emviz.core.history import History
from tests.core.data import blobs


@pytest.fixture
def fit():
    """(prepared data, the half-steps of a short run with their responsibilities)."""
    X = blobs(seed=4, n=300)
    data = prepare(X)
    start = initialize(X, 3, seed=1)
    snaps = list(iterate_em(None, start, data=data, max_iter=4, tol=0.0))
    return X, data, snaps


def _counting_posterior(X):
    calls = []

    def posterior(mixture):
        calls.append(mixture)
        return e_step(X, mixture)[0]

    return posterior, calls


def test_history_imports_no_qt():
    code = "import sys, emviz.core.history;print(any(m.startswith('PySide6') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_append_moves_the_cursor_and_keeps_parameters_only(fit):
    X, data, snaps = fit
    history = History(_counting_posterior(X)[0])
    assert not history and history.index == -1 and history.shown is None
    for snap in snaps:
        history.append(snap)
    assert len(history) == len(snaps) and history.index == len(snaps) - 1 and history.at_end
    assert all(s.resp is None for s in history.snapshots)
    assert [s.phase for s in history][:3] == ["init", "E", "M"]


def test_responsibilities_are_recomputed_on_demand_and_cached(fit):
    X, data, snaps = fit
    posterior, calls = _counting_posterior(X)
    history = History(posterior)
    history.reset(snaps)
    assert history.resp_at(0) is None  # "init" has none
    assert not calls
    # An E snapshot: the posterior under its own mixture.
    np.testing.assert_allclose(history.resp_at(1), snaps[1].resp, atol=1e-12)
    # An M snapshot: the posterior the M-step used, under the previous mixture.
    np.testing.assert_allclose(history.resp_at(2), snaps[2].resp, atol=1e-12)
    assert calls == [snaps[1].mixture, snaps[1].mixture]
    history.resp_at(2)
    assert len(calls) == 2  # cached
    history.resp_at(1)
    assert len(calls) == 3  # a cache of one: snapshot 2's replaced it


def test_a_larger_cache_keeps_the_most_recent(fit):
    X, data, snaps = fit
    posterior, calls = _counting_posterior(X)
    history = History(posterior, cache_size=2)
    history.reset(snaps)
    for index in (1, 3, 1, 3, 5, 1):
        history.resp_at(index)
    # 1, 3 computed; 1, 3 cached; 5 computed (1 is the oldest: dropped); 1 again.
    assert len(calls) == 4
    with pytest.raises(ValueError):
        History(posterior, cache_size=0)


def test_a_snapshot_appended_with_responsibilities_needs_no_posterior(fit):
    X, data, snaps = fit
    posterior, calls = _counting_posterior(X)
    history = History(posterior)
    for snap in snaps:
        history.append(snap)
    assert history.resp_at(history.index) is snaps[-1].resp
    assert not calls


def test_truncate_drops_the_future_from_the_cursor(fit):
    X, data, snaps = fit
    history = History(_counting_posterior(X)[0])
    history.reset(snaps)
    assert not history.truncate()  # at the end: nothing to drop
    assert history.set_index(2) == 2
    history.resp_at(2)
    assert history.truncate()
    assert len(history) == 3 and history.at_end
    history.append(snaps[3])
    assert len(history) == 4 and history.index == 3


def test_set_index_is_clipped(fit):
    X, data, snaps = fit
    history = History(_counting_posterior(X)[0])
    assert history.set_index(3) == -1  # empty: nowhere to go
    history.reset(snaps)
    assert history.set_index(-5) == 0
    assert history.set_index(10**6) == len(snaps) - 1
    with pytest.raises(IndexError):
        history.resp_at(len(snaps))


def test_during_a_run_the_newest_posterior_stands_in_until_the_run_ends(fit):
    X, data, snaps = fit
    posterior, calls = _counting_posterior(X)
    history = History(posterior)
    history.reset(snaps[:2])
    history.append(snaps[2], running=True)  # with its posterior
    history.append(snaps[3].without_resp(), running=True)  # sent without one
    assert history.resp_at(3) is snaps[2].resp
    assert not calls
    history.end_run()
    np.testing.assert_allclose(history.resp_at(3), snaps[3].resp, atol=1e-12)
    assert len(calls) == 1


def test_reset_forgets_every_posterior(fit):
    X, data, snaps = fit
    posterior, calls = _counting_posterior(X)
    history = History(posterior)
    history.reset(snaps)
    history.resp_at(1)
    history.reset(snaps[:2])
    assert len(history) == 2 and history.index == 1
    history.resp_at(1)
    assert len(calls) == 2


def test_changes_of_the_objective_are_listed_where_they_take_effect(fit):
    X, data, snaps = fit
    h = History(lambda m: e_step(X, m)[0])
    old, new = {"reg_covar": 1e-6}, {"reg_covar": 1e-3}
    h.reset(snaps[:3], objective=old)
    assert h.changes() == {}
    h.append(snaps[3], objective=new)
    h.append(snaps[4], objective=new)
    assert h.changes() == {3: "reg_covar 1e-06 → 0.001"}
    # A new start in the middle (an edited mixture) is a change too.
    h.append(snaps[0], objective=new)
    assert h.changes()[5].startswith("a new start")
    # Stepping from the past drops the changes of the abandoned future.
    h.set_index(2)
    h.truncate()
    assert h.changes() == {}
    h.reset(snaps[:1] + snaps[1:3] + snaps[:1], objective=old)
    assert list(h.changes()) == [3]
