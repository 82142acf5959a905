"""Ellipses of equal density: checked against the Mahalanobis distance itself."""

import numpy as np
import pytest

from emviz.core import ellipse_axes, ellipse_points, ellipses_points


def random_spd(rng, k):
    a = rng.normal(size=(k, 2, 2)) * rng.uniform(0.01, 10.0, size=(k, 1, 1))
    return a @ np.swapaxes(a, 1, 2) + 1e-3 * np.eye(2)


@pytest.mark.parametrize("n_std", [1.0, 2.0, 3.0])
def test_ellipse_points_lie_at_the_mahalanobis_radius(n_std):
    rng = np.random.default_rng(1)
    cov = random_spd(rng, 1)[0]
    mean = rng.normal(size=2) * 100
    xy = ellipse_points(mean, cov, n_std, n_points=50)
    d = xy - mean
    m2 = np.einsum("ni,ij,nj->n", d, np.linalg.inv(cov), d)
    np.testing.assert_allclose(m2, n_std**2, rtol=1e-10)
    np.testing.assert_array_equal(xy[0], xy[-1])  # closed


def test_ellipses_points_equal_one_at_a_time():
    rng = np.random.default_rng(2)
    k = 7
    means = rng.normal(size=(k, 2)) * 10
    covs = random_spd(rng, k)
    radii = (1.0, 2.0, 3.0)
    batch = ellipses_points(means, covs, radii, n_points=120)
    assert batch.shape == (3, k, 120, 2)
    for i, r in enumerate(radii):
        for j in range(k):
            np.testing.assert_allclose(
                batch[i, j], ellipse_points(means[j], covs[j], r, n_points=120), rtol=0, atol=1e-12
            )


def test_ellipse_axes_are_the_square_roots_of_the_eigenvalues():
    cov = np.array([[4.0, 0.0], [0.0, 1.0]])
    lengths, directions = ellipse_axes(cov, n_std=2.0)
    np.testing.assert_allclose(lengths, [4.0, 2.0])
    np.testing.assert_allclose(np.abs(directions), np.eye(2))
