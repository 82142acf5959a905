"""Basins of attraction: where EM goes from each position of one starting mean.

EM is deterministic once the start is fixed, so the local maximum it reaches
is a function of the start.  :func:`basin_map` takes a starting mixture, moves
the mean of one component to every point of a grid (keeping the weights, the
other means and every covariance), runs EM from each of these starts (the one
EM loop, :func:`emviz.core.em.iterate_em`, executed and recorded exactly as
:func:`emviz.core.restarts.run_restarts` does), and groups the final mixtures
into distinct local maxima with :func:`emviz.core.restarts.group_maxima`.
Colouring each cell by its maximum draws the basins of attraction of the
likelihood over that slice of parameter space.

It is Qt-free and usable from scripts; the GUI runs it on a worker thread
with ``progress`` and ``should_stop`` wired to a progress bar and a Cancel
button.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from emviz.core.data import Data, as_data
from emviz.core.em import iterate_em
from emviz.core.errors import EmvizError
from emviz.core.mixture import Mixture, check_cov_type
from emviz.core.restarts import LocalMaximum, RestartRun, group_maxima, is_degenerate
from emviz.core.validation import (
    MAX_MAGNITUDE,
    check_n_components,
    check_reg_covar,
    check_tol_max_iter,
)

__all__ = ["BASIN_METHOD", "BASIN_SEED", "MAX_GRID", "BasinMap", "basin_map", "moved_start"]

#: Most grid points along each axis (a 200 x 200 map is 40,000 EM runs).
MAX_GRID = 200
#: :attr:`RestartRun.method` of the runs of a basin map.
BASIN_METHOD = "basin"
#: :attr:`RestartRun.seed` of the runs of a basin map: their starts are not
#: drawn at random, so there is no seed; ``run.start`` replays the run.
BASIN_SEED = -1


@dataclass(frozen=True, eq=False)
class BasinMap:
    """The outcome of :func:`basin_map`.

    Attributes
    ----------
    xs : array of shape (n_x,)
        Grid abscissae, strictly increasing.  Read-only.
    ys : array of shape (n_y,)
        Grid ordinates, strictly increasing.  Read-only.
    labels : int array of shape (n_y, n_x)
        ``labels[i, j]`` indexes :attr:`maxima`: the maximum reached when the
        moved mean starts at ``(xs[j], ys[i])``; -1 for cells not computed
        because the map was cancelled.  Read-only.
    maxima : tuple of LocalMaximum
        Distinct local maxima, best log-likelihood first, as
        :func:`emviz.core.restarts.group_maxima` groups the runs; their
        ``runs`` are cell indices ``i * n_x + j``.
    runs : tuple of RestartRun
        The completed runs in row-major order: ``runs[i * n_x + j]`` is cell
        ``(i, j)`` and has ``index == i * n_x + j``, ``seed ==``
        :data:`BASIN_SEED`, ``method ==`` :data:`BASIN_METHOD`, and ``start``
        the moved starting mixture (``iterate_em(X, run.start, ...)`` replays
        it).  Cells are computed in this order, so after a cancel the runs
        are a prefix of the grid.
    component : int
        The component whose starting mean was moved.
    start : Mixture
        The starting mixture before moving the mean.
    cancelled : bool
        True if ``should_stop`` ended the map early.
    """

    xs: np.ndarray
    ys: np.ndarray
    labels: np.ndarray
    maxima: tuple[LocalMaximum, ...]
    runs: tuple[RestartRun, ...]
    component: int
    start: Mixture
    cancelled: bool

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_y, n_x)``, the shape of :attr:`labels`."""
        return (int(self.ys.shape[0]), int(self.xs.shape[0]))

    @property
    def n_cells(self) -> int:
        """Number of grid cells, computed or not."""
        return int(self.ys.shape[0] * self.xs.shape[0])

    def cell_index(self, i: int, j: int) -> int:
        """Index ``i * n_x + j`` of cell (row ``i``, column ``j``) into :attr:`runs`."""
        n_y, n_x = self.shape
        if not (0 <= i < n_y and 0 <= j < n_x):
            raise EmvizError(f"cell ({i}, {j}) is outside the {n_y} x {n_x} grid")
        return int(i) * n_x + int(j)

    def run_at(self, i: int, j: int) -> RestartRun | None:
        """The run of cell (``i``, ``j``); None if it was not computed (cancelled)."""
        index = self.cell_index(i, j)
        return self.runs[index] if index < len(self.runs) else None

    def maximum_at(self, i: int, j: int) -> LocalMaximum | None:
        """The maximum reached from cell (``i``, ``j``); None if it was not computed."""
        label = int(self.labels[i, j]) if self.run_at(i, j) is not None else -1
        return self.maxima[label] if label >= 0 else None


def moved_start(start: Mixture, component: int, mean: object) -> Mixture:
    """``start`` with the mean of ``component`` replaced by ``mean``.

    Parameters
    ----------
    start : Mixture
    component : int
        In ``[0, start.n_components)``.
    mean : array-like of shape (2,)

    Returns
    -------
    Mixture
        Same weights, covariances, cov_type and other means.
    """
    means = np.array(start.means, dtype=np.float64)
    means[component] = np.asarray(mean, dtype=np.float64)
    return Mixture(start.weights, means, start.covariances, cov_type=start.cov_type)


def _check_grid(values: object, name: str) -> np.ndarray:
    try:
        arr = np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise EmvizError(f"{name} must be a sequence of numbers; got {values!r}") from None
    if arr.ndim != 1:
        raise EmvizError(f"{name} must be one-dimensional; got shape {arr.shape}")
    if arr.shape[0] < 1:
        raise EmvizError(f"{name} is empty: the grid needs at least one point per axis")
    if arr.shape[0] > MAX_GRID:
        raise EmvizError(
            f"{name} has {arr.shape[0]} points; a basin map takes at most {MAX_GRID} per axis"
        )
    if not np.all(np.isfinite(arr)):
        raise EmvizError(f"{name} contains NaN or infinity")
    if np.any(np.abs(arr) > MAX_MAGNITUDE):
        raise EmvizError(f"{name} has values beyond {MAX_MAGNITUDE:g} in magnitude")
    if np.any(np.diff(arr) <= 0):
        raise EmvizError(f"{name} must be strictly increasing")
    arr.setflags(write=False)
    return arr


def _check_component(component: object, n_components: int) -> int:
    if isinstance(component, bool) or not isinstance(component, (int, np.integer)):
        raise EmvizError(f"component must be an integer; got {component!r}")
    c = int(component)
    if not 0 <= c < n_components:
        raise EmvizError(
            f"component {c} is out of range: the start has {n_components} "
            f"component{'s' if n_components != 1 else ''} (0 to {n_components - 1})"
        )
    return c


def _check_rtol(rtol: object) -> float:
    try:
        value = float(rtol)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise EmvizError(f"rtol must be a number; got {rtol!r}") from None
    if not (value >= 0 and math.isfinite(value)):
        raise EmvizError(f"rtol must be a non-negative finite number; got {rtol!r}")
    return value


def _run_cell(
    data: Data,
    index: int,
    start: Mixture,
    *,
    cov_type: str,
    reg_covar: float,
    tol: float,
    max_iter: int,
    stop: Callable[[], bool],
) -> RestartRun | None:
    """One EM run from ``start``, recorded as :func:`run_restarts` records it; None if stopped."""
    trace: list[float] = []
    last = None
    em = iterate_em(
        None, start, cov_type=cov_type, reg_covar=reg_covar, tol=tol, max_iter=max_iter, data=data
    )
    try:
        for snap in em:
            # The E-step leaves theta unchanged: the trace needs only the
            # start and the M snapshots.
            if snap.phase != "E":
                trace.append(snap.log_likelihood)
            last = snap
            if stop():  # Cancel acts after at most one half-step
                return None
    finally:
        em.close()
    assert last is not None  # max_iter >= 1: there is always an M snapshot
    lls = np.array(trace, dtype=np.float64)
    lls.setflags(write=False)
    return RestartRun(
        index=index,
        seed=BASIN_SEED,
        method=BASIN_METHOD,
        start=start,
        mixture=last.mixture,
        log_likelihoods=lls,
        n_iter=last.iteration,
        converged=last.converged,
        collapsed=tuple(last.collapsing),
        degenerate=is_degenerate(last, data.n_samples),
    )


def basin_map(
    X: object,
    start: Mixture,
    component: int,
    xs: object,
    ys: object,
    *,
    cov_type: str | None = None,
    reg_covar: float = 1e-6,
    tol: float = 1e-8,
    max_iter: int = 500,
    rtol: float = 1e-2,
    progress: Callable[[int, int], object] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> BasinMap:
    """Run EM from ``start`` with the mean of ``component`` at every grid point.

    Cell (``i``, ``j``) starts from ``moved_start(start, component, (xs[j],
    ys[i]))`` (see :func:`moved_start`: weights, covariances and the other
    means unchanged) and runs :func:`emviz.core.em.iterate_em` to
    convergence or ``max_iter``.  Cells run in row-major order, one EM run
    each (about 10 ms for Old Faithful with K = 2).

    Parameters
    ----------
    X : array-like of shape (n_samples, 2), or prepared data (:class:`emviz.core.data.Data`)
    start : Mixture
        The starting mixture; its other parameters are kept in every cell.
    component : int
        The component whose mean is moved, in ``[0, K)``.
    xs : array-like of shape (n_x,)
        Abscissae of the grid: finite, strictly increasing, 1 to
        :data:`MAX_GRID` values.
    ys : array-like of shape (n_y,)
        Ordinates of the grid, likewise.
    cov_type : {"full", "tied", "diag", "spherical"}, optional
        Covariance structure of the M-step; defaults to ``start.cov_type``.
    reg_covar, max_iter
        As in :func:`emviz.core.em.iterate_em`.
    tol : float, default 1e-8
        As in :func:`emviz.core.em.iterate_em`; tight for the reason given
        in :func:`emviz.core.restarts.run_restarts` (runs stopped early on a
        flat ridge split one maximum into many).
    rtol : float, default 1e-2
        Tolerance for grouping runs into maxima, relative to the data's mean
        per-axis variance; see :func:`emviz.core.matching.same_solution`.
    progress : callable(done, total), optional
        Called after each completed cell, with ``total = n_x * n_y``.
    should_stop : callable() -> bool, optional
        Polled before each cell and after every half-step of EM; when it
        returns True the cell in progress is dropped and the map of the
        cells completed so far is returned with ``cancelled=True`` (the
        others labelled -1).

    Returns
    -------
    BasinMap

    Raises
    ------
    EmvizError
        On bad data or parameters (checked before any run starts): a start
        that is not a Mixture, ``component`` out of range, empty,
        non-finite, non-increasing or too large grids.
    """
    if not isinstance(start, Mixture):
        raise EmvizError(f"start must be a Mixture; got {type(start).__name__}")
    k = start.n_components
    component = _check_component(component, k)
    grid_x = _check_grid(xs, "xs")
    grid_y = _check_grid(ys, "ys")
    cov_type = check_cov_type(cov_type if cov_type is not None else start.cov_type)
    reg_covar = check_reg_covar(reg_covar)
    tol, max_iter = check_tol_max_iter(tol, max_iter)
    rtol = _check_rtol(rtol)
    data = as_data(X)
    check_n_components(k, data.n_samples)
    stop = should_stop if should_stop is not None else (lambda: False)

    n_x, n_y = grid_x.shape[0], grid_y.shape[0]
    total = n_x * n_y
    runs: list[RestartRun] = []
    cancelled = False
    for index in range(total):
        if stop():
            cancelled = True
            break
        i, j = divmod(index, n_x)
        cell_start = moved_start(start, component, (grid_x[j], grid_y[i]))
        run = _run_cell(
            data,
            index,
            cell_start,
            cov_type=cov_type,
            reg_covar=reg_covar,
            tol=tol,
            max_iter=max_iter,
            stop=stop,
        )
        if run is None:
            cancelled = True
            break
        runs.append(run)
        if progress is not None:
            progress(index + 1, total)

    maxima = group_maxima(runs, rtol=rtol, scale=data.scale)
    labels = np.full(total, -1, dtype=np.intp)
    for m, maximum in enumerate(maxima):
        labels[list(maximum.runs)] = m
    labels = labels.reshape(n_y, n_x)
    labels.setflags(write=False)
    return BasinMap(
        xs=grid_x,
        ys=grid_y,
        labels=labels,
        maxima=maxima,
        runs=tuple(runs),
        component=component,
        start=start,
        cancelled=cancelled,
    )
