"""Many EM runs advanced together, one vectorised pass per iteration.

A restart experiment runs EM from a hundred starts on the same points.  On a
few hundred points one iteration of :func:`emviz.core.em.iterate_em` is a few
dozen numpy calls on arrays of a few hundred values, so its time is almost
all the fixed cost of those calls.  :func:`batched_em` gives every array a
leading run axis, so that one numpy call does the work of every run: the
E-step's log terms of all runs are one matrix product, the log-sum-exp is
taken over the component axis of an array of shape (n_runs, K, n_samples),
and the M-step's sums are reductions over its last axis.  A run that
converges or reaches ``max_iter`` leaves the batch, and a start still
waiting takes its place.

The arithmetic is that of the single-run loop, operation for operation: the
same expanded quadratic form of the log-density with the same exact
fallback for narrow components, the same reference component for the
log-sum-exp and the same exp, the sums of the M-step and of the
log-likelihood taken per run in the same order, the same covariance
structures and eigenvalue floor.  Each run's trace and final mixture are
therefore those of ``iterate_em`` from the same start, bit for bit in every
case tested (the contract tested everywhere is 1e-9 relative: a BLAS that
rounds a stack of small products differently from one would break the
bits, not the agreement).  Runs on more points than the single loop takes
in one pass (8192 for K <= 8), or on incomplete data, are not batched:
:func:`batched_em` then runs ``iterate_em`` itself.

Conventions are those of :mod:`emviz.core.em`, with a leading run axis:
``resp`` is stored as an array of shape (n_runs, n_components, n_samples).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from emviz.core._kernels import (
    _EXP_KERNEL_MIN_VALUES,
    _EXPANSION_TOL,
    _LOG_2PI,
    _MAX_REF_GAP,
    _scatter_chunk,
)
from emviz.core._products import matmul, vecdot
from emviz.core.covariances import floor_eigenvalues
from emviz.core.data import Data, PreparedData, as_data
from emviz.core.em import iterate_em
from emviz.core.errors import EmvizError
from emviz.core.fastmath import (
    EXP_SCALE,
    ExpWorkspace,
    exp_scaled_inplace,
    exp_scaled_small,
    log_group_size,
)
from emviz.core.mixture import Mixture, check_cov_type
from emviz.core.snapshot import Snapshot, collapsing_components
from emviz.core.validation import check_reg_covar, check_tol_max_iter

__all__ = ["BatchedRun", "batched_em"]

_EPS = np.finfo(np.float64).eps

# Values (runs x components x points) in one batch.  Each of the few
# (n_runs, K, n) arrays then takes 8 MB at most; a run alone larger than half
# of this gains nothing from batching (its numpy calls are long already) and
# goes through iterate_em, whose chunked passes are kinder to the cache.
_BATCH_VALUES = 1 << 20

# What a run's state takes from a starting Mixture.
_PARAMS = ("weights", "means", "covariances")


@dataclass(frozen=True, eq=False)
class BatchedRun:
    """One EM run of :func:`batched_em`: what the single-run loop would have ended with.

    Attributes
    ----------
    start : Mixture
        The starting mixture.
    mixture : Mixture
        The final mixture.
    log_likelihoods : array of shape (n_iter + 1,)
        log p(X | theta) at the start and after every M-step (what
        :func:`emviz.core.restarts.run_restarts` records).  Read-only.
    n_iter : int
        EM iterations (E+M pairs) performed.
    converged : bool
        Whether the run stopped on the tolerance rather than on ``max_iter``.
    collapsing : tuple of int
        Components collapsing after the last M-step (held at the covariance
        floor or with less than one point's responsibility): the last
        snapshot's ``collapsing``.
    """

    start: Mixture
    mixture: Mixture
    log_likelihoods: np.ndarray
    n_iter: int
    converged: bool
    collapsing: tuple[int, ...]

    @property
    def log_likelihood(self) -> float:
        """Final log-likelihood."""
        return float(self.log_likelihoods[-1])

    @property
    def snapshot(self) -> Snapshot:
        """The run's last "M" snapshot, without responsibilities.

        Equal, but for ``resp`` (None) and the bound's terms (NaN), to the
        last snapshot ``iterate_em`` yields from the same start; it can be
        passed back to ``iterate_em`` to continue the run, or to
        :func:`emviz.core.restarts.is_degenerate`.
        """
        ll, done = self.log_likelihood, self.n_iter
        return Snapshot(done, "M", self.mixture, None, ll, self.converged, self.collapsing)


def batched_em(
    X: object,
    starts: Sequence[Mixture],
    *,
    cov_type: str | None = None,
    reg_covar: float = 1e-6,
    tol: float = 1e-8,
    max_iter: int = 500,
    missing: str = "raise",
    should_stop: Callable[[], bool] | None = None,
    progress: Callable[[int, int], object] | None = None,
) -> list[BatchedRun | None]:
    """Run EM from every start in ``starts``, many runs per vectorised pass.

    Each run is the run ``iterate_em(X, start, cov_type=cov_type,
    reg_covar=reg_covar, tol=tol, max_iter=max_iter)`` performs: the same
    convergence rule (the log-likelihood rose by less than ``tol`` per point
    in the last iteration), the same eigenvalue floor ``data.floor(reg_covar)``
    and the same collapse report, with the same results (bit for bit in every
    case tested, see the module's docstring).

    Incomplete data (``missing="marginalize"`` with NaN coordinates, or
    :class:`emviz.core.data.MissingData` given) are not batched: each run is
    then ``iterate_em`` itself, one after the other.  So are runs on more
    points than the single loop takes in one pass (``_kernels._scatter_chunk``:
    8192 for K <= 8), or so many that one run alone would fill a batch,
    where batching gains little.

    Parameters
    ----------
    X : array-like of shape (n_samples, 2), or prepared data (:class:`emviz.core.data.Data`)
    starts : sequence of Mixture
        One starting mixture per run.  They may differ in K and covariance
        type: runs are batched with the others of their K and type.
    cov_type : {"full", "tied", "diag", "spherical"}, optional
        Covariance structure of the M-steps; defaults to each start's.
    reg_covar, tol, max_iter, missing
        As in :func:`emviz.core.em.iterate_em` (``tol`` defaults to 1e-8 as in
        :func:`emviz.core.restarts.run_restarts`).
    should_stop : callable() -> bool, optional
        Polled before the first iteration and after every batched iteration
        (every run in the batch has then taken one more E+M step); for
        unbatched runs, after every half-step.  When it returns True the runs
        not yet finished are abandoned.
    progress : callable(done, total), optional
        Called each time a run finishes, with the number finished so far and
        ``len(starts)``.

    Returns
    -------
    list of BatchedRun or None, of length ``len(starts)``
        ``result[i]`` is the run from ``starts[i]``; None only for runs
        abandoned because ``should_stop`` returned True.

    Raises
    ------
    EmvizError
        On bad data or parameters, or a start that is not a Mixture.
    """
    reg = check_reg_covar(reg_covar)
    tol, max_iter = check_tol_max_iter(tol, max_iter)
    if cov_type is not None:
        check_cov_type(cov_type)
    data = as_data(X, missing)
    starts = list(starts)
    for i, s in enumerate(starts):
        if not isinstance(s, Mixture):
            raise EmvizError(f"starts[{i}] must be a Mixture; got {type(s).__name__}")
    stop = should_stop if should_stop is not None else (lambda: False)
    results: list[BatchedRun | None] = [None] * len(starts)
    done = [0]

    def finish(i: int, run: BatchedRun) -> None:
        results[i] = run
        done[0] += 1
        if progress is not None:
            progress(done[0], len(starts))

    # Runs of one K and one covariance type share a batch.
    groups: dict[tuple[int, str], list[int]] = {}
    for i, s in enumerate(starts):
        groups.setdefault((s.n_components, cov_type or s.cov_type), []).append(i)
    for (k, ct), indices in groups.items():
        capacity = _BATCH_VALUES // (k * data.n_samples)
        if _batchable(data, k) and capacity >= 2:
            batch = _Batch(data, k, ct, data.floor(reg), min(capacity, len(indices)))
            cancelled = batch.run(
                [starts[i] for i in indices], indices, tol, max_iter, stop, finish
            )
        else:
            cancelled = _one_by_one(data, starts, indices, ct, reg, tol, max_iter, stop, finish)
        if cancelled:
            break
    return results


def _batchable(data: Data, n_components: int) -> bool:
    """Whether runs on ``data`` are batched: complete points, few enough for one pass.

    Up to ``_scatter_chunk(K)`` points (8192 for K <= 8) the single loop's
    E-step and M-step each take one pass over all the points, which the
    batch repeats operation for operation.  On more, the single loop works
    chunk by chunk, its numpy calls are long enough that batching saves
    little, and a BLAS library may spread one long dot product over threads.
    """
    return not data.marginal and data.n_samples <= _scatter_chunk(n_components)


def _one_by_one(
    data: Data,
    starts: list[Mixture],
    indices: list[int],
    cov_type: str,
    reg_covar: float,
    tol: float,
    max_iter: int,
    stop: Callable[[], bool],
    finish: Callable[[int, BatchedRun], None],
) -> bool:
    """Run ``iterate_em`` from each start in turn; True if cancelled."""
    for i in indices:
        if stop():
            return True
        trace: list[float] = []
        last = None
        settings = {"cov_type": cov_type, "reg_covar": reg_covar, "tol": tol, "data": data}
        em = iterate_em(None, starts[i], max_iter=max_iter, **settings)
        try:
            for snap in em:
                if snap.phase != "E":
                    trace.append(snap.log_likelihood)
                last = snap
                if stop():
                    return True
        finally:
            em.close()
        assert last is not None
        run = _make_run(
            starts[i], last.mixture, trace, last.iteration, last.converged, last.collapsing
        )
        finish(i, run)
    return False


def _make_run(
    start: Mixture,
    mixture: Mixture,
    trace: list[float],
    n_iter: int,
    converged: bool,
    collapsing: tuple[int, ...],
) -> BatchedRun:
    lls = np.array(trace, dtype=np.float64)
    lls.setflags(write=False)
    return BatchedRun(start, mixture, lls, int(n_iter), bool(converged), tuple(collapsing))


class _Batch:
    """The state and scratch arrays of a batch of runs of one K and covariance type.

    Parameters
    ----------
    data : PreparedData
    n_components : int
    cov_type : str
    floor : float
        Absolute eigenvalue floor of the M-step.
    capacity : int
        Most runs advanced together.
    """

    def __init__(
        self, data: PreparedData, n_components: int, cov_type: str, floor: float, capacity: int
    ) -> None:
        n, k = data.n_samples, n_components
        self.data, self.k, self.cov_type, self.floor = data, k, cov_type, floor
        self.n = n
        # Features x^2, xy, y^2, x, y, 1 of the centred points: the
        # log-density of every component is one row of weights against them.
        self.features = np.stack(
            [data.x * data.x, data.x * data.y, data.y * data.y, data.x, data.y, np.ones(n)]
        )
        self.reach = math.sqrt(data.radius2)
        # Data covariance (centred), given to a component with no responsibility.
        x, y = data.x, data.y
        self.global_var = np.array([[matmul(x, x), matmul(x, y)], [matmul(x, y), matmul(y, y)]]) / n
        self.resp = np.empty((capacity, k, n))
        self.d = np.empty((capacity, k, n))
        self.rd = np.empty((capacity, k, n))
        self.shift = np.empty((capacity, n))
        self.norm = np.empty((capacity, n))
        self.exp_work: ExpWorkspace | None = None

    # -- E-step

    def e_pass(
        self, weights: np.ndarray, means: np.ndarray, cov: np.ndarray, out: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Posteriors of ``r`` runs into ``out``, with log p(X | theta) and the M-step's sums.

        Parameters
        ----------
        weights : array of shape (r, K)
        means : array of shape (r, K, 2)
            In the data's coordinates (not centred), as a Mixture holds them.
        cov : array of shape (r, K, 2, 2)
        out : array of shape (r, K, n_samples)
            Receives the posteriors.

        Returns
        -------
        log_likelihood : array of shape (r,)
        nk : array of shape (r, K)
            N_k = sum_n r_nk.
        sums : array of shape (r, K, 2)
            sum_n r_nk x_n in centred coordinates.
        """
        r, k, n = out.shape
        runs = np.arange(r)
        self._log_terms(weights, means, cov, out)
        # log-sum-exp over the components, shifted per point by the log term
        # of a reference component, as _kernels.e_pass does: the broadest
        # component of positive weight, as long as no other term exceeds its
        # own by more than _MAX_REF_GAP nats (then its exp is exactly 1 and
        # norm lies in [1, K e^gap]); otherwise by the largest term.
        spread = cov[..., 0, 0] * cov[..., 1, 1] - cov[..., 0, 1] ** 2
        ref = np.argmax(np.where(weights > 0, spread, -np.inf), axis=1)
        shift = self.shift[:r]
        np.copyto(shift, out[runs, ref])
        out -= shift[:, None, :]
        gap = out.reshape(r, k * n).max(axis=1)  # >= 0: the reference's own row is 0
        far = np.flatnonzero(~(gap <= _MAX_REF_GAP * EXP_SCALE))  # NaN included
        if far.size:
            # Recompute those runs' terms (undoing the shift would not be
            # exact) and shift them by the largest term instead.
            redo = np.empty((far.size, k, n))
            self._log_terms(weights[far], means[far], cov[far], redo)
            shift[far] = redo.max(axis=1)
            redo -= shift[far][:, None, :]
            out[far] = redo
            gap[far] = 0.0
        # The reference's own terms are 0, their exp exactly 1: only the
        # other rows are exponentiated, as in the single loop, which takes
        # them in one slab (two around a middle reference when K > 3) and
        # uses the kernel for a slab of enough values: the same choice here.
        others = np.ones((r, k), dtype=bool)
        others[runs, ref] = False
        others[far] = True
        kernel = np.zeros((r, k), dtype=bool)
        if k * n >= _EXP_KERNEL_MIN_VALUES:
            refc = ref[:, None]
            slab = np.where(np.arange(k) < refc, refc, k - 1 - refc) * n
            whole = (refc == 0) | (refc == k - 1) | (k == 3)
            slab = np.where(whole, (k - 1) * n, slab)
            slab[far] = k * n
            kernel = others & (slab >= _EXP_KERNEL_MIN_VALUES)
        for rows, exp in ((others & ~kernel, exp_scaled_small), (kernel, self._exp_kernel)):
            if rows.any():
                terms = out[rows]
                exp(terms)
                out[rows] = terms
        out[~others] = 1.0
        norm = self.norm[:r]
        np.copyto(norm, out[:, 0])
        for j in range(1, k):
            norm += out[:, j]
        # norm lies in [1, K e^gap]: the sum of its logs takes products of as
        # many values as stay far from overflow, per run as in the single loop.
        nat = 1.0 / EXP_SCALE
        groups = self._groups(gap * nat)
        ll = nat * shift.sum(axis=1) + self._sum_log(norm, groups)
        np.divide(1.0, norm, out=norm)
        out *= norm[:, None, :]
        # The M-step's first sums, as _kernels._add_first_moments takes them.
        nk = out.sum(axis=2)
        # numpy multiplies a stack of (K, n) matrices by a vector one matrix
        # at a time, as the single loop does: the same bits.
        sums = np.empty((r, k, 2))
        sums[..., 0] = matmul(out, self.data.x)
        sums[..., 1] = matmul(out, self.data.y)
        return ll, nk, sums

    def _exp_kernel(self, u: np.ndarray) -> None:
        """exp_scaled_inplace of ``u`` (m, n_samples), with a workspace made on first use."""
        if self.exp_work is None:
            self.exp_work = ExpWorkspace((self.resp.shape[0] * self.k, self.n))
        exp_scaled_inplace(u, self.exp_work)

    def _log_terms(
        self, weights: np.ndarray, means: np.ndarray, cov: np.ndarray, out: np.ndarray
    ) -> None:
        """log(pi_k N(x_n | mu_k, Sigma_k)) of ``r`` runs, in units of 1 / EXP_SCALE nats.

        Parameters as for :meth:`e_pass`; ``out`` (r, K, n_samples) receives
        the terms.
        """
        r, k, n = out.shape
        # The log-density of component k at a centred point u is
        #   c_k - 1/2 (u - m)^T P (u - m),  c_k = log pi_k - log 2 pi - 1/2 log det Sigma_k,
        # with P = Sigma_k^-1 and m = mu_k - ref, expanded in the features
        # (x^2, xy, y^2, x, y, 1): as in _kernels._log_density_terms.
        a = cov[..., 0, 0]
        b = cov[..., 0, 1]
        c = cov[..., 1, 1]
        det = a * c - b * b
        # log pi_k = -inf (weight 0) must not enter the product: it gets 0
        # there and its row is set to -inf afterwards.
        absent = ~(weights > 0)
        const = np.log(np.where(absent, 1.0, weights)) - _LOG_2PI - 0.5 * np.log(det)
        m = means - self.data.ref
        mx, my = m[..., 0], m[..., 1]
        p11, p12, p22 = c / det, -b / det, a / det
        pmx = p11 * mx + p12 * my
        pmy = p12 * mx + p22 * my
        w6 = np.empty((r, k, 6))
        w6[..., 0] = -0.5 * p11
        w6[..., 1] = -p12
        w6[..., 2] = -0.5 * p22
        w6[..., 3] = pmx
        w6[..., 4] = pmy
        w6[..., 5] = const - 0.5 * (mx * pmx + my * pmy)
        # In units of 1 / EXP_SCALE nats, those of the exp kernel.
        w6 *= EXP_SCALE
        # The expansion cancels terms of size |P| (R + |m|)^2; a component far
        # narrower than the data's extent is evaluated around its own mean
        # (on data with axes of very different spread, such as Old Faithful,
        # that is most components).
        reach2 = (self.reach + np.hypot(mx, my)) ** 2
        err = 8.0 * _EPS * (p11 + p22) * reach2
        exact = ~(err <= _EXPANSION_TOL) & ~absent
        n_exact = int(np.count_nonzero(exact))
        if 2 * n_exact > r * k:
            self._exact(out, mx, my, a, b, det, const)
            if n_exact < r * k:
                # Each run's expanded rows from its own (K, 6) product, as
                # in the single loop (a product of other shape may round
                # differently).
                mixed = np.flatnonzero(~exact.all(axis=1))
                run, row = np.nonzero(~exact[mixed])
                out[mixed[run], row] = matmul(w6[mixed], self.features)[run, row]
        else:
            matmul(w6.reshape(r * k, 6), self.features, out=out.reshape(r * k, n))
            if n_exact:
                rows = np.empty((n_exact, n))
                self._exact(rows, *(t[exact] for t in (mx, my, a, b, det, const)))
                out[exact] = rows
        if absent.any():
            out[absent] = -np.inf

    def _exact(self, out: np.ndarray, *terms: np.ndarray) -> None:
        """Exact log terms of components, into ``out`` (..., n_samples).

        ``terms`` are mx, my, a, b, det, const of :meth:`_log_terms`, each an
        array of the components' shape (...).

        With Sigma = [[a, b], [b, c]] and v = det / a the Mahalanobis distance
        is dx^2 / a + (dy - (b / a) dx)^2 / v, a sum of two squares free of
        cancellation (as in _kernels._exact_log_density, operation for
        operation, so the bits are the same).
        """
        mx, my, a, b, det, const = terms
        rows = out.reshape(-1, self.n)
        m = rows.shape[0]
        v = det / a
        slope, ax, ay = (t.reshape(m, 1) for t in (b / a, np.sqrt(0.5 / a), np.sqrt(0.5 / v)))
        dx = np.subtract(self.data.x, mx.reshape(m, 1), out=self.d.reshape(-1, self.n)[:m])
        dy = np.subtract(self.data.y, my.reshape(m, 1), out=rows)
        tmp = np.multiply(slope, dx, out=self.rd.reshape(-1, self.n)[:m])
        dy -= tmp
        dx *= ax
        dy *= ay
        np.square(dx, out=dx)
        np.square(dy, out=dy)
        dx += dy
        np.subtract(const.reshape(m, 1), dx, out=rows)
        rows *= EXP_SCALE

    def _groups(self, gap: np.ndarray) -> np.ndarray:
        """``log_group_size(K e^gap)`` for each run's ``gap`` (nats), int array of shape (r,).

        The largest group, 64 values, holds while log2(K e^gap) <= 1000 / 64;
        only the runs clearly past that (a narrow component far above the
        reference somewhere) are worked out one by one, as the single loop
        does.
        """
        groups = np.full(gap.shape, log_group_size(float(self.k)))
        over = np.flatnonzero(math.log2(self.k) + gap / math.log(2.0) > 15.5)
        for i in over.tolist():
            groups[i] = log_group_size(self.k * math.exp(float(gap[i])))
        return groups

    @staticmethod
    def _sum_log(norm: np.ndarray, groups: np.ndarray) -> np.ndarray:
        """sum_n log norm[i, n] for each run i, one log per ``groups[i]`` values.

        As fastmath.sum_log, whose products it takes in the same order: a
        product of g values carries a relative rounding error of about g eps,
        the same as g logs would.  That function multiplies the rows of
        values.reshape(g, -1); here each run's values are laid out as the
        columns of that matrix (a transposed copy), so that each product is
        one contiguous reduction, in the same order.
        """
        r, n = norm.shape
        total = np.empty(r)
        same = groups.min() == groups.max()
        for g in groups[:1] if same else np.unique(groups):
            idx = np.arange(r) if same else np.flatnonzero(groups == g)
            values = norm if same else norm[idx]
            full = n - n % g
            part = np.zeros(idx.size)
            if full:
                blocks = values[:, :full].reshape(idx.size, g, -1).transpose(0, 2, 1)
                products = np.multiply.reduce(np.ascontiguousarray(blocks), axis=2)
                part += np.log(products).sum(axis=1)
            if full < n:
                rest = np.multiply.reduce(values[:, full:], axis=1)
                part += [math.log(v) for v in rest.tolist()]
            total[idx] = part
        return total

    # -- M-step

    def m_step(
        self, resp: np.ndarray, nk: np.ndarray, sums: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The M-step of ``r`` runs, as _kernels.m_step_prepared.

        Parameters
        ----------
        resp : array of shape (r, K, n_samples)
        nk : array of shape (r, K)
        sums : array of shape (r, K, 2)
            sum_n r_nk x_n, centred.

        Returns
        -------
        weights : array of shape (r, K)
        means : array of shape (r, K, 2)
        cov : array of shape (r, K, 2, 2)
        clipped : bool array of shape (r, K)
        """
        r, k, n = resp.shape
        empty = ~(nk > 0)
        safe_nk = np.where(empty, 1.0, nk)
        mx = sums[..., 0] / safe_nk
        my = sums[..., 1] / safe_nk
        # A component with no responsibility is parked on the data mean with
        # the data's covariance and weight 0.
        mx[empty] = 0.0
        my[empty] = 0.0
        # Scatter around each component's own mean (two-pass, centred).
        d, rd = self.d[:r], self.rd[:r]
        np.subtract(self.data.x, mx[..., None], out=d)
        np.multiply(resp, d, out=rd)
        sxx = vecdot(rd, d)
        np.subtract(self.data.y, my[..., None], out=d)
        # The cross term only where the structure keeps it.
        sxy = vecdot(rd, d) if self.cov_type in ("full", "tied") else None
        np.multiply(resp, d, out=rd)
        syy = vecdot(rd, d)
        means = np.empty((r, k, 2))
        means[..., 0] = mx
        means[..., 1] = my
        means += self.data.ref
        weights = nk / n
        # A Mixture renormalises weights whose sum is off by more than rounding.
        total = weights.sum(axis=1)
        off = np.abs(total - 1.0) > 4 * k * _EPS
        if off.any():
            weights[off] = weights[off] / total[off, None]
        cov = self._structured(sxx, sxy, syy, safe_nk, empty)
        cov, clipped = floor_eigenvalues(cov.reshape(r * k, 2, 2), self.floor)
        return weights, means, cov.reshape(r, k, 2, 2), clipped.reshape(r, k)

    def _structured(
        self, sxx: np.ndarray, sxy: np.ndarray | None, syy: np.ndarray, safe_nk, empty
    ) -> np.ndarray:
        """Covariances (r, K, 2, 2) from the scatters, as covariances.structured_covariances.

        ``sxx``, ``sxy`` (None for "diag" and "spherical") and ``syy`` are
        arrays of shape (r, K): sum_n r_nk (x_n - mu_k)(x_n - mu_k)^T;
        ``safe_nk`` is N_k with 1 where ``empty`` (N_k = 0).
        """
        r, k = sxx.shape
        n = self.n
        g = self.global_var
        cov = np.zeros((r, k, 2, 2))
        if self.cov_type == "full":
            cov[..., 0, 0] = sxx / safe_nk
            cov[..., 0, 1] = cov[..., 1, 0] = sxy / safe_nk
            cov[..., 1, 1] = syy / safe_nk
            cov[empty] = g
        elif self.cov_type == "tied":
            # All scatters pooled, over N.
            cov[..., 0, 0] = (sxx.sum(axis=1) / n)[:, None]
            cov[..., 0, 1] = cov[..., 1, 0] = (sxy.sum(axis=1) / n)[:, None]
            cov[..., 1, 1] = (syy.sum(axis=1) / n)[:, None]
        elif self.cov_type == "diag":
            cov[..., 0, 0] = sxx / safe_nk
            cov[..., 1, 1] = syy / safe_nk
            cov[empty] = np.diag(np.diag(g))
        else:  # spherical
            var = 0.5 * (sxx + syy) / safe_nk
            var[empty] = 0.5 * np.trace(g)
            cov[..., 0, 0] = var
            cov[..., 1, 1] = var
        return cov

    # -- the loop

    def run(
        self,
        starts: list[Mixture],
        indices: list[int],
        tol: float,
        max_iter: int,
        stop: Callable[[], bool],
        finish: Callable[[int, BatchedRun], None],
    ) -> bool:
        """Run EM from every start, ``finish(index, run)`` as each ends; True if cancelled."""
        k, n = self.k, self.n
        capacity = self.resp.shape[0]
        pending = list(range(len(starts)))[::-1]  # next start at the end
        # Per active run: its position in ``starts`` and its trace, and in
        # arrays with a leading run axis: iterations done, log-likelihood,
        # weights, means, covariances, N_k and sum_n r_nk x_n.
        slot: list[int] = []
        traces: list[list[float]] = []
        shapes = [(), (), (k,), (k, 2), (k, 2, 2), (k,), (k, 2)]
        state = [np.zeros((0, *shape)) for shape in shapes]
        while True:
            # Starts join while there is room: their own E-pass gives the
            # start's log-likelihood and the posterior of the first M-step.
            if pending and len(slot) < capacity:
                join = [pending.pop() for _ in range(min(capacity - len(slot), len(pending)))]
                params = [np.stack([getattr(starts[j], a) for j in join]) for a in _PARAMS]
                out = self.resp[len(slot) : len(slot) + len(join)]
                jll, jnk, jsums = self.e_pass(*params, out)
                slot += join
                traces += [[v] for v in jll.tolist()]
                joined = [np.zeros(len(join)), jll, *params, jnk, jsums]
                state = [np.concatenate([a, b]) for a, b in zip(state, joined, strict=True)]
            r = len(slot)
            if r == 0:
                return False
            if stop():
                return True
            done, ll, _, _, _, nk, sums = state
            resp = self.resp[:r]
            weights, means, cov, clipped = self.m_step(resp, nk, sums)
            new_ll, new_nk, new_sums = self.e_pass(weights, means, cov, resp)
            converged = np.abs(new_ll - ll) < tol * n
            done += 1
            for trace, v in zip(traces, new_ll.tolist(), strict=True):
                trace.append(v)
            state = [done, new_ll, weights, means, cov, new_nk, new_sums]
            ended = converged | (done >= max_iter)
            if not ended.any():
                continue
            for i in np.flatnonzero(ended).tolist():
                j = slot[i]
                mixture = Mixture(weights[i], means[i], cov[i], self.cov_type)
                collapsing = collapsing_components(nk[i], clipped[i])
                run = _make_run(
                    starts[j], mixture, traces[i], int(done[i]), bool(converged[i]), collapsing
                )
                finish(indices[j], run)
            keep = np.flatnonzero(~ended)
            slot = [slot[i] for i in keep.tolist()]
            traces = [traces[i] for i in keep.tolist()]
            state = [a[keep] for a in state]
            self.resp[: keep.size] = resp[keep]
