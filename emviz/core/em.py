"""The one EM loop of the project, and the fits built on it.

:func:`iterate_em` yields an immutable :class:`Snapshot` after every
half-step; :func:`fit`, :func:`bic` and :func:`aic` are built on it.  The
steps themselves are in :mod:`emviz.core.steps` (public) and
:mod:`emviz.core._kernels` (the fast passes); the data layouts in
:mod:`emviz.core.data`.

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
from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np

from emviz.core._kernels import ArrayPool, EPass, hard_e_step
from emviz.core.data import Data, as_data, prepare
from emviz.core.errors import EmvizError
from emviz.core.init import initialize
from emviz.core.mixture import Mixture, check_cov_type
from emviz.core.snapshot import Snapshot, collapsing_components
from emviz.core.validation import check_reg_covar, check_tol_max_iter

__all__ = ["FitResult", "aic", "bic", "fit", "iterate_em"]


def iterate_em(
    X: object,
    start: Mixture | Snapshot,
    *,
    cov_type: str | None = None,
    reg_covar: float = 1e-6,
    tol: float = 1e-6,
    max_iter: int = 500,
    data: Data | None = None,
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
    data : Data, optional
        ``prepare(X, missing)`` computed already (then ``X`` and ``missing``
        are not read).
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
        data = prepare(X, missing)
    if data.marginal and (assignment != "soft" or bound):
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

    pool = ArrayPool()

    def posterior(mix: Mixture, q_other: np.ndarray | None = None) -> EPass:
        if assignment == "hard":
            return EPass(*hard_e_step(data, mix))
        return data.e_pass(mix, terms=bound, q_other=q_other, moments=True, pool=pool)

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
            cur = EPass(snap.resp, snap.log_likelihood)
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
        # ``mixture`` gave cur: incomplete data take their conditional means under it.
        new_mixture, nk, clipped = data.m_step(
            cur.resp, cov_type, floor, mixture=mixture, moments=cur.moments
        )
        new = posterior(new_mixture, q_other=cur.resp if bound else None)
        converged = abs(new.log_likelihood - cur.log_likelihood) < tol * n
        collapsing = collapsing_components(nk, clipped)
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
    X : array-like of shape (n_samples, 2), or prepared data (:class:`emviz.core.data.Data`)
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
    data = as_data(X, missing)
    if isinstance(init, Mixture):
        if init.n_components != n_components:
            raise EmvizError(
                f"the starting mixture has {init.n_components} components, not {n_components}"
            )
        start = init
    else:
        start = initialize(
            data, n_components, method=init, cov_type=cov_type, seed=seed, reg_covar=reg_covar
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
    resp, _ = data.e_step(last.mixture)
    return FitResult(
        mixture=last.mixture,
        log_likelihoods=np.array(trace),
        n_iter=last.iteration,
        converged=last.converged,
        resp=resp,
    )


def bic(X: object, mixture: Mixture) -> float:
    """Bayesian information criterion, -2 log p(X | theta) + p log N (lower is better).

    ``X`` may be prepared data of either kind (:class:`emviz.core.data.Data`);
    with missing coordinates, log p is the observed-data log-likelihood and
    N the number of rows in the fit.
    """
    data = as_data(X)
    ll = data.e_step(mixture)[1]
    return -2.0 * ll + mixture.n_parameters() * math.log(data.n_samples)


def aic(X: object, mixture: Mixture) -> float:
    """Akaike information criterion, -2 log p(X | theta) + 2p (lower is better).

    ``X`` may be prepared data of either kind, as for :func:`bic`.
    """
    return -2.0 * as_data(X).e_step(mixture)[1] + 2.0 * mixture.n_parameters()
