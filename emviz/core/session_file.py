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

from emviz.core.data import prepare
from emviz.core.em import iterate_em
from emviz.core.errors import DataFileError, EmvizError, LoadCancelled
from emviz.core.io import read_file_bytes
from emviz.core.mixture import Mixture
from emviz.core.session_fields import (
    MAX_HALF_STEPS,
    MAX_NAME_CHARS,
    MAX_NOTE_CHARS,
    FieldError,
    check_columns,
    check_counts,
    check_start,
    check_text,
    checked_points,
    checked_settings,
    cut,
    exact_mixture,
    is_int,
    require,
    type_name,
)
from emviz.core.settings import Settings, check_settings
from emviz.core.snapshot import Snapshot
from emviz.core.validation import check_points

__all__ = [
    "FORMAT",
    "MAX_HALF_STEPS",
    "MAX_NAME_CHARS",
    "MAX_NOTE_CHARS",
    "MAX_SESSION_BYTES",
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
#: The largest session file read (about 10 million points).
MAX_SESSION_BYTES = 512 << 20

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
    treat_missing : bool
        Rows with a missing coordinate (NaN in ``X``) are used by EM, the
        missing coordinate integrated out (``data.treat_missing`` in the file).
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
    treat_missing: bool = False

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
    treat_missing: bool = False,
) -> str:
    """The text of a session file; see :func:`save_session` for the parameters."""
    if treat_missing:
        points = checked_points(np.asarray(X, dtype=np.float64).tolist(), missing=True)
    else:
        points = check_points(X)
    checked = checked_settings(_settings_mapping(settings), points)
    if not isinstance(start, Mixture):
        raise EmvizError(f"start must be a Mixture; got {type(start).__name__}")
    check_start(start, checked)
    n, cur = check_counts(n_half_steps, current)
    cols = check_columns(tuple(columns))
    check_text("data.source", source, MAX_NAME_CHARS)
    check_text("note", note, MAX_NOTE_CHARS, optional=True)
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
    doc["data"] = {"columns": list(cols), "source": source, "points": _point_list(points)}
    if treat_missing:
        doc["data"]["treat_missing"] = True
    return _dumps(doc) + "\n"


def _point_list(points: np.ndarray) -> list[list[float | None]]:
    """The points as JSON lists, a missing coordinate (NaN) as null."""
    return [[None if math.isnan(v) else v for v in row] for row in points.tolist()]


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
    treat_missing: bool = False,
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
    treat_missing : bool
        Rows with a missing coordinate (NaN in ``X``) are used by EM; the file
        stores the missing coordinate as null.

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
        treat_missing=treat_missing,
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
    except ValueError as exc:  # an integer of more than 4300 digits
        raise DataFileError(f"the file is corrupt: {cut(str(exc), 120)}", path) from None


def _check_document(doc: Any, path: str) -> SessionFile:
    if not isinstance(doc, dict):
        raise DataFileError(
            f"not an emviz session file: the JSON is {type_name(doc)}, not an object", path
        )
    fmt = doc.get("format")
    if fmt != FORMAT:
        if fmt is None:
            what = f'no "format": "{FORMAT}" field'
        else:
            what = f'"format" is {fmt!r}, not {FORMAT!r}'
        raise DataFileError(f"not an emviz session file ({what})", path)
    version = doc.get("version")
    if not is_int(version) or version < 1:
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
        data = require(doc, "data", "")
        if not isinstance(data, dict):
            raise FieldError("data", f"must be an object; got {type_name(data)}")
        treat_missing = data.get("treat_missing", False)
        if not isinstance(treat_missing, bool):
            raise FieldError(
                "data.treat_missing", f"must be true or false; got {type_name(treat_missing)}"
            )
        X = checked_points(require(data, "points", "data."), missing=treat_missing)
        columns = check_columns(data.get("columns", ["x", "y"]))
        source = data.get("source", "")
        check_text("data.source", source, MAX_NAME_CHARS)
        settings = require(doc, "settings", "")
        if not isinstance(settings, dict):
            raise FieldError("settings", f"must be an object; got {type_name(settings)}")
        checked = checked_settings(settings, X)
        start = exact_mixture(require(doc, "start", ""))
        check_start(start, checked)
        n, cur = check_counts(require(doc, "n_half_steps", ""), doc.get("current"))
        note = doc.get("note")
        check_text("note", note, MAX_NOTE_CHARS, optional=True)
    except FieldError as exc:
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
        treat_missing=treat_missing,
    )


Progress = Callable[[int, int], None]
StopCheck = Callable[[], bool]


def _stop_here(should_stop: StopCheck | None) -> None:
    if should_stop is not None and should_stop():
        raise LoadCancelled("opening the session was cancelled")


def load_session(
    path: str | os.PathLike[str],
    *,
    progress: Progress | None = None,
    should_stop: StopCheck | None = None,
) -> SessionFile:
    """Read and check a session file.

    The file is only read, never modified.  What may be read is what
    :func:`emviz.core.io.read_file_bytes` reads (a regular file or standard
    input; no device or FIFO), up to :data:`MAX_SESSION_BYTES`.

    Parameters
    ----------
    path : path-like
    progress : callable, optional
        ``progress(done, total)`` after each of the three stages (read,
        parse, check): the signature of :class:`emviz.runs.tasks.BackgroundTask`.
    should_stop : callable, optional
        Asked between the stages; True stops with :class:`LoadCancelled`.

    Returns
    -------
    SessionFile

    Raises
    ------
    DataFileError
        If the file cannot be read, is too large, empty, truncated or not
        valid JSON (with the line and column of the problem), is not an emviz
        session, was written by a newer emviz (a newer format version), or
        has a missing or invalid field (the message names the field).
    LoadCancelled
        If ``should_stop`` answered True.
    """
    p = str(path)
    report = progress or (lambda done, total: None)
    _stop_here(should_stop)
    try:
        raw = read_file_bytes(path, limit=MAX_SESSION_BYTES)
    except DataFileError as exc:
        raise DataFileError(f"cannot read the file: {exc.reason}", p) from None
    report(1, 3)
    _stop_here(should_stop)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, column = _position(raw[: exc.start].decode("utf-8", "replace"), exc.start)
        raise DataFileError(
            "not an emviz session file: not UTF-8 text (is it a binary file?)", p, line, column
        ) from None
    del raw
    doc = _parse(text, p)
    del text
    report(2, 3)
    _stop_here(should_stop)
    session = _check_document(doc, p)
    report(3, 3)
    return session


# ---------------------------------------------------------------------------
# Replaying


def replay_iter(
    session: SessionFile,
    *,
    keep_resp: bool = False,
    progress: Progress | None = None,
    should_stop: StopCheck | None = None,
) -> Iterator[Snapshot]:
    """Yield the history of ``session`` snapshot by snapshot; see :func:`replay`."""
    data = prepare(session.X, missing="marginalize" if session.treat_missing else "raise")
    kwargs = session.em_kwargs()
    if data.marginal:
        kwargs["bound"] = False  # the bound's terms are not computed with missing values
    wanted = session.n_half_steps + 1
    every = max(1, wanted // 200)  # about 200 progress reports, whatever the length
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
            _stop_here(should_stop)
            last = snap
            produced += 1
            count += 1
            if progress is not None and (produced % every == 0 or produced == wanted):
                progress(produced, wanted)
            yield snap if keep_resp else snap.without_resp()
            if produced == wanted:
                return
        if count == 0 or last is None:  # pragma: no cover - iterate_em always yields
            raise EmvizError("EM stopped before reaching the recorded number of half-steps")
        start = last


def replay(
    session: SessionFile,
    *,
    keep_resp: bool = False,
    progress: Progress | None = None,
    should_stop: StopCheck | None = None,
) -> list[Snapshot]:
    """Recompute the history of a session, exactly as it was.

    Parameters
    ----------
    session : SessionFile
    keep_resp : bool, default False
        Keep every snapshot's responsibilities (n_samples x n_components
        floats each).  By default they are dropped, as the session history
        does, and are recomputed on demand.
    progress : callable, optional
        ``progress(done, total)``: snapshots computed of ``n_half_steps + 1``,
        about 200 times in all (the signature of
        :class:`emviz.runs.tasks.BackgroundTask`).
    should_stop : callable, optional
        Asked before each snapshot; True stops with :class:`LoadCancelled`
        (a long replay can be cancelled within one half-step).

    Returns
    -------
    list of Snapshot
        ``session.n_half_steps + 1`` snapshots: "init", then "E", "M", ...
        They equal the snapshots of the original run bit for bit (the same
        :func:`iterate_em` on the same floats).

    Raises
    ------
    LoadCancelled
        If ``should_stop`` answered True.
    """
    return list(
        replay_iter(session, keep_resp=keep_resp, progress=progress, should_stop=should_stop)
    )
