"""The E-step, the M-step and the EM loop against independent oracles."""

import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import emviz.core._kernels as em_module
from emviz.core import (
    COV_TYPES,
    EmvizError,
    Mixture,
    aic,
    bic,
    e_step,
    fit,
    initialize,
    iterate_em,
    log_likelihood,
    m_step,
    prepare,
)
from emviz.core._kernels import _chunk
from tests.core import reference
from tests.core.data import blobs


def some_mixture(cov_type="full", k=3):
    rng = np.random.default_rng(42)
    means = rng.normal(scale=3.0, size=(k, 2))
    if cov_type == "full":
        covs = np.stack([[[1.0 + i, 0.3], [0.3, 0.8]] for i in range(k)])
    elif cov_type == "tied":
        covs = np.repeat([[[1.5, -0.4], [-0.4, 0.9]]], k, axis=0)
    elif cov_type == "diag":
        covs = np.stack([np.diag([1.0 + i, 0.5 + 0.2 * i]) for i in range(k)])
    else:
        covs = np.stack([(1.0 + 0.5 * i) * np.eye(2) for i in range(k)])
    w = np.arange(1, k + 1, dtype=float)
    return Mixture(w / w.sum(), means, covs, cov_type)


# ---------------------------------------------------------------------------
# E-step


@pytest.mark.parametrize("cov_type", COV_TYPES)
def test_e_step_matches_numpy_reference(cov_type):
    X = blobs()
    mix = some_mixture(cov_type)
    resp, ll = e_step(X, mix)
    ref_resp, ref_ll = reference.e_step(X, mix.weights, mix.means, mix.covariances)
    np.testing.assert_allclose(resp, ref_resp, rtol=1e-10, atol=1e-14)
    assert ll == pytest.approx(ref_ll, rel=1e-12)
    np.testing.assert_allclose(resp.sum(axis=1), 1.0, rtol=0, atol=1e-12)


def test_e_step_far_points_have_no_nan():
    mix = some_mixture()
    X = np.array([[1e4, -1e4], [0.0, 5e3], [0.1, 0.2]])  # thousands of sds away
    resp, ll = e_step(X, mix)
    assert np.all(np.isfinite(resp)) and np.isfinite(ll)
    np.testing.assert_allclose(resp.sum(axis=1), 1.0)
    _, ref_ll = reference.e_step(X, mix.weights, mix.means, mix.covariances)
    assert ll == pytest.approx(ref_ll, rel=1e-12)


def test_e_step_narrow_component_is_exact():
    # A component 1e6 times narrower than the data's extent forces the
    # exact (per-component) path in the E-step; it must agree all the same.
    X = blobs() * 1e3
    mix = Mixture([0.5, 0.5], [[10.0, 20.0], [0.0, 0.0]], [np.eye(2) * 1e-3, np.eye(2) * 1e6])
    resp, ll = e_step(X, mix)
    ref_resp, ref_ll = reference.e_step(X, mix.weights, mix.means, mix.covariances)
    np.testing.assert_allclose(resp, ref_resp, rtol=1e-9, atol=1e-300)
    assert ll == pytest.approx(ref_ll, rel=1e-12)


def test_e_step_does_not_modify_inputs_and_returns_read_only():
    X = blobs()
    before = X.copy()
    resp, _ = e_step(X, some_mixture())
    np.testing.assert_array_equal(X, before)
    with pytest.raises(ValueError):
        resp[0, 0] = 1.0


def test_e_step_accepts_many_points_in_chunks():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(2 * _chunk(4) + 1001, 2))  # not a multiple of the chunk size
    mix = some_mixture("full", 4)
    resp, ll = e_step(X, mix)
    ref_resp, ref_ll = reference.e_step(X, mix.weights, mix.means, mix.covariances)
    np.testing.assert_allclose(resp, ref_resp, rtol=1e-10, atol=1e-14)
    assert ll == pytest.approx(ref_ll, rel=1e-12)


# ---------------------------------------------------------------------------
# M-step


def test_m_step_with_one_hot_resp_equals_np_cov():
    X = blobs()
    labels = np.repeat([0, 1, 2], 100)
    resp = np.eye(3)[labels]
    mix = m_step(X, resp, "full", reg_covar=0.0)
    for k in range(3):
        members = X[labels == k]
        np.testing.assert_allclose(mix.means[k], members.mean(axis=0), rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(
            mix.covariances[k], np.cov(members.T, bias=True), rtol=1e-12, atol=1e-14
        )
    np.testing.assert_allclose(mix.weights, [1 / 3] * 3)


def test_m_step_matches_reference_formulas():
    X = blobs()
    resp, _ = e_step(X, some_mixture())
    mix = m_step(X, resp, "full", reg_covar=0.0)
    w, mu, cov = reference.m_step_full(X, np.asarray(resp))
    np.testing.assert_allclose(mix.weights, w, rtol=1e-13)
    np.testing.assert_allclose(mix.means, mu, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(mix.covariances, cov, rtol=1e-11, atol=1e-13)


def test_m_step_is_centred_at_large_offsets():
    # E[x x^T] - mu mu^T would lose every digit of a unit variance at 1e9.
    X = np.round(blobs() * 2**20) / 2**20  # exactly representable after the shift
    resp = np.eye(3)[np.repeat([0, 1, 2], 100)]
    near = m_step(X, resp, reg_covar=0.0)
    far = m_step(X + 1e9, resp, reg_covar=0.0)
    np.testing.assert_allclose(far.covariances, near.covariances, rtol=1e-6)
    np.testing.assert_allclose(far.means - 1e9, near.means, atol=1e-6)


def test_reg_covar_is_an_eigenvalue_floor_relative_to_the_data():
    # Collinear data: the smallest eigenvalue of the scatter is 0 and must be
    # raised exactly to reg_covar times the mean per-axis variance, with the
    # large eigenvalue left where it was.
    t = np.linspace(-1, 1, 50)
    X = np.column_stack([t, 2 * t]) * 1e-9
    mix = m_step(X, np.ones((50, 1)), "full", reg_covar=1e-3)
    scale = X.var(axis=0).mean()
    vals = np.linalg.eigvalsh(mix.covariances[0])
    assert vals[0] == pytest.approx(1e-3 * scale, rel=1e-9)
    assert vals[1] == pytest.approx(np.linalg.eigvalsh(np.cov(X.T, bias=True))[1], rel=1e-9)


def test_floor_leaves_well_conditioned_covariances_untouched():
    X = blobs()
    resp = np.eye(3)[np.repeat([0, 1, 2], 100)]
    a = m_step(X, resp, reg_covar=0.0)
    b = m_step(X, resp, reg_covar=1e-6)
    np.testing.assert_array_equal(a.covariances, b.covariances)


@pytest.mark.parametrize("cov_type", COV_TYPES)
def test_m_step_structure_per_cov_type(cov_type):
    X = blobs()
    resp, _ = e_step(X, some_mixture())
    mix = m_step(X, resp, cov_type, reg_covar=0.0)
    full = m_step(X, resp, "full", reg_covar=0.0)
    nk = np.asarray(resp).sum(axis=0)
    if cov_type == "full":
        expected = full.covariances
    elif cov_type == "tied":
        expected = np.repeat((full.covariances * nk[:, None, None]).sum(0)[None] / len(X), 3, 0)
    elif cov_type == "diag":
        expected = full.covariances * np.eye(2)
    else:
        expected = np.trace(full.covariances, axis1=1, axis2=2)[:, None, None] / 2 * np.eye(2)
    np.testing.assert_allclose(mix.covariances, expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(mix.means, full.means, rtol=1e-13)


# ---------------------------------------------------------------------------
# scikit-learn as an oracle for whole traces


def sklearn_precisions(mix):
    prec = np.linalg.inv(mix.covariances)
    if mix.cov_type == "tied":
        return prec[0]
    if mix.cov_type == "diag":
        return np.diagonal(prec, axis1=1, axis2=2).copy()
    if mix.cov_type == "spherical":
        return prec[:, 0, 0].copy()
    return prec


def sklearn_covariances(gm, k):
    c = gm.covariances_
    if gm.covariance_type == "tied":
        return np.repeat(c[None], k, axis=0)
    if gm.covariance_type == "diag":
        return np.stack([np.diag(v) for v in c])
    if gm.covariance_type == "spherical":
        return c[:, None, None] * np.eye(2)
    return c


def assert_trace_agrees_with_scikit_learn(X, start, cov_type, n_iter):
    """Each of ``n_iter`` M snapshots equals one more warm-started step of scikit-learn."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture

    gm = GaussianMixture(
        3,
        covariance_type=cov_type,
        reg_covar=0.0,
        tol=0.0,
        max_iter=1,
        warm_start=True,
        weights_init=start.weights,
        means_init=start.means,
        precisions_init=sklearn_precisions(start),
    )
    snaps = [
        s for s in iterate_em(X, start, reg_covar=0.0, tol=0.0, max_iter=n_iter) if s.phase == "M"
    ]
    assert len(snaps) == n_iter
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for snap in snaps:
            gm.fit(X)
            assert snap.log_likelihood == pytest.approx(gm.score(X) * len(X), rel=1e-9)
            np.testing.assert_allclose(snap.mixture.weights, gm.weights_, rtol=1e-9)
            np.testing.assert_allclose(snap.mixture.means, gm.means_, rtol=1e-9, atol=1e-9)
            np.testing.assert_allclose(
                snap.mixture.covariances, sklearn_covariances(gm, 3), rtol=1e-9, atol=1e-12
            )


@pytest.mark.parametrize("cov_type", COV_TYPES)
def test_trace_agrees_with_scikit_learn(cov_type):
    X = blobs(seed=3)
    start = initialize(X, 3, method="random_from_data", cov_type=cov_type, seed=5)
    assert_trace_agrees_with_scikit_learn(X, start, cov_type, 30)


def many_points(n=3 * _chunk(3) // 2 + 321, seed=11):
    """Enough points for several chunks, the fast exp kernel and the grouped logs."""
    rng = np.random.default_rng(seed)
    return blobs(seed=seed, n=n) + rng.normal(scale=0.01, size=(n, 2))


@pytest.mark.parametrize("cov_type", COV_TYPES)
def test_trace_on_many_points_agrees_with_scikit_learn(cov_type):
    # The other comparisons use a few hundred points, where the E-step's exp
    # is numpy's own; here every chunk goes through the float64 kernel.
    X = many_points()
    start = initialize(X, 3, method="random_from_data", cov_type=cov_type, seed=2)
    assert_trace_agrees_with_scikit_learn(X, start, cov_type, 8)


def test_e_step_on_many_points_matches_the_reference():
    X = many_points()
    X[:7] = [[1e4, -1e4], [0.0, 5e3], [-3e3, 0.0], [50.0, 50.0], [0, 0], [1, 2], [3e2, 1e2]]
    mix = some_mixture("full", 3)
    resp, ll = e_step(X, mix)
    ref_resp, ref_ll = reference.e_step(X, mix.weights, mix.means, mix.covariances)
    np.testing.assert_allclose(resp, ref_resp, rtol=1e-12, atol=1e-300)
    assert ll == pytest.approx(ref_ll, rel=1e-13)
    np.testing.assert_allclose(resp.sum(axis=1), 1.0, rtol=0, atol=1e-15)


def _count_reference_shifts(monkeypatch):
    """Count the chunks where the E-step tries to shift by a reference component's term."""
    calls = []
    original = em_module._other_rows

    def spy(a, row):
        calls.append(row)
        return original(a, row)

    monkeypatch.setattr(em_module, "_other_rows", spy)
    return calls


@pytest.mark.parametrize("order", ["first", "middle", "last"])
@pytest.mark.parametrize("max_gap", [None, -1.0])
def test_e_step_is_the_same_whichever_shift_it_takes(monkeypatch, order, max_gap):
    # The E-step shifts each chunk's log terms by a reference component's
    # where no component exceeds it by much, else by the largest term
    # (max_gap = -1 forces the latter everywhere).  The reference row sits
    # first, in the middle or last, which the exp handles differently.
    if max_gap is not None:
        monkeypatch.setattr(em_module, "_MAX_REF_GAP", max_gap)
    shifts = _count_reference_shifts(monkeypatch)
    X = many_points()
    base = some_mixture("full", 5)  # the broadest component, the first reference, is the last
    perm = {"first": [4, 0, 1, 2, 3], "middle": [0, 1, 4, 2, 3], "last": [0, 1, 2, 3, 4]}[order]
    mix = Mixture(base.weights[perm], base.means[perm], base.covariances[perm])
    resp, ll = e_step(X, mix)
    ref_resp, ref_ll = reference.e_step(X, mix.weights, mix.means, mix.covariances)
    np.testing.assert_allclose(resp, ref_resp, rtol=1e-12, atol=1e-300)
    assert ll == pytest.approx(ref_ll, rel=1e-13)
    if max_gap is None:
        assert len(shifts) == -(-len(X) // _chunk(5))  # every chunk
        assert set(shifts) == {perm.index(4)}
    else:
        # The first chunk tries the broadest component, fails, and is
        # recomputed; no reference is tried again.
        assert len(shifts) == 1


def test_e_step_falls_back_to_the_largest_term_for_far_apart_clusters(monkeypatch):
    # Two tight clusters 10 apart: at every point one component's log term
    # exceeds the other's by thousands of nats, so no reference will do.
    shifts = _count_reference_shifts(monkeypatch)
    rng = np.random.default_rng(4)
    n = 2 * _chunk(2) + 99
    X = rng.normal(scale=0.05, size=(n, 2)) + np.where(rng.random((n, 1)) < 0.5, 0.0, 10.0)
    mix = Mixture([0.5, 0.5], [[0.0, 0.0], [10.0, 10.0]], [np.eye(2) * 0.0025] * 2)
    resp, ll = e_step(X, mix)
    ref_resp, ref_ll = reference.e_step(X, mix.weights, mix.means, mix.covariances)
    np.testing.assert_allclose(resp, ref_resp, rtol=1e-12, atol=1e-300)
    assert ll == pytest.approx(ref_ll, rel=1e-13)
    assert len(shifts) == 1  # the first chunk's try, then never again


@pytest.mark.parametrize("bound", [False, True])
def test_broadest_component_of_weight_zero_is_not_the_reference(bound):
    X = many_points()
    base = some_mixture("full", 3)
    wide = Mixture(
        np.append(base.weights, 0.0),
        np.vstack([base.means, [[0.0, 0.0]]]),
        np.concatenate([base.covariances, [np.eye(2) * 100.0]]),
    )
    snaps = list(iterate_em(X, wide, tol=0.0, max_iter=1, bound=bound))
    reduced = list(iterate_em(X, base, tol=0.0, max_iter=1, bound=bound))
    assert np.all(snaps[1].resp[:, 3] == 0.0)
    for a, b in zip(snaps, reduced):
        assert a.log_likelihood == pytest.approx(b.log_likelihood, rel=1e-13)
        if bound:
            assert a.expected_complete == pytest.approx(b.expected_complete, rel=1e-12)
            assert a.entropy == pytest.approx(b.entropy, rel=1e-12)


@pytest.mark.parametrize("bound", [False, True])
def test_component_of_weight_zero_gets_exactly_nothing(bound):
    X = many_points()
    base = some_mixture("full", 3)
    weights = np.append(base.weights, 0.0)
    means = np.vstack([base.means, [[1.0, 1.0]]])
    covs = np.concatenate([base.covariances, [np.eye(2)]])
    with_zero = Mixture(weights, means, covs)
    snaps = list(iterate_em(X, with_zero, tol=0.0, max_iter=1, bound=bound))
    reduced = list(iterate_em(X, base, tol=0.0, max_iter=1, bound=bound))
    e_snap = snaps[1]
    assert e_snap.phase == "E"
    assert np.all(e_snap.resp[:, 3] == 0.0)
    for a, b in zip(snaps, reduced):
        assert a.log_likelihood == pytest.approx(b.log_likelihood, rel=1e-13)
        if bound:
            assert a.expected_complete == pytest.approx(b.expected_complete, rel=1e-12)
            assert a.entropy == pytest.approx(b.entropy, rel=1e-12)


def test_m_step_gets_the_same_bits_with_or_without_the_e_steps_sums():
    # iterate_em hands the M-step the sums its E-step pass took; resumed
    # from an E snapshot it has only resp and sums again, chunk by chunk.
    X = many_points()
    start = initialize(X, 3, seed=0)
    snaps = list(iterate_em(X, start, tol=0.0, max_iter=3))
    resumed = next(iterate_em(X, snaps[3], tol=0.0))  # the E snapshot of iteration 2
    assert (resumed.iteration, resumed.phase) == (2, "M")
    for name in ("weights", "means", "covariances"):
        assert np.array_equal(getattr(resumed.mixture, name), getattr(snaps[4].mixture, name))
    assert resumed.log_likelihood == snaps[4].log_likelihood


@pytest.mark.parametrize("cov_type", COV_TYPES)
def test_log_likelihood_never_decreases_on_many_points(cov_type):
    X = many_points(seed=5)
    start = initialize(X, 6, method="random_from_data", cov_type=cov_type, seed=9)
    snaps = list(iterate_em(X, start, reg_covar=0.0, tol=0.0, max_iter=25))
    lls = [s.log_likelihood for s in snaps]
    _assert_monotone(lls, len(X), [_condition(s.mixture) for s in snaps])


# ---------------------------------------------------------------------------
# EM's guarantee: the log-likelihood never decreases


def _condition(mixture):
    vals = np.linalg.eigvalsh(mixture.covariances)
    return float((vals[:, 1] / vals[:, 0]).max())


def _assert_monotone(lls, n_samples=1, conds=None):
    """No drop beyond rounding.

    Rounding allows a relative 1e-9 of the value; and a covariance stored
    as a matrix fixes its smallest eigenvalue only to eps times its largest,
    so where an eigenvalue sits at the floor (where the likelihood's slope is
    not zero) the stored optimum can miss by n * eps * condition number.
    """
    lls = np.asarray(lls)
    slack = 1e-9 * np.maximum(np.abs(lls[:-1]), 1.0)
    if conds is not None:
        conds = np.asarray(conds)
        slack = slack + 8 * n_samples * np.finfo(float).eps * np.maximum(conds[:-1], conds[1:])
    drops = lls[:-1] - lls[1:]
    assert np.all(drops <= slack), f"log-likelihood fell by {drops.max()}"


@st.composite
def point_sets(draw):
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    kind = draw(
        st.sampled_from(
            ["blobs", "duplicates", "collinear", "few_distinct", "offset", "tiny", "single"]
        )
    )
    n = draw(st.integers(3, 80))
    X = rng.normal(size=(n, 2)) * rng.uniform(0.1, 5, size=2) + rng.normal(scale=4, size=2)
    if kind == "duplicates":
        X[n // 2 :] = X[: n - n // 2]
    elif kind == "collinear":
        t = rng.normal(size=n)
        X = np.column_stack([t, 3 * t + 1])
    elif kind == "few_distinct":
        X = X[rng.integers(0, 2, size=n)]
    elif kind == "offset":
        X = np.round(X * 2**16) / 2**16 + 1e9
    elif kind == "tiny":
        X = X * 1e-9
    elif kind == "single":
        X = np.repeat(X[:1], n, axis=0)
    k = draw(st.integers(1, min(6, n)))
    cov_type = draw(st.sampled_from(COV_TYPES))
    method = draw(st.sampled_from(["kmeans++", "random_from_data", "random_resp", "kmeans"]))
    reg = draw(st.sampled_from([0.0, 1e-6, 1e-2]))
    return X, k, cov_type, method, reg, seed


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(point_sets())
def test_log_likelihood_never_decreases(case):
    X, k, cov_type, method, reg, seed = case
    start = initialize(X, k, method=method, cov_type=cov_type, seed=seed, reg_covar=reg)
    floor = prepare(X).floor(reg)
    lls, conds = [], []
    for snap in iterate_em(X, start, reg_covar=reg, tol=0.0, max_iter=25):
        assert np.isfinite(snap.log_likelihood)
        if snap.resp is not None:
            assert np.all(np.isfinite(snap.resp))
            np.testing.assert_allclose(snap.resp.sum(axis=1), 1.0, atol=1e-12)
        lls.append(snap.log_likelihood)
        conds.append(_condition(snap.mixture))
        if snap.phase == "M":
            smallest = np.linalg.eigvalsh(snap.mixture.covariances)[:, 0].min()
            assert smallest >= floor * (1 - 1e-6)
    _assert_monotone(lls, len(X), conds)


def test_units_do_not_change_the_fit():
    X = blobs(seed=7)
    a = 2.0**-30  # a power of two: the scaled data are exact
    base = fit(X, 3, seed=1)
    scaled = fit(X * a, 3, seed=1)
    shifted = fit(np.round(X * 2**20) / 2**20 + 1e9, 3, seed=1)
    ref = fit(np.round(X * 2**20) / 2**20, 3, seed=1)
    assert scaled.n_iter == base.n_iter
    np.testing.assert_array_equal(scaled.resp.argmax(1), base.resp.argmax(1))
    # log p(aX) = log p(X) - n d log a: the Jacobian of the change of units.
    jac = -len(X) * 2 * np.log(a)
    assert scaled.log_likelihoods[-1] == pytest.approx(base.log_likelihoods[-1] + jac, rel=1e-9)
    np.testing.assert_array_equal(shifted.resp.argmax(1), ref.resp.argmax(1))
    assert shifted.log_likelihoods[-1] == pytest.approx(ref.log_likelihoods[-1], rel=1e-9)


# ---------------------------------------------------------------------------
# The loop's bookkeeping


def test_iterate_em_alternates_and_resumes_from_a_snapshot():
    X = blobs()
    start = initialize(X, 3, seed=0)
    snaps = list(iterate_em(X, start, tol=0.0, max_iter=4))
    assert [s.phase for s in snaps] == ["init"] + ["E", "M"] * 4
    assert [s.iteration for s in snaps] == [0, 1, 1, 2, 2, 3, 3, 4, 4]
    assert snaps[0].resp is None
    # The E snapshot's resp is the posterior under its mixture; the M
    # snapshot's resp is the one the M-step used.
    resp_e, ll_e = e_step(X, snaps[3].mixture)
    np.testing.assert_allclose(snaps[3].resp, resp_e)
    assert snaps[4].resp is snaps[3].resp
    assert snaps[3].log_likelihood == pytest.approx(ll_e, rel=1e-13)
    assert snaps[4].log_likelihood == pytest.approx(log_likelihood(X, snaps[4].mixture), rel=1e-13)
    # Resuming from snapshot 4 (an M) reproduces the rest exactly.
    resumed = list(iterate_em(X, snaps[4], tol=0.0, max_iter=2))
    assert [(s.iteration, s.phase) for s in resumed] == [(3, "E"), (3, "M"), (4, "E"), (4, "M")]
    for a, b in zip(resumed, snaps[5:]):
        np.testing.assert_array_equal(a.mixture.means, b.mixture.means)
        assert a.log_likelihood == b.log_likelihood
    # Resuming from an E snapshot whose resp was dropped recomputes it.
    again = next(iterate_em(X, snaps[3].without_resp(), tol=0.0))
    assert (again.iteration, again.phase) == (2, "M")
    np.testing.assert_array_equal(again.mixture.means, snaps[4].mixture.means)


def test_iterate_em_stops_when_converged():
    X = blobs()
    snaps = list(iterate_em(X, initialize(X, 3, seed=0), tol=1e-8, max_iter=1000))
    assert snaps[-1].converged and snaps[-1].phase == "M"
    assert not any(s.converged for s in snaps[:-1])
    gain = snaps[-1].log_likelihood - snaps[-3].log_likelihood
    assert 0 <= gain < 1e-8 * len(X)


def test_snapshots_are_immutable():
    X = blobs()
    snap = list(iterate_em(X, initialize(X, 2, seed=0), max_iter=1))[-1]
    with pytest.raises(AttributeError):
        snap.phase = "E"  # type: ignore[misc]
    for arr in (snap.resp, snap.mixture.means, snap.mixture.covariances, snap.mixture.weights):
        assert not arr.flags.writeable


def test_posteriors_still_held_are_never_overwritten():
    # The loop reuses the memory of posteriors nobody holds any more; one
    # held through a snapshot, a view of it or a memoryview must keep its values.
    X = blobs()
    loop = iterate_em(X, initialize(X, 3, seed=0), tol=0.0, max_iter=12)
    held = []
    for i, snap in enumerate(loop):
        if snap.phase != "E":
            continue
        ways = (
            (snap, lambda s: s.resp),
            (snap.resp[:, 1], np.asarray),
            (memoryview(snap.resp[5:9]), np.asarray),
        )
        kept, read = ways[i % 3]
        held.append((kept, read, read(kept).copy()))
        del snap
    assert len(held) == 12
    for kept, read, values in held:
        np.testing.assert_array_equal(read(kept), values)


def test_posteriors_released_by_the_caller_are_reused():
    import weakref

    X = blobs()
    loop = iterate_em(X, initialize(X, 3, seed=0), tol=0.0, max_iter=12)
    seen = []  # weak references to the arrays handed out so far
    reused = 0
    for snap in loop:
        if snap.phase == "E":
            base = snap.resp.base
            if any(ref() is base for ref in seen):
                reused += 1
            else:
                seen.append(weakref.ref(base))
            del base
        del snap
    # The caller keeps nothing, so after the first steps every new posterior
    # lives in an array an earlier step gave out (the loop holds two at once).
    assert len(seen) <= 3
    assert reused == 12 - len(seen)


def test_collapse_is_reported():
    # Two exact duplicates far from a broad cloud: a component sits on them
    # and its covariance is held at the floor.
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(size=(60, 2)), [[8.0, 8.0], [8.0, 8.0]]])
    start = Mixture([0.9, 0.1], [[0, 0], [8.0, 8.0]], [np.eye(2), np.eye(2) * 0.5])
    last = list(iterate_em(X, start, reg_covar=1e-6, max_iter=50))[-1]
    assert 1 in last.collapsing and 0 not in last.collapsing


def test_fit_and_information_criteria():
    X = blobs()
    res = fit(X, 3, seed=0, tol=1e-9)
    assert res.converged
    _assert_monotone(res.log_likelihoods)
    ll = log_likelihood(X, res.mixture)
    assert res.log_likelihoods[-1] == pytest.approx(ll, rel=1e-12)
    p = 2 + 6 + 9  # weights, means, full covariances
    assert res.mixture.n_parameters() == p
    assert bic(X, res.mixture) == pytest.approx(-2 * ll + p * np.log(len(X)))
    assert aic(X, res.mixture) == pytest.approx(-2 * ll + 2 * p)
    counts = {"full": 17, "tied": 11, "diag": 14, "spherical": 11}
    for cov_type, count in counts.items():
        assert some_mixture(cov_type).n_parameters() == count


def test_fit_agrees_with_scikit_learn_bic():
    from sklearn.mixture import GaussianMixture

    X = blobs()
    for cov_type in COV_TYPES:
        res = fit(X, 3, cov_type=cov_type, seed=0, reg_covar=0.0)
        gm = GaussianMixture(3, covariance_type=cov_type).fit(X)
        gm.weights_, gm.means_ = res.mixture.weights, res.mixture.means
        gm.precisions_cholesky_ = np.linalg.cholesky(np.linalg.inv(res.mixture.covariances))
        if cov_type != "full":
            continue  # parameter layout of sklearn differs; full checks the formula
        assert bic(X, res.mixture) == pytest.approx(gm.bic(X), rel=1e-9)
        assert aic(X, res.mixture) == pytest.approx(gm.aic(X), rel=1e-9)


# ---------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: e_step(np.array([[0.0, np.nan], [1, 2]]), some_mixture()), "NaN at row 0, col"),
        (lambda: e_step(np.array([[0.0, 1], [np.inf, 2]]), some_mixture()), "infinity at row 1"),
        (lambda: e_step(np.zeros((5, 3)), some_mixture()), "shape (n_samples, 2)"),
        (lambda: e_step(np.zeros(5), some_mixture()), "shape (n_samples, 2)"),
        (lambda: e_step(np.zeros((0, 2)), some_mixture()), "no points"),
        (lambda: e_step([["a", "b"]], some_mixture()), "numeric"),
        (lambda: initialize(blobs(), 0), "at least 1"),
        (lambda: initialize(blobs()[:4], 5), "cannot exceed the number of points (4)"),
        (lambda: initialize(blobs(), 2, method="best"), "method must be one of"),
        (lambda: initialize(blobs(), 2, cov_type="round"), "cov_type must be one of"),
        (lambda: m_step(blobs(), np.ones((300, 1)), reg_covar=-1), "reg_covar must be"),
        (lambda: m_step(blobs(), np.ones((299, 1))), "resp must have shape (300"),
        (lambda: m_step(blobs(), np.full((300, 2), 0.4)), "row 0 sums to"),
        (lambda: list(iterate_em(blobs(), some_mixture(), tol=-1)), "tol must be"),
        (lambda: list(iterate_em(blobs(), some_mixture(), max_iter=0)), "max_iter must be"),
        (lambda: Mixture([0.5, 0.6], [[0, 0], [1, 1]], [np.eye(2)] * 2), "sum to 1"),
        (lambda: Mixture([1.0], [[0, 0, 0]], [np.eye(2)]), "means must have shape"),
        (lambda: Mixture([1.0], [[0, 0]], [[[1, 2], [2, 1]]]), "not positive definite"),
        (lambda: Mixture([1.0], [[0, 0]], [[[1, 0.5], [0, 1]]]), "not symmetric"),
        (lambda: Mixture([1.0], [[0, 0]], [[[1, 0.5], [0.5, 1]]], "diag"), "must be diagonal"),
        (lambda: Mixture([1.0], [[0, np.nan]], [np.eye(2)]), "NaN or infinity"),
        (lambda: Mixture([-0.5, 1.5], [[0, 0], [1, 1]], [np.eye(2)] * 2), "non-negative"),
    ],
)
def test_bad_input_says_what_is_wrong(call, message):
    with pytest.raises(EmvizError) as info:
        call()
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)


def test_fewer_distinct_points_than_components_is_well_defined():
    X = np.array([[1.0, 2.0]] * 5 + [[3.0, 1.0]] * 5)
    for method in ("kmeans++", "kmeans", "random_from_data", "random_resp"):
        res = fit(X, 4, init=method, seed=0, max_iter=20)
        assert np.all(np.isfinite(res.resp))
        assert np.all(np.isfinite(res.log_likelihoods))


def test_initialize_is_reproducible():
    X = blobs()
    for method in ("kmeans++", "kmeans", "random_from_data", "random_resp"):
        a = initialize(X, 3, method=method, seed=11)
        b = initialize(X, 3, method=method, seed=11)
        c = initialize(X, 3, method=method, seed=12)
        assert a.allclose(b, rtol=0)
        assert not a.allclose(c)


def test_kmeans_init_finds_separated_clusters():
    X = blobs()
    mix = initialize(X, 3, method="kmeans", seed=0)
    true_means = np.array([X[:100].mean(0), X[100:200].mean(0), X[200:].mean(0)])
    d = np.linalg.norm(mix.means[:, None] - true_means[None], axis=2)
    assert np.all(d.min(axis=0) < 0.5)


def test_core_imports_no_qt():
    code = (
        "import sys, emviz.core;"
        "bad = [m for m in sys.modules if m.startswith(('PySide6', 'shiboken6', 'pyqtgraph'))];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_core_sources_mention_no_qt():
    from pathlib import Path

    import emviz.core

    for path in Path(emviz.core.__file__).parent.glob("*.py"):
        text = path.read_text()
        assert "PySide6" not in text and "pyqtgraph" not in text, path


def test_hard_em_gives_one_hot_responsibilities_of_the_most_probable_component():
    X = blobs()
    start = initialize(X, 3, seed=4, method="random_from_data")
    snaps = list(iterate_em(X, start, assignment="hard", max_iter=50))
    for prev, snap in zip(snaps, snaps[1:]):
        if snap.phase == "E":
            soft, _ = e_step(X, snap.mixture)
            expected = np.eye(3)[soft.argmax(axis=1)]
            np.testing.assert_array_equal(snap.resp, expected)
        else:
            # The M-step on a partition: per-cluster sample moments.
            labels = np.asarray(snap.resp).argmax(axis=1)
            for k in range(3):
                if (labels == k).any():
                    np.testing.assert_allclose(snap.mixture.means[k], X[labels == k].mean(0))
    assert snaps[-1].converged


def test_kmeans_path_matches_lloyd():
    from emviz.core.kmeans import iterate_kmeans

    X = blobs()
    start = X[[0, 1, 2]]
    snaps = list(iterate_kmeans(X, start))
    assert snaps[-1].converged
    centers = start.copy()
    for _ in range(100):  # Lloyd's algorithm written out
        labels = np.argmin(((X[:, None] - centers[None]) ** 2).sum(-1), axis=1)
        centers = np.array([X[labels == k].mean(0) for k in range(3)])
    np.testing.assert_allclose(snaps[-1].mixture.means, centers, rtol=1e-12)
    assert [s.phase for s in snaps[:3]] == ["init", "E", "M"]


def test_public_steps_take_prepared_data_as_it_is():
    """e_step and m_step on prepare()'s data equal the same steps on the array."""
    from emviz.core.data import prepare
    from emviz.core.datasets import load_dataset
    from emviz.core.init import initialize
    from emviz.core.steps import e_step, m_step

    X = load_dataset("old_faithful").X
    start = initialize(X, 3, seed=2)
    data = prepare(X)
    resp, ll = e_step(data, start)
    resp_x, ll_x = e_step(X, start)
    np.testing.assert_array_equal(resp, resp_x)
    assert ll == ll_x
    a, b = m_step(data, resp, "diag"), m_step(X, resp, "diag")
    np.testing.assert_array_equal(a.means, b.means)
    np.testing.assert_array_equal(a.covariances, b.covariances)
