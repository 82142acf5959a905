"""Shapes for drawing a Gaussian: the ellipses of equal density."""

from __future__ import annotations

from functools import lru_cache

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


@lru_cache(maxsize=8)
def _unit_circle(n_points: int) -> np.ndarray:
    """Points [cos t, sin t] for t from 0 to 2 pi, array of shape (2, n_points), read-only."""
    t = np.linspace(0.0, 2.0 * np.pi, n_points)
    circle = np.stack([np.cos(t), np.sin(t)])
    circle.setflags(write=False)
    return circle


def ellipses_points(
    means: np.ndarray, covariances: np.ndarray, n_stds: tuple[float, ...], n_points: int = 100
) -> np.ndarray:
    """:func:`ellipse_points` for every component and radius at once.

    Parameters
    ----------
    means : array of shape (K, 2)
    covariances : array of shape (K, 2, 2)
        Symmetric positive definite.
    n_stds : tuple of float
        Mahalanobis radii.
    n_points : int
        Points on each closed curve; the last equals the first.

    Returns
    -------
    array of shape (len(n_stds), K, n_points, 2)
        Entry [i, k] equals ``ellipse_points(means[k], covariances[k], n_stds[i], n_points)``.
    """
    means = np.asarray(means, dtype=np.float64)
    vals, vecs = np.linalg.eigh(np.asarray(covariances, dtype=np.float64))  # (K, 2), (K, 2, 2)
    axes = vecs * np.sqrt(np.maximum(vals, 0.0))[:, None, :]  # columns scaled, (K, 2, 2)
    radii = np.asarray(n_stds, dtype=np.float64)[:, None, None, None]
    unit = np.swapaxes(axes @ _unit_circle(n_points), 1, 2)  # (K, n_points, 2)
    return radii * unit + means[None, :, None, :]


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
