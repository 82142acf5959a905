"""The log-likelihood and the lower bound along a path between two mixtures.

An M-step keeps the responsibilities q fixed and moves theta from ``before``
to ``after``, the maximiser of L(q, theta) = Q(q, theta) + H(q) (see
:mod:`emviz.core.bound`).  This module draws that move as a one-dimensional
slice: a path theta(t) with theta(0) = before and theta(1) = after, and for
each t the two curves

    log p(X | theta(t))   and   L(q, theta(t)) <= log p(X | theta(t)).

When q is the posterior under ``before`` the curves touch at t = 0 (the
E-step closed the gap); since H(q) does not depend on theta and ``after``
maximises Q(q, .) over every mixture of its covariance type, L peaks at
t = 1 on any path through ``after`` within that type.

The path is linear in unconstrained coordinates, so every t, also outside
[0, 1], gives a valid mixture:

- weights: log-weights are interpolated, then renormalised (softmax);
- means: interpolated as they are;
- covariances: through their Cholesky factors Sigma = L L^T with
  L = [[l11, 0], [l21, l22]], interpolating (log l11, l21, log l22).  The
  diagonal of L stays positive, so Sigma(t) is positive definite; a zero
  l21 (diagonal covariances) stays zero, equal l11 and l22 (spherical) stay
  equal, and equal factors (tied) stay equal, so the covariance type holds.

A weight of exactly 0 has log-weight -inf, which a straight line cannot pass
through.  A component of weight 0 at both ends keeps weight 0 for every t.
A component of weight 0 at one end only has its log-weight floored at
log(tiny) (about -708.4, tiny the smallest normal float64), and any weight
on the path below tiny is set to 0, so the component has weight 0 at that
end, as it should, and beyond it.  Going from that end towards the other,
its weight starts at about tiny and grows exponentially in t (its
log-weight rises by about 708 per unit of t) up to the other end's weight;
past the other end it keeps growing and soon takes nearly all the weight.
The ends themselves are returned exactly (theta(0) is ``before``, theta(1)
is ``after``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from emviz.core.bound import bound_terms
from emviz.core.data import as_data
from emviz.core.errors import EmvizError
from emviz.core.mixture import Mixture

__all__ = ["BoundSlice", "bound_slice", "mixture_at"]

#: Floor of the log-weights on the path: log of the smallest normal float64.
#: It replaces log 0 = -inf at an end where only one of the two weights is 0.
LOG_WEIGHT_FLOOR: float = math.log(np.finfo(np.float64).tiny)


def _default_ts() -> np.ndarray:
    """81 values from -0.5 to 1.5 in steps of 1/40; 0 and 1 are among them exactly."""
    return np.arange(-20, 61) / 40.0


@dataclass(frozen=True, eq=False)
class BoundSlice:
    """log p(X | theta(t)) and L(q, theta(t)) along the path of :func:`mixture_at`.

    The arrays are float64 and read-only.

    Attributes
    ----------
    ts : array of shape (n_ts,)
        The values of t: theta(0) = before, theta(1) = after.
    log_likelihood : array of shape (n_ts,)
        log p(X | theta(t)) = sum_n log sum_k pi_k(t) N(x_n | mu_k(t), Sigma_k(t)).
    lower_bound : array of shape (n_ts,)
        L(q, theta(t)) = Q(q, theta(t)) + H(q) <= log_likelihood.
    """

    ts: np.ndarray
    log_likelihood: np.ndarray
    lower_bound: np.ndarray

    @property
    def gap(self) -> np.ndarray:
        """log p - L = KL(q || p(Z | X, theta(t))) >= 0, array of shape (n_ts,)."""
        gap = self.log_likelihood - self.lower_bound
        gap.setflags(write=False)
        return gap


def _check_pair(before: Mixture, after: Mixture) -> None:
    """Raise unless ``before`` and ``after`` are mixtures of the same K and covariance type."""
    for name, mixture in (("before", before), ("after", after)):
        if not isinstance(mixture, Mixture):
            raise EmvizError(f"{name} must be a Mixture; got {type(mixture).__name__}")
    if before.n_components != after.n_components:
        raise EmvizError(
            f"before has {before.n_components} components but after has "
            f"{after.n_components}: the path needs the same K at both ends"
        )
    if before.cov_type != after.cov_type:
        raise EmvizError(
            f"before has cov_type {before.cov_type!r} but after has {after.cov_type!r}: "
            "the path keeps one covariance type"
        )


def _check_t(t: object) -> float:
    """``t`` as a finite float, or raise."""
    try:
        value = float(t)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise EmvizError(f"t must be a real number; got {t!r}") from None
    if not math.isfinite(value):
        raise EmvizError(f"t must be finite; got {value!r}")
    return value


def _check_ts(ts: object) -> np.ndarray:
    """``ts`` as a read-only float64 array of shape (n_ts,), finite and not empty, or raise."""
    if ts is None:
        arr = _default_ts()
    else:
        try:
            arr = np.array(ts, dtype=np.float64, copy=True, ndmin=1)
        except (TypeError, ValueError) as exc:
            raise EmvizError(f"ts must be numeric: {exc}") from None
    if arr.ndim != 1:
        raise EmvizError(f"ts must have shape (n_ts,); got {arr.shape}")
    if arr.shape[0] == 0:
        raise EmvizError("ts is empty")
    finite = np.isfinite(arr)
    if not finite.all():
        i = int(np.flatnonzero(~finite)[0])
        raise EmvizError(f"ts must be finite; ts[{i}] is {arr[i]!r}")
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True)
class _Coordinates:
    """A mixture in the path's unconstrained coordinates.

    Attributes
    ----------
    log_weights : array of shape (n_components,)
        log pi_k, floored at :data:`LOG_WEIGHT_FLOOR` (so finite).
    zero : bool array of shape (n_components,)
        pi_k == 0.
    means : array of shape (n_components, 2)
    cholesky : array of shape (n_components, 3)
        (log l11, l21, log l22) of Sigma_k = L L^T.
    """

    log_weights: np.ndarray
    zero: np.ndarray
    means: np.ndarray
    cholesky: np.ndarray


def _coordinates(mixture: Mixture) -> _Coordinates:
    """The unconstrained coordinates of ``mixture`` (see :class:`_Coordinates`)."""
    w = mixture.weights
    cov = mixture.covariances
    a, b, c = cov[:, 0, 0], cov[:, 0, 1], cov[:, 1, 1]
    # Sigma = [[a, b], [b, c]] = L L^T with l11 = sqrt(a), l21 = b / l11 and
    # l22^2 = c - b^2 / a = det / a.  det > 0 and a > 0 as Mixture checked
    # them, with this very formula for det.  Where b = 0, l22^2 is c itself,
    # so a spherical covariance (a = c) gets l11 = l22 bit for bit.
    det = a * c - b * b
    l22_sq = np.where(b == 0.0, c, det / a)
    cholesky = np.column_stack([0.5 * np.log(a), b / np.sqrt(a), 0.5 * np.log(l22_sq)])
    return _Coordinates(
        log_weights=np.log(np.maximum(w, np.finfo(np.float64).tiny)),
        zero=w == 0.0,
        means=mixture.means,
        cholesky=cholesky,
    )


def _line(start: np.ndarray, stop: np.ndarray, t: float) -> np.ndarray:
    """(1 - t) start + t stop: exactly ``start`` at t = 0 and ``stop`` at t = 1."""
    return (1.0 - t) * start + t * stop


def _point(start: _Coordinates, stop: _Coordinates, t: float, cov_type: str) -> Mixture:
    """theta(t) on the line from ``start`` to ``stop`` in unconstrained coordinates."""
    with np.errstate(over="ignore", invalid="ignore"):
        # Softmax of the interpolated log-weights, shifted by their maximum so
        # that exp neither overflows nor underflows for every component.  A
        # component of weight 0 at both ends has log-weight -inf: weight 0.
        z = _line(start.log_weights, stop.log_weights, t)
        z[start.zero & stop.zero] = -np.inf
        z -= z.max()
        weights = np.exp(z)
        weights /= weights.sum()
        # A weight below the floor's is 0 (as at a floored end), not a
        # subnormal number that would only be a rounding of the floor.  The
        # sum stays 1: what is dropped is below its rounding.
        weights[weights < np.finfo(np.float64).tiny] = 0.0
        means = _line(start.means, stop.means, t)
        u = _line(start.cholesky, stop.cholesky, t)
        l11, l21, l22 = np.exp(u[:, 0]), u[:, 1], np.exp(u[:, 2])
        cov = np.empty((weights.shape[0], 2, 2))
        cov[:, 0, 0] = l11 * l11
        cov[:, 0, 1] = cov[:, 1, 0] = l11 * l21
        cov[:, 1, 1] = l21 * l21 + l22 * l22
    for name, a in (("weights", weights), ("means", means), ("covariances", cov)):
        if not np.all(np.isfinite(a)):
            raise EmvizError(f"the path overflows at t = {t!r}: its {name} are not finite")
    try:
        return Mixture(weights, means, cov, cov_type)
    except EmvizError as exc:
        # Only a covariance too close to singular, lost to rounding, can fail here.
        raise EmvizError(f"the path gives no valid mixture at t = {t!r}: {exc}") from None


def mixture_at(before: Mixture, after: Mixture, t: float) -> Mixture:
    """The mixture theta(t) on the path from ``before`` (t = 0) to ``after`` (t = 1).

    The path is a straight line in unconstrained coordinates (log-weights
    renormalised by softmax, means, log-Cholesky factors of the covariances;
    see the module docstring), so every finite t gives a valid mixture of
    the same covariance type, including t < 0 and t > 1.

    Parameters
    ----------
    before : Mixture
        theta(0).
    after : Mixture
        theta(1), with the same number of components and covariance type.
    t : float
        Finite.

    Returns
    -------
    Mixture
        ``before`` itself at t = 0, ``after`` itself at t = 1.

    Raises
    ------
    EmvizError
        If the mixtures differ in K or covariance type, or t is not finite.
    """
    _check_pair(before, after)
    t = _check_t(t)
    if t == 0.0:
        return before
    if t == 1.0:
        return after
    return _point(_coordinates(before), _coordinates(after), t, before.cov_type)


def bound_slice(
    X: object,
    before: Mixture,
    after: Mixture,
    resp: object,
    ts: object = None,
) -> BoundSlice:
    """log p(X | theta(t)) and L(q, theta(t)) for every t in ``ts``.

    Parameters
    ----------
    X : array-like of shape (n_samples, 2), or prepared data (:class:`emviz.core.data.Data`)
        The points, as :func:`emviz.core.bound.bound_terms` takes them.  For
        data prepared with ``missing="marginalize"`` both curves use the
        observed coordinates only (as ``bound_terms`` does); the M-step then
        maximises another function, so L need not peak at t = 1.
    before : Mixture
        theta(0), usually the mixture ``resp`` is the posterior of.
    after : Mixture
        theta(1), usually the M-step's result from ``resp``.
    resp : array-like of shape (n_samples, n_components)
        The responsibilities q (rows are distributions).
    ts : array-like of shape (n_ts,), optional
        Finite values of t.  Default: 81 values from -0.5 to 1.5 in steps of
        1/40, which include 0 and 1 exactly.

    Returns
    -------
    BoundSlice

    Raises
    ------
    EmvizError
        If the mixtures differ in K or covariance type, ``resp`` does not
        have shape (n_samples, K) or its rows are not distributions, ``ts``
        is empty, not one-dimensional or not finite, or ``X`` is not valid.
    """
    _check_pair(before, after)
    ts_arr = _check_ts(ts)
    data = as_data(X)  # once: every t reuses the prepared points
    # H(q), by the one definition (which also checks resp against the data
    # and K).  It does not depend on theta, so it is taken once.
    entropy = bound_terms(data, before, resp).entropy
    # Fortran order: the E-pass reads q transposed, one row per component.
    q = np.asfortranarray(resp, dtype=np.float64)
    start, stop = _coordinates(before), _coordinates(after)
    log_likelihood = np.empty(ts_arr.shape[0])
    lower_bound = np.empty(ts_arr.shape[0])
    for i, t in enumerate(ts_arr.tolist()):
        if t == 0.0:
            mixture = before
        elif t == 1.0:
            mixture = after
        else:
            mixture = _point(start, stop, t, before.cov_type)
        if data.marginal or not np.all(mixture.weights > 0):
            # Incomplete data have no fast pass with the bound's terms, and
            # a component of weight 0 makes Q = -inf wherever q gives it mass
            # (the fast pass clamps that log 0): use the definition itself.
            terms = bound_terms(data, mixture, q)
            log_likelihood[i] = terms.log_likelihood
            lower_bound[i] = terms.lower_bound
        else:
            # The E-pass gives log p and Q(q, theta) in one pass over the
            # data, and L = Q + H as for iterate_em's M snapshots.
            result = data.e_pass(mixture, terms=True, q_other=q)
            log_likelihood[i] = result.log_likelihood
            lower_bound[i] = result.cross_expected + entropy
    log_likelihood.setflags(write=False)
    lower_bound.setflags(write=False)
    return BoundSlice(ts=ts_arr, log_likelihood=log_likelihood, lower_bound=lower_bound)
