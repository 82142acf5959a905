"""The one settings rule: ranges, messages, and the argparse types built on it."""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np
import pytest

from emviz.core.errors import EmvizError
from emviz.core.settings import (
    MAX_COMPONENTS,
    MAX_ITER_MAX,
    SEED_MAX,
    Settings,
    SettingsError,
    check_settings,
    parse_k,
    parse_seed,
)


@pytest.mark.parametrize(
    "change, field, message, reason",
    [
        ({"n_components": 0}, "n_components", "K must be between 1 and 10; got 0", "at least 1"),
        ({"n_components": 11}, "n_components", "K must be between 1 and 10", "at most 10; got 11"),
        ({"n_components": 2.0}, "n_components", "K must be a whole number", "an integer"),
        ({"seed": -1}, "seed", "the seed must be between 0 and 9223372036854775807", "at least 0"),
        ({"seed": 10**40}, "seed", "(41 characters)", "must be at most 9223372036854775807"),
        ({"max_iter": 10**30}, "max_iter", "max_iter must be between 1 and 100000", "at most"),
        ({"tol": -1e-3}, "tol", "tol must be a non-negative finite number", "non-negative"),
        ({"tol": float("nan")}, "tol", "tol must be a non-negative finite", "finite"),
        ({"reg_covar": 10**400}, "reg_covar", "reg_covar must be a non-negative", "finite"),
        # A floor of 1e308 data variances overflowed: infinite covariances in
        # the M-step formulas and NaN in Lab > Collapse > re-seed.
        ({"reg_covar": 1e308}, "reg_covar", "reg_covar must be at most 1000", "at most 1000"),
        ({"cov_type": "round"}, "cov_type", "unknown covariance type 'round'", "must be one of"),
        ({"init": "magic"}, "init", "unknown initialisation 'magic'", "must be one of kmeans++"),
    ],
)
def test_each_field_out_of_range_is_named(change, field, message, reason):
    with pytest.raises(SettingsError) as info:
        check_settings(dataclasses.replace(Settings(), **change))
    assert info.value.field == field
    assert message in str(info.value)
    assert reason in info.value.reason
    assert isinstance(info.value, EmvizError) and isinstance(info.value, ValueError)
    assert len(str(info.value)) < 200  # a huge number does not flood the message


def test_bounds_and_allowed_extremes():
    top = Settings(n_components=MAX_COMPONENTS, seed=SEED_MAX, max_iter=MAX_ITER_MAX, tol=0)
    assert check_settings(top) == top  # tol = 0: run to max_iter
    checked = check_settings(Settings(n_components=np.int64(3), seed=np.int32(4), tol=1))
    assert type(checked.n_components) is int and type(checked.seed) is int
    assert type(checked.tol) is float
    with pytest.raises(SettingsError, match=r"K \(3\) cannot exceed the number of points \(2\)"):
        check_settings(Settings(n_components=3), n_samples=2)


def test_changed_checks_and_names_unknown_fields():
    assert Settings().changed(seed=5).seed == 5
    with pytest.raises(EmvizError, match="unknown setting 'colour'"):
        Settings().changed(colour=1)
    with pytest.raises(SettingsError, match="K must be between"):
        Settings().changed(n_components=12)


def test_argparse_types_follow_the_rule():
    assert parse_k("10") == 10 and parse_seed(str(SEED_MAX)) == SEED_MAX
    for parse, text, message in [
        (parse_k, "11", "K must be between 1 and 10; got 11"),
        (parse_k, "two", "expected a whole number; got 'two'"),
        (parse_seed, str(SEED_MAX + 1), "the seed must be between 0 and 9223372036854775807"),
        (parse_seed, "-1", "the seed must be between"),
        (parse_seed, "9" * 5000, "expected a whole number"),  # past int()'s digit limit
    ]:
        with pytest.raises(argparse.ArgumentTypeError, match=message):
            parse(text)
