"""EM for points with a missing coordinate: the E-step fills in what was not observed.

EM was invented for incomplete data (Dempster, Laird and Rubin 1977).  A
point x_n = (x, y) may have one coordinate missing (NaN).  Split it into the
observed part x_o and the missing part x_m.  Under component k the pair is
bivariate normal, so

- the observed part alone is normal with the *marginal* of component k:
  x_o ~ N(mu_o, S_oo), which is all the E-step needs for the
  responsibilities and the observed-data log-likelihood
  log p(X_obs | theta) = sum_n log sum_k pi_k N(x_o,n | mu_k,o, Sigma_k,oo);
- the missing part given the observed one is normal with the *conditional*
  mean and variance (the regression of x_m on x_o)

      E[x_m | x_o, k]   = mu_m + S_mo / S_oo (x_o - mu_o)
      Var[x_m | x_o, k] = S_mm - S_mo^2 / S_oo = det(Sigma_k) / S_oo,

  which is all the M-step needs: the expected complete-data log-likelihood
  depends on the data only through E[x_n] and E[x_n x_n^T] under each
  component, i.e. through the conditional mean and variance.

Rows with both coordinates missing carry no information about theta (their
marginal density is 1) and are dropped, with a count.

The data layout is :class:`emviz.core.data.MissingData`, made by
``prepare(X, missing="marginalize")``; its protocol methods call the
functions below:

    md = prepare(X, missing="marginalize")
    resp, ll = md.e_step(mixture)          # e_step_missing(md, mixture)
    new, nk, clipped = md.m_step(resp, cov_type, md.floor(reg), mixture=mixture)

The M-step needs the mixture the responsibilities were computed from,
because the conditional means depend on it, not only on ``resp``.

Conventions are those of :mod:`emviz.core.em`; "rows" are the kept rows
(``md.X``) unless said otherwise.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np

from emviz.core._kernels import CompleteLayout, e_step_prepared, weighted_log_density
from emviz.core._products import matmul, vecdot
from emviz.core.covariances import floor_eigenvalues, structured_covariances
from emviz.core.errors import EmvizError
from emviz.core.mixture import Mixture
from emviz.core.validation import check_points


class IncompleteLayout(Protocol):
    """What these steps read of incomplete data (:class:`emviz.core.data.MissingData`)."""

    X: np.ndarray
    ref: np.ndarray
    idx_complete: np.ndarray
    idx_missing_x: np.ndarray
    idx_missing_y: np.ndarray
    xc: np.ndarray
    yc: np.ndarray
    x_my: np.ndarray
    y_mx: np.ndarray
    complete: CompleteLayout | None
    global_cov: np.ndarray

    @property
    def n_samples(self) -> int: ...


_LOG_2PI = math.log(2.0 * math.pi)

# Points per chunk: (n_components, _CHUNK) float64 arrays stay in cache.
_CHUNK = 4096


# ---------------------------------------------------------------------------
# The regression of the missing coordinate on the observed one


def conditional_variances(mixture: Mixture) -> np.ndarray:
    """Variance of each coordinate given the other, under each component.

    Var[x | y, k] = S_xx - S_xy^2 / S_yy = det(Sigma_k) / S_yy, and likewise for
    y given x.  It does not depend on the observed value: knowing y shrinks
    the uncertainty about x by the same amount wherever y is.

    Returns
    -------
    array of shape (n_components, 2)
        Column 0: Var[x | y, k] (for rows missing x); column 1: Var[y | x, k]
        (for rows missing y).
    """
    cov = mixture.covariances
    a, b, c = cov[:, 0, 0], cov[:, 0, 1], cov[:, 1, 1]
    det = a * c - b * b
    return np.maximum(np.column_stack([det / c, det / a]), 0.0)


def _regression(
    mixture: Mixture, ref: np.ndarray, missing_axis: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Terms of E[x_m | x_o, k] = mu_m + slope (x_o - mu_o), centred on ``ref``.

    Returns
    -------
    mu_m, mu_o, slope, cond_var : arrays of shape (n_components,)
    """
    m, o = missing_axis, 1 - missing_axis
    cov = mixture.covariances
    mu = mixture.means - ref
    slope = cov[:, m, o] / cov[:, o, o]  # S_mo / S_oo: the regression coefficient
    return mu[:, m], mu[:, o], slope, conditional_variances(mixture)[:, m]


def _groups(md: IncompleteLayout) -> tuple[tuple[int, np.ndarray, np.ndarray], ...]:
    """(missing axis, rows, centred observed coordinate) of the two incomplete groups."""
    return ((1, md.idx_missing_y, md.x_my), (0, md.idx_missing_x, md.y_mx))


def conditional_means(md: IncompleteLayout, mixture: Mixture) -> np.ndarray:
    """The expected complete point of every row under every component.

    Parameters
    ----------
    md : MissingData
    mixture : Mixture

    Returns
    -------
    array of shape (n_kept, n_components, 2)
        ``[n, k]`` is E[x_n | x_n,obs, z_n = k]: the observed coordinate as it
        is, the missing one replaced by its conditional mean
        mu_m + S_mo / S_oo (x_o - mu_o).  A complete row is itself for every k.
    """
    k = mixture.n_components
    out = np.empty((md.n_samples, k, 2))
    out[:] = md.X[:, None, :]
    for m, idx, obs in _groups(md):
        mu_m, mu_o, slope, _ = _regression(mixture, md.ref, m)
        out[idx, :, m] = (mu_m + slope * (obs[:, None] - mu_o)) + md.ref[m]
    return out


# ---------------------------------------------------------------------------
# E-step


def e_step_missing(md: IncompleteLayout, mixture: Mixture) -> tuple[np.ndarray, float]:
    """E-step on incomplete data: posteriors from the observed coordinates only.

    A complete row uses the 2D density (through
    :func:`emviz.core._kernels.e_step_prepared`, so with nothing missing this *is*
    the ordinary E-step); a row with only x observed uses the 1D marginal
    N(x | mu_k,x, Sigma_k,xx) of each component, likewise for y: the missing
    coordinate is integrated out, which for a Gaussian just deletes its row
    and column of mu and Sigma.

    Parameters
    ----------
    md : MissingData
    mixture : Mixture

    Returns
    -------
    resp : array of shape (n_kept, n_components)
        ``resp[n, k] = pi_k p_k(x_n,obs) / sum_j pi_j p_j(x_n,obs)``; read-only,
        Fortran-ordered like the ordinary E-step's.
    log_likelihood : float
        The observed-data log-likelihood sum_n log sum_k pi_k p_k(x_n,obs).
    """
    k = mixture.n_components
    resp_t = np.empty((k, md.n_samples))
    total = 0.0
    if md.complete is not None:
        resp_c, ll_c = e_step_prepared(md.complete, mixture)
        resp_t[:, md.idx_complete] = resp_c.T
        total += ll_c
    with np.errstate(divide="ignore"):
        log_w = np.log(mixture.weights)
    for m, idx, obs in _groups(md):
        if idx.shape[0] == 0:
            continue
        o = 1 - m
        # log pi_k + log N(x_o | mu_o, S_oo)
        #   = log pi_k - 1/2 log(2 pi S_oo) - 1/2 (x_o - mu_o)^2 / S_oo
        var = mixture.covariances[:, o, o]
        mu_o = (mixture.means[:, o] - md.ref[o])[:, None]
        const = (log_w - 0.5 * (_LOG_2PI + np.log(var)))[:, None]
        inv_sd = np.sqrt(0.5 / var)[:, None]  # folds in the 1/2 of the exponent
        for start in range(0, idx.shape[0], _CHUNK):
            stop = min(start + _CHUNK, idx.shape[0])
            z = (obs[start:stop] - mu_o) * inv_sd  # (K, m)
            log_prob = const - z * z
            # log-sum-exp over components, shifted by the largest term so that
            # far points neither underflow to 0 for every k nor give 0/0.
            peak = log_prob.max(axis=0)
            log_prob -= peak
            np.exp(log_prob, out=log_prob)
            norm = log_prob.sum(axis=0)
            log_prob /= norm
            resp_t[:, idx[start:stop]] = log_prob
            total += float(peak.sum()) + float(np.log(norm).sum())
    resp_t.setflags(write=False)
    return resp_t.T, total


def weighted_log_density_missing(md: IncompleteLayout, mixture: Mixture) -> np.ndarray:
    """log(pi_k p_k(x_n,obs)) for every component and kept row.

    A complete row uses the 2D density, a row with one coordinate observed
    the 1D marginal of each component (as :func:`e_step_missing`).

    Returns
    -------
    array of shape (n_components, n_kept)
        One row per component; -inf for a component of weight 0.
    """
    k = mixture.n_components
    out = np.empty((k, md.n_samples))
    if md.complete is not None:
        out[:, md.idx_complete] = weighted_log_density(md.complete, mixture)
    with np.errstate(divide="ignore"):
        log_w = np.log(mixture.weights)
    for m, idx, obs in _groups(md):
        if idx.shape[0] == 0:
            continue
        o = 1 - m
        var = mixture.covariances[:, o, o]
        mu_o = (mixture.means[:, o] - md.ref[o])[:, None]
        const = (log_w - 0.5 * (_LOG_2PI + np.log(var)))[:, None]
        z = (obs - mu_o) * np.sqrt(0.5 / var)[:, None]
        out[:, idx] = const - z * z
    return out


def expected_points(
    md: IncompleteLayout, mixture: Mixture, resp: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Where EM currently "thinks" each incomplete point is, and how sure it is.

    Under the posterior, the missing coordinate of row n follows the mixture
    sum_k r_nk N(cond. mean_nk, cond. variance_k).  Its mean is the
    responsibility-weighted conditional mean; its variance (law of total
    variance) is sum_k r_nk (v_k + (m_nk - m_n)^2): the spread within each
    component plus the disagreement between components.

    Parameters
    ----------
    md : MissingData
    mixture : Mixture
    resp : array of shape (n_kept, n_components)
        Responsibilities under ``mixture`` (from :func:`e_step_missing`).

    Returns
    -------
    points : array of shape (n_kept, 2)
        Complete rows as they are; an incomplete row with its missing
        coordinate replaced by its posterior mean.  Read-only.
    spread : array of shape (n_kept,)
        Posterior standard deviation of the missing coordinate; 0 for
        complete rows.  Read-only.
    """
    points = np.array(md.X, copy=True)
    spread = np.zeros(md.n_samples)
    for m, idx, obs in _groups(md):
        if idx.shape[0] == 0:
            continue
        mu_m, mu_o, slope, cond_var = _regression(mixture, md.ref, m)
        r = np.asarray(resp)[idx].T  # (K, rows)
        cm = mu_m[:, None] + slope[:, None] * (obs - mu_o[:, None])  # (K, rows), centred
        mean = vecdot(r.T, cm.T)  # sum_k r_nk m_nk
        dev = cm - mean
        var = matmul(r.T, cond_var) + vecdot(r.T, (dev * dev).T)
        points[idx, m] = mean + md.ref[m]
        spread[idx] = np.sqrt(np.maximum(var, 0.0))
    points.setflags(write=False)
    spread.setflags(write=False)
    return points, spread


def mean_imputed(md: IncompleteLayout) -> np.ndarray:
    """The kept rows with each missing coordinate replaced by its axis's observed mean.

    Crude (it shrinks the spread and the correlation), but a fine place to
    *start* EM from: ``initialize(mean_imputed(md), k, ...)``.

    Returns
    -------
    array of shape (n_kept, 2)
    """
    out = np.array(md.X, copy=True)
    nan = np.isnan(out)
    out[nan] = np.broadcast_to(md.ref, out.shape)[nan]
    return out


# ---------------------------------------------------------------------------
# M-step


def m_step_missing(
    md: IncompleteLayout,
    resp: np.ndarray,
    cov_type: str,
    floor: float,
    *,
    mixture: Mixture,
) -> tuple[Mixture, np.ndarray, np.ndarray]:
    """The exact M-step of EM for incomplete data (expected sufficient statistics).

    With r_nk = resp[n, k], N_k = sum_n r_nk, and E_k[x_n] the expected
    complete point of row n under component k of the mixture ``resp`` was
    computed from (:func:`conditional_means`):

    - pi_k = N_k / N
    - mu_k = sum_n r_nk E_k[x_n] / N_k
    - Sigma_k = sum_n r_nk ((E_k[x_n] - mu_k)(E_k[x_n] - mu_k)^T + C_nk) / N_k,
      where C_nk is zero except for the conditional variance of the missing
      coordinate in its diagonal entry: E_k[(x - mu)(x - mu)^T] is the
      outer product of the expected deviation plus the covariance of x.

    Then "tied", "diag", "spherical" and the eigenvalue floor as in
    :func:`emviz.core._kernels.m_step_prepared`.  These maximise the expected
    complete-data log-likelihood Q(theta | theta_old), which depends on the
    data only through those expected moments, so the observed-data
    log-likelihood never decreases.

    Parameters
    ----------
    md : MissingData
    resp : array of shape (n_kept, n_components)
        Posterior under ``mixture``.
    cov_type : {"full", "tied", "diag", "spherical"}
    floor : float
        Absolute eigenvalue floor, ``md.floor(reg_covar)``.
    mixture : Mixture
        theta_old, the mixture ``resp`` was computed from: the conditional
        means and variances are taken under it.

    Returns
    -------
    mixture : Mixture
    nk : array of shape (n_components,)
    clipped : bool array of shape (n_components,)
        Components whose covariance was held at the eigenvalue floor.
    """
    n = md.n_samples
    r = np.ascontiguousarray(resp.T)  # (K, n)
    k = r.shape[0]
    nk = r.sum(axis=1)
    empty = ~(nk > 0)
    safe_nk = np.where(empty, 1.0, nk)

    # Responsibilities of each group of rows, (K, rows).
    r_c = r if md.idx_complete.shape[0] == n else r[:, md.idx_complete]
    groups = []
    for m, idx, obs in _groups(md):
        if idx.shape[0]:
            groups.append(
                (m, np.ascontiguousarray(r[:, idx]), obs, _regression(mixture, md.ref, m))
            )

    # First pass: the means (centred).  Complete rows contribute their
    # coordinates.  An incomplete row contributes its observed coordinate and,
    # on the missing axis, the conditional mean mu_m + slope (x_o - mu_o).  That
    # is linear in x_o, so its weighted sum needs only sum_n r_nk and
    # sum_n r_nk x_o: sum_n r_nk E_k[x_m] = R_k (mu_m - slope mu_o) + slope (r x_o).
    sums = np.zeros((2, k))
    sums[0] += matmul(r_c, md.xc)
    sums[1] += matmul(r_c, md.yc)
    for m, rg, obs, (mu_m, mu_o, slope, _) in groups:
        rk = rg.sum(axis=1)
        rx = matmul(rg, obs)
        sums[1 - m] += rx
        sums[m] += rk * mu_m + slope * (rx - rk * mu_o)
    mx = sums[0] / safe_nk
    my = sums[1] / safe_nk
    # A component with no responsibility is parked at the data's centre with
    # the data's covariance and weight 0 (as in the ordinary M-step).
    mx[empty] = 0.0
    my[empty] = 0.0

    # Second pass: scatter of the expected points around the new means, plus
    # the conditional variance of the missing coordinate (centred two-pass
    # moments; never E[x x^T] - mu mu^T).
    s = np.zeros((2, 2, k))
    mean = (mx[:, None], my[:, None])
    for start in range(0, md.xc.shape[0], _CHUNK):
        stop = min(start + _CHUNK, md.xc.shape[0])
        rc = r_c[:, start:stop]
        d = (md.xc[start:stop] - mean[0], md.yc[start:stop] - mean[1])
        _accumulate(s, rc, d)
    for m, rg, obs, (mu_m, mu_o, slope, cond_var) in groups:
        o = 1 - m
        for start in range(0, obs.shape[0], _CHUNK):
            stop = min(start + _CHUNK, obs.shape[0])
            rc = rg[:, start:stop]
            x_o = obs[start:stop]
            d = [None, None]
            d[o] = x_o - mean[o]
            # E_k[x_m] - mu_k,m for every component: (K, rows).
            d[m] = (mu_m[:, None] + slope[:, None] * (x_o - mu_o[:, None])) - mean[m]
            _accumulate(s, rc, d)
        # sum_n r_nk Var[x_m | x_o, k] = Var_k * sum_n r_nk: the variance does
        # not depend on x_o.
        s[m, m] += cond_var * rg.sum(axis=1)
    sxx, sxy, syy = s[0, 0], s[0, 1], s[1, 1]

    means = np.column_stack([mx, my]) + md.ref
    weights = nk / n
    global_var = md.global_cov if np.any(empty) else None
    cov = structured_covariances(sxx, sxy, syy, nk, n, cov_type, global_var)
    cov, clipped = floor_eigenvalues(cov, floor)
    new = Mixture(weights=weights, means=means, covariances=cov, cov_type=cov_type)
    return new, nk, clipped


def _accumulate(s: np.ndarray, r: np.ndarray, d: list | tuple) -> None:
    """Add sum_n r_kn d_i d_j to ``s[i, j]`` (shape (2, 2, K)); d_i of shape (m,) or (K, m)."""
    dx, dy = (np.broadcast_to(v, r.shape) for v in d)
    rd = r * dx
    s[0, 0] += vecdot(rd, dx)
    xy = vecdot(rd, dy)
    s[0, 1] += xy
    s[1, 0] += xy
    rd = r * dy
    s[1, 1] += vecdot(rd, dy)


# ---------------------------------------------------------------------------
# Making holes, for the bundled example and the tests


def remove_at_random(
    X: object,
    fraction: float,
    axis: int | None = None,
    seed: int | np.random.Generator | None = None,
) -> np.ndarray:
    """A copy of ``X`` with one coordinate of a random share of rows set to NaN.

    The holes are "missing completely at random": whether a value is missing
    does not depend on any value, the case where dropping incomplete rows
    is unbiased but wasteful, and marginalising is exact.

    Parameters
    ----------
    X : array-like of shape (n_samples, 2)
        Complete points (no NaN or infinity).
    fraction : float in [0, 1]
        Share of rows that lose a coordinate: exactly
        ``round(fraction * n_samples)`` rows, drawn without replacement.
    axis : {None, 0, 1}
        None: each chosen row loses x or y with equal probability (never
        both); 0 or 1: it loses that coordinate.
    seed : int, Generator or None

    Returns
    -------
    array of shape (n_samples, 2)
    """
    arr = np.array(check_points(X), copy=True)
    try:
        f = float(fraction)
    except (TypeError, ValueError):
        raise EmvizError(f"fraction must be a number; got {fraction!r}") from None
    if not 0.0 <= f <= 1.0:
        raise EmvizError(f"fraction must be between 0 and 1; got {fraction!r}")
    if axis not in (None, 0, 1):
        raise EmvizError(f"axis must be None, 0 or 1; got {axis!r}")
    rng = np.random.default_rng(seed)
    n = arr.shape[0]
    rows = rng.choice(n, size=round(f * n), replace=False)
    cols = rng.integers(0, 2, size=rows.shape[0]) if axis is None else axis
    arr[rows, cols] = np.nan
    return arr
