"""The matrix and vector products of the EM steps, in one place.

Every matrix product of the core's steps goes through :func:`matmul` or
:func:`vecdot`, so that one test can check, on any processor, that no
product is ever fed a non-finite value.  Some BLAS kernels (OpenBLAS's
SkylakeX ones, for AVX-512) raise the floating-point "invalid" flag on
-inf * 0 even where the product's result does not depend on it, and numpy
turns that flag into a RuntimeWarning; a log-weight of -inf (a component of
weight 0) must therefore never reach a product.

:func:`checking_finite` turns on the check (off by default: it costs a pass
over the operands).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np

_check = False


def _assert_finite(*operands: object) -> None:
    for a in operands:
        if not np.all(np.isfinite(a)):
            raise FloatingPointError("a matrix product was fed a non-finite value")


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``a @ b`` (into ``out`` if given), as :func:`numpy.matmul`."""
    if _check:
        _assert_finite(a, b)
    if out is None:
        return np.matmul(a, b)
    return np.matmul(a, b, out=out)


def vecdot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dot products over the last axis, as :func:`numpy.vecdot`."""
    if _check:
        _assert_finite(a, b)
    return np.vecdot(a, b)


@contextlib.contextmanager
def checking_finite() -> Iterator[None]:
    """Within the block, a product fed NaN or infinity raises FloatingPointError."""
    global _check
    old, _check = _check, True
    try:
        yield
    finally:
        _check = old
