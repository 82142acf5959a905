"""The evidence lower bound and its decomposition, for any responsibilities.

For a distribution q over the latent assignments (``resp``, one row per
point) and parameters theta,

    log p(X | theta) = L(q, theta) + KL(q || p(Z | X, theta)),
    L(q, theta)      = Q(q, theta) + H(q),
    Q(q, theta)      = sum_n sum_k q_nk log(pi_k N(x_n | mu_k, Sigma_k)),
    H(q)             = -sum_n sum_k q_nk log q_nk.

The E-step sets q to the posterior, so KL = 0 and the bound touches the
log-likelihood; the M-step maximises Q over theta with q fixed, so the bound
rises, and since KL >= 0 the log-likelihood rises at least as much.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emviz.core.data import as_data
from emviz.core.errors import EmvizError
from emviz.core.mixture import Mixture
from emviz.core.validation import check_resp


@dataclass(frozen=True)
class BoundTerms:
    """The terms of log p = Q + H + KL, totals over all points.

    Attributes
    ----------
    log_likelihood : float
        log p(X | theta).
    expected_complete : float
        Q = E_q[log p(X, Z | theta)].
    entropy : float
        H(q) >= 0.
    lower_bound : float
        L = Q + H <= log p.
    kl : float
        KL(q || posterior) >= 0, computed directly from its definition (not as
        the difference log p - L, so that the identity can be checked).
    """

    log_likelihood: float
    expected_complete: float
    entropy: float
    lower_bound: float
    kl: float


def _xlogy(q: np.ndarray, log_p: np.ndarray) -> np.ndarray:
    """q * log_p with the convention 0 * log 0 = 0 (and 0 * -inf = 0)."""
    out = np.zeros_like(q)
    np.multiply(q, log_p, out=out, where=q > 0)
    return out


def bound_terms(X: object, mixture: Mixture, resp: object) -> BoundTerms:
    """Log-likelihood, Q, entropy, lower bound and KL for ``resp`` and ``mixture``.

    Parameters
    ----------
    X : array-like of shape (n_samples, 2)
    mixture : Mixture
        theta.
    resp : array-like of shape (n_samples, n_components)
        Any responsibilities q (rows are distributions), not only the
        posterior under ``mixture``: after an M-step, q is the posterior of
        the previous parameters and KL > 0.

    Returns
    -------
    BoundTerms
    """
    data = as_data(X)
    q = check_resp(resp, data.n_samples)
    if q.shape[1] != mixture.n_components:
        raise EmvizError(
            f"resp has {q.shape[1]} columns but the mixture has {mixture.n_components} components"
        )
    log_joint = data.log_joint(mixture).T  # (n, K): log pi_k p_k(x_n)
    peak = log_joint.max(axis=1, keepdims=True)
    log_norm = peak[:, 0] + np.log(np.exp(log_joint - peak).sum(axis=1))  # log p(x_n)
    log_post = log_joint - log_norm[:, None]
    with np.errstate(divide="ignore"):
        log_q = np.log(q)
    expected = float(_xlogy(q, log_joint).sum())
    entropy = float(-_xlogy(q, log_q).sum())
    # KL(q || post) = sum q (log q - log post); terms with q = 0 contribute 0.
    # Where q = 0 both logs may be -inf (a component of weight 0); the
    # difference is taken only where q > 0, the only terms that count.
    log_ratio = np.zeros_like(q)
    np.subtract(log_q, log_post, out=log_ratio, where=q > 0)
    kl = float(_xlogy(q, log_ratio).sum())
    return BoundTerms(
        log_likelihood=float(log_norm.sum()),
        expected_complete=expected,
        entropy=entropy,
        lower_bound=expected + entropy,
        kl=kl,
    )
