"""What one EM half-step just did, told in one or two short sentences.

:func:`narration_numbers` compares two consecutive snapshots and returns the
quantities worth telling (a :class:`NarrationFacts`); :func:`narrate` formats
them at one of three levels:

- "basic": plain words, no symbols, hardly any numbers;
- "medium": the counts and the change of log p (3 significant digits);
- "detailed": the quantities of EM, N_k = sum_n r_nk, pi_k, mu_k and
  Delta log p, written with their usual symbols.

Pairs that can be narrated
--------------------------
``after`` must be the half-step that directly follows ``before``:

- "init" -> "E" or "M" -> "E", with ``after.iteration == before.iteration + 1``
  (an E-step starts a new iteration);
- "E" -> "M" within the same iteration.

An E-step does not change the parameters, so the two mixtures of an E pair
must be the same.  Any other pair (same phase twice, an iteration skipped,
a different number of components) raises :class:`EmvizError`.

What the E-step changes is the responsibilities r_nk = p(z_n = k | x_n,
theta).  ``before.resp`` of an "M" snapshot is the q that M-step used, the
posterior of the previous E-step, so ``after.resp - before.resp`` is what this
E-step changed.  Missing responsibilities (``None``, as history drops them)
are not an error: the sentences then say what can be said without them.

Points and components are numbered from 1 in the text, as the GUI labels
them; the facts keep numpy's 0-based indices.  Each sentence stays within
about :data:`MAX_SENTENCE` characters (the GUI shows them in one or two lines
and writes them as WebVTT captions): when a long list (N_k for many
components) would not fit, it is left out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from emviz.core.errors import EmvizError
from emviz.core.snapshot import Snapshot

__all__ = [
    "LEVELS",
    "MAX_SENTENCE",
    "NarrationFacts",
    "format_log_likelihood",
    "format_number",
    "narrate",
    "narration_numbers",
]

#: The narration levels, from plainest to most technical.
LEVELS = ("basic", "medium", "detailed")

#: Longest sentence, in characters, that the narration aims for.
MAX_SENTENCE = 200

# A change of log p within this fraction of |log p| is rounding: a sum of n
# log-sum-exp terms carries a relative error of a few n * eps.
_SAME_REL = 1e-10


@dataclass(frozen=True)
class NarrationFacts:
    """The quantities a narration tells, computed from two consecutive snapshots.

    Indices are 0-based (numpy's); the sentences add one.  A quantity that
    the snapshots cannot give (responsibilities dropped, a phase it does not
    apply to) is ``None``.

    Attributes
    ----------
    phase : {"E", "M"}
        The half-step narrated (``after.phase``).
    iteration : int
        ``after.iteration``.
    first_e_step : bool
        True for the E-step right after an "init" snapshot: every point gets
        responsibilities for the first time.
    n_samples : int or None
        Rows of the responsibilities.
    n_components : int
        K.
    n_changed : int or None
        E-step: how many points changed their most likely component
        (``argmax_k r_nk``) between ``before.resp`` and ``after.resp``.
    largest_resp_change : float or None
        E-step: max over n, k of ``|after.resp[n, k] - before.resp[n, k]|``.
    largest_change_point, largest_change_component : int or None
        Where that largest change is (the first such entry in row-major order).
    nk : tuple of float or None
        N_k = sum_n r_nk of ``after.resp``, tuple of length n_components: the
        responsibility mass of each component (after an E-step, what the next
        M-step will use; after an M-step, what it used).
    moved_most : int or None
        M-step: the component whose mean moved the farthest.
    moved_distance : float or None
        M-step: that Euclidean distance ``|mu_k(after) - mu_k(before)|``.
    moved_distance_sd : float or None
        M-step: the same move in standard deviations of the component's
        ellipse before the step (Mahalanobis length under the old
        covariance).
    weights_before, weights_after : tuple of float
        pi_k of the two mixtures, each of length n_components.
    weight_gainer, weight_loser : int or None
        M-step: the component whose weight rose most / fell most; ``None``
        with one component or when no weight changed.
    weight_gain, weight_loss : float or None
        Their changes ``pi_k(after) - pi_k(before)`` (the loss is negative).
    log_likelihood_before, log_likelihood_after : float
        log p(X | theta) of the two snapshots (may be NaN).
    delta_log_likelihood : float
        ``log_likelihood_after - log_likelihood_before``.
    log_likelihood_trend : {"rose", "same", "fell", "unknown"}
        "same" when the change is within rounding of log p; "unknown" when
        either value is not finite.
    theta_unchanged : bool
        Whether the parameters are the same (always True for an E-step).
    kl_before, kl_after : float
        KL(q || p(Z | X, theta)) of the two snapshots; NaN unless the run
        computed the bound.
    bound_touches : bool or None
        E-step: whether the lower bound now equals log p (KL = 0): from the
        computed KL when there is one, else True for soft responsibilities
        (a posterior has KL = 0 by definition) and None for one-hot ones,
        which may come from hard-assignment EM whose KL is not 0.
    converged : bool
        ``after.converged``.
    collapsing : tuple of int
        ``after.collapsing``.
    """

    phase: str
    iteration: int
    first_e_step: bool
    n_samples: int | None
    n_components: int
    n_changed: int | None
    largest_resp_change: float | None
    largest_change_point: int | None
    largest_change_component: int | None
    nk: tuple[float, ...] | None
    moved_most: int | None
    moved_distance: float | None
    moved_distance_sd: float | None
    weights_before: tuple[float, ...]
    weights_after: tuple[float, ...]
    weight_gainer: int | None
    weight_gain: float | None
    weight_loser: int | None
    weight_loss: float | None
    log_likelihood_before: float
    log_likelihood_after: float
    delta_log_likelihood: float
    log_likelihood_trend: str
    theta_unchanged: bool
    kl_before: float
    kl_after: float
    bound_touches: bool | None
    converged: bool
    collapsing: tuple[int, ...]


def format_number(x: float) -> str:
    """``x`` with 3 significant digits, as every narration writes numbers.

    ``f"{x:.3g}"``, with -0 written as 0 and NaN / infinity as "NaN", "inf"
    and "-inf".
    """
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x + 0.0:.3g}"  # + 0.0 turns -0.0 into 0.0


def format_log_likelihood(x: float) -> str:
    """A log-likelihood: one decimal up to a million in size (-1130.2), else as any number.

    Its changes, not its size, are what a class follows: -1.13e+03 would
    hide the steps of a slow climb.
    """
    x = float(x)
    if math.isfinite(x) and abs(x) < 1e6:
        return f"{x + 0.0:.1f}"
    return format_number(x)


def _signed(x: float) -> str:
    s = format_number(x)
    return "+" + s if x > 0 and s[0].isdigit() else s


def _check_pair(before: Snapshot, after: Snapshot) -> None:
    """Raise unless ``after`` is the half-step that directly follows ``before``."""
    for name, snap in (("before", before), ("after", after)):
        if not isinstance(snap, Snapshot):
            raise EmvizError(f"{name} must be a Snapshot; got {type(snap).__name__}")
    if after.phase not in ("E", "M"):
        raise EmvizError(
            f"only an E- or M-step can be narrated; after is an {after.phase!r} snapshot"
        )
    if after.phase == "E":
        ok = before.phase in ("init", "M") and after.iteration == before.iteration + 1
    else:
        ok = before.phase == "E" and after.iteration == before.iteration
    if not ok:
        raise EmvizError(
            f"after ({after.phase} {after.iteration}) is not the half-step that follows "
            f"before ({before.phase} {before.iteration}); narrate init -> E, M -> E "
            "(next iteration) or E -> M (same iteration)"
        )
    k_b, k_a = before.mixture.n_components, after.mixture.n_components
    if k_b != k_a:
        raise EmvizError(f"before has {k_b} components and after {k_a}; they must agree")
    for name, snap in (("before", before), ("after", after)):
        if snap.resp is not None and (snap.resp.ndim != 2 or snap.resp.shape[1] != k_a):
            raise EmvizError(
                f"{name}.resp must have shape (n_samples, {k_a}); got {snap.resp.shape}"
            )
    if before.resp is not None and after.resp is not None:
        if before.resp.shape != after.resp.shape:
            raise EmvizError(
                f"before.resp has shape {before.resp.shape} and after.resp "
                f"{after.resp.shape}; they must agree"
            )
    if after.phase == "E" and not before.mixture.allclose(after.mixture, rtol=1e-12):
        raise EmvizError(
            "an E-step does not change the parameters, but before and after have "
            "different mixtures: they are not consecutive snapshots of one run"
        )


def _mahalanobis(d: np.ndarray, cov: np.ndarray) -> float:
    """sqrt(d^T Sigma^-1 d) for one 2-vector ``d`` and a 2x2 ``cov``; NaN if singular."""
    a, b, c = float(cov[0, 0]), float(cov[0, 1]), float(cov[1, 1])
    dx, dy = float(d[0]), float(d[1])
    det = a * c - b * b
    if not det > 0:
        return math.nan
    # The inverse of [[a, b], [b, c]] is [[c, -b], [-b, a]] / det.
    q = (c * dx * dx - 2.0 * b * dx * dy + a * dy * dy) / det
    return math.sqrt(q) if q >= 0 else math.nan


def _trend(before: float, after: float) -> tuple[float, str]:
    if not (math.isfinite(before) and math.isfinite(after)):
        return (after - before if not math.isnan(after - before) else math.nan), "unknown"
    delta = after - before
    if abs(delta) <= _SAME_REL * max(1.0, abs(before), abs(after)):
        return delta, "same"
    return delta, "rose" if delta > 0 else "fell"


def _is_one_hot(resp: np.ndarray) -> bool:
    return bool(np.all((resp == 0.0) | (resp == 1.0)))


def narration_numbers(before: Snapshot, after: Snapshot) -> NarrationFacts:
    """The quantities that :func:`narrate` tells about the half-step ``before`` -> ``after``.

    Parameters
    ----------
    before, after : Snapshot
        Two consecutive snapshots of one run: "init" -> "E", "M" -> "E" (next
        iteration) or "E" -> "M" (same iteration).

    Returns
    -------
    NarrationFacts

    Raises
    ------
    EmvizError
        If ``after`` is not the half-step that follows ``before`` (see the
        module docstring), or the two disagree on the number of components
        or on the shape of the responsibilities.
    """
    _check_pair(before, after)
    k = after.mixture.n_components
    ll_b, ll_a = float(before.log_likelihood), float(after.log_likelihood)
    delta, trend = _trend(ll_b, ll_a)
    w_b = before.mixture.weights
    w_a = after.mixture.weights
    resp = after.resp if after.resp is not None else before.resp
    nk = None if resp is None else tuple(float(v) for v in resp.sum(axis=0))
    n_samples = None if resp is None else int(resp.shape[0])
    kl_b, kl_a = float(before.kl), float(after.kl)

    n_changed = largest = point = comp = None
    moved = dist = dist_sd = None
    gainer = gain = loser = loss = None
    bound_touches: bool | None = None
    if after.phase == "E":
        if before.resp is not None and after.resp is not None:
            # A point changes colour when its most probable component changes.
            n_changed = int(
                np.count_nonzero(before.resp.argmax(axis=1) != after.resp.argmax(axis=1))
            )
            with np.errstate(invalid="ignore"):
                diff = np.abs(after.resp - before.resp)
            diff = np.where(np.isnan(diff), -1.0, diff)
            if diff.size:
                flat = int(np.argmax(diff))
                if diff.flat[flat] >= 0:
                    point, comp = (int(i) for i in np.unravel_index(flat, diff.shape))
                    largest = float(diff.flat[flat])
        if math.isfinite(kl_a):
            # log p - (Q + H) is the KL up to the rounding of the three sums.
            bound_touches = abs(kl_a) <= 1e-8 * max(1.0, abs(ll_a))
        elif after.resp is not None and not _is_one_hot(after.resp):
            bound_touches = True
    else:
        with np.errstate(all="ignore"):
            steps = after.mixture.means - before.mixture.means
            lengths = np.hypot(steps[:, 0], steps[:, 1])
        moved = int(np.argmax(lengths))
        dist = float(lengths[moved])
        dist_sd = _mahalanobis(steps[moved], before.mixture.covariances[moved])
        dw = w_a - w_b
        if k > 1 and np.any(dw != 0):
            gainer, loser = int(np.argmax(dw)), int(np.argmin(dw))
            gain, loss = float(dw[gainer]), float(dw[loser])
    return NarrationFacts(
        phase=after.phase,
        iteration=int(after.iteration),
        first_e_step=after.phase == "E" and before.phase == "init",
        n_samples=n_samples,
        n_components=k,
        n_changed=n_changed,
        largest_resp_change=largest,
        largest_change_point=point,
        largest_change_component=comp,
        nk=nk,
        moved_most=moved,
        moved_distance=dist,
        moved_distance_sd=dist_sd,
        weights_before=tuple(float(v) for v in w_b),
        weights_after=tuple(float(v) for v in w_a),
        weight_gainer=gainer,
        weight_gain=gain,
        weight_loser=loser,
        weight_loss=loss,
        log_likelihood_before=ll_b,
        log_likelihood_after=ll_a,
        delta_log_likelihood=delta,
        log_likelihood_trend=trend,
        theta_unchanged=after.phase == "E" or before.mixture.allclose(after.mixture, rtol=0.0),
        kl_before=kl_b,
        kl_after=kl_a,
        bound_touches=bound_touches,
        converged=bool(after.converged),
        collapsing=tuple(int(c) for c in after.collapsing),
    )


# --------------------------------------------------------------------- wording


def _points(n: int) -> str:
    return f"{n} point" if n == 1 else f"{n} points"


def _and_list(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _tuple(values: Sequence[float]) -> str:
    return "(" + ", ".join(format_number(v) for v in values) + ")"


def _fitting(*variants: str) -> str:
    """The first variant no longer than MAX_SENTENCE, else the last (shortest) one."""
    for v in variants:
        if len(v) <= MAX_SENTENCE:
            return v
    return variants[-1]


def _log_p_change(f: NarrationFacts) -> str:
    """ "log p rose by 1.23 to -421" and its siblings (medium)."""
    now = format_log_likelihood(f.log_likelihood_after)
    if f.log_likelihood_trend == "rose":
        return f"log p rose by {format_number(f.delta_log_likelihood)} to {now}"
    if f.log_likelihood_trend == "fell":
        return f"log p fell by {format_number(-f.delta_log_likelihood)} to {now}"
    if f.log_likelihood_trend == "same":
        return f"log p stayed the same at {now}"
    return f"log p could not be computed (it is {now})"


def _status(f: NarrationFacts, level: str) -> str | None:
    """The sentence that calls out convergence and collapse, or None."""
    conv = None
    if f.converged:
        conv = {
            "basic": "EM has converged: the ellipses have stopped changing",
            "medium": "EM has converged: log p changed by less than the tolerance per point",
            "detailed": "EM has converged: |Δ log p| / n < tol",
        }[level]
    coll = None
    if f.collapsing:
        nums = [c + 1 for c in f.collapsing]
        who = (
            f"component {nums[0]} is"
            if len(nums) == 1
            else f"components {_and_list([str(c) for c in nums])} are"
        )
        if level == "basic" or f.nk is None:
            coll = f"{who} collapsing: shrinking onto very few points"
        elif level == "medium":
            mass = _and_list([format_number(f.nk[c]) for c in f.collapsing])
            coll = f"{who} collapsing onto about {mass} points' worth of responsibility"
        else:
            mass = ", ".join(f"N_{c + 1} = {format_number(f.nk[c])}" for c in f.collapsing)
            coll = f"{who} collapsing: {mass} (N_k < 1 or Σ_k at the floor)"
    if conv and coll:
        return f"{conv.split(':')[0]}, but {coll}."
    if conv:
        return conv + "."
    if coll:
        return coll[0].upper() + coll[1:] + "."
    return None


def _e_sentences(f: NarrationFacts, level: str) -> tuple[str, str]:
    now = format_log_likelihood(f.log_likelihood_after)
    k = f.n_components
    known = f.n_changed is not None and f.largest_resp_change is not None
    if level == "basic":
        if f.first_e_step:
            first = (
                "The first E-step gave every point to the only component."
                if k == 1
                else "The first E-step shared every point among the starting ellipses, "
                "by how likely each one makes it."
            )
        elif not known:
            first = "The E-step updated each point's share of the components for the new ellipses."
        elif f.largest_resp_change == 0:
            first = "The E-step left every point's share of the components as it was."
        elif f.n_changed == 0:
            first = (
                "The E-step recoloured no points: each point's share of the components "
                "was updated for the new ellipses, but no point changed its main component."
            )
        else:
            first = (
                f"The E-step recoloured {_points(f.n_changed)}: each point's share of the "
                "components was updated for the new ellipses."
            )
        return first, "The ellipses did not move."
    touch = {True: ", and the bound now touches log p", False: "", None: ""}[f.bound_touches]
    if level == "medium":
        if f.first_e_step:
            who = "every point" if f.n_samples is None else f"each of the {f.n_samples} points"
            first = f"First E-step: {who} got its responsibilities for the " + (
                "one starting component." if k == 1 else f"{k} starting components."
            )
        elif not known:
            first = "E-step: each point's responsibilities were updated for the new parameters."
        elif f.largest_resp_change == 0:
            first = "E-step: no responsibility changed."
        else:
            verb = "changed its" if f.n_changed == 1 else "changed their"
            first = (
                f"E-step: {_points(f.n_changed)} {verb} most likely component; the largest "
                f"change in a responsibility was {format_number(f.largest_resp_change)} "
                f"(point {f.largest_change_point + 1}, component {f.largest_change_component + 1})."
            )
        return first, f"The parameters and log p = {now} stayed the same{touch}."
    # detailed
    nk = "" if f.nk is None else f"; N_k = Σ_n r_nk = {_tuple(f.nk)}"
    if f.first_e_step:
        n = "all" if f.n_samples is None else f"all n = {f.n_samples}"
        head = f"E-step {f.iteration}: r_nk = p(z_n = k | x_n, θ) for {n} points"
    elif not known:
        head = f"E-step {f.iteration}: r_nk = p(z_n = k | x_n, θ) recomputed"
    else:
        head = (
            f"E-step {f.iteration}: {_points(f.n_changed)} changed argmax_k r_nk; "
            f"max |Δr_nk| = {format_number(f.largest_resp_change)} "
            f"(point {f.largest_change_point + 1}, component {f.largest_change_component + 1})"
        )
    first = _fitting(head + nk + ".", head + ".")
    gap = f.kl_before if math.isfinite(f.kl_before) and not f.first_e_step else 0.0
    if f.bound_touches and abs(gap) > 1e-8 * max(1.0, abs(f.log_likelihood_after)):
        kl = f"; KL(q‖p) {format_number(f.kl_before)} → 0, so L = log p"
    elif f.bound_touches:
        kl = "; KL(q‖p) = 0, so L = log p"
    else:
        kl = ""
    return first, f"θ and log p = {now} unchanged{kl}."


def _m_sentences(f: NarrationFacts, level: str) -> tuple[str, str]:
    k = f.n_components
    m = f.moved_most + 1
    still = f.moved_distance == 0
    if level == "basic":
        if still:
            first = "The M-step refitted the ellipses, but none of them moved."
        elif k == 1:
            first = "The M-step refitted the ellipse to the points."
        else:
            first = "The M-step refitted each ellipse to its points' shares: "
            if f.weight_gainer is None:
                first += f"component {m} moved the most."
            elif f.weight_gainer + 1 == m:
                first += f"component {m} moved and grew the most."
            else:
                first += (
                    f"component {m} moved the most and component {f.weight_gainer + 1} "
                    "grew the most."
                )
        second = {
            "rose": "The fit to the data improved.",
            "same": "The fit to the data stayed the same.",
            "fell": "The fit to the data got worse.",
            "unknown": "How well it fits the data could not be measured.",
        }[f.log_likelihood_trend]
        return first, second
    sd = (
        ""
        if not math.isfinite(f.moved_distance_sd)
        else f" ({format_number(f.moved_distance_sd)} sd)"
    )
    if level == "medium":
        if still:
            move = "no mean moved"
        else:
            by = f"by {format_number(f.moved_distance)}{sd}"
            move = f"component 1 moved {by}" if k == 1 else f"component {m} moved most, {by},"
        first = f"M-step: {move} and {_log_p_change(f)}."
        if k == 1:
            second = "With one component its weight stays 1."
        elif f.weight_gainer is None:
            second = "The weights did not change."
        else:
            g, lo = f.weight_gainer, f.weight_loser
            wb, wa = f.weights_before, f.weights_after
            second = (
                f"Component {g + 1} gained the most weight ({format_number(wb[g])} to "
                f"{format_number(wa[g])}), component {lo + 1} lost the most "
                f"({format_number(wb[lo])} to {format_number(wa[lo])})."
            )
        return first, second
    # detailed
    if f.delta_log_likelihood == 0:
        dl = "Δ log p = 0"
    elif f.log_likelihood_trend == "same":
        dl = f"Δ log p ≈ 0 ({_signed(f.delta_log_likelihood)})"
    else:
        dl = f"Δ log p = {_signed(f.delta_log_likelihood)}"
    dl += f", log p = {format_log_likelihood(f.log_likelihood_after)}"
    if still:
        move = "no μ_k moved"
    else:
        most = "" if k == 1 else " most"
        move = f"μ_{m} moved{most}, |Δμ_{m}| = {format_number(f.moved_distance)}{sd}"
    first = f"M-step {f.iteration}: {move}; {dl}."
    pi = f"π = {_tuple(f.weights_after)}"
    if f.weight_gainer is not None:
        pi += f", π_{f.weight_gainer + 1} gained most ({_signed(f.weight_gain)})"
    if f.nk is not None:
        nk = f"N_k = Σ_n r_nk = {_tuple(f.nk)}"
        second = _fitting(f"{nk}; {pi}.", f"{nk}.")
    else:
        second = _fitting(pi + ".", "The weights π_k = N_k / n were refitted.")
    return first, second


def narrate(before: Snapshot, after: Snapshot, level: str = "medium") -> str:
    """One or two sentences telling what the half-step ``before`` -> ``after`` did.

    The first sentence tells the step: for an E-step, how many points
    changed their most likely component and the largest change of a
    responsibility; for an M-step, which mean moved most and how log p
    changed.  The second tells what else changed (weights, N_k, the bound),
    or, when EM has converged or a component is collapsing, says that
    instead.

    Parameters
    ----------
    before, after : Snapshot
        Two consecutive snapshots of one run (see :func:`narration_numbers`).
    level : {"basic", "medium", "detailed"}
        "basic": plain words and no symbols; "medium": counts and the change
        of log p; "detailed": N_k, pi_k, mu_k, Delta log p with their
        symbols.

    Returns
    -------
    str
        At most two sentences of about :data:`MAX_SENTENCE` characters each.

    Raises
    ------
    EmvizError
        For an unknown ``level``, or snapshots that are not consecutive.
    """
    if level not in LEVELS:
        raise EmvizError(f"narration level must be one of {', '.join(LEVELS)}; got {level!r}")
    facts = narration_numbers(before, after)
    if facts.phase == "E":
        first, second = _e_sentences(facts, level)
    else:
        first, second = _m_sentences(facts, level)
    status = _status(facts, level)
    return f"{first} {status or second}"
