"""Data at extreme scales: fitted as the data rescaled, or refused with a reason."""

import math

import numpy as np
import pytest

from emviz.core import EmvizError, fit, load_dataset, prepare
from emviz.core.missing import remove_at_random


@pytest.fixture(scope="module")
def faithful():
    X = load_dataset("old_faithful").X
    return X, fit(X, 2, seed=0)


@pytest.mark.parametrize("scale", [1e-60, 1e-20, 1e-6, 1e6, 1e20, 1e60])
def test_rescaled_data_give_the_same_fit(faithful, scale):
    X, base = faithful
    n = X.shape[0]
    result = fit(X * scale, 2, seed=0)
    np.testing.assert_allclose(result.mixture.weights, base.mixture.weights, rtol=1e-9)
    np.testing.assert_allclose(result.mixture.means, base.mixture.means * scale, rtol=1e-9)
    # Each point's density is divided by scale^2 (two coordinates).
    shifted = result.log_likelihoods[-1] + n * math.log(scale**2)
    assert shifted == pytest.approx(base.log_likelihoods[-1], rel=1e-12)


@pytest.mark.parametrize("offset", [1e3, 1e6, 1e9])
def test_moved_data_give_the_same_fit(faithful, offset):
    X, base = faithful
    result = fit(X + offset, 2, seed=0)
    np.testing.assert_allclose(result.mixture.weights, base.mixture.weights, rtol=1e-6)
    assert result.log_likelihoods[-1] == pytest.approx(base.log_likelihoods[-1], rel=1e-8)


@pytest.mark.parametrize(
    ("scale", "match"),
    [
        (1e100, "values as large as"),
        (1e300, "values as large as"),
        (1e80, "more than the fit can compute with"),
        (1e-80, "less than the fit can compute with"),
        (1e-200, "less than the fit can compute with"),
        (1e-300, "less than the fit can compute with"),
    ],
)
def test_data_at_extreme_scales_are_refused_with_the_reason(faithful, scale, match):
    X, _ = faithful
    with pytest.raises(EmvizError, match=match):
        prepare(X * scale)
    with pytest.raises(EmvizError, match=match):
        fit(X * scale, 2, seed=0)
    holes = remove_at_random(X, 0.2, seed=0) * scale
    with pytest.raises(EmvizError, match=match):
        prepare(holes, missing="marginalize")


@pytest.mark.parametrize("offset", [1e14, 1e15, 1e17])
def test_a_small_spread_far_from_the_origin_is_refused(faithful, offset):
    X, _ = faithful
    with pytest.raises(EmvizError, match="subtract an offset"):
        prepare(X + offset)
    with pytest.raises(EmvizError, match="subtract an offset"):
        prepare(remove_at_random(X, 0.2, seed=0) + offset, missing="marginalize")


def test_identical_points_and_a_constant_axis_are_still_accepted():
    assert prepare(np.full((5, 2), 1e15)).n_samples == 5
    X = np.column_stack([np.full(10, 1e15), np.arange(10.0)])
    assert prepare(X).n_samples == 10
