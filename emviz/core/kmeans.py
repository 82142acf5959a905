"""Lloyd's k-means, step by step, to set beside EM.

k-means is the limit of classification EM with equal weights and equal
spherical covariances shrinking to zero: each point goes wholly to the
nearest mean (the "E" half-step), then each mean moves to the centroid of
its points (the "M" half-step).  The snapshots carry the mixture that
describes the partition (cluster shares as weights, cluster means, and the
pooled within-cluster variance as one spherical covariance), so k-means can
be drawn and scored like EM.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from emviz.core._products import matmul
from emviz.core.data import Data, PreparedData, as_data
from emviz.core.errors import EmvizError
from emviz.core.mixture import Mixture
from emviz.core.snapshot import Snapshot
from emviz.core.validation import check_tol_max_iter


def nearest(data: PreparedData, centers: np.ndarray) -> np.ndarray:
    """Index of the nearest centre for every point, array of shape (n_samples,).

    ``centers`` (K, 2) are in the data's centred coordinates.  Ties go to the
    lower index.
    """
    dx = data.x[:, None] - centers[None, :, 0]
    dy = data.y[:, None] - centers[None, :, 1]
    return np.argmin(dx * dx + dy * dy, axis=1)


def _partition_mixture(
    data: PreparedData, centers: np.ndarray, labels: np.ndarray, floor: float
) -> tuple[Mixture, np.ndarray]:
    """The mixture describing a hard partition, and its one-hot responsibilities (n, K)."""
    n = data.n_samples
    k = centers.shape[0]
    counts = np.bincount(labels, minlength=k).astype(float)
    dx = data.x - centers[labels, 0]
    dy = data.y - centers[labels, 1]
    var = max(0.5 * float(matmul(dx, dx) + matmul(dy, dy)) / n, floor)
    weights = np.maximum(counts, 1.0)  # an empty cluster keeps a sliver of weight
    mixture = Mixture(
        weights=weights / weights.sum(),
        means=centers + data.ref,
        covariances=np.repeat((var * np.eye(2))[None], k, axis=0),
        cov_type="spherical",
    )
    resp_t = np.zeros((k, n))
    resp_t[labels, np.arange(n)] = 1.0
    resp_t.setflags(write=False)
    return mixture, resp_t.T


def iterate_kmeans(
    X: object,
    start_means: object,
    *,
    max_iter: int = 300,
    data: Data | None = None,
    reg_covar: float = 1e-6,
    score: bool = True,
) -> Iterator[Snapshot]:
    """Lloyd's algorithm, yielding a :class:`Snapshot` after each half-step.

    Parameters
    ----------
    X : array-like of shape (n_samples, 2)
    start_means : array-like of shape (n_components, 2)
        Starting centres (for a comparison with EM, the means of EM's
        starting mixture).
    max_iter : int
        Most iterations.
    data : Data, optional
        ``prepare(X, missing)`` computed already.  With missing coordinates,
        k-means partitions the points with each missing coordinate at its
        axis's observed mean (:meth:`~emviz.core.data.MissingData.filled`),
        and the log-likelihood is that of the observed coordinates.
    reg_covar : float
        Relative floor of the pooled variance, as for EM.
    score : bool
        Compute each snapshot's log-likelihood (an extra pass over the data);
        when False it is NaN.

    Yields
    ------
    Snapshot
        "init", then "E" (assignment) and "M" (centroids) alternately; the
        last is marked converged when an assignment no longer changes.
        ``log_likelihood`` is log p(X | theta) of the partition's mixture.
    """
    _, max_iter = check_tol_max_iter(0.0, max_iter)
    scored = as_data(X) if data is None else data
    data = scored.filled()
    centers = np.array(start_means, dtype=np.float64)
    if centers.ndim != 2 or centers.shape[1] != 2 or len(centers) < 1:
        raise EmvizError(f"start_means must have shape (n_components, 2); got {centers.shape}")
    centers = centers - data.ref
    floor = data.floor(reg_covar)
    pts = np.column_stack([data.x, data.y])

    def snapshot(iteration, phase, labels, converged=False):
        mixture, resp = _partition_mixture(data, centers, labels, floor)
        ll = scored.e_step(mixture)[1] if score else float("nan")
        return Snapshot(iteration, phase, mixture, resp, ll, converged)

    labels = nearest(data, centers)
    first = snapshot(0, "init", labels)
    yield Snapshot(0, "init", first.mixture, None, first.log_likelihood)
    previous = None
    for iteration in range(1, max_iter + 1):
        labels = nearest(data, centers)
        yield snapshot(iteration, "E", labels)
        for j in range(centers.shape[0]):
            members = labels == j
            if members.any():  # an empty cluster keeps its centre
                centers[j] = pts[members].mean(axis=0)
        converged = previous is not None and np.array_equal(labels, previous)
        yield snapshot(iteration, "M", labels, converged)
        if converged:
            return
        previous = labels
