"""What the user chose for a fit, and the one rule that says what is allowed.

:class:`Settings` is used by the window's Session, the ``.emviz`` session-file
reader, the command line (``emviz --k``, ``emviz export --seed``...) and the
spin boxes' ranges. :func:`check_settings` is the only place where the ranges
below are enforced; every other caller goes through it, so a value the window
refuses is refused by the file reader and the command line too, with the same
message.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from emviz.core.errors import EmvizError
from emviz.core.mixture import COV_TYPES

__all__ = [
    "APPLICATION",
    "COV_TYPES",
    "INIT_METHODS",
    "MAX_COMPONENTS",
    "MAX_ITER_MAX",
    "REG_COVAR_MAX",
    "ORGANIZATION",
    "PHASES",
    "REINIT_FIELDS",
    "SEED_MAX",
    "Settings",
    "SettingsError",
    "check_settings",
    "parse_k",
    "parse_seed",
]

#: QSettings organisation and application names (the settings file is
#: ~/.config/emviz/emviz.conf on Linux); also the .desktop file's name.
ORGANIZATION = "emviz"
APPLICATION = "emviz"

#: The largest K: the palette has this many colours, and every view that
#: draws components (ellipses, trails, truth overlay) holds this many items.
MAX_COMPONENTS = 10

#: The largest seed, 2**63 - 1: the seeds of restart runs
#: (:func:`emviz.core.restarts.run_seed`) are 63-bit numbers, and a run loaded
#: from the restarts keeps its own seed. :func:`numpy.random.default_rng` takes
#: any non-negative int; the window edits seeds in a ``SeedEdit``, not a
#: (32-bit) QSpinBox.
SEED_MAX = 2**63 - 1

#: The most EM iterations one run may take. A run stops at this bound even
#: with tol = 0; the history of a run is 2 * max_iter + 1 half-steps.
MAX_ITER_MAX = 100_000

#: The largest reg_covar. It is relative to the data's variance (the floor of
#: every covariance eigenvalue is reg_covar times the mean per-axis variance):
#: 1 already makes each component as wide as the whole data set, and a floor
#: far beyond that overflows to infinity.
REG_COVAR_MAX = 1e3

#: The half-steps of a history: the start, then E and M in turn.
PHASES = ("init", "E", "M")

#: Initialisation methods, in the order menus offer them (implemented in
#: :mod:`emviz.core.init`). The covariance structures, ``COV_TYPES``, are
#: defined with the Mixture they shape.
INIT_METHODS: tuple[str, ...] = ("kmeans++", "kmeans", "random_from_data", "random_resp")


@dataclass(frozen=True)
class Settings:
    """What the user chose for a fit.

    Attributes
    ----------
    n_components : int
        K, from 1 to :data:`MAX_COMPONENTS` (and at most the number of points).
    cov_type : str
        One of :data:`COV_TYPES`.
    init : str
        One of :data:`INIT_METHODS`.
    seed : int
        Seed of the initialisation, from 0 to :data:`SEED_MAX`.
    reg_covar : float
        Covariance floor added to each covariance's diagonal, >= 0 and finite.
    tol : float
        EM has converged when an iteration gains less than ``tol`` per point in
        log-likelihood. ``0`` is allowed: EM then runs for ``max_iter``
        iterations unless the log-likelihood stops changing exactly.
    max_iter : int
        Most iterations of one run, from 1 to :data:`MAX_ITER_MAX`.
    """

    n_components: int = 2
    cov_type: str = "full"
    init: str = "kmeans++"
    seed: int = 0
    reg_covar: float = 1e-6
    tol: float = 1e-6
    max_iter: int = 500

    def changed(self, **changes: Any) -> Settings:
        """A copy with ``changes`` applied and checked by :func:`check_settings`."""
        names = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise EmvizError(f"unknown setting {unknown[0]!r}")
        return check_settings(replace(self, **changes))

    def reinitialises(self, other: Settings) -> bool:
        """True when going from ``self`` to ``other`` needs a new start."""
        return any(getattr(self, f) != getattr(other, f) for f in REINIT_FIELDS)


#: Changing one of these settings starts EM again from a new initialisation.
REINIT_FIELDS = ("n_components", "cov_type", "init", "seed")


class SettingsError(EmvizError):
    """A setting out of its range.

    Attributes
    ----------
    field : str
        The :class:`Settings` field, e.g. ``"n_components"``.
    reason : str
        What is wrong, without the field's name ("must be at most 10; got 11"),
        for readers that name the field their own way (the session file says
        ``settings.n_components``).
    """

    def __init__(self, field: str, label: str, message: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{label} {message}")


def _integer(field: str, label: str, value: object, low: int, high: int) -> int:
    # numpy integers are taken as ints; floats are not taken silently: a float
    # seed or K is a mistake in a file or a script.
    if isinstance(value, np.integer):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise SettingsError(
            field, label, f"must be a whole number; got {_short(value)}", "must be an integer"
        )
    if not low <= value <= high:
        bound = f"at least {low}" if value < low else f"at most {high}"
        raise SettingsError(
            field,
            label,
            f"must be between {low} and {high}; got {_short(value)}",
            f"must be {bound}; got {_short(value)}",
        )
    return value


def _number(field: str, value: object, high: float = math.inf) -> float:
    reason = f"must be a non-negative finite number; got {_short(value)}"
    if isinstance(value, bool):
        raise SettingsError(field, field, reason, reason)
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise SettingsError(field, field, reason, reason) from None
    if not math.isfinite(x) or x < 0:
        raise SettingsError(field, field, reason, reason)
    if x > high:
        reason = f"must be at most {high:g}; got {_short(value)}"
        raise SettingsError(field, field, reason, reason)
    return x


def _choice(field: str, what: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        choices = ", ".join(allowed)
        raise SettingsError(
            field,
            f"unknown {what}",
            f"{_short(value)}; expected one of {choices}",
            f"must be one of {choices}; got {_short(value)}",
        )


def _short(value: object) -> str:
    """``repr`` of a value, cut so that a 10**40 seed does not flood a message."""
    text = repr(value)
    return text if len(text) <= 24 else f"{text[:10]}...{text[-6:]} ({len(text)} characters)"


def check_settings(settings: Settings, n_samples: int | None = None) -> Settings:
    """Return ``settings`` with every field checked and normalised, or raise.

    Parameters
    ----------
    settings : Settings
        The settings to check.
    n_samples : int, optional
        The number of points the settings are for; K may not exceed it.

    Returns
    -------
    Settings
        Equal to ``settings``, with numpy integers turned into ``int`` and
        numbers into ``float``.

    Raises
    ------
    SettingsError
        The first field out of its range, named, with the range in the message
        (an :class:`EmvizError`, so a ``ValueError``).
    """
    k = _integer("n_components", "K", settings.n_components, 1, MAX_COMPONENTS)
    if n_samples is not None and k > n_samples:
        raise SettingsError(
            "n_components",
            "K",
            f"({k}) cannot exceed the number of points ({n_samples})",
            f"({k}) exceeds the number of points ({n_samples})",
        )
    _choice("cov_type", "covariance type", settings.cov_type, COV_TYPES)
    _choice("init", "initialisation", settings.init, INIT_METHODS)
    seed = _integer("seed", "the seed", settings.seed, 0, SEED_MAX)
    reg_covar = _number("reg_covar", settings.reg_covar, REG_COVAR_MAX)
    tol = _number("tol", settings.tol)
    max_iter = _integer("max_iter", "max_iter", settings.max_iter, 1, MAX_ITER_MAX)
    return replace(
        settings,
        n_components=k,
        seed=seed,
        reg_covar=reg_covar,
        tol=tol,
        max_iter=max_iter,
    )


def parse_k(text: str) -> int:
    """``argparse`` type for K: the same range as the window's."""
    return _parse(text, "n_components")


def parse_seed(text: str) -> int:
    """``argparse`` type for the seed: the same range as the window's."""
    return _parse(text, "seed")


def _parse(text: str, field: str) -> int:
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number; got {_short(text)}") from None
    try:
        check_settings(replace(Settings(), **{field: value}))
    except EmvizError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value
