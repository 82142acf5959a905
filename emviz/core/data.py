"""Complete and incomplete data behind one protocol.

:func:`prepare` checks the points and lays them out for the steps: a
:class:`PreparedData` when every point is complete, a :class:`MissingData`
when NaN coordinates are to be integrated out (``missing="marginalize"``).
Both answer the :class:`Data` protocol, so that every step, initialiser,
run, remedy and view uses one path and never asks which kind it holds::

    data = prepare(X, missing="marginalize")
    resp, ll = data.e_step(mixture)
    new, nk, clipped = data.m_step(resp, "full", data.floor(1e-6), mixture=mixture)
    points, spread = data.points(new)   # where to draw each row

This module is the only one that tells the two kinds apart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar, Protocol, runtime_checkable

import numpy as np

from emviz.core._kernels import (
    ArrayPool,
    EPass,
    e_pass,
    e_step_prepared,
    m_step_prepared,
    weighted_log_density,
)
from emviz.core._products import matmul
from emviz.core.covariances import MIN_RELATIVE_FLOOR
from emviz.core.errors import EmvizError
from emviz.core.missing import (
    conditional_means,
    conditional_variances,
    e_step_missing,
    expected_points,
    m_step_missing,
    mean_imputed,
    weighted_log_density_missing,
)
from emviz.core.mixture import Mixture
from emviz.core.validation import check_points, check_scale

#: How the steps treat NaN coordinates: reject them, or integrate them out.
MISSING_MODES: tuple[str, ...] = ("raise", "marginalize")

_AXIS_NAMES = ("x", "y")


@runtime_checkable
class Data(Protocol):
    """What every step, initialiser, run and view may ask of prepared data.

    Attributes
    ----------
    X : array of shape (n_samples, 2)
        The rows in the fit (NaN where a coordinate is missing).
    n_samples : int
        Rows in the fit: the rows of ``resp``.
    n_incomplete : int
        Rows with one coordinate missing (0 for complete data).
    n_dropped : int
        Input rows left out (both coordinates missing).
    kept : int array of shape (n_samples,)
        Row numbers of ``X`` in the input.
    ref : array of shape (2,)
        The centre the steps subtract.
    scale : float
        Mean per-axis variance, the unit of ``reg_covar``.
    marginal : bool
        Missing coordinates are integrated out; then EM runs soft and
        without the lower bound's terms in :func:`emviz.core.em.iterate_em`.
    """

    X: np.ndarray
    ref: np.ndarray
    scale: float
    marginal: ClassVar[bool]

    @property
    def n_samples(self) -> int: ...

    @property
    def n_incomplete(self) -> int: ...

    @property
    def n_dropped(self) -> int: ...

    @property
    def kept(self) -> np.ndarray: ...

    def floor(self, reg_covar: float) -> float: ...

    def e_step(self, mixture: Mixture) -> tuple[np.ndarray, float]: ...

    def e_pass(self, mixture: Mixture, **options: object) -> EPass: ...

    def m_step(
        self, resp: np.ndarray, cov_type: str, floor: float, **options: object
    ) -> tuple[Mixture, np.ndarray, np.ndarray]: ...

    def log_joint(self, mixture: Mixture) -> np.ndarray: ...

    def filled(self) -> PreparedData: ...

    def points(
        self, mixture: Mixture | None = None, resp: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]: ...

    def m_step_inputs(self, mixture: Mixture) -> tuple[np.ndarray, np.ndarray | None]: ...


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

    # -- the data protocol (see :class:`Data`)

    #: Missing coordinates are integrated out (False: every point is complete).
    marginal: ClassVar[bool] = False

    @property
    def n_incomplete(self) -> int:
        """Rows with a missing coordinate: none."""
        return 0

    @property
    def kept(self) -> np.ndarray:
        """Row numbers of ``X`` in the input: all of them."""
        return np.arange(self.n_samples)

    @property
    def n_dropped(self) -> int:
        """Input rows left out: none."""
        return 0

    def e_step(self, mixture: Mixture) -> tuple[np.ndarray, float]:
        """Posterior responsibilities, shape (n_samples, K), and log p(X | theta)."""
        return e_step_prepared(self, mixture)

    def e_pass(
        self,
        mixture: Mixture,
        *,
        terms: bool = False,
        moments: bool = False,
        q_other: np.ndarray | None = None,
        pool: ArrayPool | None = None,
    ) -> EPass:
        """The E-step's pass, with the lower bound's terms and the M-step's sums if asked."""
        return e_pass(self, mixture, terms=terms, moments=moments, q_other=q_other, pool=pool)

    def m_step(
        self,
        resp: np.ndarray,
        cov_type: str,
        floor: float,
        *,
        mixture: Mixture | None = None,
        moments: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    ) -> tuple[Mixture, np.ndarray, np.ndarray]:
        """M-step from ``resp`` (n_samples, K): (mixture, N_k, clipped).

        ``mixture`` (the one ``resp`` came from) is not needed for complete
        data; ``moments`` are the E-pass's sums, if taken.
        """
        return m_step_prepared(self, resp, cov_type, floor, moments=moments)

    def log_joint(self, mixture: Mixture) -> np.ndarray:
        """log(pi_k N(x_n | mu_k, Sigma_k)), array of shape (K, n_samples)."""
        return weighted_log_density(self, mixture)

    def filled(self) -> PreparedData:
        """Complete points to seed from (initialisers, k-means): the points themselves."""
        return self

    def points(
        self, mixture: Mixture | None = None, resp: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Where to draw each row, shape (n_samples, 2), and its uncertainty, shape (n_samples,).

        Complete points are drawn where they are, with no uncertainty.
        """
        spread = np.zeros(self.n_samples)
        spread.setflags(write=False)
        return self.X, spread

    def m_step_inputs(self, mixture: Mixture) -> tuple[np.ndarray, np.ndarray | None]:
        """What the M-step averages: the points, shape (n_samples, 2), and no variances."""
        return self.X, None


def _prepare_complete(X: object) -> PreparedData:
    """Check ``X`` and lay it out as :class:`PreparedData`."""
    arr = check_points(X)
    check_scale((arr[:, 0], arr[:, 1]))
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


@dataclass(frozen=True, eq=False)
class MissingData:
    """Points with missing coordinates, laid out for the steps of :mod:`emviz.core.missing`.

    The analogue of :class:`PreparedData`.  Every array is
    read-only.

    Parameters
    ----------
    X : array of shape (n_kept, 2)
        The kept rows of the input, NaN where a coordinate is missing.
    kept : int array of shape (n_kept,)
        Their row numbers in the input (rows with both coordinates missing
        are left out).
    n_dropped_both : int
        Number of input rows dropped because both coordinates were missing.
    idx_complete, idx_missing_x, idx_missing_y : int arrays
        Rows of ``X`` (kept rows) that are complete, that miss x only (y
        observed), that miss y only (x observed).  Together they partition
        ``range(n_kept)``, each in increasing order.
    ref : array of shape (2,)
        The centre subtracted: per axis, the mean of the observed values.
    scale : float
        Mean per-axis variance, each axis's variance computed from its
        observed values: the unit of ``reg_covar``.  1.0 if it is zero.
    xc, yc : arrays of shape (n_complete,)
        Centred coordinates of the complete rows.
    x_my : array of shape (n_missing_y,)
        Centred observed x of the rows missing y.
    y_mx : array of shape (n_missing_x,)
        Centred observed y of the rows missing x.
    complete : PreparedData or None
        The complete rows prepared as :class:`PreparedData`
        (None if there are none), so the 2D part of the E-step is the
        ordinary one.
    global_cov : array of shape (2, 2)
        The data covariance given to a component with no responsibility at
        all (weight 0): the sample covariance when nothing is missing, else
        the diagonal of observed per-axis variances.
    """

    X: np.ndarray
    kept: np.ndarray
    n_dropped_both: int
    idx_complete: np.ndarray
    idx_missing_x: np.ndarray
    idx_missing_y: np.ndarray
    ref: np.ndarray
    scale: float
    xc: np.ndarray
    yc: np.ndarray
    x_my: np.ndarray
    y_mx: np.ndarray
    complete: PreparedData | None
    global_cov: np.ndarray

    @property
    def n_samples(self) -> int:
        """Number of kept rows (the rows of ``resp``)."""
        return int(self.X.shape[0])

    @property
    def n_incomplete(self) -> int:
        """Number of kept rows with one coordinate missing."""
        return int(self.idx_missing_x.shape[0] + self.idx_missing_y.shape[0])

    @property
    def missing(self) -> np.ndarray:
        """Bool array of shape (n_kept, 2): True where a coordinate is missing."""
        return np.isnan(self.X)

    def floor(self, reg_covar: float) -> float:
        """Absolute eigenvalue floor for a relative ``reg_covar`` (as PreparedData.floor)."""
        return max(reg_covar, MIN_RELATIVE_FLOOR) * self.scale

    # -- the data protocol (see :class:`Data`)

    #: Missing coordinates are integrated out.
    marginal: ClassVar[bool] = True

    @property
    def n_dropped(self) -> int:
        """Input rows left out because both coordinates were missing."""
        return self.n_dropped_both

    def e_step(self, mixture: Mixture) -> tuple[np.ndarray, float]:
        """Posteriors from the observed coordinates, and the observed-data log-likelihood."""
        return e_step_missing(self, mixture)

    def e_pass(
        self,
        mixture: Mixture,
        *,
        terms: bool = False,
        moments: bool = False,
        q_other: np.ndarray | None = None,
        pool: ArrayPool | None = None,
    ) -> EPass:
        """The E-step as an :class:`EPass` (no bound terms or sums for incomplete data)."""
        if terms:
            raise EmvizError("missing='marginalize' runs soft EM without the lower bound")
        return EPass(*e_step_missing(self, mixture))

    def m_step(
        self,
        resp: np.ndarray,
        cov_type: str,
        floor: float,
        *,
        mixture: Mixture | None = None,
        moments: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    ) -> tuple[Mixture, np.ndarray, np.ndarray]:
        """M-step from expected sufficient statistics under ``mixture`` (required)."""
        if mixture is None:
            raise EmvizError("missing='marginalize' needs the mixture resp was computed from")
        return m_step_missing(self, resp, cov_type, floor, mixture=mixture)

    def log_joint(self, mixture: Mixture) -> np.ndarray:
        """log(pi_k p_k(x_n,obs)), array of shape (K, n_kept): observed coordinates only."""
        return weighted_log_density_missing(self, mixture)

    @cached_property
    def _filled(self) -> PreparedData:
        return _prepare_complete(mean_imputed(self))

    def filled(self) -> PreparedData:
        """The kept rows with each missing coordinate replaced by its axis's observed mean."""
        return self._filled

    def points(
        self, mixture: Mixture | None = None, resp: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Where to draw each row, shape (n_kept, 2), and its uncertainty, shape (n_kept,).

        Under ``mixture`` (and its posterior ``resp``, computed if not given) an
        incomplete row is drawn at its expected position, with the posterior
        standard deviation of its missing coordinate; without a mixture, at
        its axis's observed mean.
        """
        if mixture is None:
            spread = np.zeros(self.n_samples)
            spread.setflags(write=False)
            return self._filled.X, spread
        if resp is None:
            resp = self.e_step(mixture)[0]
        return expected_points(self, mixture, resp)

    def m_step_inputs(self, mixture: Mixture) -> tuple[np.ndarray, np.ndarray | None]:
        """What the M-step averages under ``mixture`` (the one ``resp`` came from).

        Returns
        -------
        points : array of shape (n_kept, K, 2)
            The expected complete point of every row under every component.
        variances : array of shape (n_kept, K, 2)
            The conditional variance of each coordinate (0 where observed).
        """
        variances = np.zeros((self.n_samples, mixture.n_components, 2))
        cond = conditional_variances(mixture)  # (K, 2): Var[x | y, k], Var[y | x, k]
        variances[self.idx_missing_x, :, 0] = cond[:, 0]
        variances[self.idx_missing_y, :, 1] = cond[:, 1]
        return conditional_means(self, mixture), variances


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


def prepare_missing(X: object) -> MissingData:
    """Check ``X`` (NaN marks a missing coordinate) and lay it out as :class:`MissingData`.

    Parameters
    ----------
    X : array-like of shape (n_samples, 2)
        NaN where a coordinate was not observed.  Never modified.

    Returns
    -------
    MissingData

    Raises
    ------
    EmvizError
        If ``X`` is not numeric or not of shape (n_samples, 2), holds
        infinity, or an axis has no observed value at all (then nothing can
        be said about that axis, and every row is missing it or both).
    """
    try:
        arr = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise EmvizError(f"X must be numeric: {exc}") from None
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise EmvizError(f"X must have shape (n_samples, 2); got {arr.shape}")
    if arr.shape[0] < 1:
        raise EmvizError("X has no points")
    inf = np.isinf(arr)
    if inf.any():
        row, col = (int(i) for i in np.argwhere(inf)[0])
        raise EmvizError(
            f"X contains infinity at row {row}, column {col} "
            "(only NaN may mark a missing coordinate)"
        )
    nan = np.isnan(arr)
    for axis in (0, 1):
        if nan[:, axis].all():
            raise EmvizError(
                f"column {axis} ({_AXIS_NAMES[axis]}) has no observed value: "
                "EM needs at least one per axis"
            )
    check_scale((arr[~nan[:, 0], 0], arr[~nan[:, 1], 1]))
    both = nan.all(axis=1)
    kept = np.flatnonzero(~both)
    Xk = arr[kept]
    nan = nan[kept]
    idx_complete = np.flatnonzero(~nan.any(axis=1))
    idx_missing_x = np.flatnonzero(nan[:, 0])
    idx_missing_y = np.flatnonzero(nan[:, 1])

    # Centre each axis on the mean of its observed values (keeps sums exact
    # to the data's own precision far from the origin), and measure its
    # spread around that mean: two passes, never E[x^2] - E[x]^2.
    obs_x = Xk[~nan[:, 0], 0]
    obs_y = Xk[~nan[:, 1], 1]
    ref = np.array([obs_x.mean(), obs_y.mean()])
    var = np.array([np.mean((obs_x - ref[0]) ** 2), np.mean((obs_y - ref[1]) ** 2)])
    scale = float(0.5 * (var[0] + var[1]))
    if not scale > 0.0 or not math.isfinite(scale):
        scale = 1.0

    xc = Xk[idx_complete, 0] - ref[0]
    yc = Xk[idx_complete, 1] - ref[1]
    x_my = Xk[idx_missing_y, 0] - ref[0]
    y_mx = Xk[idx_missing_x, 1] - ref[1]
    n = Xk.shape[0]
    if idx_complete.shape[0] == n:
        global_cov = (
            np.array([[matmul(xc, xc), matmul(xc, yc)], [matmul(xc, yc), matmul(yc, yc)]]) / n
        )
    else:
        global_cov = np.diag(var)
    complete = _prepare_complete(Xk[idx_complete]) if idx_complete.shape[0] else None
    return MissingData(
        X=_frozen(Xk),
        kept=_frozen(kept),
        n_dropped_both=int(both.sum()),
        idx_complete=_frozen(idx_complete),
        idx_missing_x=_frozen(idx_missing_x),
        idx_missing_y=_frozen(idx_missing_y),
        ref=_frozen(ref),
        scale=scale,
        xc=_frozen(xc),
        yc=_frozen(yc),
        x_my=_frozen(x_my),
        y_mx=_frozen(y_mx),
        complete=complete,
        global_cov=_frozen(global_cov),
    )


def prepare(X: object, missing: str = "raise") -> PreparedData | MissingData:
    """Check ``X`` and lay it out for the steps.

    Parameters
    ----------
    X : array-like of shape (n_samples, 2)
        Never modified.
    missing : {"raise", "marginalize"}
        "raise" refuses NaN; "marginalize" treats NaN as a missing
        coordinate (see :mod:`emviz.core.missing`).

    Returns
    -------
    PreparedData or MissingData, both :class:`Data`

    Raises
    ------
    EmvizError
        On bad shapes, infinity, NaN (with "raise"), or coordinates too
        large or too small for the steps (see :func:`emviz.core.validation.check_scale`).
    """
    if missing not in MISSING_MODES:
        raise EmvizError(f"missing must be one of {', '.join(MISSING_MODES)}; got {missing!r}")
    return prepare_missing(X) if missing == "marginalize" else _prepare_complete(X)


def as_data(X: object, missing: str = "raise") -> PreparedData | MissingData:
    """``X`` itself if it is prepared data already, else :func:`prepare` of it."""
    if isinstance(X, (PreparedData, MissingData)):
        return X
    return prepare(X, missing)
