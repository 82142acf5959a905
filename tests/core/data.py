"""Small data sets shared by the core tests."""

import numpy as np


def blobs(seed=0, n=300):
    """Three clusters of different shapes, ``n`` points of shape (n, 2)."""
    rng = np.random.default_rng(seed)
    a = rng.normal([0.0, 0.0], [1.0, 0.5], size=(n // 3, 2))
    b = rng.normal([4.0, 2.0], [0.7, 1.2], size=(n // 3, 2))
    c = rng.multivariate_normal([-2.0, 5.0], [[1.0, 0.8], [0.8, 1.0]], size=n - 2 * (n // 3))
    return np.concatenate([a, b, c])
