"""Checks on the inputs of the numeric core, with messages that say what is wrong."""

from __future__ import annotations

import math

import numpy as np

from emviz.core.errors import EmvizError


def check_points(X: object, name: str = "X") -> np.ndarray:
    """Return ``X`` as a float64 array of shape (n_samples, 2), or raise.

    The input is never modified; a copy is made only when the dtype or
    layout requires one.

    Raises
    ------
    EmvizError
        If ``X`` is not numeric, not of shape (n_samples, 2), empty, or holds
        NaN or infinity (the message gives the first offending row and column).
    """
    try:
        arr = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise EmvizError(f"{name} must be numeric: {exc}") from None
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise EmvizError(f"{name} must have shape (n_samples, 2); got {arr.shape}")
    if arr.shape[0] < 1:
        raise EmvizError(f"{name} has no points")
    finite = np.isfinite(arr)
    if not finite.all():
        row, col = (int(i) for i in np.argwhere(~finite)[0])
        what = "NaN" if math.isnan(arr[row, col]) else "infinity"
        count = int((~finite).sum())
        raise EmvizError(
            f"{name} contains {what} at row {row}, column {col} "
            f"({count} non-finite value{'s' if count > 1 else ''} in all)"
        )
    return arr


#: Largest coordinate magnitude the steps accept.  Squares of centred
#: coordinates and 2x2 determinants (fourth powers of the spread) must stay
#: within float64's range, about 1e+-308, with room to spare.
MAX_MAGNITUDE = 1e100
#: Range of the data's spread (the larger per-axis standard deviation) the
#: steps accept: determinants of covariances, down to the eigenvalue floor
#: (1e-8 of the variance), must neither overflow nor underflow.
MIN_SPREAD, MAX_SPREAD = 1e-64, 1e64
#: Smallest spread of an axis relative to the size of its values.  The
#: steps work in centred coordinates, so the fit itself loses nothing, but
#: the means are stored in the data's units: with values that agree in more
#: than 13 significant digits they would carry less than 1 part in 400 of the
#: spread (and the values themselves are rounded to a few steps of it).
MIN_RELATIVE_SPREAD = 1e-13

_AXIS_NAMES = ("x", "y")


def _spread(values: np.ndarray) -> float:
    """Standard deviation of ``values`` (finite, not empty), with no overflow or underflow."""
    d = values - values.mean()
    # Second pass: the rounding error of the mean, so identical values give 0.
    d -= d.mean()
    m = float(np.max(np.abs(d)))
    if m == 0.0:
        return 0.0
    d /= m  # in [-1, 1]: squares can neither overflow nor lose the spread
    return m * math.sqrt(float(np.mean(d * d)))


def check_scale(columns: tuple[np.ndarray, np.ndarray], name: str = "X") -> None:
    """Raise if the coordinates are too large, too small or too close together to fit.

    EM works in float64 on centred coordinates, squared coordinates and
    determinants of 2x2 covariances (fourth powers of the spread), so data
    far outside everyday units overflow or underflow, and a fit that
    silently goes wrong is worse than none.  Within the accepted range a fit
    gives the same answer as on the data rescaled.

    Parameters
    ----------
    columns : (x, y), arrays of shape (n_x,), (n_y,)
        Each axis's observed, finite values.
    name : str

    Raises
    ------
    EmvizError
        Saying which axis, what was found and what the steps accept.
    """
    spreads = []
    for axis, values in enumerate(columns):
        if values.shape[0] == 0:
            spreads.append(0.0)
            continue
        label = f"column {axis} ({_AXIS_NAMES[axis]}) of {name}"
        size = float(np.max(np.abs(values)))
        if size > MAX_MAGNITUDE:
            raise EmvizError(
                f"{label} has values as large as {size:.3g}, beyond what the fit can "
                f"compute with (at most {MAX_MAGNITUDE:.0e}): rescale the data, for "
                "example to other units"
            )
        spread = _spread(values)
        if 0.0 < spread < MIN_RELATIVE_SPREAD * size:
            digits = int(math.log10(size / spread))
            raise EmvizError(
                f"{label} varies by only {spread:.3g} around values as large as {size:.3g}: "
                f"they agree in their first {digits} significant digits, too few are left "
                "to fit (at most 13 may agree): subtract an offset first"
            )
        spreads.append(spread)
    widest = max(spreads)
    if widest > MAX_SPREAD:
        raise EmvizError(
            f"the points of {name} spread over {widest:.3g} (standard deviation), more than "
            f"the fit can compute with (at most {MAX_SPREAD:.0e}): rescale the data"
        )
    if 0.0 < widest < MIN_SPREAD:
        raise EmvizError(
            f"the points of {name} spread over only {widest:.3g} (standard deviation), less "
            f"than the fit can compute with (at least {MIN_SPREAD:.0e}): rescale the data, "
            "for example to other units"
        )


def check_n_components(n_components: object, n_samples: int) -> int:
    """Return ``n_components`` as an int in [1, n_samples], or raise."""
    if isinstance(n_components, bool) or not isinstance(n_components, (int, np.integer)):
        raise EmvizError(f"n_components must be an integer; got {n_components!r}")
    k = int(n_components)
    if k < 1:
        raise EmvizError(f"n_components must be at least 1; got {k}")
    if k > n_samples:
        raise EmvizError(f"n_components ({k}) cannot exceed the number of points ({n_samples})")
    return k


def check_reg_covar(reg_covar: object) -> float:
    """Return ``reg_covar`` as a non-negative finite float, or raise."""
    try:
        reg = float(reg_covar)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise EmvizError(f"reg_covar must be a number; got {reg_covar!r}") from None
    if not math.isfinite(reg) or reg < 0:
        raise EmvizError(f"reg_covar must be a non-negative finite number; got {reg_covar!r}")
    return reg


def check_tol_max_iter(tol: object, max_iter: object) -> tuple[float, int]:
    """Return ``(tol, max_iter)`` checked: tol >= 0, max_iter >= 1."""
    try:
        t = float(tol)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise EmvizError(f"tol must be a number; got {tol!r}") from None
    if not (t >= 0 and math.isfinite(t)):
        raise EmvizError(f"tol must be a non-negative finite number; got {tol!r}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise EmvizError(f"max_iter must be a positive integer; got {max_iter!r}")
    return t, int(max_iter)


def check_resp(resp: object, n_samples: int) -> np.ndarray:
    """Return responsibilities as float64 of shape (n_samples, n_components), or raise.

    Each row must be a probability distribution (non-negative, summing to one
    within 1e-8).
    """
    try:
        r = np.asarray(resp, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise EmvizError(f"resp must be numeric: {exc}") from None
    if r.ndim != 2 or r.shape[0] != n_samples or r.shape[1] < 1:
        raise EmvizError(f"resp must have shape ({n_samples}, n_components); got {r.shape}")
    if not np.all(np.isfinite(r)):
        raise EmvizError("resp contains NaN or infinity")
    if np.any(r < 0):
        raise EmvizError("resp must be non-negative")
    sums = r.sum(axis=1)
    bad = np.abs(sums - 1.0) > 1e-8
    if np.any(bad):
        row = int(np.flatnonzero(bad)[0])
        raise EmvizError(f"each row of resp must sum to 1; row {row} sums to {sums[row]!r}")
    return r
