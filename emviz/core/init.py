"""Starting points for EM.

Every method is deterministic for a given seed and never divides by zero on
duplicate or identical points: where there are fewer distinct points than
components, some components start on the same point, which is well defined
(they share the responsibility equally).
"""

from __future__ import annotations

from collections import deque

import numpy as np

from emviz.core.covariances import floor_eigenvalues
from emviz.core.data import PreparedData, as_data
from emviz.core.errors import EmvizError
from emviz.core.kmeans import iterate_kmeans
from emviz.core.mixture import Mixture, check_cov_type
from emviz.core.settings import INIT_METHODS
from emviz.core.validation import check_n_components, check_reg_covar

_KMEANS_MAX_ITER = 100


def _sq_dist(data: PreparedData, centers: np.ndarray) -> np.ndarray:
    """Squared distances, array of shape (n_samples, n_centers), centred coordinates."""
    dx = data.x[:, None] - centers[None, :, 0]
    dy = data.y[:, None] - centers[None, :, 1]
    return dx * dx + dy * dy


def _kmeans_pp(data: PreparedData, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeding (Arthur and Vassilvitskii 2007), centres in centred coordinates.

    Each new centre is drawn with probability proportional to the squared
    distance to the nearest centre chosen so far; when every point already
    coincides with a centre (fewer distinct points than components) it is
    drawn uniformly.
    """
    n = data.n_samples
    pts = np.column_stack([data.x, data.y])
    centers = np.empty((k, 2))
    centers[0] = pts[rng.integers(n)]
    closest = _sq_dist(data, centers[:1])[:, 0]
    for j in range(1, k):
        total = closest.sum()
        if total > 0:
            idx = int(rng.choice(n, p=closest / total))
        else:
            idx = int(rng.integers(n))
        centers[j] = pts[idx]
        np.minimum(closest, _sq_dist(data, centers[j : j + 1])[:, 0], out=closest)
    return centers


def _lloyd(data: PreparedData, centers: np.ndarray) -> np.ndarray:
    """Lloyd's k-means from ``centers`` until the assignment stops changing."""
    steps = iterate_kmeans(
        None, centers + data.ref, data=data, max_iter=_KMEANS_MAX_ITER, score=False
    )
    (last,) = deque(steps, maxlen=1)
    return last.mixture.means - data.ref


def _from_centers(data: PreparedData, centers: np.ndarray, cov_type: str, floor: float) -> Mixture:
    """Mixture with the given means, fitted to a hard assignment to the nearest centre.

    Weights and covariances come from an M-step on one-hot responsibilities.
    Ties (duplicate centres) share the points equally, so no component is
    left empty unless no point is nearest to it.  An empty component gets
    the data's covariance and a weight of one point's share, then the weights
    are renormalised, so that it can still win points.
    """
    # Laid out (K, n) and filled in place: the M-step reads that layout, and
    # an (n, K) squared distance through broadcasting would hold five arrays
    # of n x K floats at once (400 MB for a million points and K = 10).
    k = centers.shape[0]
    resp_t = np.empty((k, data.n_samples))
    tmp = np.empty(data.n_samples)
    for j in range(k):
        d2 = resp_t[j]  # (x - cx)^2 + (y - cy)^2, as _sq_dist computes it
        np.subtract(data.x, centers[j, 0], out=d2)
        np.multiply(d2, d2, out=d2)
        np.subtract(data.y, centers[j, 1], out=tmp)
        np.multiply(tmp, tmp, out=tmp)
        d2 += tmp
    nearest = resp_t == resp_t.min(axis=0)
    # Ties share the point equally: 1 / (number of nearest centres), or 0.
    np.divide(nearest, nearest.sum(axis=0), out=resp_t)
    mix, nk, _ = data.m_step(resp_t.T, cov_type, floor)
    weights = np.maximum(nk, 1.0)
    weights /= weights.sum()
    return Mixture(
        weights=weights,
        means=centers + data.ref,
        covariances=mix.covariances,
        cov_type=cov_type,
    )


def initialize(
    X: object,
    n_components: int,
    method: str = "kmeans++",
    cov_type: str = "full",
    seed: int | None = None,
    reg_covar: float = 1e-6,
) -> Mixture:
    """A starting mixture for EM.

    Parameters
    ----------
    X : array-like of shape (n_samples, 2), or prepared data (:class:`emviz.core.data.Data`)
        With missing coordinates (prepared with ``missing="marginalize"``),
        the methods run on the points with each missing coordinate at its
        axis's observed mean, and every covariance eigenvalue is then raised
        to the floor of the observed data: the imputed points have less
        spread, and a start below that floor could let the first EM step
        lower the likelihood.
    n_components : int
        K, from 1 to n_samples.
    method : {"kmeans++", "kmeans", "random_from_data", "random_resp"}
        - "kmeans++": means by k-means++ seeding, weights and covariances
          from the hard assignment to the nearest mean.
        - "kmeans": the same, after Lloyd's k-means from the k-means++ seeds.
        - "random_from_data": K points drawn without replacement as means,
          equal weights, every covariance the data's covariance.
        - "random_resp": uniform random responsibilities, then an M-step.
    cov_type : {"full", "tied", "diag", "spherical"}
    seed : int, optional
        Same seed, same result.
    reg_covar : float
        Relative eigenvalue floor, as in :func:`emviz.core.steps.m_step`.

    Returns
    -------
    Mixture
    """
    check_cov_type(cov_type)
    reg = check_reg_covar(reg_covar)
    given = as_data(X)
    data = given.filled()
    k = check_n_components(n_components, data.n_samples)
    if method not in INIT_METHODS:
        raise EmvizError(f"method must be one of {', '.join(INIT_METHODS)}; got {method!r}")
    start = _start(data, k, method, cov_type, seed, data.floor(reg))
    if given is data:
        return start
    cov, clipped = floor_eigenvalues(start.covariances, given.floor(reg))
    if not clipped.any():
        return start
    return Mixture(weights=start.weights, means=start.means, covariances=cov, cov_type=cov_type)


def _start(
    data: PreparedData, k: int, method: str, cov_type: str, seed: int | None, floor: float
) -> Mixture:
    """The mixture ``method`` gives on complete points."""
    rng = np.random.default_rng(seed)
    n = data.n_samples
    if method == "kmeans++":
        return _from_centers(data, _kmeans_pp(data, k, rng), cov_type, floor)
    if method == "kmeans":
        return _from_centers(data, _lloyd(data, _kmeans_pp(data, k, rng)), cov_type, floor)
    if method == "random_from_data":
        idx = rng.choice(n, size=k, replace=False)
        ones = np.full((n, 1), 1.0)
        whole, _, _ = data.m_step(ones, cov_type, floor)
        return Mixture(
            weights=np.full(k, 1.0 / k),
            means=data.X[idx],
            covariances=np.repeat(whole.covariances, k, axis=0),
            cov_type=cov_type,
        )
    # random_resp
    resp = rng.random((n, k))
    resp /= resp.sum(axis=1, keepdims=True)
    return data.m_step(resp, cov_type, floor)[0]
