"""Restarts: many EM runs, grouped into distinct local maxima."""

from pathlib import Path

import numpy as np
import pytest

from emviz.core import EmvizError, Mixture, fit, iterate_em
from emviz.core import restarts as restarts_module
from emviz.core.matching import same_solution
from emviz.core.restarts import (
    LocalMaximum,
    RestartRun,
    RestartsResult,
    group_maxima,
    run_restarts,
    run_seed,
)

ROOT = Path(__file__).resolve().parents[2]


def five_blobs(seed=0, n=40):
    """Five tight blobs at asymmetric positions: with K = 3 some blobs must
    share a component, and which ones share depends on the start, so EM has
    several local maxima with clearly different likelihoods."""
    rng = np.random.default_rng(seed)
    centers = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 14.0], [25.0, 20.0], [-20.0, 30.0]])
    return np.concatenate([rng.normal(c, 0.5, size=(n, 2)) for c in centers])


@pytest.fixture(scope="module")
def blobs_result():
    return run_restarts(five_blobs(), 3, 30, max_iter=200)


def _assert_monotone(lls):
    lls = np.asarray(lls)
    slack = 1e-9 * np.maximum(np.abs(lls[:-1]), 1.0)
    assert np.all(np.diff(lls) >= -slack), f"log-likelihood fell by {-np.diff(lls).min()}"


def _run(index, mixture, ll, start=None, converged=True):
    return RestartRun(
        index=index,
        seed=index,
        method="kmeans++",
        start=start if start is not None else mixture,
        mixture=mixture,
        log_likelihoods=np.array([ll - 10.0, ll]),
        n_iter=1,
        converged=converged,
        collapsed=(),
    )


# ---------------------------------------------------------------------------
# Distinct maxima


def test_finds_several_distinct_maxima(blobs_result):
    res = blobs_result
    assert isinstance(res, RestartsResult)
    assert len(res.runs) == 30 and not res.cancelled
    assert len(res.maxima) >= 2
    lls = [m.log_likelihood for m in res.maxima]
    # Distinct maxima differ in likelihood, here by far more than rounding.
    assert lls[0] - lls[-1] > 10.0
    # and they are pairwise different solutions.
    for i, a in enumerate(res.maxima):
        for b in res.maxima[i + 1 :]:
            assert not same_solution(a.mixture, b.mixture)


def test_maxima_are_best_first_and_partition_the_runs(blobs_result):
    res = blobs_result
    lls = np.array([m.log_likelihood for m in res.maxima])
    assert np.all(np.diff(lls) <= 0)
    all_lls = np.array([r.log_likelihood for r in res.runs])
    assert res.best_run == int(np.argmax(all_lls))
    assert res.runs[res.best_run].log_likelihood == res.maxima[0].log_likelihood
    assert np.all(np.diff(all_lls[res.order]) <= 0)
    seen = sorted(i for m in res.maxima for i in m.runs)
    assert seen == list(range(len(res.runs)))
    assert sum(m.count for m in res.maxima) == len(res.runs)
    for k, m in enumerate(res.maxima):
        run_lls = [res.runs[i].log_likelihood for i in m.runs]
        assert run_lls == sorted(run_lls, reverse=True)
        assert m.best_run == m.runs[0]
        assert m.mixture is res.runs[m.best_run].mixture
        assert m.log_likelihood == res.runs[m.best_run].log_likelihood
        for i in m.runs:
            assert res.maximum_of(i) == k
            assert same_solution(m.mixture, res.runs[i].mixture)


def test_every_trace_is_non_decreasing_and_consistent(blobs_result):
    for run in blobs_result.runs:
        assert run.log_likelihoods.shape == (run.n_iter + 1,)
        assert not run.log_likelihoods.flags.writeable
        _assert_monotone(run.log_likelihoods)
        assert run.converged
        assert run.collapsed == ()


def test_a_run_replays_from_its_start_and_its_seed():
    X = five_blobs()
    res = run_restarts(X, 3, 3, methods=("kmeans", "random_resp"), seed=5, max_iter=200)
    assert [r.method for r in res.runs] == ["kmeans", "random_resp", "kmeans"]
    for run in res.runs:
        snaps = list(iterate_em(X, run.start, reg_covar=1e-6, tol=1e-8, max_iter=200))
        assert snaps[-1].mixture.allclose(run.mixture, rtol=0.0)
        trace = [s.log_likelihood for s in snaps if s.phase != "E"]
        np.testing.assert_array_equal(trace, run.log_likelihoods)
        again = fit(X, 3, init=run.method, seed=run.seed, tol=1e-8, max_iter=200)
        assert again.mixture.allclose(run.mixture, rtol=0.0)


# ---------------------------------------------------------------------------
# Grouping


def test_the_same_solution_with_permuted_labels_counts_once():
    rng = np.random.default_rng(0)
    base = Mixture(
        [0.5, 0.3, 0.2],
        [[0.0, 0.0], [5.0, 1.0], [-3.0, 4.0]],
        np.array([np.eye(2), 2 * np.eye(2), [[1.0, 0.3], [0.3, 0.5]]]),
    )
    order = [2, 0, 1]
    relabelled = Mixture(base.weights[order], base.means[order], base.covariances[order])
    nearly = Mixture(
        base.weights, base.means + rng.normal(scale=1e-4, size=(3, 2)), base.covariances
    )
    other = Mixture(
        [0.5, 0.3, 0.2],
        [[0.0, 0.0], [5.0, 1.0], [3.0, -4.0]],
        base.covariances,
    )
    runs = [
        _run(0, relabelled, -100.0),
        _run(1, other, -120.0, converged=False),
        _run(2, base, -100.0 + 1e-7),
        _run(3, nearly, -100.001, converged=False),
    ]
    maxima = group_maxima(runs, scale=10.0)
    assert len(maxima) == 2
    assert isinstance(maxima[0], LocalMaximum)
    assert maxima[0].runs == (2, 0, 3)  # best first
    assert maxima[0].count == 3
    assert maxima[0].mixture is base
    assert maxima[0].log_likelihood == -100.0 + 1e-7
    assert maxima[0].converged
    assert maxima[1].runs == (1,)
    assert not maxima[1].converged  # no run of it converged: not a confirmed maximum
    assert group_maxima([]) == ()


# ---------------------------------------------------------------------------
# Seeds and reproducibility


def test_results_are_reproducible_for_the_same_seed():
    X = five_blobs()
    kwargs = dict(methods=("kmeans++", "random_from_data"), max_iter=100)
    a = run_restarts(X, 3, 6, seed=11, **kwargs)
    b = run_restarts(X, 3, 6, seed=11, **kwargs)
    for ra, rb in zip(a.runs, b.runs, strict=True):
        assert ra.seed == rb.seed
        assert ra.start.allclose(rb.start, rtol=0.0)
        assert ra.mixture.allclose(rb.mixture, rtol=0.0)
        np.testing.assert_array_equal(ra.log_likelihoods, rb.log_likelihoods)
    assert [m.runs for m in a.maxima] == [m.runs for m in b.maxima]
    c = run_restarts(X, 3, 6, seed=12, **kwargs)
    assert {r.seed for r in c.runs}.isdisjoint({r.seed for r in a.runs})


def test_run_seeds_depend_on_seed_and_index_only():
    X = five_blobs()
    short = run_restarts(X, 3, 2, seed=3, max_iter=50)
    long = run_restarts(X, 3, 4, seed=3, max_iter=50)
    assert [r.seed for r in short.runs] == [r.seed for r in long.runs[:2]]
    assert [r.seed for r in long.runs] == [run_seed(3, i) for i in range(4)]
    assert len({run_seed(s, i) for s in range(5) for i in range(5)}) == 25
    fresh = run_restarts(X, 2, 2, seed=None, max_iter=50)
    again = run_restarts(X, 2, 2, seed=fresh.seed, max_iter=50)
    assert [r.seed for r in fresh.runs] == [r.seed for r in again.runs]


# ---------------------------------------------------------------------------
# Progress and cancellation


def test_progress_is_reported_after_each_run():
    calls = []
    run_restarts(five_blobs(), 3, 4, max_iter=50, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]


@pytest.mark.parametrize("stop_after", [1, 2, 7, 40])
def test_should_stop_cancels_within_a_half_step(monkeypatch, stop_after):
    """Count the half-steps EM computes; once should_stop says True, at most
    one more may be consumed (here none: it is polled after every one)."""
    consumed = {"n": 0, "at_stop": None}
    real = restarts_module.iterate_em

    def counting(*args, **kwargs):
        for snap in real(*args, **kwargs):
            consumed["n"] += 1
            yield snap

    def should_stop():
        if consumed["n"] >= stop_after:
            if consumed["at_stop"] is None:
                consumed["at_stop"] = consumed["n"]
            return True
        return False

    monkeypatch.setattr(restarts_module, "iterate_em", counting)
    res = run_restarts(five_blobs(), 3, 50, max_iter=200, should_stop=should_stop)
    assert res.cancelled
    assert consumed["n"] - consumed["at_stop"] <= 1
    assert len(res.runs) < 50 and res.n_requested == 50
    # Only completed runs are returned, each with its full history.
    assert sum(r.n_iter * 2 + 1 for r in res.runs) <= consumed["n"]
    for r in res.runs:
        assert r.converged or r.n_iter == 200
    if res.runs:
        assert res.best_run is not None
        assert sum(m.count for m in res.maxima) == len(res.runs)


def test_should_stop_before_any_run():
    res = run_restarts(five_blobs(), 3, 5, should_stop=lambda: True)
    assert res.cancelled and res.runs == () and res.maxima == ()
    assert res.best_run is None


# ---------------------------------------------------------------------------
# Validation


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(n_runs=0), "n_runs"),
        (dict(n_runs=True), "n_runs"),
        (dict(n_runs=2.0), "n_runs"),
        (dict(methods=()), "at least one"),
        (dict(methods=("kmeans++", "best")), "unknown initialisation method 'best'"),
        (dict(methods=3), "methods"),
        (dict(seed=-1), "seed"),
        (dict(cov_type="banana"), "cov_type"),
        (dict(n_components=500), "n_components"),
        (dict(tol=-1.0), "tol"),
        (dict(rtol=np.nan), "rtol"),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs, message):
    args = dict(n_components=3, n_runs=2)
    args.update(kwargs)
    with pytest.raises(EmvizError, match=message):
        run_restarts(five_blobs(), args.pop("n_components"), args.pop("n_runs"), **args)


def test_a_single_method_name_is_accepted():
    res = run_restarts(five_blobs(), 2, 2, methods="kmeans", max_iter=50)
    assert [r.method for r in res.runs] == ["kmeans", "kmeans"]


# ---------------------------------------------------------------------------
# A real data set


def test_one_hundred_restarts_of_old_faithful():
    """The issue's workload, with the default tol and max_iter: every run
    converges, and the 100 runs fall into a handful of distinct maxima (5 with
    seed 0: log-likelihoods about -1114.44, -1119.21, -1119.65, -1123.13,
    -1127.07)."""
    X = np.loadtxt(ROOT / "resources" / "datasets" / "old_faithful.csv", delimiter=",", skiprows=1)
    assert X.shape == (272, 2)
    res = run_restarts(X, 3, 100, methods=("kmeans++", "kmeans"))
    assert len(res.runs) == 100 and not res.cancelled
    assert all(r.converged for r in res.runs)
    assert 2 <= len(res.maxima) <= 10
    assert all(m.converged for m in res.maxima)
    assert sum(m.count for m in res.maxima) == 100
    assert res.maxima[0].log_likelihood == pytest.approx(-1114.44, abs=0.01)
    for run in res.runs:
        _assert_monotone(run.log_likelihoods)


def test_iris_k4_best_is_the_best_honest_maximum():
    """Degenerate maxima (a component at the covariance floor or on under two points) are
    flagged and never the best: on iris's petals with K = 4 a component flattened onto
    collinear petals reaches -33.3, while the honest maxima lie near -123."""
    from emviz.core import load_dataset

    X = load_dataset("iris").X
    r = run_restarts(X, 4, 60, methods=("random_from_data",), seed=0)
    floor = 1e-6 * X.var(axis=0).mean()  # reg_covar relative to the data's variance

    def degenerate(mixture) -> bool:
        smallest = np.linalg.eigvalsh(mixture.covariances).min()
        return smallest <= floor * 1.01 or bool(np.any(mixture.weights * len(X) < 2))

    assert any(m.degenerate for m in r.maxima), "the experiment should reach a collapse"
    for m in r.maxima:
        assert m.degenerate == degenerate(m.mixture)
        assert m.degenerate == r.runs[m.best_run].degenerate
    best = r.best
    assert best is not None and not best.degenerate
    assert best is next(m for m in r.maxima if not degenerate(m.mixture))
    assert r.maxima[0].degenerate and r.maxima[0].log_likelihood > -40  # the unbounded one
    assert -130 < best.log_likelihood < -120
    assert r.best_run == best.best_run
