"""The covariance rules of the M-step: structure and eigenvalue floor.

Shared by the M-step on complete data (:mod:`emviz.core._kernels`) and on
incomplete data (:mod:`emviz.core.missing`), and by the initialisers.
"""

from __future__ import annotations

import numpy as np

from emviz.core.errors import EmvizError

# Even with ``reg_covar=0`` the smallest eigenvalue of a covariance is kept
# above this fraction of the data's variance.  A 2x2 covariance stored as a
# matrix carries its smallest eigenvalue only to eps * (largest eigenvalue),
# so at condition number c the log-likelihood is known to about n * eps * c;
# 1e-8 keeps that below 1e-7 per point, while the likelihood of a collapsing
# component, unbounded without a floor, stays finite.
MIN_RELATIVE_FLOOR = 1e-8


def floor_eigenvalues(cov: np.ndarray, floor: float) -> tuple[np.ndarray, np.ndarray]:
    """Clip the eigenvalues of symmetric 2x2 matrices at ``floor``.

    Maximising -N/2 log det S - 1/2 tr(S^-1 C) over matrices S whose
    eigenvalues are at least ``floor`` gives S = V max(Lambda, floor) V^T,
    where C = V Lambda V^T: the floor is the exact constrained maximiser,
    unlike adding ``floor * I``, which moves every eigenvalue and can lower
    the likelihood.  Matrices already above the floor are returned untouched
    (bit for bit).

    Parameters
    ----------
    cov : array of shape (K, 2, 2)
    floor : float

    Returns
    -------
    cov : array of shape (K, 2, 2)
    clipped : bool array of shape (K,)
    """
    a = cov[:, 0, 0]
    b = cov[:, 0, 1]
    c = cov[:, 1, 1]
    half_trace = 0.5 * (a + c)
    radius = np.hypot(0.5 * (a - c), b)
    # Smallest eigenvalue, computed without cancellation: det / largest.
    largest = half_trace + radius
    with np.errstate(divide="ignore", invalid="ignore"):
        smallest = np.where(largest > 0, (a * c - b * b) / largest, largest)
    clipped = ~(smallest >= floor)
    if np.any(clipped):
        cov = cov.copy()
        vals, vecs = np.linalg.eigh(cov[clipped])
        vals = np.maximum(vals, floor)
        fixed = np.einsum("kij,kj,klj->kil", vecs, vals, vecs)
        fixed = 0.5 * (fixed + fixed.transpose(0, 2, 1))
        cov[clipped] = fixed
    return cov, clipped


def structured_covariances(
    sxx: np.ndarray,
    sxy: np.ndarray,
    syy: np.ndarray,
    nk: np.ndarray,
    n_samples: int,
    cov_type: str,
    global_var: np.ndarray | None = None,
) -> np.ndarray:
    """Covariances of the M-step from each component's centred scatter.

    Parameters
    ----------
    sxx, sxy, syy : arrays of shape (K,)
        sum_n r_nk (x_n - mu_k)(x_n - mu_k)^T, entry by entry.
    nk : array of shape (K,)
        Responsibility mass; a component with none (``nk == 0``) gets
        ``global_var`` (the data's covariance) in the structure asked for.
    n_samples : int
        N, the divisor of the pooled ("tied") scatter.
    cov_type : {"full", "tied", "diag", "spherical"}
        "full": scatter / N_k; "tied": all scatters pooled / N; "diag": the
        diagonal of "full"; "spherical": the mean of that diagonal times I.
    global_var : array of shape (2, 2), optional
        Needed when some ``nk`` is 0.

    Returns
    -------
    array of shape (K, 2, 2), before the eigenvalue floor
    """
    k = nk.shape[0]
    empty = ~(nk > 0)
    safe_nk = np.where(empty, 1.0, nk)
    if cov_type == "full":
        cov = np.empty((k, 2, 2))
        cov[:, 0, 0] = sxx / safe_nk
        cov[:, 0, 1] = cov[:, 1, 0] = sxy / safe_nk
        cov[:, 1, 1] = syy / safe_nk
        if empty.any():
            cov[empty] = global_var
    elif cov_type == "tied":
        shared = np.array([[sxx.sum(), sxy.sum()], [sxy.sum(), syy.sum()]]) / n_samples
        cov = np.broadcast_to(shared, (k, 2, 2)).copy()
    elif cov_type == "diag":
        cov = np.zeros((k, 2, 2))
        cov[:, 0, 0] = sxx / safe_nk
        cov[:, 1, 1] = syy / safe_nk
        if empty.any():
            cov[empty] = np.diag(np.diag(global_var))
    elif cov_type == "spherical":
        var = 0.5 * (sxx + syy) / safe_nk
        if empty.any():
            var[empty] = 0.5 * np.trace(global_var)
        cov = var[:, None, None] * np.eye(2)
    else:  # pragma: no cover - checked by callers
        raise EmvizError(f"unknown cov_type {cov_type!r}")
    return cov
