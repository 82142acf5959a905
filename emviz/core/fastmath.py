"""Vectorised float64 kernels written with numpy operations only.

numpy evaluates float64 ``exp`` and ``log`` with one libm call per element
unless the CPU has AVX-512; the E-step spends most of its time there.  The
kernels below compute the same values, to within a few units in the last
place, from a handful of whole-array numpy operations, working in place in
buffers the caller allocates once.
"""

from __future__ import annotations

import math

import numpy as np

# ---------------------------------------------------------------------------
# exp, with its argument in units of ln 2 / N
#
# The kernel takes u = s * EXP_SCALE, EXP_SCALE = N / ln 2, and returns
# exp(s) = 2^(u / N).  Callers fold EXP_SCALE into whatever computes s (the
# E-step into the weights of its matrix product), so u carries the same
# relative rounding error that s would have had and the kernel has no
# rounding of its own to undo: reducing s in nats would need the
# Cody-Waite split of ln 2 / N, four more whole-array operations out of
# nineteen.  With m = round(u) and r = u - m (exact, |r| <= 1/2),
#
#     2^(u / N) = 2^k (1 + j / N) * U[j] * exp(r ln 2 / N),  m = k N + j,
#     U[j] = 2^(j / N) / (1 + j / N),  0 <= j < N,
#
# where 2^k (1 + j / N) is a double whose bits are put together from m, U is a
# table and exp(r ln 2 / N) a short polynomial.
#
# - m without a float-to-int conversion: adding SHIFT ~ 1.5 * 2^52 to u
#   rounds it to an integer, and as the sum stays in [2^52, 2^53), where
#   doubles are spaced by exactly 1, its bits are bits(SHIFT) + m.  SHIFT
#   also carries BIAS * N; bits(1.5 * 2^52) are zero below bit 48, so the low
#   23 bits of bits(z) are those of (BIAS + k) N + j, and shifting them left
#   by 52 - log2(N) gives the double 2^(k + OFFSET) (1 + j / N): exponent
#   field BIAS + k, mantissa field j.  (Everything above falls off the top of
#   the 64-bit word.)  z - SHIFT is then exactly m, and u - m is exact too.
# - The table holds U[j] 2^-OFFSET: with the bias OFFSET, 2^(k + OFFSET) is a
#   normal double for every k reached (-1083 <= k <= 866 after clamping u at
#   the floor and for u <= the ceiling), and the final product underflows
#   gracefully, so subnormal results come out right and exp(s) for
#   s <= -746 is exactly 0.
# - With N = 2048, |r ln 2 / N| <= 1.7e-4, and the Taylor cubic
#   x + x^2/2 + x^3/6 of exp(x) - 1 leaves out x^4/24 < 4e-17 (a sixth of a
#   unit in the last place).
# The result is within 2 units in the last place of a correctly rounded
# 2^(u / N).

_EXP_BITS = 11
_EXP_N = 1 << _EXP_BITS
_EXP_OFFSET = 64
_EXP_BIAS = 1023 + _EXP_OFFSET
#: Units of the kernel's argument per nat: u = s * EXP_SCALE (2048 / ln 2).
EXP_SCALE = _EXP_N / math.log(2.0)
# Below s = -750 exp(s) < 2^-1075 rounds to 0; clamping there also turns -inf
# (a component of weight 0) into a finite number.
EXP_FLOOR = -750.0
# Largest argument: 2^(k + OFFSET) must stay below 2^1024 (k <= 959).
EXP_CEILING = 600.0
_EXP_SHIFT = 1.5 * 2.0**52 + _EXP_BIAS * _EXP_N
# exp(x) - 1 ~ x + x^2/2 + x^3/6 with x = r ln 2 / N, as a polynomial in r.
_EXP_STEP = math.log(2.0) / _EXP_N
_EXP_C1 = _EXP_STEP
_EXP_C2 = _EXP_STEP**2 / 2.0
_EXP_C3 = _EXP_STEP**3 / 6.0


def _exp_table() -> np.ndarray:
    """U[j] 2^-OFFSET for j = 0 .. N - 1, rounded once from extended precision."""
    j = np.arange(_EXP_N, dtype=np.longdouble) / _EXP_N
    table = np.ldexp((np.exp2(j) / (1 + j)).astype(np.float64), -_EXP_OFFSET)
    table.setflags(write=False)
    return table


_EXP_TABLE = _exp_table()


class ExpWorkspace:
    """Scratch buffers for :func:`exp_scaled_inplace`, allocated once.

    Parameters
    ----------
    shape : tuple of (int, int)
        The largest array shape (rows, columns) the kernel will be given;
        smaller arrays use the leading ``[:rows, :columns]`` block.
    """

    def __init__(self, shape: tuple[int, int]) -> None:
        self._z = np.empty(shape)
        self._f = np.empty(shape)
        self._t = np.empty(shape)
        # numpy's maximum is several times faster array-with-array than
        # array-with-scalar.
        self._floor = np.full(shape, EXP_FLOOR * EXP_SCALE)

    def buffers(
        self, shape: tuple[int, ...]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Three float64 scratch arrays of ``shape``, and ``shape`` copies of the floor."""
        rows, cols = shape
        z, f, t, floor = (b[:rows, :cols] for b in (self._z, self._f, self._t, self._floor))
        return z, f, t, floor


def exp_scaled_inplace(u: np.ndarray, work: ExpWorkspace) -> np.ndarray:
    """exp(u / EXP_SCALE) in place, for u / EXP_SCALE <= EXP_CEILING (600), including -inf.

    Parameters
    ----------
    u : float64 array of shape (rows, columns)
        The exponents s in units of ln 2 / 2048, u = s * EXP_SCALE; overwritten
        by exp(s) = 2^(u / 2048).  May be a strided view (rows need not be
        adjacent).  Values above the ceiling give wrong results, not an
        error.
    work : ExpWorkspace
        Scratch space at least as large as ``u``.

    Returns
    -------
    u : float64 array of shape (rows, columns)
        The same array, now holding 2^(u / 2048): within 2 units in the last
        place of the correctly rounded value, exactly 1.0 at u = 0 and exactly
        0.0 for s <= -746 and -inf.  NaN stays NaN.
    """
    z, f, t, floor = work.buffers(u.shape)
    zi = z.view(np.int64)
    fi = f.view(np.int64)
    np.maximum(u, floor, out=u)
    # z = SHIFT + m, m = round(u); f = m; u = r = u - m, exact.
    np.add(u, _EXP_SHIFT, out=z)
    np.subtract(z, _EXP_SHIFT, out=f)
    u -= f
    # j = m mod N: the low bits of bits(z) (those of bits(SHIFT) are zero).
    np.bitwise_and(zi, _EXP_N - 1, out=fi)
    np.take(_EXP_TABLE, fi, out=t, mode="wrap")
    # z = 2^(k + OFFSET) (1 + j / N), see above.
    zi <<= 52 - _EXP_BITS
    # f = exp(r ln 2 / N) - 1 = r (C1 + r (C2 + r C3)); then
    # U[j] 2^-OFFSET exp(r ln 2 / N) as t + t f, which rounds only the small term.
    np.multiply(u, _EXP_C3, out=f)
    f += _EXP_C2
    f *= u
    f += _EXP_C1
    f *= u
    f *= t
    f += t
    np.multiply(f, z, out=u)
    return u


def exp_scaled_small(u: np.ndarray) -> np.ndarray:
    """What :func:`exp_scaled_inplace` computes, in place, by ``np.exp2``.

    For blocks too small for the kernel's fifteen numpy calls to pay off.
    Dividing u by 2048 is exact, and ``np.exp2`` is within an ulp.
    """
    u *= 1.0 / _EXP_N
    return np.exp2(u, out=u)


# ---------------------------------------------------------------------------
# Sum of logarithms
#
# sum_i log v_i = sum_g log prod_{i in g} v_i: one log per group of G values
# instead of one per value.  A product of G factors carries a relative
# rounding error of at most about G eps, i.e. an absolute error of G eps in
# its log, the same eps per value that rounding each log would cost.  The
# values lie in [1, upper], so a product lies in [1, upper^G]; G is chosen so
# that this stays below 2^1000, far from overflow, and cannot underflow.

_MAX_GROUP = 64
_MAX_LOG2_PRODUCT = 1000.0


def log_group_size(upper: float) -> int:
    """Values per product in :func:`sum_log` for values in [1, ``upper``]."""
    if not upper > 1.0:
        return _MAX_GROUP
    return int(max(1, min(_MAX_GROUP, _MAX_LOG2_PRODUCT // math.log2(upper))))


def sum_log(values: np.ndarray, group: int) -> float:
    """sum(log(values)) for values in [1, upper], with one log per ``group`` values.

    Parameters
    ----------
    values : float64 array of shape (m,)
        All in [1, upper], where ``group`` = :func:`log_group_size` (upper).
    group : int
        Values multiplied together before each log.

    Returns
    -------
    float
        Equal to ``np.log(values).sum()`` up to about ``m`` eps.
    """
    m = values.shape[0]
    full = m - m % group
    total = 0.0
    if full:
        # (group, m / group): the reduction over the first axis multiplies
        # whole rows, which numpy vectorises.
        products = np.multiply.reduce(values[:full].reshape(group, -1), axis=0)
        total += float(np.log(products).sum())
    if full < m:
        total += math.log(float(np.multiply.reduce(values[full:])))
    return total
