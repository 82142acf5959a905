"""Narration of EM half-steps: the facts against numpy, the sentences against the facts."""

import math
from dataclasses import replace

import numpy as np
import pytest

from emviz.core.datasets import load_dataset
from emviz.core.em import iterate_em
from emviz.core.errors import EmvizError
from emviz.core.init import initialize
from emviz.core.mixture import Mixture
from emviz.core.narration import (
    LEVELS,
    MAX_SENTENCE,
    format_number,
    narrate,
    narration_numbers,
)
from tests.core.data import blobs


def g(x):
    """How the narration writes a number (3 significant digits), written out here."""
    return f"{x:.3g}"


def lp(x):
    """How it writes a log-likelihood: one decimal below a million in size."""
    return f"{x:.1f}" if abs(x) < 1e6 else g(x)


@pytest.fixture(scope="module")
def faithful():
    X = load_dataset("old_faithful").X
    snaps = list(iterate_em(X, initialize(X, 3, seed=0), tol=1e-6, max_iter=300))
    assert snaps[-1].converged
    return snaps


@pytest.fixture(scope="module")
def collapsing_run():
    # Two exact duplicates far from a broad cloud: component 2 sits on them and
    # its covariance is held at the floor (as in test_em's collapse test).
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(size=(60, 2)), [[8.0, 8.0], [8.0, 8.0]]])
    start = Mixture([0.9, 0.1], [[0, 0], [8.0, 8.0]], [np.eye(2), np.eye(2) * 0.5])
    snaps = list(iterate_em(X, start, reg_covar=1e-6, max_iter=50))
    assert snaps[-1].converged and snaps[-1].collapsing == (1,)
    return snaps


def pairs(snaps, phase):
    return [(a, b) for a, b in zip(snaps, snaps[1:]) if b.phase == phase]


def busiest_e_step(snaps):
    """The M -> E pair in which the most points change their argmax (more than 1)."""
    best = max(
        pairs(snaps, "E")[1:],
        key=lambda p: np.count_nonzero(p[0].resp.argmax(1) != p[1].resp.argmax(1)),
    )
    assert np.count_nonzero(best[0].resp.argmax(1) != best[1].resp.argmax(1)) > 1
    return best


def expected_e(before, after):
    changed = int(np.sum(before.resp.argmax(axis=1) != after.resp.argmax(axis=1)))
    diff = np.abs(after.resp - before.resp)
    n, k = np.unravel_index(np.argmax(diff), diff.shape)
    return changed, float(diff[n, k]), int(n), int(k)


def expected_m(before, after):
    dist = np.linalg.norm(after.mixture.means - before.mixture.means, axis=1)
    k = int(np.argmax(dist))
    d = after.mixture.means[k] - before.mixture.means[k]
    sd = float(np.sqrt(d @ np.linalg.solve(before.mixture.covariances[k], d)))
    dw = after.mixture.weights - before.mixture.weights
    return k, float(dist[k]), sd, dw, after.log_likelihood - before.log_likelihood


def sentences(text):
    # Numbers never have a space after their decimal point, so ". " ends a sentence.
    assert text.endswith(".")
    return text.split(". ")


# ------------------------------------------------------------------ E-step


def test_e_step_facts_match_numpy(faithful):
    before, after = busiest_e_step(faithful)
    changed, largest, n, k = expected_e(before, after)
    f = narration_numbers(before, after)
    assert (f.phase, f.iteration, f.first_e_step) == ("E", after.iteration, False)
    assert f.n_changed == changed
    assert f.largest_resp_change == pytest.approx(largest, rel=0, abs=0)
    assert (f.largest_change_point, f.largest_change_component) == (n, k)
    assert f.nk == pytest.approx(tuple(after.resp.sum(axis=0)))
    assert f.n_samples == after.resp.shape[0] == 272
    assert f.log_likelihood_trend == "same" and f.theta_unchanged
    assert f.bound_touches is True
    assert f.moved_most is None and f.weight_gainer is None


def test_e_step_sentences_state_the_count_and_the_largest_change(faithful):
    before, after = busiest_e_step(faithful)
    changed, largest, n, k = expected_e(before, after)
    basic, medium, detailed = (narrate(before, after, lv) for lv in LEVELS)

    assert f"recoloured {changed} points" in basic
    assert "did not move" in basic
    assert f"recoloured {changed + 1} points" not in basic

    assert f"E-step: {changed} points changed their most likely component" in medium
    assert f"was {g(largest)} (point {n + 1}, component {k + 1})" in medium
    assert f"log p = {lp(after.log_likelihood)} stayed the same" in medium

    assert f"E-step {after.iteration}: {changed} points changed argmax_k r_nk" in detailed
    assert f"max |Δr_nk| = {g(largest)} (point {n + 1}, component {k + 1})" in detailed
    nk = after.resp.sum(axis=0)
    assert "N_k = Σ_n r_nk = (" + ", ".join(g(v) for v in nk) + ")" in detailed
    assert "KL(q‖p) = 0" in detailed


def test_first_e_step_gives_every_point_its_responsibilities(faithful):
    before, after = faithful[0], faithful[1]
    assert (before.phase, before.resp) == ("init", None)
    f = narration_numbers(before, after)
    assert f.first_e_step and f.n_changed is None and f.largest_resp_change is None
    assert "first E-step" in narrate(before, after, "basic")
    medium = narrate(before, after, "medium")
    assert medium.startswith("First E-step: each of the 272 points got its responsibilities")
    assert "3 starting components" in medium
    detailed = narrate(before, after, "detailed")
    assert "for all n = 272 points" in detailed
    assert "(" + ", ".join(g(v) for v in after.resp.sum(axis=0)) + ")" in detailed


def test_the_closed_gap_is_the_kl_the_bound_reported():
    X = load_dataset("old_faithful").X
    snaps = list(iterate_em(X, initialize(X, 2, seed=0), max_iter=4, bound=True))
    before, after = snaps[2], snaps[3]  # M1 -> E2
    assert before.kl > 1e-3 and abs(after.kl) < 1e-6 * abs(after.log_likelihood)
    f = narration_numbers(before, after)
    assert f.bound_touches is True and f.kl_before == before.kl
    assert f"KL(q‖p) {g(before.kl)} → 0" in narrate(before, after, "detailed")


def test_hard_assignment_e_step_does_not_claim_the_bound_touches():
    X = blobs()
    snaps = list(iterate_em(X, initialize(X, 3, seed=0), assignment="hard", max_iter=3))
    before, after = snaps[2], snaps[3]
    assert after.phase == "E"
    assert narration_numbers(before, after).bound_touches is None
    assert "touches" not in narrate(before, after, "medium")
    assert "KL" not in narrate(before, after, "detailed")


# ------------------------------------------------------------------ M-step


def test_m_step_facts_match_numpy(faithful):
    for before, after in pairs(faithful, "M")[:5]:
        k, dist, sd, dw, dll = expected_m(before, after)
        f = narration_numbers(before, after)
        assert (f.moved_most, f.moved_distance) == (k, pytest.approx(dist, rel=1e-12))
        assert f.moved_distance_sd == pytest.approx(sd, rel=1e-9)
        assert f.weight_gainer == int(np.argmax(dw)) and f.weight_loser == int(np.argmin(dw))
        assert f.weight_gain == pytest.approx(dw.max()) and f.weight_loss == pytest.approx(dw.min())
        assert f.delta_log_likelihood == dll > 0
        assert f.log_likelihood_trend == "rose"
        assert f.n_changed is None and not f.theta_unchanged


def test_m_step_sentences_state_the_move_the_weights_and_the_rise(faithful):
    before, after = pairs(faithful, "M")[1]  # E2 -> M2
    k, dist, sd, dw, dll = expected_m(before, after)
    gain, loss = int(np.argmax(dw)), int(np.argmin(dw))
    wb, wa = before.mixture.weights, after.mixture.weights
    basic, medium, detailed = (narrate(before, after, lv) for lv in LEVELS)

    assert f"component {k + 1} moved" in basic
    assert "grew the most" in basic and f"component {gain + 1}" in basic
    assert basic.endswith("The fit to the data improved.")

    assert f"component {k + 1} moved most, by {g(dist)} ({g(sd)} sd)" in medium
    assert f"log p rose by {g(dll)} to {lp(after.log_likelihood)}" in medium
    assert f"Component {gain + 1} gained the most weight ({g(wb[gain])} to {g(wa[gain])})" in medium
    assert f"component {loss + 1} lost the most ({g(wb[loss])} to {g(wa[loss])})" in medium

    assert f"M-step {after.iteration}: μ_{k + 1} moved most, |Δμ_{k + 1}| = {g(dist)}" in detailed
    assert f"Δ log p = +{g(dll)}" in detailed
    assert "N_k = Σ_n r_nk = (" + ", ".join(g(v) for v in after.resp.sum(axis=0)) + ")" in detailed
    assert "π = (" + ", ".join(g(v) for v in wa) + ")" in detailed
    assert f"π_{gain + 1} gained most (+{g(dw[gain])})" in detailed


def test_em_never_narrates_a_fall(faithful):
    for before, after in pairs(faithful, "M"):
        f = narration_numbers(before, after)
        assert f.log_likelihood_trend in ("rose", "same")
        for level in LEVELS:
            text = narrate(before, after, level)
            assert "fell" not in text and "worse" not in text


def test_a_fall_a_tie_and_unknown_log_likelihood_are_told_as_they_are(faithful):
    before, after = pairs(faithful, "M")[0]
    fell = replace(after, log_likelihood=before.log_likelihood - 5.0)
    assert narration_numbers(before, fell).log_likelihood_trend == "fell"
    assert "log p fell by 5 to" in narrate(before, fell, "medium")
    assert "Δ log p = -5," in narrate(before, fell, "detailed")
    assert "got worse" in narrate(before, fell, "basic")

    # A rise of rounding size is no rise.
    tie = replace(after, log_likelihood=before.log_likelihood + 1e-9)
    assert narration_numbers(before, tie).log_likelihood_trend == "same"
    assert "log p stayed the same at" in narrate(before, tie, "medium")
    assert "stayed the same" in narrate(before, tie, "basic")
    assert "Δ log p ≈ 0" in narrate(before, tie, "detailed")

    nan = replace(after, log_likelihood=math.nan)
    f = narration_numbers(before, nan)
    assert f.log_likelihood_trend == "unknown" and math.isnan(f.delta_log_likelihood)
    for level in LEVELS:
        text = narrate(before, nan, level)
        assert "rose" not in text and "improved" not in text and "fell" not in text
    assert "could not be computed" in narrate(before, nan, "medium")

    huge = replace(after, log_likelihood=-1e299)
    text = narrate(replace(before, log_likelihood=-1e300), huge, "medium")
    assert f"log p rose by {g(9e299)} to -1e+299" in text


# ------------------------------------------------------------------ convergence, collapse


def test_convergence_is_called_out_on_the_last_step_only(faithful):
    before, after = faithful[-2], faithful[-1]
    assert narration_numbers(before, after).converged
    for level in LEVELS:
        assert "EM has converged" in narrate(before, after, level)
    for before, after in pairs(faithful[:-1], "M"):
        assert not narration_numbers(before, after).converged
        assert "converged" not in narrate(before, after, "medium")


def test_collapse_is_called_out_with_the_component_and_its_mass(collapsing_run):
    snaps = collapsing_run
    before, after = snaps[1], snaps[2]  # E1 -> M1, component 2 collapses
    assert after.collapsing == (1,)
    f = narration_numbers(before, after)
    assert f.collapsing == (1,)
    nk2 = after.resp[:, 1].sum()
    assert "Component 2 is collapsing" in narrate(before, after, "basic")
    assert f"Component 2 is collapsing onto about {g(nk2)} points" in narrate(
        before, after, "medium"
    )
    assert f"Component 2 is collapsing: N_2 = {g(nk2)}" in narrate(before, after, "detailed")

    last = narrate(snaps[-2], snaps[-1], "medium")
    assert "EM has converged, but component 2 is collapsing" in last


# ------------------------------------------------------------------ levels and wording


def test_levels_differ_and_basic_has_no_symbols(faithful):
    for before, after in (busiest_e_step(faithful), pairs(faithful, "M")[1], faithful[:2]):
        texts = [narrate(before, after, lv) for lv in LEVELS]
        assert len(set(texts)) == 3
        assert not any(sym in texts[0] for sym in "ΔπμΣθ=")
        assert "N_k" in texts[2]
        assert narrate(before, after) == texts[1]  # medium is the default


@pytest.mark.parametrize("level", ["Basic", "off", "", "verbose", None])
def test_unknown_level_raises(faithful, level):
    with pytest.raises(EmvizError, match="narration level"):
        narrate(faithful[0], faithful[1], level)


def test_sentences_are_short_and_at_most_two(faithful):
    X = load_dataset("old_faithful").X
    many = list(iterate_em(X, initialize(X, 9, seed=0), tol=0.0, max_iter=3))
    for snaps in (faithful, many):
        for before, after in zip(snaps, snaps[1:]):
            for level in LEVELS:
                parts = sentences(narrate(before, after, level))
                assert 1 <= len(parts) <= 2
                assert all(len(p) <= MAX_SENTENCE for p in parts)


def test_one_component():
    X = blobs()
    snaps = list(iterate_em(X, initialize(X, 1, seed=0), max_iter=3))
    e1, m1, e2 = (narration_numbers(a, b) for a, b in zip(snaps, snaps[1:4]))
    assert e1.nk == pytest.approx((300.0,))
    assert m1.weight_gainer is None and m1.moved_most == 0
    assert e2.n_changed == 0 and e2.largest_resp_change == 0.0
    assert "With one component its weight stays 1." in narrate(snaps[1], snaps[2], "medium")
    assert "one starting component" in narrate(snaps[0], snaps[1], "medium")
    assert "no responsibility changed" in narrate(snaps[2], snaps[3], "medium")


def test_missing_responsibilities_never_raise(faithful):
    before, after = busiest_e_step(faithful)
    for b, a in (
        (before.without_resp(), after),
        (before, after.without_resp()),
        (before.without_resp(), after.without_resp()),
    ):
        f = narration_numbers(b, a)
        assert f.n_changed is None and f.largest_resp_change is None
        for level in LEVELS:
            text = narrate(b, a, level)
            assert "points changed" not in text and "recoloured" not in text
            assert "did not move" in text or "unchanged" in text or "same" in text
    m_before, m_after = pairs(faithful, "M")[1]
    text = narrate(m_before.without_resp(), m_after.without_resp(), "detailed")
    assert "N_k" not in text and "π = (" in text


def test_pairs_that_are_not_consecutive_raise(faithful):
    init, e1, m1, e2, m2 = faithful[:5]
    for before, after in ((e1, e2), (m1, m2), (e1, e1), (m2, e1), (init, m1), (e1, init)):
        with pytest.raises(EmvizError):
            narration_numbers(before, after)
    jumped = replace(e2, iteration=e2.iteration + 1)
    with pytest.raises(EmvizError, match="follows"):
        narrate(m1, jumped)
    # An E-step keeps the parameters: other parameters mean another run.
    with pytest.raises(EmvizError, match="different mixtures"):
        narrate(m1, replace(e2, mixture=m2.mixture))
    X = load_dataset("old_faithful").X
    other = list(iterate_em(X, initialize(X, 2, seed=0), max_iter=1))
    with pytest.raises(EmvizError, match="components"):
        narrate(other[1], replace(m1, iteration=other[1].iteration))


def test_format_number():
    assert format_number(1234.5) == "1.23e+03"
    assert format_number(-0.0) == "0"
    assert format_number(0.000123456) == "0.000123"
    assert format_number(math.nan) == "NaN"
    assert format_number(math.inf) == "inf" and format_number(-math.inf) == "-inf"
    assert format_number(np.float64(2.0)) == "2"
