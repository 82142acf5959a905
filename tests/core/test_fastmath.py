"""The numpy-only float64 kernels of emviz.core.fastmath against numpy and exact values."""

import math

import numpy as np
import pytest

from emviz.core.fastmath import (
    EXP_CEILING,
    EXP_FLOOR,
    EXP_SCALE,
    ExpWorkspace,
    exp_scaled_inplace,
    exp_scaled_small,
    log_group_size,
    sum_log,
)

TINY = np.finfo(np.float64).tiny  # smallest normal double, 2^-1022
# np.longdouble carries 64 mantissa bits on x86: exp in it, rounded once to
# double, is the correctly rounded exp (to within a rare tie).  Where it is
# no wider than double the reference is np.exp itself, itself within an ulp.
EXTENDED = np.finfo(np.longdouble).nmant > np.finfo(np.float64).nmant
MAX_ULP = 2 if EXTENDED else 3


def reference_exp(u: np.ndarray) -> np.ndarray:
    """2^(u / 2048) = exp(u / EXP_SCALE), correctly rounded (see EXTENDED)."""
    if EXTENDED:
        return np.exp2(u.astype(np.longdouble) / 2048).astype(np.float64)
    return np.exp2(u / 2048)


def ulp_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Units in the last place between non-negative doubles (their bit patterns are ordered)."""
    assert np.all(a >= 0) and np.all(b >= 0)
    return np.abs(a.view(np.int64) - b.view(np.int64))


def kernel_exp(u: np.ndarray) -> np.ndarray:
    out = np.array(u, dtype=np.float64, copy=True)
    return exp_scaled_inplace(out, ExpWorkspace(out.shape))


def units(s: np.ndarray) -> np.ndarray:
    """Exponents in nats, as kernel arguments (each rounded once; -1e308 nats is -inf)."""
    with np.errstate(over="ignore"):
        return s * EXP_SCALE


# ---------------------------------------------------------------------------
# exp


def test_the_unit_is_ln2_over_2048():
    assert EXP_SCALE == 2048 / math.log(2.0)
    # So exp(s) is the kernel's value at s * EXP_SCALE, to the rounding of
    # that product (a relative error of |s| eps at most).
    s = np.linspace(-40.0, 5.0, 9001).reshape(1, -1)
    np.testing.assert_allclose(kernel_exp(units(s)), np.exp(s), rtol=50 * 2.0**-52, atol=0)


@pytest.mark.parametrize(
    ("low", "high"),
    [
        (-1e-12, 0.0),
        (-1.0, 0.0),
        (-40.0, 0.0),
        (-745.2, 0.0),
        (-710.0, -700.0),
        (0.0, 1.0),
        (0.0, 100.0),
        (500.0, EXP_CEILING),
    ],
)
def test_exp_is_within_two_ulp_over_the_range(low, high):
    rng = np.random.default_rng(7)
    u = units(rng.uniform(low, high, size=(5, 40_000)))
    got = kernel_exp(u)
    assert ulp_distance(got, reference_exp(u)).max() <= MAX_ULP


def test_exp_at_the_table_points_and_between_them():
    # u = m lands on a table entry with r = 0; the points half-way between
    # are where the reduction flips from one m to the next.
    m = np.arange(-2_200_000.0, 1_700_000.0, 89.0)
    u = np.concatenate([m, m + 0.5, m - 0.5])
    u = np.clip(u, units(np.array(-745.0)), units(np.array(EXP_CEILING)))
    got = kernel_exp(u.reshape(3, -1))
    assert ulp_distance(got, reference_exp(u.reshape(3, -1))).max() <= MAX_ULP


def test_exp_of_special_values():
    s = np.array(
        [[0.0, -0.0, -5e-324, -1e-300, -1e-17, -np.inf, -1e300, -1e308, -1e5, EXP_FLOOR, -746.0]]
    )
    got = kernel_exp(units(s))
    assert got.tolist() == [[1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]
    # Bit for bit: no -0.0 and no stray subnormal where exp is 0 or 1.
    assert np.array_equal(got.view(np.int64), np.exp(np.maximum(s, -800.0)).view(np.int64))


def test_exp_is_nan_for_nan():
    assert np.isnan(kernel_exp(np.array([[np.nan, -1.0]]))[0, 0])


def test_exp_of_subnormal_results():
    # Results below 2^-1022 keep their absolute accuracy (one unit of
    # 2^-1074), down to exp(-745.13...) = 2^-1074 and 0 below it.
    u = units(np.linspace(-746.0, -707.0, 100_001).reshape(1, -1))
    got = kernel_exp(u)
    ref = reference_exp(u)
    subnormal = (ref > 0) & (ref < TINY)
    assert np.any(subnormal)
    assert ulp_distance(got[subnormal], ref[subnormal]).max() <= 1
    assert ulp_distance(got, ref).max() <= MAX_ULP


def test_exp_on_a_strided_view_and_a_small_block_of_the_workspace():
    # The E-step hands the kernel a (K, m) block of a (K, n) array: rows
    # n apart, and m below the workspace's width on the last chunk.
    rng = np.random.default_rng(3)
    big = units(-rng.exponential(5.0, size=(3, 1000)))
    block = big[:, 100:357]
    expected = reference_exp(block)
    untouched = big[:, 357:].copy()
    work = ExpWorkspace((4, 512))
    out = exp_scaled_inplace(block, work)
    assert out is block
    assert ulp_distance(big[:, 100:357], expected).max() <= MAX_ULP
    np.testing.assert_array_equal(big[:, 357:], untouched)


def test_exp_workspace_is_reusable():
    # Scratch left over from one call must not leak into the next.
    work = ExpWorkspace((2, 64))
    first = exp_scaled_inplace(np.full((2, 64), -3.0 * EXP_SCALE), work).copy()
    exp_scaled_inplace(np.full((2, 64), -700.0 * EXP_SCALE), work)
    again = exp_scaled_inplace(np.full((2, 64), -3.0 * EXP_SCALE), work)
    np.testing.assert_array_equal(first, again)
    assert first[0, 0] == pytest.approx(math.exp(-3.0), rel=1e-15)


def test_the_small_block_route_agrees_with_the_kernel():
    rng = np.random.default_rng(11)
    u = units(rng.uniform(-745.0, 100.0, size=(3, 500)))
    small = exp_scaled_small(u.copy())
    assert ulp_distance(small, kernel_exp(u)).max() <= MAX_ULP + 1
    assert exp_scaled_small(np.zeros((1, 3))).tolist() == [[1.0, 1.0, 1.0]]


# ---------------------------------------------------------------------------
# Sum of logarithms


@pytest.mark.parametrize("k", [1, 2, 3, 10, 1000, 10**6])
@pytest.mark.parametrize("n", [1, 63, 64, 65, 4096, 10_001])
def test_sum_log_equals_the_sum_of_logs(k, n):
    rng = np.random.default_rng(n + k)
    values = 1.0 + (k - 1.0) * rng.random(n)
    got = sum_log(values, log_group_size(k))
    expected = math.fsum(np.log(values))
    # The rounding of each log (half an ulp of values up to log k) against
    # that of products of a group: both about n eps in all.
    assert got == pytest.approx(expected, rel=1e-13, abs=1e-13 * n)


@pytest.mark.parametrize("k", [2, 3, 10, 1000, 10**6, 1e300])
def test_sum_log_does_not_overflow_at_the_upper_end(k):
    # Every value at its largest: a group's product is k^group.
    group = log_group_size(k)
    assert 1 <= group <= 64
    assert group * math.log2(k) <= 1000.0
    values = np.full(1000, float(k))
    got = sum_log(values, group)
    assert math.isfinite(got)
    assert got == pytest.approx(1000 * math.log(k), rel=1e-13)


def test_sum_log_of_ones_is_zero():
    assert sum_log(np.ones(5000), log_group_size(1)) == 0.0


def test_sum_log_counts_every_value_of_a_partial_group():
    # 64 + 5 values: the last five are outside every full group.
    values = np.ones(69)
    values[-5:] = 2.0
    assert sum_log(values, 64) == pytest.approx(5 * math.log(2.0), rel=1e-15)
    values = np.ones(69)
    values[0] = 3.0
    assert sum_log(values, 64) == pytest.approx(math.log(3.0), rel=1e-15)
