"""The slice of log p and L(q, theta) along the path from one mixture to the M-step's."""

import dataclasses
import itertools

import numpy as np
import pytest

from emviz.core import (
    COV_TYPES,
    EmvizError,
    Mixture,
    bound_terms,
    e_step,
    initialize,
    load_dataset,
    m_step,
    prepare,
)
from emviz.core.bound_slice import BoundSlice, bound_slice, mixture_at
from tests.core import data

# t = i / 200 for i = -100 .. 300: 401 points over [-0.5, 1.5] holding 0 and 1 exactly.
FINE_TS = np.arange(-100, 301) / 200.0
I0 = int(np.flatnonzero(FINE_TS == 0.0)[0])
I1 = int(np.flatnonzero(FINE_TS == 1.0)[0])


def _datasets():
    rng = np.random.default_rng(11)
    return {
        "old_faithful": load_dataset("old_faithful").X,
        "blobs": data.blobs(seed=3, n=240),
        "random": rng.normal(size=(200, 2)) @ np.array([[1.5, 0.0], [0.9, 0.4]]) + [10.0, -3.0],
    }


DATASETS = _datasets()
CASES = [
    pytest.param(name, k, cov_type, id=f"{name}-K{k}-{cov_type}")
    for name, k, cov_type in itertools.product(DATASETS, (2, 3, 4), COV_TYPES)
]


def em_step(name, k, cov_type):
    """(X, before, q, after): a random start, its posterior and the M-step from it."""
    X = DATASETS[name]
    method = "random_resp" if k % 2 else "random_from_data"
    before = initialize(X, k, method=method, cov_type=cov_type, seed=7 * k + len(name))
    q, _ = e_step(X, before)
    after = m_step(X, q, cov_type)
    return X, before, q, after


@pytest.mark.parametrize(("name", "k", "cov_type"), CASES)
def test_slice_touches_at_zero_stays_below_and_peaks_at_one(name, k, cov_type):
    X, before, q, after = em_step(name, k, cov_type)
    s = bound_slice(X, before, after, q, FINE_TS)
    ll, lb = s.log_likelihood, s.lower_bound
    scale = np.abs(ll)
    # q is the posterior of theta(0): the bound touches the log-likelihood there.
    assert lb[I0] == pytest.approx(ll[I0], rel=1e-9)
    # L <= log p everywhere (KL >= 0).
    assert np.all(lb <= ll + 1e-12 * scale)
    assert np.all(s.gap >= -1e-12 * scale)
    # after maximises Q(q, .) (so L(q, .)) over every mixture of its type, and
    # the path stays in that type: the largest L on the grid is at t = 1.
    best = int(np.argmax(lb))
    assert best == I1 or lb[best] - lb[I1] <= 1e-9 * abs(lb[I1])
    # ... and it is a real peak, not a flat line.
    assert lb[I1] > lb[I1 - 20] and lb[I1] > lb[I1 + 20]
    # The M-step raised the bound, and so the log-likelihood.
    assert lb[I1] >= lb[I0] - 1e-9 * abs(lb[I0])
    assert ll[I1] >= ll[I0] - 1e-9 * abs(ll[I0])
    # The ends are the E-step's log-likelihoods of before and after.
    assert ll[I0] == pytest.approx(e_step(X, before)[1], rel=1e-12)
    assert ll[I1] == pytest.approx(e_step(X, after)[1], rel=1e-12)


@pytest.mark.parametrize(("name", "k", "cov_type"), CASES)
def test_path_reproduces_the_ends_and_keeps_the_covariance_type(name, k, cov_type):
    _, before, _, after = em_step(name, k, cov_type)
    assert mixture_at(before, after, 0) is before
    assert mixture_at(before, after, 1.0) is after
    # Just inside the ends the path goes through its coordinates (log-weights,
    # log-Cholesky factors): the round trip reproduces the ends.
    assert mixture_at(before, after, 1e-17).allclose(before, rtol=1e-12, atol=1e-300)
    assert mixture_at(before, after, 1.0 - 2.0**-53).allclose(after, rtol=1e-12, atol=1e-300)
    for t in np.linspace(-0.5, 1.5, 41):
        mix = mixture_at(before, after, t)
        assert isinstance(mix, Mixture)  # validated by Mixture itself
        assert mix.cov_type == cov_type and mix.n_components == k
        assert mix.weights.sum() == pytest.approx(1.0, abs=1e-14)
        assert np.all(mix.weights > 0)
        cov = mix.covariances
        assert np.all(cov[:, 0, 0] * cov[:, 1, 1] - cov[:, 0, 1] ** 2 > 0)
        if cov_type in ("diag", "spherical"):
            assert np.all(cov[:, 0, 1] == 0.0)
        if cov_type == "spherical":
            assert np.array_equal(cov[:, 0, 0], cov[:, 1, 1])
        if cov_type == "tied":
            assert np.array_equal(cov, np.broadcast_to(cov[0], cov.shape))


def test_path_between_two_points_is_a_line_in_its_coordinates():
    _, before, _, after = em_step("blobs", 3, "full")
    mid = mixture_at(before, after, 0.5)
    # Means: the midpoint.  Weights: proportional to the geometric mean.
    assert np.allclose(mid.means, 0.5 * (before.means + after.means), rtol=1e-14)
    geo = np.sqrt(before.weights * after.weights)
    assert np.allclose(mid.weights, geo / geo.sum(), rtol=1e-12)


def oracle_path(before, after, t):
    """theta(t) from textbook formulas and numpy.linalg, sharing nothing with emviz."""
    log_w = (1 - t) * np.log(before.weights) + t * np.log(after.weights)
    w = np.exp(log_w - log_w.max())
    w /= w.sum()
    means = (1 - t) * before.means + t * after.means
    covs = []
    for ca, cb in zip(before.covariances, after.covariances):
        la, lb = np.linalg.cholesky(ca), np.linalg.cholesky(cb)
        la[np.diag_indices(2)] = np.log(np.diag(la))
        lb[np.diag_indices(2)] = np.log(np.diag(lb))
        lt = (1 - t) * la + t * lb
        lt[np.diag_indices(2)] = np.exp(np.diag(lt))
        covs.append(lt @ lt.T)
    return w, means, np.array(covs)


def oracle_bound(X, weights, means, covs, q):
    """(log p, Q + H) with the bivariate normal density written out."""
    cols = []
    for w, m, c in zip(weights, means, covs):
        a, b, d = c[0, 0], c[0, 1], c[1, 1]
        det = a * d - b * b
        dx, dy = X[:, 0] - m[0], X[:, 1] - m[1]
        maha = (d * dx * dx - 2 * b * dx * dy + a * dy * dy) / det
        cols.append(np.log(w) - np.log(2 * np.pi) - 0.5 * np.log(det) - 0.5 * maha)
    log_joint = np.column_stack(cols)
    top = log_joint.max(axis=1)
    log_p = top + np.log(np.exp(log_joint - top[:, None]).sum(axis=1))
    expected = float((q * log_joint).sum())
    entropy = float(-(q * np.log(q)).sum())  # q > 0 everywhere here
    return float(log_p.sum()), expected + entropy


@pytest.mark.parametrize("cov_type", COV_TYPES)
def test_matches_an_independent_oracle(cov_type):
    X = DATASETS["random"]
    rng = np.random.default_rng(4)
    before = initialize(X, 3, method="random_from_data", cov_type=cov_type, seed=1)
    after = m_step(X, rng.dirichlet(np.ones(3), size=len(X)), cov_type)
    q = rng.dirichlet(np.ones(3), size=len(X))  # any q, not a posterior
    ts = [-0.4, 0.37, 1.3]
    s = bound_slice(X, before, after, q, ts)
    for i, t in enumerate(ts):
        w, means, covs = oracle_path(before, after, t)
        mix = mixture_at(before, after, t)
        assert np.allclose(mix.weights, w, rtol=1e-12, atol=0)
        assert np.allclose(mix.means, means, rtol=1e-12, atol=1e-12)
        assert np.allclose(mix.covariances, covs, rtol=1e-12, atol=1e-14)
        log_p, lower = oracle_bound(X, w, means, covs, q)
        assert s.log_likelihood[i] == pytest.approx(log_p, rel=1e-10)
        assert s.lower_bound[i] == pytest.approx(lower, rel=1e-10)
        assert s.lower_bound[i] < s.log_likelihood[i]


@pytest.mark.parametrize("cov_type", COV_TYPES)
def test_agrees_with_bound_terms_at_every_t(cov_type):
    X, before, q, after = em_step("old_faithful", 3, cov_type)
    s = bound_slice(X, before, after, q)
    for t, ll, lb in zip(s.ts, s.log_likelihood, s.lower_bound):
        terms = bound_terms(X, mixture_at(before, after, t), q)
        assert ll == pytest.approx(terms.log_likelihood, rel=1e-12)
        assert lb == pytest.approx(terms.lower_bound, rel=1e-12)


def test_default_ts_and_immutability():
    X, before, q, after = em_step("blobs", 2, "full")
    s = bound_slice(X, before, after, q)
    assert isinstance(s, BoundSlice)
    assert s.ts.shape == s.log_likelihood.shape == s.lower_bound.shape == (81,)
    assert s.ts[0] == -0.5 and s.ts[-1] == 1.5
    assert 0.0 in s.ts and 1.0 in s.ts
    assert np.all(np.diff(s.ts) > 0)
    for a in (s.ts, s.log_likelihood, s.lower_bound, s.gap):
        assert a.dtype == np.float64 and not a.flags.writeable
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.ts = np.zeros(3)
    # ts given by the caller are copied, not kept.
    ts = np.array([0.0, 0.5, 1.0])
    s2 = bound_slice(X, before, after, q, ts)
    ts[1] = 7.0
    assert s2.ts[1] == 0.5
    assert s2.log_likelihood[0] == s.log_likelihood[int(np.flatnonzero(s.ts == 0)[0])]
    # A scalar t is a slice of one.
    assert bound_slice(X, before, after, q, 0.25).ts.shape == (1,)


def _zero_weight_pair():
    cov = np.array([[1.0, 0.3], [0.3, 0.5]])
    before = Mixture(
        [0.5, 0.5, 0.0, 0.0], [[0, 0], [3, 0], [0, 3], [3, 3]], np.stack([cov] * 4), "full"
    )
    after = Mixture(
        [0.3, 0.0, 0.7, 0.0], [[0, 1], [3, 1], [1, 3], [2, 2]], np.stack([cov * 2] * 4), "full"
    )
    return before, after


def test_zero_weights_give_a_valid_mixture_for_every_t():
    before, after = _zero_weight_pair()
    for t in np.linspace(-0.5, 1.5, 81):
        mix = mixture_at(before, after, t)
        w = mix.weights
        assert w.sum() == pytest.approx(1.0, abs=1e-14)
        assert w[3] == 0.0  # zero at both ends: zero everywhere
        # Zero at one end only: zero at and beyond that end, none subnormal.
        assert np.all((w == 0.0) | (w >= np.finfo(float).tiny))
        if t <= 0:
            assert w[2] == 0.0
        if t >= 1:
            assert w[1] == 0.0
        if 0.05 < t < 0.95:
            assert 0.0 < w[2] < 0.7 and 0.0 < w[1] < 1.0
    # From the zero end the weight starts at about tiny and grows exponentially in t.
    assert mixture_at(before, after, -1e-4).weights[2] == 0.0
    assert 0.0 < mixture_at(before, after, 1e-4).weights[2] < 1e-300
    w2 = [mixture_at(before, after, t).weights[2] for t in (0.2, 0.4, 0.6)]
    assert 0.0 < w2[0] < w2[1] < w2[2]


def test_zero_weights_in_the_slice():
    before, after = _zero_weight_pair()
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 2)) * 1.5 + 1.5
    q, _ = e_step(X, before)  # mass on components 0 and 1 only
    s = bound_slice(X, before, after, q, FINE_TS)  # warnings are errors here
    assert np.all(np.isfinite(s.log_likelihood))
    # after gives component 1 weight 0 while q gives it mass: Q = -inf from
    # t = 1 on (beyond t = 1 its weight underflows to 0), finite before.
    assert np.all(np.isfinite(s.lower_bound[:I1]))
    assert np.all(s.lower_bound[I1:] == -np.inf)
    assert s.lower_bound[I0] == pytest.approx(s.log_likelihood[I0], rel=1e-9)
    assert np.all(s.lower_bound <= s.log_likelihood + 1e-12 * np.abs(s.log_likelihood))
    # q with mass on component 3, of weight 0 all along: L = -inf, log p is finite.
    q2 = rng.dirichlet(np.ones(4), size=len(X))
    s2 = bound_slice(X, before, after, q2, [-0.2, 0.0, 0.5, 1.0, 1.2])
    assert np.all(np.isfinite(s2.log_likelihood))
    assert np.all(s2.lower_bound == -np.inf)


def test_missing_data_uses_the_observed_coordinates():
    X = data.blobs(seed=5, n=180).copy()
    X[::7, 0] = np.nan
    X[3::11, 1] = np.nan
    with pytest.raises(EmvizError, match="NaN"):
        bound_slice(X, *_missing_step(X)[1:])
    prepared = prepare(X, missing="marginalize")
    _, before, after, q = _missing_step(X)
    s = bound_slice(prepared, before, after, q, [-0.3, 0.0, 0.6, 1.0])
    assert s.lower_bound[1] == pytest.approx(s.log_likelihood[1], rel=1e-9)
    assert np.all(s.lower_bound <= s.log_likelihood + 1e-12 * np.abs(s.log_likelihood))
    for t, ll, lb in zip(s.ts, s.log_likelihood, s.lower_bound):
        terms = bound_terms(prepared, mixture_at(before, after, t), q)
        assert (ll, lb) == (terms.log_likelihood, terms.lower_bound)
    assert s.log_likelihood[1] == pytest.approx(e_step(X, before, missing="marginalize")[1])


def _missing_step(X):
    prepared = prepare(X, missing="marginalize")
    before = initialize(prepared, 3, method="random_from_data", cov_type="diag", seed=2)
    q, _ = prepared.e_step(before)
    after = m_step(X, q, "diag", missing="marginalize", mixture=before)
    return X, before, after, q


def test_bad_input_raises():
    X, before, q, after = em_step("blobs", 3, "full")
    other_k = initialize(X, 2, cov_type="full", seed=0)
    other_type = initialize(X, 3, cov_type="diag", seed=0)
    bad = [
        ((X, before, other_k, q), "components"),
        ((X, before, other_type, q), "cov_type"),
        ((X, before.to_dict(), after, q), "Mixture"),
        ((X, before, after, q[:-1]), "shape"),
        ((X, before, after, q[:, :2] / q[:, :2].sum(axis=1, keepdims=True)), "columns"),
        ((X, before, after, q * 2), "sum to 1"),
        ((X, before, after, q, [0.0, np.nan]), "finite"),
        ((X, before, after, q, [0.0, np.inf]), "finite"),
        ((X, before, after, q, [[0.0, 1.0]]), "shape"),
        ((X, before, after, q, []), "empty"),
        ((X, before, after, q, ["a"]), "numeric"),
        ((X[:, :1], before, after, q), "shape"),
    ]
    for args, match in bad:
        with pytest.raises(EmvizError, match=match):
            bound_slice(*args)
    for t in (np.nan, np.inf, "x", None):
        with pytest.raises(EmvizError, match="t must be"):
            mixture_at(before, after, t)
    with pytest.raises(EmvizError, match="components"):
        mixture_at(before, other_k, 0.5)
    with pytest.raises(EmvizError, match="cov_type"):
        mixture_at(before, other_type, 0.5)
