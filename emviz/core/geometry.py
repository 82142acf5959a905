"""Shapes for drawing a Gaussian: the ellipses of equal density."""

from __future__ import annotations

import numpy as np


def ellipse_points(mean: np.ndarray, cov: np.ndarray, n_std: float = 2.0, n_points: int = 100):
    """Points on the ellipse (x - mean)^T cov^-1 (x - mean) = n_std^2.

    With cov = V diag(l1, l2) V^T (``numpy.linalg.eigh``), the ellipse is
    mean + n_std * V diag(sqrt(l1), sqrt(l2)) [cos t, sin t]^T.

    Parameters
    ----------
    mean : array of shape (2,)
    cov : array of shape (2, 2)
        Symmetric positive definite.
    n_std : float
        Mahalanobis radius: 1, 2 and 3 enclose about 39 %, 86 % and 99 % of a
        bivariate Gaussian's mass.
    n_points : int
        Points on the closed curve; the last equals the first.

    Returns
    -------
    array of shape (n_points, 2)
    """
    vals, vecs = np.linalg.eigh(np.asarray(cov, dtype=np.float64))
    t = np.linspace(0.0, 2.0 * np.pi, n_points)
    circle = np.stack([np.cos(t), np.sin(t)])  # (2, n_points)
    axes = vecs * (n_std * np.sqrt(np.maximum(vals, 0.0)))  # columns scaled
    return (axes @ circle).T + np.asarray(mean, dtype=np.float64)


def ellipse_axes(cov: np.ndarray, n_std: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """Semi-axis lengths (descending) and their unit directions.

    Returns
    -------
    lengths : array of shape (2,)
    directions : array of shape (2, 2)
        Column ``i`` is the direction of semi-axis ``i``.
    """
    vals, vecs = np.linalg.eigh(np.asarray(cov, dtype=np.float64))
    order = np.argsort(vals)[::-1]
    return n_std * np.sqrt(np.maximum(vals[order], 0.0)), vecs[:, order]
