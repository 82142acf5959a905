"""The ``.emviz`` session file: data, settings and starting mixture of a run.

A session file holds what is needed to reproduce a whole EM history exactly:
the points, the settings, the starting mixture and how many half-steps the
history went.  The history itself is not stored; :func:`replay` recomputes it
with :func:`emviz.core.em.iterate_em`, which is deterministic, so a reopened
session shows the same snapshots, bit for bit.

The format is UTF-8 JSON, versioned and documented in ``docs/session-format.md``::

    {
      "format": "emviz-session",
      "version": 1,
      "data": {"points": [[x, y], ...], "columns": ["x", "y"], "source": "..."},
      "settings": {"n_components": 2, "cov_type": "full", "init": "kmeans++",
                   "seed": 0, "reg_covar": 1e-06, "tol": 1e-06, "max_iter": 500},
      "start": {"cov_type": "full", "weights": [...], "means": [...], "covariances": [...]},
      "n_half_steps": 12,
      "current": 12,
      "note": "optional free text"
    }

Floats are written with Python's ``repr`` (the shortest string that reads
back as the same float64), so they round-trip exactly.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from emviz.core.em import Snapshot, iterate_em, prepare
from emviz.core.errors import DataFileError, EmvizError
from emviz.core.mixture import Mixture
from emviz.core.settings import Settings, SettingsError, check_settings
from emviz.core.validation import check_points

__all__ = [
    "FORMAT",
    "MAX_HALF_STEPS",
    "SETTINGS_FIELDS",
    "SUFFIX",
    "VERSION",
    "SessionFile",
    "load_session",
    "replay",
    "replay_iter",
    "save_session",
    "session_text",
]

#: Value of the "format" field.
FORMAT = "emviz-session"
#: The format version this emviz writes, and the newest it reads.
VERSION = 1
#: File name suffix of session files.
SUFFIX = ".emviz"
#: Most half-steps a session may ask :func:`replay` to recompute.
MAX_HALF_STEPS = 100_000

#: The settings a session file records (``settings`` in the file).
SETTINGS_FIELDS: tuple[str, ...] = (
    "n_components",
    "cov_type",
    "init",
    "seed",
    "reg_covar",
    "tol",
    "max_iter",
)

# Layout of the written JSON.
_JSON_INDENT = "  "
# Lists whose compact JSON is at most this long stay on one line.
_INLINE_WIDTH = 100
# Lists longer than this are never tried on one line.
_INLINE_ITEMS = 16


@dataclass(frozen=True, eq=False)
class SessionFile:
    """The content of a ``.emviz`` file, checked.

    Attributes
    ----------
    X : array of shape (n_samples, 2)
        The points, float64, read-only.
    settings : dict
        ``n_components`` (int), ``cov_type`` (str), ``init`` (str), ``seed``
        (int or None), ``reg_covar`` (float), ``tol`` (float), ``max_iter``
        (int).  A copy is returned by :meth:`settings_dict`.
    start : Mixture
        The starting mixture (the "init" snapshot's parameters).
    n_half_steps : int
        Half-steps after the start that the history held; the history has
        ``n_half_steps + 1`` snapshots.
    current : int
        Index of the snapshot that was shown, in ``[0, n_half_steps]``.
    columns : tuple of str
        Names of the two columns (axis labels).
    source : str
        Where the points came from (a file name, a data set name, ...).
    note : str or None
        Free text.
    version : int
        The format version of the file.
    path : str or None
        The file it was read from.
    """

    X: np.ndarray
    settings: Mapping[str, Any]
    start: Mixture
    n_half_steps: int
    current: int = 0
    columns: tuple[str, str] = ("x", "y")
    source: str = ""
    note: str | None = None
    version: int = VERSION
    path: str | None = None

    def settings_dict(self) -> dict[str, Any]:
        """A fresh copy of :attr:`settings`."""
        return dict(self.settings)

    def to_settings(self) -> Settings:
        """The settings as a checked :class:`~emviz.core.settings.Settings` (a null seed is 0).

        Raises
        ------
        SettingsError
            If they are outside the window's ranges or K exceeds the number
            of points (a file read by :func:`load_session` never is; a
            SessionFile built by hand may be).
        """
        values = {f: self.settings[f] for f in SETTINGS_FIELDS}
        if values["seed"] is None:
            values["seed"] = 0
        return check_settings(Settings(**values), n_samples=self.X.shape[0])

    def em_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of :func:`iterate_em` (cov_type, reg_covar, tol)."""
        s = self.settings
        return {"cov_type": s["cov_type"], "reg_covar": s["reg_covar"], "tol": s["tol"]}


# ---------------------------------------------------------------------------
# Checks shared by saving and loading


class _FieldError(EmvizError):
    """A field with a bad value; ``field`` is its dotted name."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field} {message}")


def _type_name(value: object) -> str:
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
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_number(value: object) -> bool:
    return _is_int(value) or isinstance(value, (float, np.floating))


def _require(obj: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in obj:
        raise _FieldError(f"{where}{key}", "is missing")
    return obj[key]


def _check_settings(settings: Mapping[str, Any], X: np.ndarray) -> dict[str, Any]:
    """Checked copy of the settings, with plain Python types.

    The JSON types are checked here, with the file's field names; the ranges
    are :func:`emviz.core.settings.check_settings`'s, the rule the window and
    the command line apply too (a file cannot hold what the window refuses).
    """

    def get(key: str) -> Any:
        return _require(settings, key, "settings.")

    def typed(key: str, ok: Callable[[object], bool], what: str) -> Any:
        v = get(key)
        if not ok(v):
            raise _FieldError(f"settings.{key}", f"must be {what}; got {_type_name(v)}")
        return v

    values = {
        "n_components": typed("n_components", _is_int, "an integer"),
        "cov_type": typed("cov_type", lambda v: isinstance(v, str), "a string"),
        "init": typed("init", lambda v: isinstance(v, str), "a string"),
        "seed": typed("seed", lambda v: v is None or _is_int(v), "an integer or null"),
        "reg_covar": typed("reg_covar", _is_number, "a number"),
        "tol": typed("tol", _is_number, "a number"),
        "max_iter": typed("max_iter", _is_int, "an integer"),
    }
    seed = values["seed"]
    try:
        checked = check_settings(
            Settings(**{**values, "seed": 0 if seed is None else seed}), n_samples=X.shape[0]
        )
    except SettingsError as exc:
        raise _FieldError(f"settings.{exc.field}", exc.reason) from None
    out = dataclasses.asdict(checked)
    # A file may leave the seed out (null): the start it holds is what counts.
    out["seed"] = None if seed is None else checked.seed
    return out


def _check_counts(n_half_steps: object, current: object) -> tuple[int, int]:
    if not _is_int(n_half_steps):
        raise _FieldError("n_half_steps", f"must be an integer; got {_type_name(n_half_steps)}")
    n = int(n_half_steps)  # type: ignore[arg-type]
    if not 0 <= n <= MAX_HALF_STEPS:
        raise _FieldError("n_half_steps", f"must be between 0 and {MAX_HALF_STEPS}; got {n}")
    if current is None:
        return n, n
    if not _is_int(current):
        raise _FieldError("current", f"must be an integer; got {_type_name(current)}")
    c = int(current)  # type: ignore[arg-type]
    if not 0 <= c <= n:
        raise _FieldError("current", f"must be between 0 and n_half_steps ({n}); got {c}")
    return n, c


def _check_start(start: Mixture, settings: Mapping[str, Any]) -> None:
    k = settings["n_components"]
    if start.n_components != k:
        raise _FieldError(
            "start",
            f"has {start.n_components} components but settings.n_components is {k}",
        )


def _check_columns(columns: object) -> tuple[str, str]:
    if (
        not isinstance(columns, (list, tuple))
        or len(columns) != 2
        or not all(isinstance(c, str) for c in columns)
    ):
        raise _FieldError("data.columns", f"must be a list of two strings; got {_short(columns)}")
    return (columns[0], columns[1])


# ---------------------------------------------------------------------------
# Writing


def _settings_mapping(settings: object) -> Mapping[str, Any]:
    if dataclasses.is_dataclass(settings) and not isinstance(settings, type):
        return dataclasses.asdict(settings)
    if isinstance(settings, Mapping):
        return settings
    raise EmvizError(f"settings must be a dict or a dataclass; got {type(settings).__name__}")


def _dumps(value: Any, level: int = 0) -> str:
    """JSON text, objects one key a line, lists on one line where they fit.

    So each point is one ``[x, y]`` line: readable, and a diff shows what
    changed.  Floats are written as ``json`` writes them, with ``float.__repr__``.
    """
    if isinstance(value, (dict, list)) and value:
        pad = _JSON_INDENT * (level + 1)
        end = _JSON_INDENT * level
        if isinstance(value, dict):
            items = [f"{pad}{json.dumps(str(k))}: {_dumps(v, level + 1)}" for k, v in value.items()]
            return "{\n" + ",\n".join(items) + "\n" + end + "}"
        if len(value) <= _INLINE_ITEMS:
            if all(type(v) is float and math.isfinite(v) for v in value):
                compact = "[" + ", ".join(map(float.__repr__, value)) + "]"  # fast path
            else:
                compact = json.dumps(value, allow_nan=False, ensure_ascii=False)
            if len(pad) + len(compact) <= _INLINE_WIDTH:
                return compact
        items = [pad + _dumps(v, level + 1) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + end + "]"
    return json.dumps(value, allow_nan=False, ensure_ascii=False)


def _generator() -> str:
    """Who wrote the file, for people reading it ("emviz 0.1.0"); never read back."""
    try:
        from importlib.metadata import version

        return f"emviz {version('emviz')}"
    except Exception:  # a source checkout that is not installed
        return "emviz"


def session_text(
    X: object,
    settings: Mapping[str, Any] | object,
    start: Mixture,
    n_half_steps: int,
    *,
    current: int | None = None,
    columns: Sequence[str] = ("x", "y"),
    source: str = "",
    note: str | None = None,
) -> str:
    """The text of a session file; see :func:`save_session` for the parameters."""
    points = check_points(X)
    checked = _check_settings(_settings_mapping(settings), points)
    if not isinstance(start, Mixture):
        raise EmvizError(f"start must be a Mixture; got {type(start).__name__}")
    _check_start(start, checked)
    n, cur = _check_counts(n_half_steps, current)
    cols = _check_columns(tuple(columns))
    if not isinstance(source, str):
        raise _FieldError("data.source", f"must be a string; got {_type_name(source)}")
    if note is not None and not isinstance(note, str):
        raise _FieldError("note", f"must be a string; got {_type_name(note)}")
    doc: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "generator": _generator(),
        "settings": checked,
        "start": start.to_dict(),
        "n_half_steps": n,
        "current": cur,
    }
    if note is not None:
        doc["note"] = note
    # The points last: everything a reader wants to see is at the top.
    doc["data"] = {"columns": list(cols), "source": source, "points": points.tolist()}
    return _dumps(doc) + "\n"


def save_session(
    path: str | os.PathLike[str],
    X: object,
    settings: Mapping[str, Any] | object,
    start: Mixture,
    n_half_steps: int,
    *,
    current: int | None = None,
    columns: Sequence[str] = ("x", "y"),
    source: str = "",
    note: str | None = None,
) -> Path:
    """Write a session file, atomically.

    The text is built and checked in memory first, then written to a
    temporary file beside ``path`` which replaces ``path`` in one step
    (``os.replace``).  If anything fails, an existing file at ``path`` is left
    as it was and no temporary file remains.

    Parameters
    ----------
    path : path-like
        The file to write (conventionally ending in ``.emviz``).
    X : array-like of shape (n_samples, 2)
        The points, finite.
    settings : dict or dataclass
        With the fields of :data:`SETTINGS_FIELDS` (others are ignored).
    start : Mixture
        The starting mixture, with ``settings["n_components"]`` components.
    n_half_steps : int
        How many half-steps after the start the history went (its length
        minus one), 0 to :data:`MAX_HALF_STEPS`.
    current : int, optional
        Index of the snapshot shown; defaults to the last, ``n_half_steps``.
    columns : pair of str
        Names of the two columns.
    source : str
        Where the points came from.
    note : str, optional
        Free text kept in the file.

    Returns
    -------
    Path
        The path written.

    Raises
    ------
    EmvizError
        If an argument is invalid (nothing is written).
    OSError
        If the file cannot be written (an existing file is kept).
    """
    text = session_text(
        X,
        settings,
        start,
        n_half_steps,
        current=current,
        columns=columns,
        source=source,
        note=note,
    )
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        # Mode "x" creates the file with the usual permissions (0666 & ~umask),
        # which a temporary file from mkstemp (0600) would not.
        with open(tmp, "x", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if target.exists():
            try:
                os.chmod(tmp, target.stat().st_mode & 0o7777)
            except OSError:
                pass
        os.replace(tmp, target)
    except BaseException:
        try:
            tmp.unlink()
        except FileNotFoundError:
            pass
        raise
    return target


# ---------------------------------------------------------------------------
# Reading


def _position(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return line, column


def _parse(text: str, path: str) -> Any:
    if not text.strip():
        raise DataFileError("the file is empty, not an emviz session", path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        rest = text[exc.pos :].rstrip()
        # At the very end, or inside the last few characters (a number cut in
        # two, "2." or "1e"), the text stopped early rather than went wrong.
        if not rest or ("\n" not in rest and len(rest) <= 32 and not text.rstrip().endswith("}")):
            what = "the file ends too early (it was probably truncated while being written)"
        else:
            what = f"the file is corrupt: not valid JSON ({exc.msg})"
        raise DataFileError(what, path, exc.lineno, exc.colno) from None
    except RecursionError:
        raise DataFileError("the file is corrupt: nested too deeply", path) from None


def _exact_mixture(d: object) -> Mixture:
    """``Mixture.from_dict`` with field-by-field messages.

    The stored floats come back bit for bit: JSON writes float64 with repr,
    and ``Mixture`` keeps weights that sum to 1 within rounding as they are.
    """
    if not isinstance(d, dict):
        raise _FieldError("start", f"must be an object; got {_type_name(d)}")
    for key in ("weights", "means", "covariances"):
        _require(d, key, "start.")
    cov_type = d.get("cov_type", "full")
    if not isinstance(cov_type, str):
        raise _FieldError("start.cov_type", f"must be a string; got {_type_name(cov_type)}")
    try:
        return Mixture.from_dict(d)
    except (ValueError, TypeError) as exc:  # EmvizError, or numpy on ragged or text lists
        raise _FieldError("start", f"is not a valid mixture: {exc}") from None


def _check_document(doc: Any, path: str) -> SessionFile:
    if not isinstance(doc, dict):
        raise DataFileError(
            f"not an emviz session file: the JSON is {_type_name(doc)}, not an object", path
        )
    fmt = doc.get("format")
    if fmt != FORMAT:
        if fmt is None:
            what = f'no "format": "{FORMAT}" field'
        else:
            what = f'"format" is {fmt!r}, not {FORMAT!r}'
        raise DataFileError(f"not an emviz session file ({what})", path)
    version = doc.get("version")
    if not _is_int(version) or version < 1:
        raise DataFileError(
            f'the session file has an invalid "version": {version!r} (expected {VERSION})', path
        )
    if version > VERSION:
        raise DataFileError(
            f"this file was written by a newer emviz (format version {version}); "
            f"this emviz reads version {VERSION}. Update emviz to open it.",
            path,
        )
    try:
        data = _require(doc, "data", "")
        if not isinstance(data, dict):
            raise _FieldError("data", f"must be an object; got {_type_name(data)}")
        points = _require(data, "points", "data.")
        if not isinstance(points, list):
            raise _FieldError("data.points", f"must be a list of [x, y]; got {_type_name(points)}")
        for i, p in enumerate(points):
            if not isinstance(p, list) or len(p) != 2 or not all(_is_number(v) for v in p):
                raise _FieldError(
                    f"data.points[{i}]", f"must be [x, y] with two numbers; got {_short(p)}"
                )
        try:
            X = check_points(np.array(points, dtype=np.float64).reshape(-1, 2), "data.points")
        except EmvizError as exc:
            raise _FieldError("data.points", str(exc).removeprefix("data.points ")) from None
        X.setflags(write=False)
        columns = _check_columns(data.get("columns", ["x", "y"]))
        source = data.get("source", "")
        if not isinstance(source, str):
            raise _FieldError("data.source", f"must be a string; got {_type_name(source)}")
        settings = _require(doc, "settings", "")
        if not isinstance(settings, dict):
            raise _FieldError("settings", f"must be an object; got {_type_name(settings)}")
        checked = _check_settings(settings, X)
        start = _exact_mixture(_require(doc, "start", ""))
        _check_start(start, checked)
        n, cur = _check_counts(_require(doc, "n_half_steps", ""), doc.get("current"))
        note = doc.get("note")
        if note is not None and not isinstance(note, str):
            raise _FieldError("note", f"must be a string; got {_type_name(note)}")
    except _FieldError as exc:
        raise DataFileError(f"invalid session file: {exc}", path) from None
    return SessionFile(
        X=X,
        settings=checked,
        start=start,
        n_half_steps=n,
        current=cur,
        columns=columns,
        source=source,
        note=note,
        version=int(version),
        path=path,
    )


def load_session(path: str | os.PathLike[str]) -> SessionFile:
    """Read and check a session file.

    The file is only read, never modified.

    Parameters
    ----------
    path : path-like

    Returns
    -------
    SessionFile

    Raises
    ------
    DataFileError
        If the file cannot be read, is empty, truncated or not valid JSON
        (with the line and column of the problem), is not an emviz session,
        was written by a newer emviz (a newer format version), or has a
        missing or invalid field (the message names the field).
    """
    p = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise DataFileError(f"cannot read the file: {exc.strerror or exc}", p) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, column = _position(raw[: exc.start].decode("utf-8", "replace"), exc.start)
        raise DataFileError(
            "not an emviz session file: not UTF-8 text (is it a binary file?)", p, line, column
        ) from None
    return _check_document(_parse(text, p), p)


# ---------------------------------------------------------------------------
# Replaying


def replay_iter(session: SessionFile, *, keep_resp: bool = False) -> Iterator[Snapshot]:
    """Yield the history of ``session`` snapshot by snapshot; see :func:`replay`."""
    data = prepare(session.X)
    kwargs = session.em_kwargs()
    wanted = session.n_half_steps + 1
    produced = 0
    last: Snapshot | None = None
    start: Mixture | Snapshot = session.start
    while produced < wanted:
        # One call of iterate_em runs to convergence or max_iter; a history
        # stepped past that point is continued from its last snapshot, as the
        # Step buttons do.
        remaining = wanted - produced
        count = 0
        for snap in iterate_em(None, start, data=data, max_iter=remaining // 2 + 1, **kwargs):
            last = snap
            produced += 1
            count += 1
            yield snap if keep_resp else snap.without_resp()
            if produced == wanted:
                return
        if count == 0 or last is None:  # pragma: no cover - iterate_em always yields
            raise EmvizError("EM stopped before reaching the recorded number of half-steps")
        start = last


def replay(session: SessionFile, *, keep_resp: bool = False) -> list[Snapshot]:
    """Recompute the history of a session, exactly as it was.

    Parameters
    ----------
    session : SessionFile
    keep_resp : bool, default False
        Keep every snapshot's responsibilities (n_samples x n_components
        floats each).  By default they are dropped, as the session history
        does, and are recomputed on demand.

    Returns
    -------
    list of Snapshot
        ``session.n_half_steps + 1`` snapshots: "init", then "E", "M", ...
        They equal the snapshots of the original run bit for bit (the same
        :func:`iterate_em` on the same floats).
    """
    return list(replay_iter(session, keep_resp=keep_resp))
