"""No matrix product of the core is ever fed NaN or infinity.

OpenBLAS's AVX-512 (SkylakeX) kernels raise the "invalid" flag on -inf * 0,
which numpy reports as "RuntimeWarning: invalid value encountered in
matmul" (an error under this suite's settings), where the AVX2 kernels do
not.  Checking the operands of every product catches the cause on any
processor.
"""

import numpy as np
import pytest

from emviz.core import COV_TYPES, Mixture, bound_terms, e_step, initialize, iterate_em, m_step
from emviz.core._products import checking_finite
from emviz.core.missing import remove_at_random
from tests.core.data import blobs


@pytest.fixture(autouse=True)
def _finite_products():
    with checking_finite():
        yield


def _with_zero_weight(cov_type: str) -> Mixture:
    rng = np.random.default_rng(1)
    k = 4
    means = rng.normal(scale=3.0, size=(k, 2))
    if cov_type == "tied":
        covs = np.repeat([[[1.5, -0.4], [-0.4, 0.9]]], k, axis=0)
    elif cov_type == "full":
        covs = np.stack([[[1.0 + i, 0.3], [0.3, 0.8]] for i in range(k)])
    else:
        covs = np.stack([np.eye(2) * (1.0 + i) for i in range(k)])
    weights = np.array([0.5, 0.3, 0.2, 0.0])
    return Mixture(weights, means, covs, cov_type)


def test_the_check_catches_a_non_finite_operand():
    from emviz.core._products import matmul

    with pytest.raises(FloatingPointError):
        matmul(np.array([[-np.inf, 1.0]]), np.array([[0.0], [1.0]]))


@pytest.mark.parametrize("cov_type", COV_TYPES)
@pytest.mark.parametrize("bound", [False, True])
@pytest.mark.parametrize("assignment", ["soft", "hard"])
def test_zero_weight_components_feed_no_product_a_non_finite_value(cov_type, bound, assignment):
    if bound and assignment == "hard":
        pytest.skip("the bound is for soft EM only")
    X = blobs(n=3000)
    snaps = list(
        iterate_em(
            X,
            _with_zero_weight(cov_type),
            tol=0.0,
            max_iter=2,
            bound=bound,
            assignment=assignment,
        )
    )
    e_snap = snaps[1]
    assert np.all(e_snap.resp[:, 3] == 0.0)
    resp, _ = e_step(X, _with_zero_weight(cov_type))
    assert np.all(resp[:, 3] == 0.0)
    m_step(X, resp, cov_type)
    bound_terms(X, _with_zero_weight(cov_type), resp)


@pytest.mark.parametrize("cov_type", COV_TYPES)
def test_collapsed_component_feeds_no_product_a_non_finite_value(cov_type):
    X = np.concatenate([blobs(n=300), np.full((5, 2), 7.0)])
    means = np.array([[0.0, 0.0], [4.0, 2.0], [7.0, 7.0]])
    tiny = np.eye(2) * (1.0 if cov_type == "tied" else 1e-12)
    covs = np.stack([np.eye(2), np.eye(2), tiny])
    start = Mixture(np.array([0.4, 0.4, 0.2]), means, covs, cov_type)
    for snap in iterate_em(X, start, tol=0.0, max_iter=5, reg_covar=0.0, bound=True):
        assert np.isfinite(snap.log_likelihood)


@pytest.mark.parametrize("cov_type", COV_TYPES)
def test_missing_data_feeds_no_product_a_non_finite_value(cov_type):
    X = remove_at_random(blobs(n=600), 0.3, seed=2)
    start = _with_zero_weight(cov_type)
    for snap in iterate_em(X, start, tol=0.0, max_iter=3, missing="marginalize"):
        assert np.isfinite(snap.log_likelihood)
    start = initialize(np.nan_to_num(X), 3, cov_type=cov_type, seed=0)
    for snap in iterate_em(X, start, tol=0.0, max_iter=3, missing="marginalize"):
        assert np.isfinite(snap.log_likelihood)
