"""The quiz's scores (no Qt): Mahalanobis distances, responsibility errors, the tally."""

from __future__ import annotations

import math

import numpy as np
import pytest

from emviz.core.quiz_score import (
    RunningScore,
    e_step_error,
    m_step_distances,
    m_step_error,
    set_share,
)


def test_a_perfect_guess_scores_zero():
    means = np.array([[0.0, 0.0], [3.0, 1.0]])
    covs = np.array([np.eye(2), [[2.0, 0.5], [0.5, 1.0]]])
    assert m_step_error(means, means, covs) == 0.0
    assert e_step_error([0.3, 0.7], [0.3, 0.7]) == 0.0


def test_mahalanobis_distance_is_in_standard_deviations():
    # Along a principal axis of variance 4, two units off is one standard deviation.
    covs = np.array([np.diag([4.0, 1.0]), np.diag([1.0, 9.0])])
    means = np.zeros((2, 2))
    guess = np.array([[2.0, 0.0], [0.0, 6.0]])
    np.testing.assert_allclose(m_step_distances(guess, means, covs), [1.0, 2.0])
    assert m_step_error(guess, means, covs) == pytest.approx(1.5)


def test_mahalanobis_distance_matches_the_inverse_formula():
    rng = np.random.default_rng(3)
    k = 5
    a = rng.normal(size=(k, 2, 2))
    covs = a @ a.transpose(0, 2, 1) + 0.1 * np.eye(2)
    means = rng.normal(size=(k, 2))
    guess = means + rng.normal(size=(k, 2))
    expected = [
        math.sqrt((guess[j] - means[j]) @ np.linalg.inv(covs[j]) @ (guess[j] - means[j]))
        for j in range(k)
    ]
    np.testing.assert_allclose(m_step_distances(guess, means, covs), expected, rtol=1e-10)


def test_shapes_must_agree():
    with pytest.raises(ValueError):
        m_step_error(np.zeros((2, 2)), np.zeros((3, 2)), np.tile(np.eye(2), (3, 1, 1)))
    with pytest.raises(ValueError):
        e_step_error([0.5, 0.5], [0.2, 0.3, 0.5])


def test_e_step_error_is_the_mean_absolute_error():
    assert e_step_error([0.5, 0.5], [0.9, 0.1]) == pytest.approx(0.4)
    assert e_step_error([1.0, 0.0, 0.0], [0.0, 0.0, 1.0]) == pytest.approx(2 / 3)


@pytest.mark.parametrize("k", [0, 1, 3])
def test_set_share_keeps_a_distribution_and_the_others_proportions(k):
    shares = np.array([0.1, 0.2, 0.3, 0.4])
    out = set_share(shares, k, 0.55)
    assert out.sum() == pytest.approx(1.0)
    assert out[k] == pytest.approx(0.55)
    others = np.arange(4) != k
    np.testing.assert_allclose(
        out[others] / out[others].sum(), shares[others] / shares[others].sum()
    )


def test_set_share_edge_cases():
    np.testing.assert_allclose(set_share([0.3, 0.7], 0, 0.8), [0.8, 0.2])
    np.testing.assert_allclose(set_share([1.0, 0.0, 0.0], 0, 0.4), [0.4, 0.3, 0.3])
    np.testing.assert_allclose(set_share([0.5, 0.5], 1, 1.7), [0.0, 1.0])  # clipped
    np.testing.assert_allclose(set_share([1.0], 0, 0.2), [1.0])


def test_running_score_accumulates_by_kind():
    score = RunningScore()
    assert score.n_guesses == 0 and math.isnan(score.mean("M"))
    score = score.added("M", 1.0).added("M", 2.0).added("E", 0.25)
    assert score.n_guesses == 3
    assert score.count("M") == 2 and score.mean("M") == pytest.approx(1.5)
    assert score.count("E") == 1 and score.mean("E") == pytest.approx(0.25)
    with pytest.raises(ValueError):
        score.added("X", 1.0)
