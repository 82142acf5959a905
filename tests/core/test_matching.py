"""Component matching: the Hungarian algorithm, parameter errors, same-solution tests."""

import itertools

import numpy as np
import pytest

from emviz.core import EmvizError, Mixture
from emviz.core.matching import (
    bhattacharyya_costs,
    hungarian,
    match_components,
    mixture_variance,
    parameter_errors,
    same_solution,
)


def random_mixture(k, seed=0, spread=10.0):
    rng = np.random.default_rng(seed)
    weights = rng.dirichlet(np.ones(k))
    means = rng.normal(scale=spread, size=(k, 2))
    a = rng.normal(size=(k, 2, 2))
    covariances = a @ a.transpose(0, 2, 1) + 0.2 * np.eye(2)
    return Mixture(weights, means, covariances)


def permuted(mixture, order):
    """The mixture with component ``order[j]`` placed at position ``j``."""
    return Mixture(
        mixture.weights[order],
        mixture.means[order],
        mixture.covariances[order],
        mixture.cov_type,
    )


def subset(mixture, order):
    """Components ``order`` of the mixture, weights renormalised."""
    w = mixture.weights[order]
    return Mixture(w / w.sum(), mixture.means[order], mixture.covariances[order])


def brute_force(cost):
    n, m = cost.shape
    return min(
        sum(cost[i, cols[i]] for i in range(n)) for cols in itertools.permutations(range(m), n)
    )


# ---------------------------------------------------------------------------
# Hungarian algorithm


@pytest.mark.parametrize("k", range(1, 8))
def test_hungarian_equals_brute_force(k):
    rng = np.random.default_rng(k)
    for trial in range(20):
        if trial % 3 == 0:
            cost = rng.integers(0, 4, size=(k, k)).astype(float)  # many ties
        elif trial % 3 == 1:
            cost = rng.normal(scale=100.0, size=(k, k))  # negative costs too
        else:
            cost = rng.exponential(size=(k, k)) ** 3  # wide dynamic range
        cols = hungarian(cost)
        assert sorted(cols.tolist()) == list(range(k))
        assert cost[np.arange(k), cols].sum() == pytest.approx(brute_force(cost), abs=1e-9)


@pytest.mark.parametrize(("n", "m"), [(1, 4), (2, 5), (3, 6), (4, 5), (0, 3)])
def test_hungarian_rectangular_equals_brute_force(n, m):
    rng = np.random.default_rng(n * 10 + m)
    for _ in range(20):
        cost = rng.random((n, m))
        cols = hungarian(cost)
        assert len(set(cols.tolist())) == n
        assert np.all((cols >= 0) & (cols < m))
        assert cost[np.arange(n), cols].sum() == pytest.approx(brute_force(cost), abs=1e-12)


@pytest.mark.parametrize(
    "cost",
    [np.zeros(3), np.zeros((3, 2)), np.array([[0.0, np.inf], [1.0, 0.0]]), [[np.nan]]],
)
def test_hungarian_rejects_bad_costs(cost):
    with pytest.raises(EmvizError):
        hungarian(cost)


# ---------------------------------------------------------------------------
# match_components


def test_bhattacharyya_costs_against_direct_formula():
    a = random_mixture(3, seed=1)
    b = random_mixture(4, seed=2)
    cost = bhattacharyya_costs(a, b)
    assert cost.shape == (3, 4)
    for i in range(3):
        for j in range(4):
            s = 0.5 * (a.covariances[i] + b.covariances[j])
            d = a.means[i] - b.means[j]
            expected = 0.125 * d @ np.linalg.inv(s) @ d + 0.5 * (
                np.linalg.slogdet(s)[1]
                - 0.5
                * (np.linalg.slogdet(a.covariances[i])[1] + np.linalg.slogdet(b.covariances[j])[1])
            )
            assert cost[i, j] == pytest.approx(expected, rel=1e-10, abs=1e-12)
    np.testing.assert_allclose(np.diag(bhattacharyya_costs(a, a)), 0.0, atol=1e-12)
    np.testing.assert_allclose(bhattacharyya_costs(b, a), cost.T, rtol=1e-12)


def test_bhattacharyya_costs_are_affine_invariant():
    a, b = random_mixture(3, seed=3), random_mixture(3, seed=4)
    A = np.array([[3.0, 1.0], [-0.5, 2.0]])
    t = np.array([1e6, -2e6])

    def mapped(m):
        return Mixture(m.weights, m.means @ A.T + t, A @ m.covariances @ A.T)

    np.testing.assert_allclose(
        bhattacharyya_costs(mapped(a), mapped(b)), bhattacharyya_costs(a, b), rtol=1e-6
    )


@pytest.mark.parametrize("k", [1, 2, 3, 5, 10])
def test_match_components_recovers_a_permutation(k):
    rng = np.random.default_rng(k)
    for seed in range(10):
        a = random_mixture(k, seed=seed)
        order = rng.permutation(k)
        b = permuted(a, order)  # b's component j is a's component order[j]
        perm = match_components(a, b)
        assert perm.shape == (k,)
        # Component perm[i] of b is component i of a.
        np.testing.assert_array_equal(order[perm], np.arange(k))
        np.testing.assert_array_equal(b.means[perm], a.means)
        np.testing.assert_array_equal(b.covariances[perm], a.covariances)


def test_match_components_survives_small_perturbations():
    rng = np.random.default_rng(0)
    a = random_mixture(6, seed=5, spread=20.0)
    order = rng.permutation(6)
    b = permuted(a, order)
    noisy = Mixture(b.weights, b.means + rng.normal(scale=0.05, size=(6, 2)), b.covariances * 1.05)
    np.testing.assert_array_equal(order[match_components(a, noisy)], np.arange(6))


def test_match_components_with_different_numbers_of_components():
    big = random_mixture(5, seed=6, spread=30.0)
    small = subset(big, [3, 0, 4])  # small's components are big's 3, 0, 4
    np.testing.assert_array_equal(match_components(small, big), [3, 0, 4])
    perm = match_components(big, small)
    np.testing.assert_array_equal(perm, [1, -1, -1, 0, 2])


# ---------------------------------------------------------------------------
# parameter_errors


def test_parameter_errors_of_a_permuted_copy_are_zero():
    truth = random_mixture(4, seed=7)
    order = np.array([2, 0, 3, 1])
    fitted = permuted(truth, order)
    err = parameter_errors(fitted, truth)
    np.testing.assert_array_equal(err.perm, order)
    for arr in (err.weights, err.means, err.covariances):
        assert arr.shape == (4,)
        np.testing.assert_array_equal(arr, 0.0)
        assert not arr.flags.writeable


def test_parameter_errors_of_a_perturbed_copy():
    rng = np.random.default_rng(8)
    truth = random_mixture(4, seed=8, spread=20.0)
    order = np.array([1, 3, 0, 2])
    w = truth.weights[order] + rng.normal(scale=0.01, size=4)
    w = np.abs(w) / np.abs(w).sum()
    mu = truth.means[order] + rng.normal(scale=0.3, size=(4, 2))
    jitter = rng.normal(scale=0.05, size=(4, 2, 2))
    cov = truth.covariances[order] + 0.5 * (jitter + jitter.transpose(0, 2, 1))
    fitted = Mixture(w, mu, cov)
    err = parameter_errors(fitted, truth)
    np.testing.assert_array_equal(err.perm, order)
    for i in range(4):
        j = order[i]
        assert err.weights[i] == pytest.approx(abs(w[i] - truth.weights[j]), rel=1e-12)
        dm = mu[i] - truth.means[j]
        assert err.means[i] == pytest.approx(np.sqrt(dm[0] ** 2 + dm[1] ** 2), rel=1e-12)
        dc = cov[i] - truth.covariances[j]
        assert err.covariances[i] == pytest.approx(np.sqrt((dc**2).sum()), rel=1e-12)


def test_parameter_errors_with_an_explicit_or_partial_permutation():
    truth = random_mixture(3, seed=9)
    fitted = random_mixture(3, seed=10)
    err = parameter_errors(fitted, truth, perm=[2, 1, 0])
    assert err.means[0] == pytest.approx(np.linalg.norm(fitted.means[0] - truth.means[2]))
    big = random_mixture(4, seed=11, spread=30.0)
    err = parameter_errors(big, subset(big, [0, 2, 3]))
    np.testing.assert_array_equal(err.perm, [0, -1, 1, 2])
    assert np.isnan(err.means[1]) and np.isnan(err.weights[1]) and np.isnan(err.covariances[1])
    np.testing.assert_array_equal(err.means[[0, 2, 3]], 0.0)


@pytest.mark.parametrize("perm", [[0, 0, 1], [0, 1], [0, 1, 3], [0.0, 1.0, 2.0], [-2, 0, 1]])
def test_parameter_errors_rejects_bad_permutations(perm):
    m = random_mixture(3)
    with pytest.raises(EmvizError):
        parameter_errors(m, m, perm=perm)


# ---------------------------------------------------------------------------
# same_solution


def test_same_solution_up_to_permutation():
    a = random_mixture(5, seed=12)
    b = permuted(a, [4, 2, 0, 1, 3])
    assert same_solution(a, b)
    assert same_solution(b, a)
    assert not same_solution(a, random_mixture(5, seed=13))
    assert not same_solution(a, random_mixture(4, seed=12))


def test_same_solution_tolerance_is_relative_to_the_scale():
    a = random_mixture(3, seed=14)
    s = np.sqrt(mixture_variance(a))
    shift = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    assert same_solution(a, Mixture(a.weights, a.means + 0.005 * s * shift, a.covariances))
    assert not same_solution(a, Mixture(a.weights, a.means + 0.02 * s * shift, a.covariances))
    # The same comparison in other units and far from the origin.
    for factor, offset in [(1e-6, 0.0), (1e6, 0.0), (1.0, 1e9)]:

        def units(m):
            return Mixture(m.weights, factor * m.means + offset, factor**2 * m.covariances)

        near = Mixture(a.weights, a.means + 0.005 * s * shift, a.covariances)
        far = Mixture(a.weights, a.means + 0.02 * s * shift, a.covariances)
        assert same_solution(units(a), units(near))
        assert not same_solution(units(a), units(far))


def test_same_solution_with_an_explicit_scale_and_weights():
    a = random_mixture(2, seed=15)
    w = a.weights + np.array([0.02, -0.02])
    b = Mixture(w, a.means, a.covariances)
    assert not same_solution(a, b, rtol=1e-2)
    assert same_solution(a, b, rtol=1e-2, atol=0.011)
    c = Mixture(a.weights, a.means + 1.0, a.covariances)
    assert same_solution(a, c, rtol=1e-2, scale=1e5)  # 1% of sqrt(1e5) = 3.2 > sqrt(2)
    assert not same_solution(a, c, rtol=1e-2, scale=1e3)
    with pytest.raises(EmvizError):
        same_solution(a, b, rtol=-1.0)
    with pytest.raises(EmvizError):
        same_solution(a, b, scale=np.nan)
