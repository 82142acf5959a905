"""The E-step, the M-step and the one EM loop of the project.

Everything here is specialised to two dimensions: a 2x2 covariance has a
closed-form Cholesky factor, determinant and eigenvalues, so the E-step is a
handful of element-wise operations on arrays of shape (n_components, chunk)
instead of a batched linear solve.  The data are processed in chunks that
stay in cache.

Conventions
-----------
``X``
    array of shape (n_samples, 2).
``resp``
    array of shape (n_samples, n_components); ``resp[n, k]`` is the
    posterior probability that point ``n`` was drawn from component ``k``.
log-likelihood
    the *total* log p(X | theta) = sum_n log sum_k pi_k N(x_n | mu_k, Sigma_k),
    not the per-sample mean that scikit-learn's ``score`` returns.
"""

from __future__ import annotations

import math
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np

from emviz.core._products import matmul, vecdot
from emviz.core.errors import EmvizError
from emviz.core.fastmath import (
    EXP_SCALE,
    ExpWorkspace,
    exp_scaled_inplace,
    exp_scaled_small,
    log_group_size,
    sum_log,
)
from emviz.core.missing import (
    MissingData,
    e_step_missing,
    initialize_missing,
    m_step_missing,
    prepare_missing,
)
from emviz.core.mixture import Mixture, check_cov_type
from emviz.core.validation import (
    check_points,
    check_reg_covar,
    check_resp,
    check_tol_max_iter,
)

# Values (points times components) per chunk.  The E-step pass makes some
# thirty whole-array numpy calls per chunk, each with a fixed cost of about a
# microsecond, so chunks must be large enough to amortise that, yet small
# enough that a chunk's arrays stay in cache.  Measured on a 2-core AMD EPYC
# (1 MB L2 per core): 16384 points at K = 3 and 8192 at K = 10 were best,
# 4096 points (the former fixed size) 10-30 % slower, 65536 points at K = 10
# much slower.
_CHUNK_VALUES = 65536
_MIN_CHUNK = 1024
_MAX_CHUNK = 32768

# Below this many values a block's exp is left to np.exp2 (exp_scaled_small):
# the kernel's fifteen numpy calls cost more than they save on small blocks.
_EXP_KERNEL_MIN_VALUES = 16384

# Largest gap, in nats, between any log term of a chunk and the reference
# component's for the E-step to shift by the latter (see _e_pass).  It bounds
# the exponents (exp(100) ~ 3e43, far from overflow) and the rounding error
# of the shifted terms (half an ulp of 100, 7e-15), and leaves norm <= K e^100,
# so that the grouped log-sum still multiplies six values at a time.
_MAX_REF_GAP = 100.0


def _chunk(n_components: int) -> int:
    """Points per chunk: a power of two near ``_CHUNK_VALUES / n_components``."""
    target = _CHUNK_VALUES / max(n_components, 1)
    size = 1 << max(0, round(math.log2(target)))
    return min(max(size, _MIN_CHUNK), _MAX_CHUNK)


# The M-step's second pass makes few calls per chunk but fills two
# (2, K, chunk) arrays; beyond 8192 points they fall out of L2 and, on a
# machine shared with other work, its median time grew by half at K = 3.
_MAX_SCATTER_CHUNK = 8192


def _scatter_chunk(n_components: int) -> int:
    """Points per chunk of the M-step's second pass."""
    return min(_chunk(n_components), _MAX_SCATTER_CHUNK)


class _Scratch:
    """Scratch arrays of one shape for the passes over the data.

    Allocating them afresh for every pass costs more than the pass itself on
    small data (arrays above glibc's mmap threshold come back as new pages
    each time), so each thread keeps a few, see :func:`_scratch`.

    Attributes
    ----------
    exp : ExpWorkspace
        For :func:`exp_scaled_inplace` on (K, width) blocks.
    features : array of shape (6, width)
        A chunk's features, see :func:`_chunk_features`; the last row is 1.
    peak, shift, norm : arrays of shape (width,)
    """

    def __init__(self, n_components: int, width: int) -> None:
        self.shape = (n_components, width)
        self.exp = ExpWorkspace(self.shape)
        # Rows a cache line more than a power of two apart: the matrix
        # product reads all six in step, and rows 2^k bytes apart would
        # compete for the same cache sets.
        self.features = np.empty((6, width + 8))[:, :width]
        self.features[5] = 1.0
        self.peak = np.empty(width)
        self.shift = np.empty(width)
        self.norm = np.empty(width)
        self._shifted: np.ndarray | None = None
        self._scatter: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def shifted(self) -> np.ndarray:
        """A (K, width) array for the lower bound's terms, made on first use."""
        if self._shifted is None:
            self._shifted = np.empty(self.shape)
        return self._shifted

    def scatter(self, width: int) -> tuple[np.ndarray, np.ndarray]:
        """Two (2, K, width) arrays for the M-step's deviations, made on first use."""
        shape = (2, self.shape[0], width)
        if self._scatter is None or self._scatter[0].shape != shape:
            self._scatter = (np.empty(shape), np.empty(shape))
        return self._scatter


_SCRATCH = threading.local()
# Shapes kept per thread: one thread may alternate between data sets or
# numbers of components (the model-choice view fits several K in turn).
_SCRATCH_KEEP = 3


def _scratch(n_components: int, width: int) -> _Scratch:
    """This thread's scratch arrays for (``n_components``, ``width``) blocks."""
    cache: dict[tuple[int, int], _Scratch] | None = getattr(_SCRATCH, "cache", None)
    if cache is None:
        cache = _SCRATCH.cache = {}
    key = (n_components, width)
    scratch = cache.pop(key, None)
    if scratch is None:
        scratch = _Scratch(n_components, width)
        while len(cache) >= _SCRATCH_KEEP:
            cache.pop(next(iter(cache)))  # the least recently used
    cache[key] = scratch
    return scratch


class _ArrayPool:
    """Arrays for the E-step's posteriors, each reused once nobody else holds it.

    Every E-step makes a new (K, n) posterior.  Allocated afresh, it costs
    page faults: at a million points and ten components it is 80 MB, which
    glibc maps anew every time (above its mmap threshold), and faulting in
    and zeroing it took 8 ms of a 140 ms iteration; smaller ones fault too
    whenever other code has freed memory in between (133 faults per
    iteration at N = 1e5, K = 10 with scikit-learn running between steps).

    An array is free when the pool holds the only reference to it.  The
    posterior handed out (``resp_t.T``) is a view, and a view keeps its base
    alive, so any snapshot, view or buffer export still held somewhere shows
    in the base's reference count.  The pool keeps the three most recent
    arrays: :func:`iterate_em` holds two posteriors at once, so at most one
    is idle, which does not raise its peak memory (it would be allocated at
    the next E-step anyway).
    """

    _KEEP = 3

    def __init__(self) -> None:
        self._arrays: list[np.ndarray] = []

    def _refs(self, i: int) -> int:
        return sys.getrefcount(self._arrays[i])

    def take(self, shape: tuple[int, int]) -> np.ndarray:
        """A writable float64 array of ``shape`` that nothing else references."""
        for i in range(len(self._arrays)):
            if self._arrays[i].shape == shape and self._refs(i) <= _UNSHARED_REFS:
                array = self._arrays.pop(i)
                self._arrays.append(array)
                array.setflags(write=True)
                return array
        array = np.empty(shape)
        self._arrays.append(array)
        if len(self._arrays) > self._KEEP:
            self._arrays.pop(0)
        return array


def _unshared_refs() -> int:
    """The reference count :meth:`_ArrayPool._refs` sees for an array held by the pool alone.

    Measured rather than assumed: interpreters differ in the temporary
    references a call makes.
    """
    pool = _ArrayPool()
    pool._arrays.append(np.empty((1, 1)))
    return pool._refs(0)


_UNSHARED_REFS = _unshared_refs()


# Even with ``reg_covar=0`` the smallest eigenvalue of a covariance is kept
# above this fraction of the data's variance.  A 2x2 covariance stored as a
# matrix carries its smallest eigenvalue only to eps * (largest eigenvalue),
# so at condition number c the log-likelihood is known to about n * eps * c;
# 1e-8 keeps that below 1e-7 per point, while the likelihood of a collapsing
# component, unbounded without a floor, stays finite.
MIN_RELATIVE_FLOOR = 1e-8

_LOG_2PI = math.log(2.0 * math.pi)

#: How the steps treat NaN coordinates: reject them, or integrate them out.
MISSING_MODES: tuple[str, ...] = ("raise", "marginalize")


def _prepare_any(X: object, missing: str) -> PreparedData | MissingData:
    if missing not in MISSING_MODES:
        raise EmvizError(f"missing must be one of {', '.join(MISSING_MODES)}; got {missing!r}")
    return prepare_missing(X) if missing == "marginalize" else prepare(X)


#: A component whose responsibility mass falls below this many points is
#: reported as collapsing.
COLLAPSE_MASS = 1.0


@dataclass(frozen=True)
class PreparedData:
    """Points laid out for fast passes, with the numbers that depend on them only.

    Parameters
    ----------
    X : array of shape (n_samples, 2)
        The points as given (checked, never modified).
    x, y : arrays of shape (n_samples,)
        Contiguous coordinates, centred on ``ref``.  Working in centred
        coordinates keeps sums of x exact to the data's own precision when
        the data sit far from the origin (an offset of 1e9, say).
    xy : array of shape (2, n_samples)
        Rows ``x`` and ``y``: the two arrays above are its rows.
    ref : array of shape (2,)
        The centre subtracted.
    scale : float
        Mean per-axis variance of ``X``, the unit of ``reg_covar``.  If all
        points coincide it is 1.0, so the floor is still positive.
    radius2 : float
        Largest squared distance of a point from ``ref``.
    """

    X: np.ndarray
    x: np.ndarray
    y: np.ndarray
    xy: np.ndarray
    ref: np.ndarray
    scale: float
    radius2: float

    @property
    def n_samples(self) -> int:
        return int(self.x.shape[0])

    def floor(self, reg_covar: float) -> float:
        """Absolute eigenvalue floor for a relative ``reg_covar``."""
        return max(reg_covar, MIN_RELATIVE_FLOOR) * self.scale


def prepare(X: object) -> PreparedData:
    """Check ``X`` and lay it out for :func:`e_step_prepared` and :func:`m_step_prepared`."""
    arr = check_points(X)
    ref = arr.mean(axis=0)
    n = arr.shape[0]
    xy = np.empty((2, n))
    x, y = xy
    np.subtract(arr[:, 0], ref[0], out=x)
    np.subtract(arr[:, 1], ref[1], out=y)
    # Two-pass variance around the mean: never E[x^2] - E[x]^2.
    r2 = x * x
    r2 += y * y
    scale = 0.5 * float(r2.sum()) / n
    if not scale > 0.0 or not math.isfinite(scale):
        scale = 1.0
    radius2 = float(r2.max())
    for a in (ref, xy):
        a.setflags(write=False)
    return PreparedData(X=arr, x=x, y=y, xy=xy, ref=ref, scale=scale, radius2=radius2)


# ---------------------------------------------------------------------------
# E-step

# Largest rounding error, in units of the log-density, that the expanded
# quadratic form may carry before a component is evaluated in its own frame.
_EXPANSION_TOL = 1e-11
_EPS = np.finfo(np.float64).eps


def _log_density_terms(
    mixture: Mixture, data: PreparedData, scale: float = 1.0
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, ...], float]:
    """What the E-step needs of each component.

    The log-density of component k at a point u (centred coordinates) is

        c_k - 1/2 (u - m)^T P (u - m),  c_k = log pi_k - log 2 pi - 1/2 log det Sigma_k,

    with P = Sigma_k^-1 and m = mu_k - ref.  Expanded in the features
    (x^2, xy, y^2, x, y, 1) it is one row of weights, so all components at
    all points are one matrix product.  The expansion cancels terms of size
    |P| (|u| + |m|)^2; where that could cost more than ``_EXPANSION_TOL``
    (a component far narrower than the data's extent, as when it collapses)
    the component is flagged to be evaluated exactly, around its own mean.

    Parameters
    ----------
    mixture : Mixture
    data : PreparedData
    scale : float
        Unit of the results, per nat: the weights are multiplied by it, and
        so are the exact log-densities (the E-step works in the units of
        :func:`exp_scaled_inplace`).

    Returns
    -------
    weights : array of shape (K, 6)
    exact : int array
        Components to evaluate exactly.
    exact_terms : tuple of arrays of shape (K,)
        mx, my, b / a, sqrt(0.5 / a), sqrt(0.5 / v), c: the Cholesky form
        used by :func:`_exact_log_density`.
    scale : float
    """
    cov = mixture.covariances
    a = cov[:, 0, 0]
    b = cov[:, 0, 1]
    c = cov[:, 1, 1]
    det = a * c - b * b
    # A component of weight 0 has log pi_k = -inf.  That constant must not
    # enter the matrix product (some BLAS kernels raise the invalid flag on
    # -inf * 0), so the product gets log pi_k = 0 for it and its row is set to
    # -inf afterwards (see _weighted_log_density): the same value, exactly.
    absent = ~(mixture.weights > 0)
    log_w = np.log(np.where(absent, 1.0, mixture.weights))
    const = log_w - _LOG_2PI - 0.5 * np.log(det)
    m = mixture.means - data.ref
    mx, my = m[:, 0], m[:, 1]
    p11, p12, p22 = c / det, -b / det, a / det
    pmx = p11 * mx + p12 * my
    pmy = p12 * mx + p22 * my
    weights = np.column_stack(
        [
            -0.5 * p11,
            -p12,
            -0.5 * p22,
            pmx,
            pmy,
            const - 0.5 * (mx * pmx + my * pmy),
        ]
    )
    if scale != 1.0:
        weights *= scale
    # Size of the cancelling terms: |P| (R + |m|)^2, |P| <= trace for SPD P.
    reach2 = (math.sqrt(data.radius2) + np.hypot(mx, my)) ** 2
    err = 8.0 * _EPS * (p11 + p22) * reach2
    exact = np.flatnonzero(~(err <= _EXPANSION_TOL))
    v = det / a
    exact_terms = (mx, my, b / a, np.sqrt(0.5 / a), np.sqrt(0.5 / v), const)
    exact = np.setdiff1d(exact, np.flatnonzero(absent))
    return weights, exact, exact_terms, scale, np.flatnonzero(absent)


def _exact_log_density(
    x: np.ndarray, y: np.ndarray, k: int, terms: tuple[np.ndarray, ...], out: np.ndarray
) -> None:
    """Log-density of component ``k`` at points (x, y), written into ``out`` (shape (m,)).

    With Sigma = [[a, b], [b, c]] the Cholesky factor is
    L = [[sqrt(a), 0], [b / sqrt(a), sqrt(v)]] with v = c - b^2 / a = det / a, so
    the Mahalanobis distance is a sum of two squares, free of cancellation:

        (u - m)^T Sigma^-1 (u - m) = dx^2 / a + (dy - (b / a) dx)^2 / v.

    The factors sqrt(0.5 / a) and sqrt(0.5 / v) fold in the 1/2 of the
    Gaussian's exponent.
    """
    mx, my, slope, ax, ay, const = (t[k] for t in terms)
    dx = x - mx
    dy = y - my
    dy -= slope * dx
    dx *= ax
    dy *= ay
    np.square(dx, out=dx)
    np.square(dy, out=dy)
    dx += dy
    np.subtract(const, dx, out=out)


def _chunk_features(data: PreparedData, start: int, stop: int, buf: np.ndarray) -> np.ndarray:
    """Features x^2, xy, y^2, x, y, 1 (centred) of points start:stop, array of shape (6, m).

    Written into ``buf`` (shape (6, >= m), last row already 1) chunk by
    chunk rather than kept for all points: a (6, n) array would take three
    times the memory of the points (48 MB at a million) in every process
    that fits, for no gain in speed (measured).
    """
    f = buf[:, : stop - start]
    x, y = data.x[start:stop], data.y[start:stop]
    np.multiply(x, x, out=f[0])
    np.multiply(x, y, out=f[1])
    np.multiply(y, y, out=f[2])
    np.copyto(f[3], x)
    np.copyto(f[4], y)
    return f


def _weighted_log_density(
    data: PreparedData,
    terms: tuple,
    start: int,
    stop: int,
    out: np.ndarray,
    features: np.ndarray,
) -> None:
    """log(pi_k N(x_n | mu_k, Sigma_k)) for points start:stop, into ``out`` of shape (K, m).

    ``features`` are the chunk's, from :func:`_chunk_features`; ``terms``
    from :func:`_log_density_terms`, whose ``scale`` gives the unit.
    """
    weights, exact, exact_terms, scale, absent = terms
    matmul(weights, features, out=out)
    for j in exact:
        _exact_log_density(data.x[start:stop], data.y[start:stop], j, exact_terms, out[j])
        if scale != 1.0:
            out[j] *= scale
    for j in absent:
        out[j] = -np.inf  # log pi_k = log 0


def weighted_log_density(data: PreparedData, mixture: Mixture) -> np.ndarray:
    """log(pi_k N(x_n | mu_k, Sigma_k)) for every component and point.

    Returns
    -------
    array of shape (n_components, n_samples)
        Note the layout: one row per component.
    """
    terms = _log_density_terms(mixture, data)
    n, k = data.n_samples, mixture.n_components
    out = np.empty((k, n))
    chunk = _chunk(k)
    buf = _scratch(k, min(chunk, n)).features
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        features = _chunk_features(data, start, stop, buf)
        _weighted_log_density(data, terms, start, stop, out[:, start:stop], features)
    return out


@dataclass(frozen=True)
class _EPass:
    """What one pass over the data under a mixture theta yields.

    ``resp`` (n, K) is the posterior, ``log_likelihood`` is log p(X | theta).
    With ``terms`` asked for, also (as totals over the points):
    ``self_expected`` = Q(posterior, theta), ``entropy`` = H(posterior), and
    ``cross_expected`` = Q(q_other, theta) for the other responsibilities
    given (NaN without them).
    """

    resp: np.ndarray
    log_likelihood: float
    self_expected: float = math.nan
    entropy: float = math.nan
    cross_expected: float = math.nan
    moments: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None


def _add_first_moments(
    data: PreparedData,
    r: np.ndarray,
    start: int,
    stop: int,
    nk: np.ndarray,
    sx: np.ndarray,
    sy: np.ndarray,
) -> None:
    """Add one chunk's N_k, sum_n r_nk x_n and sum_n r_nk y_n (centred) in place.

    ``r`` is the chunk's responsibilities, shape (K, stop - start).  The
    E-step pass and the M-step without ``moments`` both sum through this
    function, chunk by chunk, so that an M-step gets the same bits either way.
    """
    nk += r.sum(axis=1)
    sx += matmul(r, data.x[start:stop])
    sy += matmul(r, data.y[start:stop])


def _other_rows(a: np.ndarray, row: int) -> list[np.ndarray]:
    """All rows of ``a`` (shape (K, m)) but ``row``, as few views as possible."""
    k = a.shape[0]
    if row == 0:
        return [a[1:]]
    if row == k - 1:
        return [a[:-1]]
    if k == 3:
        return [a[::2]]
    return [a[:row], a[row + 1 :]]


def _e_pass(
    data: PreparedData,
    mixture: Mixture,
    terms: bool = False,
    moments: bool = False,
    q_other: np.ndarray | None = None,
    pool: _ArrayPool | None = None,
) -> _EPass:
    """The E-step's pass over the data, optionally with the lower bound's terms.

    The posterior is written into an array from ``pool`` if one is given.

    The log terms are computed in the units of :func:`exp_scaled_inplace`,
    EXP_SCALE per nat (the scale is folded into the weights of the matrix
    product), and converted back to nats only in sums.
    """
    n = data.n_samples
    k = mixture.n_components
    dens = _log_density_terms(mixture, data, EXP_SCALE)
    nat = 1.0 / EXP_SCALE  # nats per unit
    max_gap = _MAX_REF_GAP * EXP_SCALE
    resp_t = np.empty((k, n)) if pool is None else pool.take((k, n))
    total = 0.0
    # For Q and H: with s = log(pi_k N_k) - shift and r = exp(s) / norm,
    #   sum_k r_k log(pi_k N_k) = sum_k r_k s_k + shift   (Q, per point)
    #   sum_k r_k log r_k       = sum_k r_k s_k - log norm   (-H, per point)
    # so both come from one dot product of r with the shifted log terms.
    rs_total = shift_total = lognorm_total = cross = 0.0
    chunk = _chunk(k)
    width = min(chunk, n)
    scratch = _scratch(k, width)
    shifted = scratch.shifted if terms else None
    # A component with weight 0 has log terms of -inf; clamp them so that
    # 0 * log 0 counts as 0 in the dot products.
    clamp = terms and not np.all(mixture.weights > 0)
    q_t = None if q_other is None else np.asarray(q_other).T
    # The reference component (see below): to start with, the broadest one
    # of positive weight, whose log-density falls off slowest.
    cov = mixture.covariances
    spread = cov[:, 0, 0] * cov[:, 1, 1] - cov[:, 0, 1] ** 2
    ref: int | None = int(np.argmax(np.where(mixture.weights > 0, spread, -np.inf)))
    # The M-step's first pass (N_k and sum_n r_nk x_n), taken while each
    # chunk of responsibilities is still in cache.
    nk = np.zeros(k) if moments else None
    sx = np.zeros(k) if moments else None
    sy = np.zeros(k) if moments else None
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        m = stop - start
        log_prob = resp_t[:, start:stop]  # in units of 1 / EXP_SCALE nats
        features = _chunk_features(data, start, stop, scratch.features)
        _weighted_log_density(data, dens, start, stop, log_prob, features)
        if clamp:
            np.maximum(log_prob, -1e300, out=log_prob)
        if q_t is not None:
            cross += nat * float(vecdot(q_t[:, start:stop], log_prob).sum())
        # log-sum-exp over components, shifted per point so that a point
        # thousands of standard deviations away neither underflows to
        # exp(-inf) = 0 for every component nor gives 0/0.  The shift is the
        # log term of a reference component where no other exceeds it by
        # more than _MAX_REF_GAP anywhere in the chunk: its own exp is then
        # exactly 1 and need not be taken (a third of the work at K = 3),
        # nothing can overflow, and norm lies in [1, K e^gap].  Otherwise it
        # is the largest term, the usual choice, and norm lies in [1, K].
        by_ref = False
        if ref is not None:
            shift = scratch.shift[:m]
            np.copyto(shift, log_prob[ref])
            slabs = _other_rows(log_prob, ref)
            gap = 0.0
            for slab in slabs:
                slab -= shift
                highest = float(slab.max()) if slab.size else 0.0
                if not highest <= gap:  # NaN included
                    gap = highest
            by_ref = gap <= max_gap
            if by_ref and terms:
                log_prob[ref] = 0.0
            elif not by_ref:
                # Some term lies too far above the reference's: recompute the
                # chunk's terms (undoing the subtraction would not be exact).
                _weighted_log_density(data, dens, start, stop, log_prob, features)
                if clamp:
                    np.maximum(log_prob, -1e300, out=log_prob)
        if not by_ref:
            gap = 0.0
            shift = np.max(log_prob, axis=0, out=scratch.peak[:m])
            slabs = [log_prob]
            log_prob -= shift
            # The next chunk's reference: the component whose log term is
            # least far below the largest, if that is near enough.
            lowest = np.min(log_prob, axis=1)
            best = int(np.argmax(lowest))
            ref = best if -lowest[best] <= max_gap else None
        if terms:
            s_chunk = shifted[:, :m]
            np.multiply(log_prob, nat, out=s_chunk)
        for slab in slabs:
            if slab.size >= _EXP_KERNEL_MIN_VALUES:
                exp_scaled_inplace(slab, scratch.exp)
            elif slab.size:
                exp_scaled_small(slab)
        if by_ref:
            log_prob[ref] = 1.0
        norm = np.sum(log_prob, axis=0, out=scratch.norm[:m])
        shift_sum = nat * float(shift.sum())
        lognorm_sum = sum_log(norm, log_group_size(k * math.exp(gap * nat)))
        np.divide(1.0, norm, out=norm)
        log_prob *= norm
        if moments:
            _add_first_moments(data, log_prob, start, stop, nk, sx, sy)
        total += shift_sum + lognorm_sum
        if terms:
            rs_total += float(vecdot(log_prob, s_chunk).sum())
            shift_total += shift_sum
            lognorm_total += lognorm_sum
    resp_t.setflags(write=False)
    sums = (nk, sx, sy) if moments else None
    if not terms:
        return _EPass(resp_t.T, total, moments=sums)
    return _EPass(
        resp_t.T,
        total,
        self_expected=rs_total + shift_total,
        entropy=-(rs_total - lognorm_total),
        cross_expected=cross if q_t is not None else math.nan,
        moments=sums,
    )


def e_step_prepared(data: PreparedData, mixture: Mixture) -> tuple[np.ndarray, float]:
    """E-step on prepared data; see :func:`e_step`.

    Returns
    -------
    resp : array of shape (n_samples, n_components)
        Read-only; Fortran-ordered (it is the transpose of a C-ordered
        (n_components, n_samples) array, which is the layout the M-step reads).
    log_likelihood : float
    """
    result = _e_pass(data, mixture)
    return result.resp, result.log_likelihood


def e_step(X: object, mixture: Mixture, *, missing: str = "raise") -> tuple[np.ndarray, float]:
    """Posterior responsibilities and the log-likelihood.

    Parameters
    ----------
    X : array-like of shape (n_samples, 2)
        The points.
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
    data = _prepare_any(X, missing)
    if isinstance(data, MissingData):
        return e_step_missing(data, mixture)
    return e_step_prepared(data, mixture)


def log_likelihood(X: object, mixture: Mixture) -> float:
    """Total log-likelihood log p(X | theta) of ``mixture`` on ``X``."""
    return e_step(X, mixture)[1]


# ---------------------------------------------------------------------------
# M-step


def _floor_eigenvalues(cov: np.ndarray, floor: float) -> tuple[np.ndarray, np.ndarray]:
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


def m_step_prepared(
    data: PreparedData,
    resp: np.ndarray,
    cov_type: str,
    floor: float,
    moments: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> tuple[Mixture, np.ndarray, np.ndarray]:
    """M-step on prepared data; see :func:`m_step`.

    ``moments`` = (N_k, sum_n r_nk x_n, sum_n r_nk y_n) in centred
    coordinates, if the E-step pass already summed them (it does in
    :func:`iterate_em`); otherwise they are summed here.

    Returns
    -------
    mixture : Mixture
    nk : array of shape (n_components,)
        Responsibility mass of each component.
    clipped : bool array of shape (n_components,)
        Components whose covariance was held at the eigenvalue floor.
    """
    n = data.n_samples
    r = np.ascontiguousarray(resp.T)  # (K, n): rows are contiguous
    k = r.shape[0]
    chunk = _chunk(k)
    width = min(chunk, n)
    if moments is None:
        moments = (np.zeros(k), np.zeros(k), np.zeros(k))
        for start in range(0, n, chunk):
            stop = min(start + chunk, n)
            _add_first_moments(data, r[:, start:stop], start, stop, *moments)
    nk, sum_x, sum_y = moments
    empty = ~(nk > 0)
    safe_nk = np.where(empty, 1.0, nk)
    # Means in centred coordinates.
    mx = sum_x / safe_nk
    my = sum_y / safe_nk
    # A component with no responsibility at all has no maximiser; it is
    # parked on the data mean (centred coordinate 0) with the data's
    # covariance and weight 0, so it stays well defined and harmless.
    mx[empty] = 0.0
    my[empty] = 0.0
    # Second pass: scatter around each component's own mean (centred
    # two-pass moments; E[x x^T] - mu mu^T loses all precision far from 0).
    # Per chunk, d = (x - mx_k, y - my_k) for all k in one call, r d in
    # another, and the three sums in two dot-product calls.
    sxx = np.zeros(k)
    sxy = np.zeros(k)
    syy = np.zeros(k)
    centres = np.stack([mx, my]).reshape(2, k, 1)
    scatter_chunk = _scatter_chunk(k)
    d_buf, rd_buf = _scratch(k, width).scatter(min(scatter_chunk, n))
    xy = data.xy  # rows x, y (centred)
    for start in range(0, n, scatter_chunk):
        stop = min(start + scatter_chunk, n)
        m = stop - start
        d = d_buf[:, :, :m]
        rd = rd_buf[:, :, :m]
        np.subtract(xy[:, None, start:stop], centres, out=d)
        np.multiply(r[:, start:stop], d, out=rd)
        diag = vecdot(rd, d)  # (2, K): sum r dx^2, sum r dy^2
        sxx += diag[0]
        syy += diag[1]
        sxy += vecdot(rd[0], d[1])
    means = np.column_stack([mx, my]) + data.ref
    weights = nk / n
    global_var = None
    if np.any(empty):
        gx, gy = data.x, data.y
        global_var = (
            np.array(
                [[matmul(gx, gx), matmul(gx, gy)], [matmul(gx, gy), matmul(gy, gy)]],
            )
            / n
        )
    cov = structured_covariances(sxx, sxy, syy, nk, n, cov_type, global_var)
    cov, clipped = _floor_eigenvalues(cov, floor)
    mixture = Mixture(weights=weights, means=means, covariances=cov, cov_type=cov_type)
    return mixture, nk, clipped


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
    X : array-like of shape (n_samples, 2)
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
    data = _prepare_any(X, missing)
    r = check_resp(resp, data.n_samples)
    if isinstance(data, MissingData):
        if mixture is None:
            raise EmvizError("missing='marginalize' needs the mixture resp was computed from")
        return m_step_missing(data, r, cov_type, data.floor(reg), mixture=mixture)[0]
    return m_step_prepared(data, r, cov_type, data.floor(reg))[0]


# ---------------------------------------------------------------------------
# The EM loop


@dataclass(frozen=True, eq=False)
class Snapshot:
    """The state of EM after one half-step.

    Attributes
    ----------
    iteration : int
        0 for the starting point; iteration ``t`` has an "E" and an "M"
        snapshot.
    phase : {"init", "E", "M"}
        The half-step that produced this snapshot.
    mixture : Mixture
        The parameters theta after this half-step (an E-step leaves them
        unchanged).
    resp : array of shape (n_samples, n_components) or None
        The responsibilities q after this half-step: for "E" the posterior
        under ``mixture``; for "M" the responsibilities the M-step used
        (the posterior under the previous mixture); ``None`` for "init" and
        for snapshots whose responsibilities were dropped to save memory.
        Read-only.
    log_likelihood : float
        log p(X | mixture).
    converged : bool
        True on the M snapshot at which the gain per point fell below ``tol``.
    collapsing : tuple of int
        Components held at the covariance floor or carrying less than one
        point's worth of responsibility.
    expected_complete, entropy : float
        Q(q, theta) = E_q[log p(X, Z | theta)] and H(q) for this snapshot's
        q and theta, when the run was asked for them (``bound=True``), else
        NaN.  For "init", q is taken to be the posterior.
    """

    iteration: int
    phase: str
    mixture: Mixture
    resp: np.ndarray | None
    log_likelihood: float
    converged: bool = False
    collapsing: tuple[int, ...] = ()
    expected_complete: float = math.nan
    entropy: float = math.nan

    @property
    def lower_bound(self) -> float:
        """L(q, theta) = Q + H (NaN unless the run computed the bound)."""
        return self.expected_complete + self.entropy

    @property
    def kl(self) -> float:
        """KL(q || p(Z | X, theta)) = log p - L: the gap the next E-step closes."""
        return self.log_likelihood - self.lower_bound

    @property
    def next_phase(self) -> str:
        """The half-step that follows this one: "E" after "init" or "M", "M" after "E"."""
        return "M" if self.phase == "E" else "E"

    def without_resp(self) -> Snapshot:
        """The same snapshot with ``resp`` dropped (history keeps parameters only)."""
        if self.resp is None:
            return self
        return replace(self, resp=None)


def _collapsing(nk: np.ndarray, clipped: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) for i in np.flatnonzero(clipped | (nk < COLLAPSE_MASS)))


def iterate_em(
    X: object,
    start: Mixture | Snapshot,
    *,
    cov_type: str | None = None,
    reg_covar: float = 1e-6,
    tol: float = 1e-6,
    max_iter: int = 500,
    data: PreparedData | MissingData | None = None,
    assignment: str = "soft",
    bound: bool = False,
    missing: str = "raise",
) -> Iterator[Snapshot]:
    """Run EM, yielding an immutable :class:`Snapshot` after every half-step.

    This is the only EM loop in emviz: the Step buttons, the worker thread,
    :func:`fit` and the restarts all consume it.

    Parameters
    ----------
    X : array-like of shape (n_samples, 2)
    start : Mixture or Snapshot
        A mixture: the generator first yields the "init" snapshot, then
        "E", "M", "E", ...  A snapshot (from an earlier run): the generator
        continues with the half-step that follows it and does not yield it
        again.
    cov_type : str, optional
        Covariance structure of the M-step; defaults to the start's.
    reg_covar : float, default 1e-6
        Relative eigenvalue floor, see :func:`m_step`.
    tol : float, default 1e-6
        Converged when an iteration raises the log-likelihood by less than
        ``tol`` per point.
    max_iter : int, default 500
        Most iterations (E+M pairs) this call performs.
    data : PreparedData, optional
        ``prepare(X)`` computed already (then ``X`` is not read).
    assignment : {"soft", "hard"}
        "soft" is EM.  "hard" is classification EM: the E-step gives each
        point wholly to its most probable component (one-hot
        responsibilities), and the M-step fits to that partition.  It
        maximises the classification likelihood, so log p(X | theta), which
        the snapshots still report, may fall.
    bound : bool
        Also compute Q(q, theta) and H(q) for every snapshot (soft EM only),
        for the lower-bound view; costs about 15 % more per iteration.
    missing : {"raise", "marginalize"}
        "marginalize" runs EM for incomplete data (NaN coordinates), soft
        and without ``bound``; snapshots' ``resp`` then has one row per kept
        row of ``X`` (see :func:`emviz.core.missing.prepare_missing`).

    Yields
    ------
    Snapshot
        The generator stops after the converged M snapshot, or after
        ``max_iter`` iterations.
    """
    reg = check_reg_covar(reg_covar)
    tol, max_iter = check_tol_max_iter(tol, max_iter)
    if assignment not in ("soft", "hard"):
        raise EmvizError(f"assignment must be 'soft' or 'hard'; got {assignment!r}")
    if bound and assignment != "soft":
        raise EmvizError("the lower bound is computed for soft EM only")
    if data is None:
        data = _prepare_any(X, missing)
    marginal = isinstance(data, MissingData)
    if marginal and (assignment != "soft" or bound):
        raise EmvizError("missing='marginalize' runs soft EM without the lower bound")
    if isinstance(start, Snapshot):
        snap = start
    elif isinstance(start, Mixture):
        snap = None
    else:
        raise EmvizError(f"start must be a Mixture or a Snapshot; got {type(start).__name__}")
    mixture = start.mixture if snap is not None else start
    cov_type = check_cov_type(cov_type or mixture.cov_type)
    floor = data.floor(reg)
    n = data.n_samples

    pool = _ArrayPool()

    def posterior(mix: Mixture, q_other: np.ndarray | None = None) -> _EPass:
        if marginal:
            return _EPass(*e_step_missing(data, mix))
        if assignment == "hard":
            resp, ll = _hard_e_step(data, mix)
            return _EPass(resp, ll)
        return _e_pass(data, mix, terms=bound, q_other=q_other, moments=True, pool=pool)

    # The posterior under the current mixture is computed once, right after
    # the mixture is known: it gives that mixture's log-likelihood (shown on
    # the M snapshot) and is the E snapshot's resp.  With ``bound``, the same
    # pass gives Q of the new mixture under the old responsibilities, which
    # is the M snapshot's bound.
    if snap is None:
        cur = posterior(mixture)
        yield Snapshot(
            0, "init", mixture, None, cur.log_likelihood, False, (), cur.self_expected, cur.entropy
        )
        iteration, phase, collapsing = 0, "init", ()
    else:
        iteration, phase, collapsing = snap.iteration, snap.phase, snap.collapsing
        if phase == "E" and snap.resp is not None and not bound:
            cur = _EPass(snap.resp, snap.log_likelihood)
        else:
            cur = posterior(mixture)
            if phase == "E":
                cur = replace(cur, log_likelihood=snap.log_likelihood)

    done = 0
    while done < max_iter:
        if phase != "E":
            iteration += 1
            phase = "E"
            yield Snapshot(
                iteration,
                "E",
                mixture,
                cur.resp,
                cur.log_likelihood,
                False,
                collapsing,
                cur.self_expected,
                cur.entropy,
            )
        if marginal:  # the conditional means are taken under ``mixture``, which gave cur
            new_mixture, nk, clipped = m_step_missing(
                data, cur.resp, cov_type, floor, mixture=mixture
            )
        else:
            new_mixture, nk, clipped = m_step_prepared(
                data, cur.resp, cov_type, floor, moments=cur.moments
            )
        new = posterior(new_mixture, q_other=cur.resp if bound else None)
        converged = abs(new.log_likelihood - cur.log_likelihood) < tol * n
        collapsing = _collapsing(nk, clipped)
        phase = "M"
        yield Snapshot(
            iteration,
            "M",
            new_mixture,
            cur.resp,
            new.log_likelihood,
            converged,
            collapsing,
            new.cross_expected,
            cur.entropy,
        )
        mixture, cur = new_mixture, new
        done += 1
        if converged:
            return


def _hard_e_step(data: PreparedData, mixture: Mixture) -> tuple[np.ndarray, float]:
    """One-hot responsibilities of the most probable component, and log p(X | theta).

    Ties go to the lower component index (``argmax``).
    """
    resp, ll = e_step_prepared(data, mixture)
    k = mixture.n_components
    hard_t = np.zeros((k, data.n_samples))
    hard_t[np.argmax(resp, axis=1), np.arange(data.n_samples)] = 1.0
    hard_t.setflags(write=False)
    return hard_t.T, ll


@dataclass(frozen=True, eq=False)
class FitResult:
    """The outcome of :func:`fit`.

    Attributes
    ----------
    mixture : Mixture
        The final parameters.
    log_likelihoods : array of shape (n_iter + 1,)
        log p(X | theta) at the start and after every M-step.
    n_iter : int
        Iterations performed.
    converged : bool
    resp : array of shape (n_samples, n_components)
        Posterior responsibilities under the final mixture.
    """

    mixture: Mixture
    log_likelihoods: np.ndarray
    n_iter: int
    converged: bool
    resp: np.ndarray


def fit(
    X: object,
    n_components: int,
    *,
    cov_type: str = "full",
    init: str | Mixture = "kmeans++",
    seed: int | None = None,
    tol: float = 1e-6,
    max_iter: int = 500,
    reg_covar: float = 1e-6,
    missing: str = "raise",
) -> FitResult:
    """Fit a Gaussian mixture to ``X`` by EM.

    Parameters
    ----------
    X : array-like of shape (n_samples, 2)
    n_components : int
    cov_type : {"full", "tied", "diag", "spherical"}
    init : str or Mixture
        An initialisation method of :func:`emviz.core.init.initialize`, or a
        starting mixture (then ``n_components`` must match it).
    seed : int, optional
        Seed of the initialisation.
    tol, max_iter, reg_covar, missing
        See :func:`iterate_em`.

    Returns
    -------
    FitResult
    """
    from emviz.core.init import initialize

    data = _prepare_any(X, missing)
    if isinstance(init, Mixture):
        if init.n_components != n_components:
            raise EmvizError(
                f"the starting mixture has {init.n_components} components, not {n_components}"
            )
        start = init
    elif isinstance(data, MissingData):
        start = initialize_missing(
            data, n_components, method=init, cov_type=cov_type, seed=seed, reg_covar=reg_covar
        )
    else:
        start = initialize(
            data.X, n_components, method=init, cov_type=cov_type, seed=seed, reg_covar=reg_covar
        )
    trace = []
    last = None
    for snap in iterate_em(
        None, start, cov_type=cov_type, reg_covar=reg_covar, tol=tol, max_iter=max_iter, data=data
    ):
        if snap.phase != "E":
            trace.append(snap.log_likelihood)
        last = snap
    assert last is not None
    if isinstance(data, MissingData):
        resp, _ = e_step_missing(data, last.mixture)
    else:
        resp, _ = e_step_prepared(data, last.mixture)
    return FitResult(
        mixture=last.mixture,
        log_likelihoods=np.array(trace),
        n_iter=last.iteration,
        converged=last.converged,
        resp=resp,
    )


def bic(X: object, mixture: Mixture) -> float:
    """Bayesian information criterion, -2 log p(X | theta) + p log N (lower is better)."""
    data = prepare(X)
    ll = e_step_prepared(data, mixture)[1]
    return -2.0 * ll + mixture.n_parameters() * math.log(data.n_samples)


def aic(X: object, mixture: Mixture) -> float:
    """Akaike information criterion, -2 log p(X | theta) + 2p (lower is better)."""
    return -2.0 * log_likelihood(X, mixture) + 2.0 * mixture.n_parameters()
