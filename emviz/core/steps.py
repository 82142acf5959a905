"""The public steps of EM on arrays of points: E-step, M-step, log-likelihood.

Each takes the points as given, prepares them (:func:`emviz.core.data.prepare`;
prepared data is used as it is) and runs the step through the data protocol,
so complete and incomplete data (``missing="marginalize"``) take the same path.
"""

from __future__ import annotations

import numpy as np

from emviz.core.covariances import (
    MIN_RELATIVE_FLOOR,
    floor_eigenvalues,
    structured_covariances,
)
from emviz.core.data import as_data
from emviz.core.errors import EmvizError
from emviz.core.mixture import Mixture, check_cov_type
from emviz.core.validation import check_reg_covar, check_resp

__all__ = [
    "MIN_RELATIVE_FLOOR",
    "e_step",
    "floor_eigenvalues",
    "log_likelihood",
    "m_step",
    "structured_covariances",
]


def e_step(X: object, mixture: Mixture, *, missing: str = "raise") -> tuple[np.ndarray, float]:
    """Posterior responsibilities and the log-likelihood.

    Parameters
    ----------
    X : array-like of shape (n_samples, 2), or PreparedData / MissingData
        The points (data :func:`~emviz.core.data.prepare` made is used as it is).
    mixture : Mixture
        The current parameters theta.
    missing : {"raise", "marginalize"}
        "raise" (default) refuses NaN in ``X``.  "marginalize" treats NaN as
        a missing coordinate: a row with one coordinate observed uses that
        coordinate's marginal density, rows with none are dropped (see
        :mod:`emviz.core.missing`), and the log-likelihood is the
        observed-data log-likelihood.

    Returns
    -------
    resp : array of shape (n_samples, n_components)
        ``resp[n, k] = pi_k N(x_n | mu_k, Sigma_k) / sum_j pi_j N(x_n | mu_j, Sigma_j)``;
        each row sums to one.  Read-only.
    log_likelihood : float
        log p(X | theta) = sum_n log sum_k pi_k N(x_n | mu_k, Sigma_k).

    Raises
    ------
    EmvizError
        If ``X`` is not of shape (n_samples, 2) or holds NaN or infinity.
    """
    if not isinstance(mixture, Mixture):
        raise EmvizError(f"mixture must be a Mixture; got {type(mixture).__name__}")
    return as_data(X, missing).e_step(mixture)


def log_likelihood(X: object, mixture: Mixture) -> float:
    """Total log-likelihood log p(X | theta) of ``mixture`` on ``X``."""
    return e_step(X, mixture)[1]


def m_step(
    X: object,
    resp: object,
    cov_type: str = "full",
    reg_covar: float = 1e-6,
    *,
    missing: str = "raise",
    mixture: Mixture | None = None,
) -> Mixture:
    """The parameters that maximise the expected complete-data log-likelihood.

    With N_k = sum_n r_nk:

    - pi_k = N_k / N
    - mu_k = sum_n r_nk x_n / N_k
    - Sigma_k = sum_n r_nk (x_n - mu_k)(x_n - mu_k)^T / N_k  ("full"), pooled over
      components ("tied"), its diagonal ("diag"), or the mean of its
      diagonal times I ("spherical"),

    then every covariance eigenvalue is raised to at least
    ``reg_covar * s2`` where ``s2`` is the data's mean per-axis variance.
    Clipping eigenvalues is the exact maximiser under that constraint, so an
    M-step never lowers the likelihood.

    Parameters
    ----------
    X : array-like of shape (n_samples, 2), or PreparedData / MissingData
    resp : array-like of shape (n_samples, n_components)
        Non-negative, each row summing to one.
    cov_type : {"full", "tied", "diag", "spherical"}
    reg_covar : float, default 1e-6
        Relative eigenvalue floor (unit-free).  A floor of
        :data:`MIN_RELATIVE_FLOOR` applies even at 0.
    missing : {"raise", "marginalize"}
        With "marginalize", NaN coordinates are missing values: the M-step
        uses their expected sufficient statistics under ``mixture``.
    mixture : Mixture, optional
        The mixture ``resp`` was computed from (needed with "marginalize").

    Returns
    -------
    Mixture

    Raises
    ------
    EmvizError
        On bad shapes, non-finite values, negative ``reg_covar``.
    """
    check_cov_type(cov_type)
    reg = check_reg_covar(reg_covar)
    data = as_data(X, missing)
    r = check_resp(resp, data.n_samples)
    return data.m_step(r, cov_type, data.floor(reg), mixture=mixture)[0]
