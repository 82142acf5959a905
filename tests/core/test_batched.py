"""Batched EM gives every run exactly what the single-run loop gives it."""

import numpy as np
import pytest

from emviz.core import COV_TYPES, EmvizError, Mixture, initialize, iterate_em, load_dataset
from emviz.core import batched as batched_module
from emviz.core.batched import BatchedRun, batched_em
from emviz.core.data import MissingData, prepare
from emviz.core.restarts import is_degenerate

from .data import blobs

RTOL = 1e-9


def single(data, start, cov_type, **settings):
    """The trace (start and every M snapshot) and last snapshot of iterate_em."""
    trace, last = [], None
    for snap in iterate_em(None, start, cov_type=cov_type, data=data, **settings):
        if snap.phase != "E":
            trace.append(snap.log_likelihood)
        last = snap
    return np.array(trace), last


def assert_same_runs(data, starts, cov_type=None, **settings):
    """batched_em equals iterate_em run by run; returns the batched runs."""
    runs = batched_em(data, starts, cov_type=cov_type, **settings)
    assert len(runs) == len(starts)
    for start, run in zip(starts, runs):
        assert isinstance(run, BatchedRun)
        ct = cov_type or start.cov_type
        trace, last = single(data, start, ct, **settings)
        assert run.start is start
        assert run.log_likelihoods.shape == trace.shape
        np.testing.assert_allclose(run.log_likelihoods, trace, rtol=RTOL, atol=0)
        assert run.n_iter == last.iteration == len(trace) - 1
        assert run.converged == last.converged
        assert run.collapsing == last.collapsing
        assert run.mixture.cov_type == last.mixture.cov_type == ct
        atol = 1e-9 * data.scale
        np.testing.assert_allclose(run.mixture.weights, last.mixture.weights, rtol=1e-8, atol=1e-12)
        np.testing.assert_allclose(run.mixture.means, last.mixture.means, rtol=1e-8, atol=atol)
        np.testing.assert_allclose(
            run.mixture.covariances, last.mixture.covariances, rtol=1e-8, atol=atol
        )
        assert is_degenerate(run.snapshot, data.n_samples) == is_degenerate(last, data.n_samples)
        assert not run.log_likelihoods.flags.writeable
    return runs


def starts_for(data, cov_type, ks=(2, 3, 4), methods=("kmeans++", "random_from_data"), seeds=3):
    return [
        initialize(data, k, method=m, cov_type=cov_type, seed=s)
        for k in ks
        for m in methods
        for s in range(seeds)
    ]


@pytest.fixture(scope="module")
def faithful():
    return prepare(load_dataset("old_faithful").X)


@pytest.mark.parametrize("cov_type", COV_TYPES)
def test_old_faithful_traces_equal_the_single_run_loop(faithful, cov_type):
    starts = starts_for(
        faithful, cov_type, methods=("kmeans++", "random_from_data", "random_resp", "kmeans")
    )
    runs = assert_same_runs(faithful, starts, tol=1e-8, max_iter=500)
    # Runs leave the batch at many different iterations.
    assert len({r.n_iter for r in runs}) > 5
    assert any(r.converged for r in runs)


@pytest.mark.parametrize("cov_type", COV_TYPES)
def test_random_data_traces_equal_the_single_run_loop(cov_type):
    data = prepare(blobs(seed=3, n=240))
    starts = starts_for(data, cov_type, methods=("random_from_data", "random_resp"), seeds=4)
    assert_same_runs(data, starts, tol=1e-8, max_iter=300)


@pytest.mark.parametrize("cov_type", COV_TYPES)
def test_far_from_the_origin(cov_type):
    # Centred coordinates keep the arithmetic exact far from 0 in both loops.
    data = prepare(blobs(seed=1, n=150) + [1e6, -3e5])
    assert_same_runs(data, starts_for(data, cov_type, seeds=2), tol=1e-8, max_iter=200)


@pytest.mark.parametrize("cov_type", COV_TYPES)
def test_collapsing_runs(cov_type):
    # Two exact duplicates far from a broad cloud (as in test_em's collapse
    # test), and a tiny cluster of five identical points.
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(size=(60, 2)), [[8.0, 8.0], [8.0, 8.0]], np.full((5, 2), -6.0)])
    data = prepare(X)
    eye = np.eye(2)
    collapsing_start = Mixture(
        [0.8, 0.1, 0.1], [[0, 0], [8.0, 8.0], [-6.0, -6.0]], [eye, eye * 0.5, eye * 0.5]
    )
    cov = collapsing_start.covariances if cov_type != "tied" else np.stack([eye] * 3)
    first = Mixture(collapsing_start.weights, collapsing_start.means, cov, cov_type)
    starts = [first] + starts_for(data, cov_type, methods=("kmeans++", "random_from_data"))
    runs = assert_same_runs(data, starts, reg_covar=1e-6, tol=1e-8, max_iter=200)
    if cov_type != "tied":
        assert runs[0].collapsing, "the duplicates should hold a component at the floor"


@pytest.mark.parametrize("cov_type", COV_TYPES)
def test_components_losing_all_responsibility(cov_type):
    # A narrow component far from every point gets responsibility exactly 0:
    # weight 0, parked on the data mean with the data's covariance.
    data = prepare(blobs(seed=2, n=90))
    small = 1e-4 if cov_type != "tied" else 1.0
    covs = np.stack([np.eye(2), np.eye(2), np.eye(2) * small])
    start = Mixture([0.45, 0.45, 0.1], [[0, 0], [4, 2], [500.0, 500.0]], covs, cov_type)
    assert_same_runs(data, [start], tol=1e-8, max_iter=50)


@pytest.mark.parametrize("cov_type", COV_TYPES)
def test_runs_that_hit_max_iter(faithful, cov_type):
    starts = starts_for(faithful, cov_type, seeds=2)
    runs = assert_same_runs(faithful, starts, tol=0.0, max_iter=7)
    assert all(r.n_iter == 7 and not r.converged for r in runs)
    # Some converge before the cap, some reach it.
    runs = assert_same_runs(faithful, starts, tol=1e-6, max_iter=25)
    assert {r.converged for r in runs} == {True, False}


def test_starts_join_as_runs_leave(faithful, monkeypatch):
    # A batch of four: the other starts wait and take the places of runs that end.
    monkeypatch.setattr(batched_module, "_BATCH_VALUES", 4 * 3 * faithful.n_samples)
    starts = starts_for(faithful, "full", ks=(3,), methods=("random_from_data",), seeds=12)
    assert_same_runs(faithful, starts, tol=1e-8, max_iter=300)


@pytest.mark.parametrize(("n", "k"), [(8192, 3), (6000, 4), (6000, 5)])
def test_slabs_large_enough_for_the_exp_kernel(n, k):
    # With (K - 1) n >= 16384 values the single loop takes exp of a slab by
    # fastmath's kernel, of a smaller slab (around a middle reference
    # component) by np.exp2: the batch makes the same choice, row by row.
    data = prepare(blobs(seed=7, n=n))
    assert batched_module._batchable(data, k)
    starts = starts_for(data, "full", ks=(k,), methods=("random_from_data", "kmeans++"), seeds=3)
    runs = assert_same_runs(data, starts, tol=0.0, max_iter=8)
    for start, run in zip(starts, runs):
        trace, _ = single(data, start, "full", tol=0.0, max_iter=8)
        np.testing.assert_array_equal(run.log_likelihoods, trace)


def test_too_large_for_a_batch_runs_one_by_one(faithful, monkeypatch):
    monkeypatch.setattr(batched_module, "_BATCH_VALUES", 16)
    assert_same_runs(faithful, starts_for(faithful, "diag", ks=(2,), seeds=2), tol=1e-8)


def test_many_points_run_one_by_one():
    # Beyond one pass of the single loop (8192 points at K = 3) runs go
    # through iterate_em itself.
    data = prepare(blobs(seed=6, n=9000))
    assert not batched_module._batchable(data, 3)
    assert batched_module._batchable(prepare(blobs(seed=6, n=8190)), 3)
    starts = starts_for(data, "full", ks=(3,), methods=("random_from_data",), seeds=2)
    assert_same_runs(data, starts, tol=0.0, max_iter=3)


def test_mixed_components_and_types_keep_their_order(faithful):
    starts = [
        initialize(faithful, k, method="kmeans++", cov_type=ct, seed=s)
        for s, (k, ct) in enumerate(
            [(2, "full"), (3, "diag"), (2, "full"), (4, "tied"), (3, "diag")]
        )
    ]
    runs = assert_same_runs(faithful, starts, tol=1e-8)
    assert [r.mixture.n_components for r in runs] == [2, 3, 2, 4, 3]
    # cov_type given: every M-step uses it, whatever the start's type.
    assert_same_runs(faithful, starts, cov_type="spherical", tol=1e-8, max_iter=100)


@pytest.mark.parametrize("cov_type", COV_TYPES)
def test_missing_values(cov_type):
    X = blobs(seed=4, n=150)
    rng = np.random.default_rng(1)
    X[rng.random(150) < 0.1, 0] = np.nan
    X[rng.random(150) < 0.1, 1] = np.nan
    data = prepare(X, missing="marginalize")
    assert isinstance(data, MissingData)
    starts = starts_for(data, cov_type, ks=(2, 3), seeds=2)
    assert_same_runs(data, starts, tol=1e-8, max_iter=100)
    # Raw points with missing="marginalize" give the same.
    runs = batched_em(X, starts, missing="marginalize", tol=1e-8, max_iter=100)
    again = batched_em(data, starts, tol=1e-8, max_iter=100)
    for a, b in zip(runs, again):
        np.testing.assert_array_equal(a.log_likelihoods, b.log_likelihoods)


def test_continuing_from_the_last_snapshot(faithful):
    start = initialize(faithful, 3, method="random_from_data", seed=5)
    (run,) = batched_em(faithful, [start], tol=0.0, max_iter=10)
    trace, _ = single(faithful, start, "full", tol=0.0, max_iter=20)
    rest = [
        s.log_likelihood
        for s in iterate_em(None, run.snapshot, data=faithful, tol=0.0, max_iter=10)
        if s.phase == "M"
    ]
    np.testing.assert_allclose(rest, trace[11:], rtol=RTOL)


@pytest.mark.parametrize("unbatched", [False, True])
def test_cancellation(faithful, monkeypatch, unbatched):
    if unbatched:
        monkeypatch.setattr(batched_module, "_BATCH_VALUES", 16)
    starts = starts_for(faithful, "full", ks=(3,), methods=("random_from_data",), seeds=8)
    # Batched: polled once per iteration of the batch; one by one: after
    # every half-step, so let the first run finish and stop in the second.
    limit = (
        60 if not unbatched else 2 * single(faithful, starts[0], "full", tol=1e-8)[1].iteration + 6
    )
    polls = []

    def stop():
        polls.append(1)
        return len(polls) > limit

    done = []
    runs = batched_em(
        faithful,
        starts,
        tol=1e-8,
        should_stop=stop,
        progress=lambda d, t: done.append((d, t)),
    )
    assert len(runs) == len(starts)
    finished = [r for r in runs if r is not None]
    assert 0 < len(finished) < len(starts)
    assert done == [(i + 1, len(starts)) for i in range(len(finished))]
    for start, run in zip(starts, runs):
        if run is not None:
            trace, _ = single(faithful, start, "full", tol=1e-8, max_iter=500)
            np.testing.assert_allclose(run.log_likelihoods, trace, rtol=RTOL)
    # Stopped before anything ran.
    assert batched_em(faithful, starts, should_stop=lambda: True) == [None] * len(starts)


def test_progress_counts_every_run(faithful):
    starts = starts_for(faithful, "tied", ks=(2,), seeds=3)
    seen = []
    batched_em(faithful, starts, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(i + 1, len(starts)) for i in range(len(starts))]


def test_bad_arguments(faithful):
    start = initialize(faithful, 2, seed=0)
    with pytest.raises(EmvizError):
        batched_em(faithful, [start, "not a mixture"])
    with pytest.raises(EmvizError):
        batched_em(faithful, [start], tol=-1.0)
    with pytest.raises(EmvizError):
        batched_em(faithful, [start], max_iter=0)
    with pytest.raises(EmvizError):
        batched_em(faithful, [start], cov_type="round")
    with pytest.raises(EmvizError):
        batched_em(np.array([[0.0, np.nan], [1.0, 2.0]]), [start])
    assert batched_em(faithful, []) == []
