"""Independent numpy formulas the core is checked against.

Written from the textbook definitions (Bishop, PRML, ch. 9), with a general
matrix inverse and determinant: nothing here shares code or tricks with
emviz.core.em.
"""

import numpy as np


def log_gaussian(X, mean, cov):
    """log N(x | mean, cov) for every row of X, shape (n,)."""
    diff = X - mean
    inv = np.linalg.inv(cov)
    maha = np.einsum("ni,ij,nj->n", diff, inv, diff)
    _, logdet = np.linalg.slogdet(cov)
    return -np.log(2 * np.pi) - 0.5 * logdet - 0.5 * maha


def e_step(X, weights, means, covs):
    """(resp (n, K), total log-likelihood) by direct evaluation with a max shift."""
    log_p = np.column_stack(
        [np.log(w) + log_gaussian(X, m, c) for w, m, c in zip(weights, means, covs)]
    )
    top = log_p.max(axis=1, keepdims=True)
    log_norm = top[:, 0] + np.log(np.exp(log_p - top).sum(axis=1))
    return np.exp(log_p - log_norm[:, None]), float(log_norm.sum())


def m_step_full(X, resp):
    """Unregularised full-covariance M-step, one component at a time."""
    nk = resp.sum(axis=0)
    weights = nk / len(X)
    means = (resp.T @ X) / nk[:, None]
    covs = np.stack(
        [((resp[:, k, None] * (X - means[k])).T @ (X - means[k])) / nk[k] for k in range(len(nk))]
    )
    return weights, means, covs
