"""The fields of a ``.emviz`` session file, checked one by one with their dotted names.

Shared by the writer and the reader of :mod:`emviz.core.session_file`: a
field error says which field ("settings.seed", "data.points[12]") and what is
wrong with it.  The settings' ranges are :func:`emviz.core.settings.check_settings`'s.
Free text (the note, the source, the column names) is bounded, so that a
100 MB note cannot reach the window.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from emviz.core.columns import MAX_NAME_CHARS
from emviz.core.errors import EmvizError
from emviz.core.mixture import Mixture
from emviz.core.settings import Settings, SettingsError, check_settings
from emviz.core.validation import check_points

__all__ = [
    "MAX_HALF_STEPS",
    "MAX_NAME_CHARS",
    "MAX_NOTE_CHARS",
    "FieldError",
    "check_columns",
    "check_counts",
    "check_start",
    "check_text",
    "checked_points",
    "checked_settings",
    "exact_mixture",
]

#: Most half-steps a session may ask :func:`~emviz.core.session_file.replay` to recompute.
MAX_HALF_STEPS = 100_000
#: Longest note (free text) a session may hold, in characters.
MAX_NOTE_CHARS = 100_000


class FieldError(EmvizError):
    """A field with a bad value; ``field`` is its dotted name."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field} {message}")


def type_name(value: object) -> str:
    names = {
        bool: "true/false",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "an object",
        type(None): "null",
    }
    return names.get(type(value), type(value).__name__)


def _short(value: object, width: int = 60) -> str:
    """``repr(value)``, cut to ``width`` characters for a message."""
    return cut(repr(value), width)


def cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_number(value: object) -> bool:
    return is_int(value) or isinstance(value, (float, np.floating))


def _fits_float(values: list) -> bool:
    try:
        [float(v) for v in values]
    except OverflowError:
        return False
    return True


def require(obj: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in obj:
        raise FieldError(f"{where}{key}", "is missing")
    return obj[key]


def checked_settings(settings: Mapping[str, Any], X: np.ndarray) -> dict[str, Any]:
    """Checked copy of the settings, with plain Python types.

    The JSON types are checked here, with the file's field names; the ranges
    are :func:`emviz.core.settings.check_settings`'s, the rule the window and
    the command line apply too (a file cannot hold what the window refuses).
    """

    def get(key: str) -> Any:
        return require(settings, key, "settings.")

    def typed(key: str, ok: Callable[[object], bool], what: str) -> Any:
        v = get(key)
        if not ok(v):
            raise FieldError(f"settings.{key}", f"must be {what}; got {type_name(v)}")
        return v

    values = {
        "n_components": typed("n_components", is_int, "an integer"),
        "cov_type": typed("cov_type", lambda v: isinstance(v, str), "a string"),
        "init": typed("init", lambda v: isinstance(v, str), "a string"),
        "seed": typed("seed", lambda v: v is None or is_int(v), "an integer or null"),
        "reg_covar": typed("reg_covar", _is_number, "a number"),
        "tol": typed("tol", _is_number, "a number"),
        "max_iter": typed("max_iter", is_int, "an integer"),
    }
    seed = values["seed"]
    try:
        checked = check_settings(
            Settings(**{**values, "seed": 0 if seed is None else seed}), n_samples=X.shape[0]
        )
    except SettingsError as exc:
        raise FieldError(f"settings.{exc.field}", exc.reason) from None
    out = dataclasses.asdict(checked)
    # A file may leave the seed out (null): the start it holds is what counts.
    out["seed"] = None if seed is None else checked.seed
    return out


def check_counts(n_half_steps: object, current: object) -> tuple[int, int]:
    if not is_int(n_half_steps):
        raise FieldError("n_half_steps", f"must be an integer; got {type_name(n_half_steps)}")
    n = int(n_half_steps)  # type: ignore[arg-type]
    if not 0 <= n <= MAX_HALF_STEPS:
        raise FieldError("n_half_steps", f"must be between 0 and {MAX_HALF_STEPS}; got {n}")
    if current is None:
        return n, n
    if not is_int(current):
        raise FieldError("current", f"must be an integer; got {type_name(current)}")
    c = int(current)  # type: ignore[arg-type]
    if not 0 <= c <= n:
        raise FieldError("current", f"must be between 0 and n_half_steps ({n}); got {c}")
    return n, c


def check_start(start: Mixture, settings: Mapping[str, Any]) -> None:
    k = settings["n_components"]
    if start.n_components != k:
        raise FieldError(
            "start",
            f"has {start.n_components} components but settings.n_components is {k}",
        )


def check_columns(columns: object) -> tuple[str, str]:
    if (
        not isinstance(columns, (list, tuple))
        or len(columns) != 2
        or not all(isinstance(c, str) for c in columns)
    ):
        raise FieldError("data.columns", f"must be a list of two strings; got {_short(columns)}")
    for i, c in enumerate(columns):
        check_text(f"data.columns[{i}]", c, MAX_NAME_CHARS)
    return (columns[0], columns[1])


def check_text(field: str, value: object, limit: int, *, optional: bool = False) -> None:
    """Free text: a string of at most ``limit`` characters (a 100 MB note is refused)."""
    if value is None and optional:
        return
    if not isinstance(value, str):
        raise FieldError(field, f"must be a string; got {type_name(value)}")
    if len(value) > limit:
        raise FieldError(field, f"is too long ({len(value)} characters; at most {limit})")


def checked_points(points: object, *, missing: bool = False) -> np.ndarray:
    """The points of ``data.points`` as a read-only array of shape (n_samples, 2).

    With ``missing`` (the session treats missing values with EM) a coordinate
    may be ``null``, read as NaN; a point needs at least one coordinate.
    """
    if not isinstance(points, list):
        raise FieldError("data.points", f"must be a list of [x, y]; got {type_name(points)}")
    for i, p in enumerate(points):
        if (
            not isinstance(p, list)
            or len(p) != 2
            or not all(_is_number(v) or (missing and v is None) for v in p)
            or p == [None, None]
        ):
            what = "at least one number and null for a missing one" if missing else "two numbers"
            raise FieldError(f"data.points[{i}]", f"must be [x, y] with {what}; got {_short(p)}")
    if missing:
        points = [[math.nan if v is None else v for v in p] for p in points]
        try:
            X = np.array(points, dtype=np.float64).reshape(-1, 2)
        except OverflowError:
            X = None
        if X is not None:
            observed = ~np.isnan(X)
            if not np.isfinite(X[observed]).all():
                row = int(np.argwhere(observed & ~np.isfinite(X))[0][0])
                raise FieldError(f"data.points[{row}]", "holds infinity")
            X.setflags(write=False)
            return X
        i = next(i for i, p in enumerate(points) if not _fits_float(p))
        too_large = f"holds a number too large for a float; got {_short(points[i])}"
        raise FieldError(f"data.points[{i}]", too_large)
    try:
        X = check_points(np.array(points, dtype=np.float64).reshape(-1, 2), "data.points")
    except EmvizError as exc:
        raise FieldError("data.points", str(exc).removeprefix("data.points ")) from None
    except OverflowError:  # an integer beyond float64's range, such as 10**400
        i = next(i for i, p in enumerate(points) if not _fits_float(p))
        too_large = f"holds a number too large for a float; got {_short(points[i])}"
        raise FieldError(f"data.points[{i}]", too_large) from None
    X.setflags(write=False)
    return X


def exact_mixture(d: object) -> Mixture:
    """``Mixture.from_dict`` with field-by-field messages.

    The stored floats come back bit for bit: JSON writes float64 with repr,
    and ``Mixture`` keeps weights that sum to 1 within rounding as they are.
    """
    if not isinstance(d, dict):
        raise FieldError("start", f"must be an object; got {type_name(d)}")
    for key in ("weights", "means", "covariances"):
        require(d, key, "start.")
    cov_type = d.get("cov_type", "full")
    if not isinstance(cov_type, str):
        raise FieldError("start.cov_type", f"must be a string; got {type_name(cov_type)}")
    try:
        return Mixture.from_dict(d)
    except OverflowError:
        raise FieldError("start", "holds a number too large for a float") from None
    except (ValueError, TypeError) as exc:  # EmvizError, or numpy on ragged or text lists
        raise FieldError("start", f"is not a valid mixture: {cut(str(exc), 300)}") from None
