"""Scores of the "Predict, then reveal" quiz: how far a guessed step was from EM's.

A student guesses where an M-step will put each mean, or what an E-step will
give one point as responsibilities; the true step is then done and the guess
scored here, with no Qt:

- an M-step guess by the Mahalanobis distance of each guessed mean from the
  true new mean under the true new covariance,
  ``d_k = sqrt((g_k - mu_k)^T Sigma_k^{-1} (g_k - mu_k))``, averaged over
  the components (:func:`m_step_error`): 1 means "one standard deviation
  off", whatever the scale of the data;
- an E-step guess by the mean absolute error of the guessed responsibilities
  of the picked point, ``mean_k |q_k - r_k|`` (:func:`e_step_error`), between
  0 and 1 (at most 2 / K).

:func:`set_share` is the rule of the responsibility sliders (one moves, the
others share the rest in proportion) and :class:`RunningScore` the tally of
a session's guesses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "RunningScore",
    "e_step_error",
    "m_step_distances",
    "m_step_error",
    "set_share",
]


def m_step_distances(
    guessed_means: np.ndarray, means: np.ndarray, covariances: np.ndarray
) -> np.ndarray:
    """Mahalanobis distance of each guessed mean from the true mean, under the true covariance.

    Parameters
    ----------
    guessed_means : array of shape (n_components, 2)
        Where the student put each mean.
    means : array of shape (n_components, 2)
        The means after the true M-step.
    covariances : array of shape (n_components, 2, 2)
        The covariances after the true M-step (full matrices, whatever the
        covariance type).

    Returns
    -------
    array of shape (n_components,)
        ``sqrt((g_k - mu_k)^T Sigma_k^{-1} (g_k - mu_k))``.
    """
    g = np.asarray(guessed_means, dtype=np.float64)
    mu = np.asarray(means, dtype=np.float64)
    cov = np.asarray(covariances, dtype=np.float64)
    if g.shape != mu.shape or cov.shape != (*mu.shape, 2):
        raise ValueError(
            f"shapes disagree: guessed means {g.shape}, means {mu.shape}, covariances {cov.shape}"
        )
    diff = g - mu
    # Solve Sigma_k x = d_k rather than invert: the quadratic form is d_k . x.
    solved = np.linalg.solve(cov, diff[..., None])[..., 0]
    return np.sqrt(np.maximum(np.einsum("ki,ki->k", diff, solved), 0.0))


def m_step_error(guessed_means: np.ndarray, means: np.ndarray, covariances: np.ndarray) -> float:
    """The mean over components of :func:`m_step_distances`: the score of an M-step guess."""
    return float(np.mean(m_step_distances(guessed_means, means, covariances)))


def e_step_error(guessed_resp: np.ndarray, resp: np.ndarray) -> float:
    """Mean absolute error of guessed responsibilities for one point.

    Parameters
    ----------
    guessed_resp : array of shape (n_components,)
        The student's responsibilities of the picked point.
    resp : array of shape (n_components,)
        The point's responsibilities after the true E-step.

    Returns
    -------
    float
        ``mean_k |guessed_resp_k - resp_k|``.
    """
    q = np.asarray(guessed_resp, dtype=np.float64)
    r = np.asarray(resp, dtype=np.float64)
    if q.shape != r.shape or q.ndim != 1:
        raise ValueError(f"shapes disagree: guess {q.shape}, responsibilities {r.shape}")
    return float(np.mean(np.abs(q - r)))


def set_share(shares: np.ndarray, k: int, value: float) -> np.ndarray:
    """Responsibilities with component ``k`` at ``value`` and the others rescaled to sum to one.

    The others keep their proportions to one another (all equal if they
    were all zero), so moving one slider never disturbs how the rest compare.

    Parameters
    ----------
    shares : array of shape (n_components,)
        The responsibilities before the change (summing to one).
    k : int
        The component set.
    value : float
        Its new responsibility, clipped to [0, 1].

    Returns
    -------
    array of shape (n_components,)
        Non-negative, summing to one. With one component, ``[1.0]``.
    """
    q = np.clip(np.asarray(shares, dtype=np.float64), 0.0, None).copy()
    n = q.shape[0]
    if n == 1:
        return np.ones(1)
    value = float(np.clip(value, 0.0, 1.0))
    others = np.arange(n) != k
    rest = q[others].sum()
    q[others] = q[others] / rest if rest > 0 else 1.0 / (n - 1)
    q[others] *= 1.0 - value
    q[k] = value
    return q


@dataclass(frozen=True)
class RunningScore:
    """The tally of a session's scored guesses, by kind ("M" and "E").

    Attributes
    ----------
    counts : tuple of (str, int)
        Guesses scored of each kind.
    totals : tuple of (str, float)
        Sum of their errors, by kind.
    """

    counts: tuple[tuple[str, int], ...] = (("M", 0), ("E", 0))
    totals: tuple[tuple[str, float], ...] = (("M", 0.0), ("E", 0.0))

    def added(self, kind: str, error: float) -> RunningScore:
        """The tally with one more guess of ``kind`` ("M" or "E") and its ``error``."""
        if kind not in ("M", "E"):
            raise ValueError(f"kind must be 'M' or 'E'; got {kind!r}")
        counts = dict(self.counts)
        totals = dict(self.totals)
        counts[kind] += 1
        totals[kind] += float(error)
        return RunningScore(tuple(counts.items()), tuple(totals.items()))

    @property
    def n_guesses(self) -> int:
        """Every scored guess, of both kinds."""
        return sum(n for _, n in self.counts)

    def count(self, kind: str) -> int:
        return dict(self.counts)[kind]

    def mean(self, kind: str) -> float:
        """Mean error of the guesses of ``kind`` (NaN before the first)."""
        n = self.count(kind)
        return dict(self.totals)[kind] / n if n else float("nan")
