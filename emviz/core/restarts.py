"""Many EM runs from different starts, and the distinct local maxima they reach.

EM climbs to a local maximum of the likelihood, and which one depends on the
start.  :func:`run_restarts` runs EM from many seeded starts (the one EM loop,
:func:`emviz.core.em.iterate_em`), records every run with what is needed to
replay it, and groups the runs whose final mixtures are the same solution up
to a relabelling of the components (:func:`emviz.core.matching.same_solution`)
into distinct local maxima, best first.

It is Qt-free and usable from scripts; the GUI runs it on a worker thread with
``progress`` and ``should_stop`` wired to a progress bar and a Cancel button.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from emviz.core.data import as_data
from emviz.core.em import iterate_em
from emviz.core.errors import EmvizError
from emviz.core.init import INIT_METHODS, initialize
from emviz.core.matching import same_solution
from emviz.core.mixture import Mixture, check_cov_type
from emviz.core.snapshot import Snapshot
from emviz.core.validation import check_n_components, check_reg_covar, check_tol_max_iter

#: Fewest points' worth of responsibility (N_k) a component of an honest
#: maximum carries: with fewer, its covariance is fitted to one point.
DEGENERATE_POINTS = 2.0


@dataclass(frozen=True, eq=False)
class RestartRun:
    """One EM run of a restart experiment.

    Attributes
    ----------
    index : int
        Position of the run in the experiment, from 0.
    seed : int
        Seed given to :func:`emviz.core.init.initialize`; ``fit(X, K,
        init=method, seed=seed, ...)`` with the same settings repeats the run.
    method : str
        Initialisation method.
    start : Mixture
        The starting mixture; ``iterate_em(X, start, ...)`` replays the whole
        history.
    mixture : Mixture
        The final mixture.
    log_likelihoods : array of shape (n_iter + 1,)
        log p(X | theta) at the start and after every M-step.  Read-only.
    n_iter : int
        EM iterations (E+M pairs) performed.
    converged : bool
        Whether the run stopped on the tolerance rather than on ``max_iter``.
    collapsed : tuple of int
        Components collapsing at the end (held at the covariance floor or with
        less than one point's responsibility), from the last snapshot.
    degenerate : bool
        The final mixture has a component held at the covariance floor or
        carrying under :data:`DEGENERATE_POINTS` points' worth of
        responsibility.  There the likelihood is unbounded: a Gaussian on
        one point, or on points along a line, has a density that grows
        without limit as its covariance shrinks, so such a "maximum" says
        how far the floor let a component shrink, not how well the mixture
        fits.
    """

    index: int
    seed: int
    method: str
    start: Mixture
    mixture: Mixture
    log_likelihoods: np.ndarray
    n_iter: int
    converged: bool
    collapsed: tuple[int, ...]
    degenerate: bool = False

    @property
    def log_likelihood(self) -> float:
        """Final log-likelihood."""
        return float(self.log_likelihoods[-1])


@dataclass(frozen=True, eq=False)
class LocalMaximum:
    """A distinct solution reached by one or more runs.

    Attributes
    ----------
    log_likelihood : float
        The best final log-likelihood among its runs.
    mixture : Mixture
        The best run's final mixture (the representative).
    runs : tuple of int
        Indices of the runs that reached it, best first.
    converged : bool
        Whether at least one of its runs converged.  If none did, every run
        of the group stopped on ``max_iter`` and this is where EM was still
        climbing, not a confirmed maximum (slow convergence along a flat
        ridge of the likelihood leaves such runs strung out, one group each).
    degenerate : bool
        Whether its representative run is degenerate (see
        :attr:`RestartRun.degenerate`): a point of the unbounded likelihood,
        not an honest maximum.
    """

    log_likelihood: float
    mixture: Mixture
    runs: tuple[int, ...]
    converged: bool = True
    degenerate: bool = False

    @property
    def count(self) -> int:
        """How many runs reached this maximum."""
        return len(self.runs)

    @property
    def best_run(self) -> int:
        """Index of the run whose mixture represents this maximum."""
        return self.runs[0]


@dataclass(frozen=True, eq=False)
class RestartsResult:
    """The outcome of :func:`run_restarts`.

    Attributes
    ----------
    runs : tuple of RestartRun
        The completed runs in the order they ran (``runs[i].index == i``).
    maxima : tuple of LocalMaximum
        Distinct local maxima, best log-likelihood first.
    n_requested : int
        Runs asked for; ``len(runs)`` is smaller if cancelled.
    seed : int
        Seed of the experiment (drawn from fresh entropy if None was given):
        passing it back repeats every run.
    cancelled : bool
        True if ``should_stop`` ended the experiment early.
    """

    runs: tuple[RestartRun, ...]
    maxima: tuple[LocalMaximum, ...]
    n_requested: int
    seed: int
    cancelled: bool

    @property
    def best(self) -> LocalMaximum | None:
        """The best honest (non-degenerate) maximum; None if every maximum is degenerate."""
        return next((m for m in self.maxima if not m.degenerate), None)

    @property
    def best_run(self) -> int | None:
        """Index of the best run of :attr:`best` (of the best maximum if all are degenerate).

        None if no run finished.
        """
        best = self.best or (self.maxima[0] if self.maxima else None)
        return None if best is None else best.best_run

    @property
    def order(self) -> np.ndarray:
        """Run indices sorted by final log-likelihood, best first; int array of shape (n_runs,)."""
        return _best_first(self.runs)

    def maximum_of(self, run: int) -> int:
        """Index into :attr:`maxima` of the maximum that run ``run`` reached."""
        for m, maximum in enumerate(self.maxima):
            if run in maximum.runs:
                return m
        raise EmvizError(f"no completed run with index {run}")


def _best_first(runs: Sequence[RestartRun]) -> np.ndarray:
    lls = np.array([r.log_likelihood for r in runs], dtype=np.float64)
    # Stable sort on -ll: ties keep run order.  NaN cannot occur (EM's
    # log-likelihood is finite), but would sort last.
    return np.array([runs[i].index for i in np.argsort(-lls, kind="stable")], dtype=np.intp)


def group_maxima(
    runs: Sequence[RestartRun],
    *,
    rtol: float = 1e-2,
    atol: float = 0.0,
    scale: float | None = None,
) -> tuple[LocalMaximum, ...]:
    """Group runs whose final mixtures are the same solution into local maxima.

    Runs are taken best first; each joins the first existing maximum whose
    representative (its best run's mixture) is the same solution up to
    permutation (:func:`emviz.core.matching.same_solution` with ``rtol``,
    ``atol``, ``scale``), or starts a new one.  Comparing with the best run
    only keeps a chain of small differences from merging distinct maxima.

    Parameters
    ----------
    runs : sequence of RestartRun
    rtol, atol, scale
        See :func:`emviz.core.matching.same_solution`.

    Returns
    -------
    tuple of LocalMaximum
        Best log-likelihood first.
    """
    by_index = {r.index: r for r in runs}
    groups: list[list[RestartRun]] = []
    for i in _best_first(runs):
        run = by_index[int(i)]
        for group in groups:
            if same_solution(group[0].mixture, run.mixture, rtol, atol, scale=scale):
                group.append(run)
                break
        else:
            groups.append([run])
    return tuple(
        LocalMaximum(
            log_likelihood=g[0].log_likelihood,
            mixture=g[0].mixture,
            runs=tuple(r.index for r in g),
            converged=any(r.converged for r in g),
            degenerate=g[0].degenerate,
        )
        for g in groups
    )


def is_degenerate(snap: Snapshot, n_samples: int) -> bool:
    """Whether snapshot ``snap`` has a component at the covariance floor or with N_k < 2.

    ``snap.collapsing`` names the components held at the floor (or under one
    point's worth of responsibility); N_k = pi_k n after an M-step.
    """
    nk = np.asarray(snap.mixture.weights) * n_samples
    return bool(snap.collapsing) or bool(np.any(nk < DEGENERATE_POINTS))


def run_seed(seed: int, index: int) -> int:
    """The initialisation seed of run ``index`` of an experiment seeded with ``seed``.

    ``SeedSequence(seed, spawn_key=(index,))`` is the ``index``-th child of
    ``SeedSequence(seed)`` (what ``SeedSequence(seed).spawn`` returns): its
    streams are independent of every other run's and of other experiments'
    (unlike ``seed + index``, where run 1 of seed 0 would be run 0 of seed 1),
    and it depends on (seed, index) only, not on the number of runs.  Its
    first 63 bits become the int seed recorded in :class:`RestartRun`.
    """
    state = np.random.SeedSequence(seed, spawn_key=(index,)).generate_state(1, np.uint64)
    return int(state[0]) >> 1


def _check_methods(methods: object) -> tuple[str, ...]:
    if isinstance(methods, str):
        methods = (methods,)
    try:
        ms = tuple(methods)  # type: ignore[arg-type]
    except TypeError:
        raise EmvizError(f"methods must be a sequence of method names; got {methods!r}") from None
    if not ms:
        raise EmvizError("methods must name at least one initialisation method")
    for m in ms:
        if m not in INIT_METHODS:
            raise EmvizError(
                f"unknown initialisation method {m!r}; choose from {', '.join(INIT_METHODS)}"
            )
    return ms


def run_restarts(
    X: object,
    n_components: int,
    n_runs: int,
    *,
    cov_type: str = "full",
    methods: Sequence[str] = ("kmeans++",),
    seed: int | None = 0,
    reg_covar: float = 1e-6,
    tol: float = 1e-8,
    max_iter: int = 500,
    rtol: float = 1e-2,
    progress: Callable[[int, int], object] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> RestartsResult:
    """Run EM from ``n_runs`` starts and find the distinct local maxima reached.

    Run ``r`` starts from ``initialize(X, n_components, methods[r %
    len(methods)], cov_type, seed=run_seed(seed, r), reg_covar)`` and runs
    :func:`emviz.core.em.iterate_em` to convergence or ``max_iter``.

    Parameters
    ----------
    X : array-like of shape (n_samples, 2), or prepared data (:class:`emviz.core.data.Data`)
    n_components : int
        K.
    n_runs : int
        Number of runs, at least 1.
    cov_type : {"full", "tied", "diag", "spherical"}
    methods : sequence of str
        Initialisation methods (:data:`emviz.core.init.INIT_METHODS`), used in
        turn.  A single name is accepted too.
    seed : int or None, default 0
        Seed of the experiment: the same seed gives the same runs.  None draws
        fresh entropy (each run's seed is still recorded).
    reg_covar, max_iter
        As in :func:`emviz.core.em.iterate_em`.
    tol : float, default 1e-8
        As in :func:`emviz.core.em.iterate_em`, but tighter than its default
        of 1e-6: where the likelihood is flat along some direction EM
        converges slowly, and runs stopped at 1e-6 are strung out along the
        ridge short of the maximum, so grouping splits one maximum into many
        (Old Faithful with K = 3: 28 "maxima" in 100 runs at 1e-6, 6 at
        1e-8, the same 6 at 1e-10).
    rtol : float, default 1e-2
        Tolerance for grouping runs into maxima, relative to the data's mean
        per-axis variance; see :func:`emviz.core.matching.same_solution`.
    progress : callable(done, total), optional
        Called after each completed run.
    should_stop : callable() -> bool, optional
        Polled before each run and after every half-step of EM; when it
        returns True the run in progress is dropped and the runs completed so
        far are returned with ``cancelled=True``.

    Returns
    -------
    RestartsResult

    Raises
    ------
    EmvizError
        On bad data or parameters (checked before any run starts).
    """
    if isinstance(n_runs, bool) or not isinstance(n_runs, (int, np.integer)) or n_runs < 1:
        raise EmvizError(f"n_runs must be a positive integer; got {n_runs!r}")
    n_runs = int(n_runs)
    ms = _check_methods(methods)
    check_cov_type(cov_type)
    reg_covar = check_reg_covar(reg_covar)
    tol, max_iter = check_tol_max_iter(tol, max_iter)
    try:
        rtol = float(rtol)
    except (TypeError, ValueError):
        raise EmvizError(f"rtol must be a number; got {rtol!r}") from None
    if not (rtol >= 0 and math.isfinite(rtol)):
        raise EmvizError(f"rtol must be a non-negative finite number; got {rtol!r}")
    if seed is None:
        seed = int(np.random.SeedSequence().entropy)  # type: ignore[arg-type]
    elif isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise EmvizError(f"seed must be a non-negative integer or None; got {seed!r}")
    data = as_data(X)
    k = check_n_components(n_components, data.n_samples)
    stop = should_stop if should_stop is not None else (lambda: False)

    runs: list[RestartRun] = []
    cancelled = False
    for r in range(n_runs):
        if stop():
            cancelled = True
            break
        method = ms[r % len(ms)]
        run_seed_r = run_seed(int(seed), r)
        start = initialize(
            data, k, method=method, cov_type=cov_type, seed=run_seed_r, reg_covar=reg_covar
        )
        trace: list[float] = []
        last = None
        em = iterate_em(
            None,
            start,
            cov_type=cov_type,
            reg_covar=reg_covar,
            tol=tol,
            max_iter=max_iter,
            data=data,
        )
        try:
            for snap in em:
                # The E-step leaves theta unchanged, so the likelihood trace
                # needs only the start and the M snapshots.
                if snap.phase != "E":
                    trace.append(snap.log_likelihood)
                last = snap
                if stop():  # Cancel acts after at most one half-step
                    cancelled = True
                    break
        finally:
            em.close()
        if cancelled:
            break
        assert last is not None  # max_iter >= 1: there is always an M snapshot
        lls = np.array(trace, dtype=np.float64)
        lls.setflags(write=False)
        runs.append(
            RestartRun(
                index=r,
                seed=run_seed_r,
                method=method,
                start=start,
                mixture=last.mixture,
                log_likelihoods=lls,
                n_iter=last.iteration,
                converged=last.converged,
                collapsed=tuple(last.collapsing),
                degenerate=is_degenerate(last, data.n_samples),
            )
        )
        if progress is not None:
            progress(r + 1, n_runs)

    maxima = group_maxima(runs, rtol=rtol, scale=data.scale)
    return RestartsResult(
        runs=tuple(runs), maxima=maxima, n_requested=n_runs, seed=int(seed), cancelled=cancelled
    )
