"""Reading 2D point sets from text tables and ``.npy`` files.

:func:`load_points` accepts what people actually have: comma, tab, semicolon
or whitespace separated text, with or without a header, quoted fields, R's
``write.csv`` row-name column, UTF-8 with or without a byte-order mark or
Latin-1, and the usual spellings of a missing value. Everything a user can
get wrong in a file ends in a :class:`~emviz.core.errors.DataFileError` that
names the file, the line and the column; the formats themselves are read by
:mod:`emviz.core.readers`.

What may be read (:func:`read_file_bytes`, also used for session files):

- regular files up to :data:`MAX_FILE_BYTES` (1 GiB); a larger file is
  refused with its size before anything is read;
- standard input (``emviz /dev/stdin < points.csv``, or a pipe): read once,
  up to the same limit, and kept, so that a preview of its columns and the
  load that follows see the same bytes; a terminal is refused;
- nothing else: devices (``/dev/zero``, ``/dev/urandom``), named pipes
  (FIFOs) and sockets are refused from their file type, without being opened,
  so that a FIFO with no writer cannot block the window.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emviz.core.errors import DataFileError, EmvizError, LoadCancelled
from emviz.core.readers import MISSING_VALUES, NPY_MAGIC, npy_table, text_table
from emviz.core.readers import shown as shown_text

__all__ = [
    "MAX_FILE_BYTES",
    "MISSING_VALUES",
    "LoadCancelled",
    "LoadedPoints",
    "load_points",
    "numeric_columns",
    "read_file_bytes",
]

#: The largest data file read (1 GiB: about 25 million rows of two numbers).
MAX_FILE_BYTES = 1 << 30

ProgressCallback = Callable[[float], object]

# A preview of the columns reads at most this much of a file.
_PREVIEW_BYTES = 1 << 20
_STDIN_LOCK = threading.Lock()
# Standard input, once read: (bytes, None) or (None, the error it gave).
_STDIN: tuple[bytes | None, DataFileError | None] | None = None


@dataclass(frozen=True, eq=False)
class LoadedPoints:
    """Points read from a file, with where they came from.

    Attributes
    ----------
    X : array of shape (n_samples, 2)
        The two chosen columns as read-only float64. NaN appears only with
        ``missing="keep"``, and then in at most one coordinate of a row.
    columns : tuple of two str
        Names of the chosen columns (``"column 3"`` style, 1-based, when the
        file has no header).
    n_dropped : int
        Rows dropped because of missing values.
    path : str
        The file read.
    all_columns : tuple of str
        Names of every column that holds numbers, in file order, so that a
        user can be offered a choice.
    """

    X: np.ndarray
    columns: tuple[str, str]
    n_dropped: int
    path: str
    all_columns: tuple[str, ...]


# ----------------------------------------------------------------------------------------------
# Public functions


def load_points(
    path: str | Path,
    columns: Sequence[str | int] | None = None,
    *,
    missing: str = "drop",
    progress: ProgressCallback | None = None,
) -> LoadedPoints:
    """Read two numeric columns of a data file as points in the plane.

    Parameters
    ----------
    path : str or Path
        A text table (CSV, TSV, semicolon or whitespace separated; the
        delimiter and a header row are detected) or a ``.npy`` file holding a
        2D numeric array with at least two columns.
    columns : pair of str or pair of int, optional
        The columns to read, by name or by 0-based index into the file's
        columns. By default the first two numeric columns (columns of text,
        such as a species name, and an R row-name column are skipped).
    missing : {"drop", "keep"}
        Empty cells and NA, NaN, N/A, null, None, "." and "?" (any case) are
        missing. "drop" drops every row with a missing chosen coordinate;
        "keep" keeps rows where only one of the two is missing, with NaN in
        its place. Rows with both missing are always dropped.
    progress : callable, optional
        Called now and then with the fraction done, in [0, 1]. If it returns
        False, loading stops with :class:`LoadCancelled`.

    Returns
    -------
    LoadedPoints

    Raises
    ------
    DataFileError
        If the file cannot be read (see :func:`read_file_bytes`) or its
        content cannot give points; the message names the file and, where
        there is one, the 1-based line and the column.
    LoadCancelled
        If ``progress`` returned False.
    EmvizError
        If ``missing`` or the form of ``columns`` is wrong.
    """
    if missing not in ("drop", "keep"):
        raise EmvizError(f"missing must be 'drop' or 'keep'; got {missing!r}")
    spec = _check_columns_arg(columns)
    report = _Progress(progress)
    report(0.0)
    table = _read_table(path, preview=False)
    report(0.05)
    j0, j1 = table.resolve(spec)
    col0, miss0, col1, miss1 = table.pair(j0, j1, report)
    chosen = (table.names[j0], table.names[j1])
    all_columns = table.numeric_names()
    shown = table.path
    del table  # the file's bytes: gone before the points are allocated

    drop = (miss0 | miss1) if missing == "drop" else (miss0 & miss1)
    keep = ~drop
    X = np.empty((int(keep.sum()), 2), dtype=np.float64)
    X[:, 0] = col0[keep]
    X[:, 1] = col1[keep]
    n_dropped = int(drop.sum())
    if X.shape[0] < 2:
        dropped = f" ({n_dropped} dropped for missing values)" if n_dropped else ""
        raise DataFileError(
            f"only {X.shape[0]} usable row{'s' if X.shape[0] != 1 else ''}{dropped} in columns "
            f"{shown_text(chosen[0])} and {shown_text(chosen[1])}; at least 2 are needed",
            path=shown,
        )
    X.setflags(write=False)
    report(1.0)
    return LoadedPoints(
        X=X,
        columns=chosen,
        n_dropped=n_dropped,
        path=shown,
        all_columns=all_columns,
    )


def numeric_columns(path: str | Path) -> tuple[str, ...]:
    """Names of the columns of a data file that hold numbers, in file order.

    Only the first few hundred data rows are looked at, so this is quick even
    for a large file: a GUI can call it to offer a choice of two columns
    before calling :func:`load_points`. Names of a headerless file are
    ``"column 1"``, ``"column 2"``... (1-based).

    Raises
    ------
    DataFileError
        As for :func:`load_points`.
    """
    return _read_table(path, preview=True).numeric_names()


# ----------------------------------------------------------------------------------------------
# Reading


class _Progress:
    """Calls the user's progress callback and turns a False answer into LoadCancelled."""

    def __init__(self, callback: ProgressCallback | None) -> None:
        self.callback = callback

    def __call__(self, fraction: float) -> None:
        if self.callback is None:
            return
        answer = self.callback(min(max(float(fraction), 0.0), 1.0))
        if answer is not None and not answer:
            raise LoadCancelled("loading cancelled")


def _check_columns_arg(
    columns: Sequence[str | int] | None,
) -> tuple[str | int, str | int] | None:
    if columns is None:
        return None
    if isinstance(columns, (str, bytes)) or not isinstance(columns, Sequence) or len(columns) != 2:
        raise EmvizError(f"columns must be a pair of names or of indices; got {columns!r}")
    out: list[str | int] = []
    for c in columns:
        if isinstance(c, str):
            out.append(c)
        elif isinstance(c, (int, np.integer)) and not isinstance(c, bool):
            out.append(int(c))
        else:
            raise EmvizError(f"a column must be a name (str) or a 0-based index (int); got {c!r}")
    return out[0], out[1]


def _read_table(path: str | Path, preview: bool):
    shown = str(path)
    is_npy = Path(path).suffix.lower() == ".npy"
    head = None if is_npy or not preview else _PREVIEW_BYTES
    data = read_file_bytes(path, head=head)
    if not data.strip():
        raise DataFileError("the file is empty", path=shown)
    if data.startswith(NPY_MAGIC) or is_npy:
        if head is not None:
            data = read_file_bytes(path)  # the header is checked against the whole size
        return npy_table(data, shown)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        if head is not None and len(data) >= head:
            data = read_file_bytes(path)  # UTF-16 is decoded whole
    elif preview:
        # A preview needs only the first lines; cutting at a newline byte never
        # splits a UTF-8 or single-byte character.
        cut = data.rfind(b"\n", 0, _PREVIEW_BYTES)
        if len(data) >= _PREVIEW_BYTES and cut > 0:
            data = data[:cut]
    return text_table(data, shown)


def _size(n_bytes: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.3g} {unit}"
    return f"{n_bytes} bytes"


def _too_large(n_bytes: int | None, limit: int, path: str) -> DataFileError:
    size = f" ({_size(n_bytes)})" if n_bytes is not None else ""
    return DataFileError(
        f"the file is too large{size}: emviz reads files of up to {_size(limit)}", path=path
    )


_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def read_file_bytes(
    path: str | os.PathLike[str], *, limit: int | None = None, head: int | None = None
) -> bytes:
    """The bytes of a file, read safely: never more than ``limit``, never blocking.

    Parameters
    ----------
    path : path-like
        A regular file, or standard input (``/dev/stdin`` or another name of
        the same stream): see the module's docstring for what is refused.
    limit : int, optional
        Most bytes read, :data:`MAX_FILE_BYTES` by default; a larger file is
        refused before it is read.
    head : int, optional
        Read only the first ``head`` bytes of a regular file (a preview).

    Raises
    ------
    DataFileError
        Not found, a folder, not readable, too large, a device, a FIFO, a
        socket or a terminal: the message names the file and says which.
    """
    shown = str(path)
    limit = MAX_FILE_BYTES if limit is None else limit
    try:
        st = os.stat(path)  # never opens: a FIFO with no writer cannot block here
    except FileNotFoundError:
        raise DataFileError("file not found", path=shown) from None
    except PermissionError:
        raise DataFileError("permission denied: cannot read this file", path=shown) from None
    except OSError as exc:
        raise DataFileError(f"cannot read file: {exc.strerror or exc}", path=shown) from None
    except ValueError as exc:  # e.g. a NUL character in the path
        raise DataFileError(f"not a usable file name: {exc}", path=shown) from None
    if stat.S_ISDIR(st.st_mode):
        raise DataFileError("this is a folder, not a data file", path=shown)
    if stat.S_ISREG(st.st_mode):
        if head is None and st.st_size > limit:
            raise _too_large(st.st_size, limit, shown)
        try:
            if head is None:
                data = Path(path).read_bytes()
            else:
                with open(path, "rb") as f:
                    data = f.read(head)
        except PermissionError:
            raise DataFileError("permission denied: cannot read this file", path=shown) from None
        except OSError as exc:
            raise DataFileError(f"cannot read file: {exc.strerror or exc}", path=shown) from None
        if len(data) > limit:  # it grew after stat
            raise _too_large(len(data), limit, shown)
        return data
    if _is_stdin(st):
        return _read_stdin(limit, shown)
    kind = next((what for test, what in _KINDS if test(st.st_mode)), "not a regular file")
    raise DataFileError(
        f"this is {kind}, not a regular file: emviz reads data from files, and from a "
        "stream only on standard input (emviz /dev/stdin < points.csv)",
        path=shown,
    )


def _is_stdin(st: os.stat_result) -> bool:
    try:
        fd0 = os.fstat(0)
    except OSError:
        return False
    return (st.st_dev, st.st_ino) == (fd0.st_dev, fd0.st_ino)


def _read_stdin(limit: int, shown: str) -> bytes:
    """Standard input, read once and kept: a stream cannot be read a second time."""
    global _STDIN
    with _STDIN_LOCK:
        if _STDIN is None:
            _STDIN = _read_stream(0, limit, shown)
        data, error = _STDIN
    if error is not None:
        raise error
    assert data is not None
    return data


def _read_stream(fd: int, limit: int, shown: str) -> tuple[bytes | None, DataFileError | None]:
    if os.isatty(fd):
        return None, DataFileError(
            "standard input is a terminal: give emviz a file, or pipe one in "
            "(emviz /dev/stdin < points.csv)",
            path=shown,
        )
    chunks: list[bytes] = []
    total = 0
    try:
        while chunk := os.read(fd, 1 << 20):
            total += len(chunk)
            if total > limit:
                return None, _too_large(None, limit, shown)
            chunks.append(chunk)
    except OSError as exc:
        return None, DataFileError(f"cannot read: {exc.strerror or exc}", path=shown)
    return b"".join(chunks), None
