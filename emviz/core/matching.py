"""Which component of one mixture is which component of another.

A mixture's likelihood does not depend on the order of its components, so two
EM runs, or a fit and the ground truth, can describe the same mixture with the
labels permuted.  This module pairs components up (an optimal assignment,
solved by the Hungarian algorithm), measures parameter errors between paired
components, and decides whether two mixtures are the same solution.

The cost of pairing two Gaussians is their Bhattacharyya distance

    D_B = 1/8 d^T S^-1 d + 1/2 log(det S / sqrt(det S_a det S_b)),
    d = mu_a - mu_b,  S = (S_a + S_b) / 2,

that is, the squared distance between the means measured in the pooled
covariance, plus a term that is zero exactly when the covariances are equal
and grows with the log of their size and shape mismatch.  It is symmetric, zero
only for identical Gaussians, and unchanged by any invertible affine map of the
plane, so the pairing does not depend on the units of the data.  The weights
are left out of the cost: two components that describe the same Gaussian are
the same component, whatever their mixing proportions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from emviz.core.errors import EmvizError
from emviz.core.mixture import Mixture

# Stand-in for a non-finite cost, so the assignment stays well defined.
_HUGE_COST = 1e150


def hungarian(cost: object) -> np.ndarray:
    """Minimum-cost assignment of rows to distinct columns (Hungarian algorithm).

    The shortest-augmenting-path form with dual potentials (Kuhn-Munkres, as
    refined by Jonker and Volgenant): rows are added one at a time; for each,
    a Dijkstra-like search over reduced costs ``cost[i, j] - u[i] - v[j]``
    (all non-negative) finds the cheapest augmenting path, and the potentials
    are updated so that matched pairs keep a reduced cost of zero.  Time
    O(n^2 m) for n rows and m columns; the inner loop is vectorised over
    columns.

    Parameters
    ----------
    cost : array-like of shape (n, m), n <= m
        Finite costs.

    Returns
    -------
    cols : int array of shape (n,)
        ``cols[i]`` is the column assigned to row ``i``; the columns are
        distinct and ``cost[arange(n), cols].sum()`` is minimal.

    Raises
    ------
    EmvizError
        If ``cost`` is not a 2D array of finite numbers with n <= m.
    """
    c = np.asarray(cost, dtype=np.float64)
    if c.ndim != 2:
        raise EmvizError(f"cost must be a 2D array; got shape {c.shape}")
    n, m = c.shape
    if n > m:
        raise EmvizError(f"cost must have no more rows than columns; got shape {c.shape}")
    if not np.all(np.isfinite(c)):
        raise EmvizError("cost must be finite")
    if n == 0:
        return np.zeros(0, dtype=np.intp)
    # Index 0 is a virtual column (and row) that starts each search, so
    # arrays over columns have m + 1 entries and rows are numbered from 1.
    u = np.zeros(n + 1)  # row potentials
    v = np.zeros(m + 1)  # column potentials
    owner = np.zeros(m + 1, dtype=np.intp)  # owner[j]: row matched to column j, 0 if none
    way = np.zeros(m + 1, dtype=np.intp)  # previous column on the shortest path
    for i in range(1, n + 1):
        owner[0] = i
        j0 = 0
        minv = np.full(m + 1, np.inf)  # shortest reduced distance to each column
        used = np.zeros(m + 1, dtype=bool)  # columns already in the search tree
        while True:
            used[j0] = True
            i0 = owner[j0]
            free = ~used[1:]
            # Relax every column not yet in the tree through row i0.
            reduced = c[i0 - 1] - u[i0] - v[1:]
            better = free & (reduced < minv[1:])
            minv[1:][better] = reduced[better]
            way[1:][better] = j0
            candidates = np.where(free, minv[1:], np.inf)
            j1 = int(np.argmin(candidates)) + 1
            delta = candidates[j1 - 1]
            # Shift the potentials by delta: reduced costs on the tree stay
            # zero, those to columns outside it fall by delta (stay >= 0).
            tree = np.flatnonzero(used)
            u[owner[tree]] += delta
            v[tree] -= delta
            minv[1:][free] -= delta
            j0 = j1
            if owner[j0] == 0:  # a free column: augment along the path
                break
        while j0 != 0:
            j1 = way[j0]
            owner[j0] = owner[j1]
            j0 = j1
    cols = np.empty(n, dtype=np.intp)
    matched = np.flatnonzero(owner[1:])
    cols[owner[1:][matched] - 1] = matched
    return cols


def bhattacharyya_costs(a: Mixture, b: Mixture) -> np.ndarray:
    """Bhattacharyya distance between every component of ``a`` and every one of ``b``.

    Parameters
    ----------
    a, b : Mixture
        With K_a and K_b components.

    Returns
    -------
    cost : array of shape (K_a, K_b)
        ``cost[i, j]`` = D_B(N(mu_a_i, S_a_i), N(mu_b_j, S_b_j)), see the module
        docstring.  Non-negative.
    """
    sa = a.covariances[:, None]  # (K_a, 1, 2, 2)
    sb = b.covariances[None, :]  # (1, K_b, 2, 2)
    s = 0.5 * (sa + sb)  # pooled covariance, (K_a, K_b, 2, 2)
    d = a.means[:, None, :] - b.means[None, :, :]  # (K_a, K_b, 2)
    s00, s01, s11 = s[..., 0, 0], s[..., 0, 1], s[..., 1, 1]
    det = s00 * s11 - s01 * s01
    dx, dy = d[..., 0], d[..., 1]
    # d^T S^-1 d with the closed-form inverse of a 2x2 matrix.
    mahal = (s11 * dx * dx - 2.0 * s01 * dx * dy + s00 * dy * dy) / det

    def logdet(c: np.ndarray) -> np.ndarray:
        return np.log(c[..., 0, 0] * c[..., 1, 1] - c[..., 0, 1] * c[..., 1, 0])

    shape_term = np.log(det) - 0.5 * (logdet(sa) + logdet(sb))
    cost = 0.125 * mahal + 0.5 * shape_term
    # det S >= sqrt(det S_a det S_b) (log det is concave), so the shape term is
    # >= 0 up to rounding; clip the rounding and any overflow.
    cost = np.maximum(cost, 0.0)
    return np.nan_to_num(cost, nan=_HUGE_COST, posinf=_HUGE_COST)


def match_components(a: Mixture, b: Mixture) -> np.ndarray:
    """The permutation that best aligns the components of ``b`` with those of ``a``.

    Minimises the sum of Bhattacharyya distances (module docstring) over
    matched pairs, exactly (Hungarian algorithm).

    Parameters
    ----------
    a, b : Mixture
        Usually with the same number of components K.

    Returns
    -------
    perm : int array of shape (K_a,)
        Component ``perm[i]`` of ``b`` corresponds to component ``i`` of
        ``a``; so ``b.means[perm]`` lines up with ``a.means``.  If ``a`` has
        more components than ``b`` the extra components of ``a`` (those that
        fit worst) get ``-1``; if fewer, some components of ``b`` are left out.
    """
    if not isinstance(a, Mixture) or not isinstance(b, Mixture):
        raise EmvizError("match_components needs two Mixture objects")
    cost = bhattacharyya_costs(a, b)
    ka, kb = cost.shape
    if ka <= kb:
        return hungarian(cost)
    # More rows than columns: assign the columns (b) to rows (a) instead.
    rows = hungarian(cost.T)
    perm = np.full(ka, -1, dtype=np.intp)
    perm[rows] = np.arange(kb)
    return perm


def _permutation(perm: object, ka: int, kb: int) -> np.ndarray:
    p = np.asarray(perm)
    if p.shape != (ka,) or not np.issubdtype(p.dtype, np.integer):
        raise EmvizError(f"perm must be an integer array of shape ({ka},); got {p!r}")
    p = p.astype(np.intp)
    used = p[p >= 0]
    if np.any(p < -1) or np.any(used >= kb) or len(np.unique(used)) != len(used):
        raise EmvizError(f"perm must hold distinct indices in [0, {kb}) or -1; got {p.tolist()}")
    return p


@dataclass(frozen=True, eq=False)
class ParameterErrors:
    """Per-component errors of fitted parameters against the truth.

    Attributes
    ----------
    perm : int array of shape (K_fitted,)
        Fitted component ``i`` is compared with true component ``perm[i]``
        (``-1``: no true component left for it; its errors are NaN).
    weights : array of shape (K_fitted,)
        ``|pi_i - pi*_perm[i]|``.
    means : array of shape (K_fitted,)
        Euclidean distance ``||mu_i - mu*_perm[i]||``.
    covariances : array of shape (K_fitted,)
        Frobenius norm ``||Sigma_i - Sigma*_perm[i]||_F``.
    """

    perm: np.ndarray
    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray


def parameter_errors(fitted: Mixture, truth: Mixture, perm: object = None) -> ParameterErrors:
    """Absolute parameter errors of each fitted component against its true match.

    Parameters
    ----------
    fitted, truth : Mixture
    perm : int array of shape (K_fitted,), optional
        Fitted component ``i`` is compared with true component ``perm[i]``
        (``-1`` for none).  Defaults to ``match_components(fitted, truth)``.

    Returns
    -------
    ParameterErrors
        Arrays of shape (K_fitted,), read-only, in the fitted mixture's order.
    """
    if not isinstance(fitted, Mixture) or not isinstance(truth, Mixture):
        raise EmvizError("parameter_errors needs two Mixture objects")
    ka, kb = fitted.n_components, truth.n_components
    p = match_components(fitted, truth) if perm is None else _permutation(perm, ka, kb)
    has = p >= 0
    q = np.where(has, p, 0)
    dw = np.abs(fitted.weights - truth.weights[q])
    dm = np.linalg.norm(fitted.means - truth.means[q], axis=1)
    dc = np.linalg.norm(fitted.covariances - truth.covariances[q], ord="fro", axis=(1, 2))
    out = []
    for arr in (p.copy(), dw, dm, dc):
        if arr.dtype.kind == "f":
            arr[~has] = np.nan
        arr.setflags(write=False)
        out.append(arr)
    return ParameterErrors(*out)


def mixture_variance(mixture: Mixture) -> float:
    """Mean per-axis variance of the mixture as one distribution.

    Total covariance = sum_k pi_k (Sigma_k + mu_k mu_k^T) - mu mu^T with
    mu = sum_k pi_k mu_k, computed around mu so nothing cancels.  For a
    mixture EM fitted with full covariances this equals the data's own
    variance (an M-step preserves the data's mean and covariance), so it is
    the natural unit of the data's scale.
    """
    w = mixture.weights
    mu = w @ mixture.means
    d = mixture.means - mu
    within = np.einsum("k,kii->", w, mixture.covariances)
    between = float(w @ np.einsum("ki,ki->k", d, d))
    return 0.5 * (float(within) + between)


def same_solution(
    a: Mixture,
    b: Mixture,
    rtol: float = 1e-2,
    atol: float = 0.0,
    *,
    scale: float | None = None,
) -> bool:
    """Whether two mixtures are the same up to a permutation of their components.

    The components of ``b`` are matched to those of ``a`` with
    :func:`match_components`; then every matched pair must satisfy

    - weights:      ``|pi_a - pi_b|            <= atol + rtol``
    - means:        ``||mu_a - mu_b||          <= atol + rtol * sqrt(s2)``
    - covariances:  ``||Sigma_a - Sigma_b||_F  <= atol + rtol * s2``

    where ``s2`` is the variance scale: ``scale`` if given (the data's mean
    per-axis variance, as :attr:`emviz.core.data.PreparedData.scale`),
    otherwise the mean of the two mixtures' own overall variances
    (:func:`mixture_variance`).  So ``rtol`` is a fraction of the data's
    spread, the same for data in millimetres or kilometres and for data far
    from the origin; weights are proportions already.  ``atol`` is an
    absolute slack in each quantity's own units (usually 0).

    Parameters
    ----------
    a, b : Mixture
    rtol : float, default 1e-2
        Relative tolerance.  EM stopped by a tolerance on the likelihood gain
        stops short of the exact maximum, by an amount that grows where the
        likelihood is flat, so it should not be too small; distinct local
        maxima usually differ by a good fraction of the data's spread.
    atol : float, default 0
    scale : float, optional
        Variance scale s2 (units of X squared).

    Returns
    -------
    bool
        False if the number of components differs.
    """
    if not isinstance(a, Mixture) or not isinstance(b, Mixture):
        raise EmvizError("same_solution needs two Mixture objects")
    rtol, atol = float(rtol), float(atol)
    if not (rtol >= 0 and atol >= 0 and math.isfinite(rtol) and math.isfinite(atol)):
        raise EmvizError(f"rtol and atol must be non-negative; got {rtol!r}, {atol!r}")
    if a.n_components != b.n_components:
        return False
    if scale is None:
        s2 = 0.5 * (mixture_variance(a) + mixture_variance(b))
    else:
        s2 = float(scale)
        if not (s2 >= 0 and math.isfinite(s2)):
            raise EmvizError(f"scale must be a non-negative finite number; got {scale!r}")
    err = parameter_errors(a, b, match_components(a, b))
    return bool(
        np.all(err.weights <= atol + rtol)
        and np.all(err.means <= atol + rtol * math.sqrt(s2))
        and np.all(err.covariances <= atol + rtol * s2)
    )
