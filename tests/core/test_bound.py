"""The decomposition log p = Q + H + KL over real EM runs."""

import numpy as np
import pytest

from emviz.core import COV_TYPES, bound_terms, initialize, iterate_em, make_preset
from tests.core import reference


def runs():
    for name, k, cov_type in [
        ("overlapping", 3, "full"),
        ("elongated", 2, "diag"),
        ("nested", 2, "spherical"),
        ("unequal_weights", 4, "tied"),
    ]:
        X = make_preset(name, n_samples=300, seed=1).X
        start = initialize(X, k, cov_type=cov_type, method="random_resp", seed=2)
        yield X, list(iterate_em(X, start, tol=0.0, max_iter=15))


def test_identity_holds_for_every_snapshot():
    for X, snaps in runs():
        for snap in snaps[1:]:
            t = bound_terms(X, snap.mixture, snap.resp)
            assert t.log_likelihood == pytest.approx(snap.log_likelihood, rel=1e-12)
            assert t.lower_bound + t.kl == pytest.approx(t.log_likelihood, rel=1e-9)
            assert t.lower_bound == t.expected_complete + t.entropy
            assert t.kl >= -1e-9 * abs(t.log_likelihood)
            assert t.entropy >= 0


def test_e_step_closes_the_gap_and_m_step_raises_the_bound():
    for X, snaps in runs():
        for prev, snap in zip(snaps[1:], snaps[2:]):
            now = bound_terms(X, snap.mixture, snap.resp)
            if snap.phase == "E":
                assert abs(now.kl) <= 1e-10 * abs(now.log_likelihood)
            else:
                # Same q as the E snapshot before it; the M-step maximises
                # Q over theta, so L can only rise.
                assert snap.resp is prev.resp
                before = bound_terms(X, prev.mixture, prev.resp)
                assert now.lower_bound >= before.lower_bound - 1e-9 * abs(before.lower_bound)
                assert now.expected_complete >= before.expected_complete - 1e-9 * abs(
                    before.expected_complete
                )


@pytest.mark.parametrize("cov_type", COV_TYPES)
def test_terms_match_direct_formulas(cov_type):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(120, 2)) * [2.0, 0.7]
    mix = initialize(X, 3, cov_type=cov_type, seed=0)
    q = rng.dirichlet(np.ones(3), size=120)  # arbitrary responsibilities
    t = bound_terms(X, mix, q)
    log_joint = np.column_stack(
        [
            np.log(w) + reference.log_gaussian(X, m, c)
            for w, m, c in zip(mix.weights, mix.means, mix.covariances)
        ]
    )
    post, ll = reference.e_step(X, mix.weights, mix.means, mix.covariances)
    assert t.expected_complete == pytest.approx((q * log_joint).sum(), rel=1e-12)
    assert t.entropy == pytest.approx(-(q * np.log(q)).sum(), rel=1e-12)
    assert t.kl == pytest.approx((q * (np.log(q) - np.log(post))).sum(), rel=1e-9)
    assert t.log_likelihood == pytest.approx(ll, rel=1e-12)


def test_zero_responsibilities_are_allowed():
    X = np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 5.0]])
    mix = initialize(X, 2, seed=0)
    q = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    t = bound_terms(X, mix, q)
    assert np.isfinite([t.expected_complete, t.entropy, t.kl]).all()
    assert t.entropy == 0.0


def test_resp_of_the_wrong_width_is_refused():
    X = np.zeros((4, 2)) + np.arange(4)[:, None]
    mix = initialize(X, 2, seed=0)
    with pytest.raises(ValueError, match="2 components"):
        bound_terms(X, mix, np.full((4, 3), 1 / 3))


def test_snapshots_carry_the_bound_when_asked():
    for X, _ in runs():
        start = initialize(X, 3, method="random_from_data", seed=9)
        snaps = list(iterate_em(X, start, tol=0.0, max_iter=10, bound=True))
        for snap in snaps:
            resp = snap.resp
            if resp is None:  # "init": the terms are for the posterior
                from emviz.core import e_step

                resp = e_step(X, snap.mixture)[0]
            t = bound_terms(X, snap.mixture, resp)
            scale = abs(t.log_likelihood)
            assert snap.expected_complete == pytest.approx(t.expected_complete, rel=1e-9)
            assert snap.entropy == pytest.approx(t.entropy, rel=1e-9, abs=1e-9 * scale)
            assert snap.lower_bound == pytest.approx(t.lower_bound, rel=1e-9)
            assert snap.kl == pytest.approx(t.kl, abs=1e-9 * scale)
        # Without the option the fields are NaN and the trace is the same.
        plain = list(iterate_em(X, start, tol=0.0, max_iter=10))
        assert all(np.isnan(s.expected_complete) for s in plain)
        assert [s.log_likelihood for s in plain] == [s.log_likelihood for s in snaps]
