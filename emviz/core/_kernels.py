"""The private fast kernels of the EM steps on complete data.

Everything here is specialised to two dimensions: a 2x2 covariance has a
closed-form Cholesky factor, determinant and eigenvalues, so the E-step is a
handful of element-wise operations on arrays of shape (n_components, chunk)
instead of a batched linear solve.  The data are processed in chunks that
stay in cache, with scratch arrays kept per thread and posteriors drawn
from a pool.

The functions take a complete-data layout (:class:`emviz.core.data.PreparedData`:
``x``, ``y``, ``xy``, ``ref``, ``radius2``, ``n_samples``); callers outside
the core use the data protocol of :mod:`emviz.core.data` instead.

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
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from emviz.core._products import matmul, vecdot
from emviz.core.covariances import floor_eigenvalues, structured_covariances
from emviz.core.fastmath import (
    EXP_SCALE,
    ExpWorkspace,
    exp_scaled_inplace,
    exp_scaled_small,
    log_group_size,
    sum_log,
)
from emviz.core.mixture import Mixture


class CompleteLayout(Protocol):
    """What the kernels read of complete data (:class:`emviz.core.data.PreparedData`)."""

    X: np.ndarray
    x: np.ndarray
    y: np.ndarray
    xy: np.ndarray
    ref: np.ndarray
    radius2: float

    @property
    def n_samples(self) -> int: ...


_LOG_2PI = math.log(2.0 * math.pi)

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
# component's for the E-step to shift by the latter (see e_pass).  It bounds
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


class ArrayPool:
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
    """The reference count :meth:`ArrayPool._refs` sees for an array held by the pool alone.

    Measured rather than assumed: interpreters differ in the temporary
    references a call makes.
    """
    pool = ArrayPool()
    pool._arrays.append(np.empty((1, 1)))
    return pool._refs(0)


_UNSHARED_REFS = _unshared_refs()


# ---------------------------------------------------------------------------
# E-step

# Largest rounding error, in units of the log-density, that the expanded
# quadratic form may carry before a component is evaluated in its own frame.
_EXPANSION_TOL = 1e-11
_EPS = np.finfo(np.float64).eps


def _log_density_terms(
    mixture: Mixture, data: CompleteLayout, scale: float = 1.0
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


def _chunk_features(data: CompleteLayout, start: int, stop: int, buf: np.ndarray) -> np.ndarray:
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
    data: CompleteLayout,
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


def weighted_log_density(data: CompleteLayout, mixture: Mixture) -> np.ndarray:
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
class EPass:
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
    data: CompleteLayout,
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


def e_pass(
    data: CompleteLayout,
    mixture: Mixture,
    terms: bool = False,
    moments: bool = False,
    q_other: np.ndarray | None = None,
    pool: ArrayPool | None = None,
) -> EPass:
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
        return EPass(resp_t.T, total, moments=sums)
    return EPass(
        resp_t.T,
        total,
        self_expected=rs_total + shift_total,
        entropy=-(rs_total - lognorm_total),
        cross_expected=cross if q_t is not None else math.nan,
        moments=sums,
    )


def e_step_prepared(data: CompleteLayout, mixture: Mixture) -> tuple[np.ndarray, float]:
    """E-step on prepared data; see :func:`e_step`.

    Returns
    -------
    resp : array of shape (n_samples, n_components)
        Read-only; Fortran-ordered (it is the transpose of a C-ordered
        (n_components, n_samples) array, which is the layout the M-step reads).
    log_likelihood : float
    """
    result = e_pass(data, mixture)
    return result.resp, result.log_likelihood


def m_step_prepared(
    data: CompleteLayout,
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
    cov, clipped = floor_eigenvalues(cov, floor)
    mixture = Mixture(weights=weights, means=means, covariances=cov, cov_type=cov_type)
    return mixture, nk, clipped


def hard_e_step(data: CompleteLayout, mixture: Mixture) -> tuple[np.ndarray, float]:
    """One-hot responsibilities of the most probable component, and log p(X | theta).

    Ties go to the lower component index (``argmax``).
    """
    resp, ll = e_step_prepared(data, mixture)
    k = mixture.n_components
    hard_t = np.zeros((k, data.n_samples))
    hard_t[np.argmax(resp, axis=1), np.arange(data.n_samples)] = 1.0
    hard_t.setflags(write=False)
    return hard_t.T, ll
