"""Reading 2D point sets from text tables and ``.npy`` files.

:func:`load_points` accepts what people actually have: comma, tab, semicolon
or whitespace separated text, with or without a header, quoted fields, R's
``write.csv`` row-name column, UTF-8 with or without a byte-order mark or
Latin-1, and the usual spellings of a missing value. Everything a user can
get wrong in a file ends in a :class:`~emviz.core.errors.DataFileError` that
names the file, the line and the column.
"""

from __future__ import annotations

import csv
import gc
import io
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emviz.core.errors import DataFileError, EmvizError

__all__ = [
    "MISSING_VALUES",
    "LoadCancelled",
    "LoadedPoints",
    "load_points",
    "numeric_columns",
]

#: Cell texts read as a missing value, compared after stripping and lower-casing.
MISSING_VALUES: frozenset[str] = frozenset(
    {"", "na", "nan", "n/a", "null", "none", ".", "?", "-nan", "+nan"}
)

ProgressCallback = Callable[[float], object]

_NPY_MAGIC = b"\x93NUMPY"
# Delimiters tried in order of preference when several split the sample into
# the same number of numbers (a ';' file with decimal commas also splits on ',').
_DELIMITERS = ("\t", ";", ",", "|")
_WHITESPACE = None
_SAMPLE_LINES = 200
_CHUNK_LINES = 50_000
_PREVIEW_BYTES = 1 << 20
_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d*,\d+(?:[eE][-+]?\d+)?\s*$")
_QUOTED_OR_BARE = re.compile(r'"((?:[^"]|"")*)"|(\S+)')
# C0 and C1 control characters other than tab, newline, vertical tab, form
# feed and carriage return: real text has (almost) none.
_CONTROL = re.compile(r"[\x01-\x08\x0e-\x1f\x7f-\x9f]")


class LoadCancelled(EmvizError):
    """Loading was cancelled by the progress callback."""


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
        If the file cannot be read or its content cannot give points; the
        message names the file and, where there is one, the 1-based line and
        the column.
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
    table = _read_table(path, report, max_rows=None)
    j0, j1 = table.resolve(spec)
    col0, miss0 = table.column_values(j0)
    report(0.85)
    col1, miss1 = table.column_values(j1)
    report(0.95)

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
            f"{table.names[j0]!r} and {table.names[j1]!r}; at least 2 are needed",
            path=table.path,
        )
    X.setflags(write=False)
    report(1.0)
    return LoadedPoints(
        X=X,
        columns=(table.names[j0], table.names[j1]),
        n_dropped=n_dropped,
        path=table.path,
        all_columns=table.numeric_names(),
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
    return _read_table(path, _Progress(None), max_rows=_SAMPLE_LINES).numeric_names()


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


def _read_table(path: str | Path, report: _Progress, max_rows: int | None) -> _Table:
    shown = str(path)
    p = Path(path)
    try:
        if p.is_dir():
            raise DataFileError("this is a folder, not a data file", path=shown)
        data = p.read_bytes()
    except FileNotFoundError:
        raise DataFileError("file not found", path=shown) from None
    except PermissionError:
        raise DataFileError("permission denied: cannot read this file", path=shown) from None
    except OSError as exc:
        raise DataFileError(f"cannot read file: {exc.strerror or exc}", path=shown) from None
    except ValueError as exc:  # e.g. a NUL character in the path
        raise DataFileError(f"not a usable file name: {exc}", path=shown) from None
    report(0.05)
    if not data.strip():
        raise DataFileError("the file is empty", path=shown)
    if data.startswith(_NPY_MAGIC) or p.suffix.lower() == ".npy":
        return _npy_table(data, shown)
    if max_rows is not None and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # A preview needs only the first lines; cutting at a newline byte never
        # splits a UTF-8 or single-byte character.
        cut = data.rfind(b"\n", 0, _PREVIEW_BYTES)
        if len(data) > _PREVIEW_BYTES and cut > 0:
            data = data[:cut]
    text = _decode(data, shown)
    return _text_table(text, shown, report, max_rows)


def _decode(data: bytes, path: str) -> str:
    """Text of a file: UTF-8 (BOM or not), UTF-16 with a BOM, else Windows-1252/Latin-1."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise DataFileError("cannot decode this UTF-16 file", path=path) from None
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise DataFileError(
            "this looks like a binary file, not a text table (it contains NUL bytes)",
            path=path,
            line=line,
        )
    text = None
    # cp1252 agrees with Latin-1 on letters such as 'é' and also decodes the
    # curly quotes that Excel writes; Latin-1 takes any byte as a last resort.
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    assert text is not None  # Latin-1 decodes any byte string.
    sample = text[:65536]
    if len(_CONTROL.findall(sample)) > 0.01 * len(sample) + 2:
        raise DataFileError(
            "this looks like a binary file, not a text table (it has control characters)",
            path=path,
        )
    return text


def _npy_table(data: bytes, path: str) -> _Table:
    if not data.startswith(_NPY_MAGIC):
        raise DataFileError(
            "not a .npy file: it does not start with the NumPy file signature",
            path=path,
        )
    try:
        arr = np.load(io.BytesIO(data), allow_pickle=False)
    except ValueError as exc:
        text = str(exc)
        if "allow_pickle" in text or "pickle" in text:
            text = "it holds Python objects, not numbers"
        raise DataFileError(f"not a valid .npy array file: {text}", path=path) from None
    except (OSError, EOFError) as exc:
        raise DataFileError(f"not a valid .npy array file: {exc}", path=path) from None
    if not isinstance(arr, np.ndarray):
        raise DataFileError("not a .npy array file", path=path)
    if arr.dtype.names is not None:
        raise DataFileError(
            "structured (record) arrays are not supported; save a plain 2D array",
            path=path,
        )
    if arr.dtype.kind not in "biuf":
        raise DataFileError(
            f"the array holds values of type {arr.dtype}, not real numbers",
            path=path,
        )
    if arr.ndim != 2:
        raise DataFileError(
            f"expected a 2D array of shape (n_points, n_columns); this one has shape {arr.shape}",
            path=path,
        )
    if arr.shape[1] < 2:
        raise DataFileError(
            f"the array has only {arr.shape[1]} column; two are needed (shape {arr.shape})",
            path=path,
        )
    names = tuple(f"column {j + 1}" for j in range(arr.shape[1]))
    return _Table(path=path, names=names, array=arr.astype(np.float64, copy=False))


def _text_table(text: str, path: str, report: _Progress, max_rows: int | None) -> _Table:
    # Normalise line endings ourselves: str.splitlines also splits on
    # characters such as U+0085 that Latin-1 text may contain inside a cell.
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    # 1-based numbers of the lines that are neither blank nor a comment.
    numbers = [i for i, s in enumerate(lines, 1) if (t := s.lstrip()) and t[0] != "#"]
    if not numbers:
        raise DataFileError("the file has no data (only blank or comment lines)", path=path)
    if max_rows is not None:
        numbers = numbers[: max_rows + 1]
    content = [lines[i - 1] for i in numbers]
    del lines
    delimiter, decimal_comma = _detect_delimiter(content[:_SAMPLE_LINES])
    rows = _split_lines(content, delimiter, report)
    line_numbers = numbers

    sample_rows = rows[:_SAMPLE_LINES]
    has_header = _detect_header(sample_rows, decimal_comma)
    if has_header:
        header = [c.strip() for c in rows[0]]
        body, body_lines = rows[1:], line_numbers[1:]
        if not body:
            raise DataFileError(
                "the file has a header line but no data rows", path=path, line=line_numbers[0]
            )
        data_width = Counter(len(r) for r in body[:_SAMPLE_LINES]).most_common(1)[0][0]
        # A trailing delimiter on the header line only makes empty names.
        while len(header) > 1 and header[-1] == "" and data_width < len(header):
            header.pop()
        if data_width == len(header) + 1:
            # R's write.table writes no name for the row-name column.
            header.insert(0, "")
        n_cols = len(header)
        names = [h if h else f"column {j + 1}" for j, h in enumerate(header)]
        index_column = header[0] == "" and _looks_like_row_names(
            [r[0] for r in body[:_SAMPLE_LINES] if r]
        )
    else:
        body, body_lines = rows, line_numbers
        n_cols = Counter(len(r) for r in sample_rows).most_common(1)[0][0]
        names = [f"column {j + 1}" for j in range(n_cols)]
        index_column = False
    if n_cols < 2:
        raise DataFileError(
            "the file has only one column; two columns of numbers are needed "
            "(the separator may be one that is not recognised: use a comma, tab, "
            "semicolon or spaces)",
            path=path,
        )
    return _Table(
        path=path,
        names=tuple(names),
        rows=body,
        line_numbers=body_lines,
        n_cols=n_cols,
        has_header=has_header,
        decimal_comma=decimal_comma,
        skip=(0,) if index_column else (),
    )


def _looks_like_row_names(cells: list[str]) -> bool:
    """Whether the cells of an unnamed first column are row names, not data.

    R's write.csv and pandas' to_csv write row names under an empty header
    cell: increasing integers ("1", "2", ...) or text labels.
    """
    try:
        values = np.array(cells, dtype=np.float64)
    except ValueError:
        return True
    return bool(
        values.size > 0
        and np.all(np.isfinite(values))  # inf - inf in diff would be NaN (and warn)
        and np.all(values == np.round(values))
        and np.all(np.diff(values) > 0)
    )


def _split_fields(lines: list[str], delimiter: str | None) -> list[list[str]]:
    """Fields of each line; one list per line, whatever the quotes hold."""
    if delimiter is _WHITESPACE:
        return [_split_whitespace(s) for s in lines]
    if not any('"' in s for s in lines):
        return [s.split(delimiter) for s in lines]
    rows = list(csv.reader(lines, delimiter=delimiter, skipinitialspace=True))
    if len(rows) == len(lines):
        return rows
    # An unbalanced quote made the reader run on into the next line. Taking
    # the lines one at a time keeps line numbers right for the error that follows.
    return [next(csv.reader([s], delimiter=delimiter, skipinitialspace=True), []) for s in lines]


def _split_whitespace(line: str) -> list[str]:
    if '"' not in line:
        return line.split()
    return [q.replace('""', '"') if b == "" else b for q, b in _QUOTED_OR_BARE.findall(line)]


def _split_lines(lines: list[str], delimiter: str | None, report: _Progress) -> list[list[str]]:
    """Fields of each line, reporting progress as it goes."""
    rows: list[list[str]] = []
    n = len(lines)
    # Millions of small lists would otherwise trigger the cyclic garbage
    # collector again and again, which takes three times as long as the splitting.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for start in range(0, n, _CHUNK_LINES):
            rows.extend(_split_fields(lines[start : start + _CHUNK_LINES], delimiter))
            report(0.05 + 0.75 * min(start + _CHUNK_LINES, n) / n)
    finally:
        if gc_was_enabled:
            gc.enable()
    return rows


def _parses(cell: str, decimal_comma: bool) -> bool:
    try:
        float(cell)
        return True
    except ValueError:
        return bool(decimal_comma and _DECIMAL_COMMA.match(cell))


def _is_missing(cell: str) -> bool:
    return cell.strip().lower() in MISSING_VALUES


def _numeric_share(cells: Sequence[str], decimal_comma: bool) -> tuple[int, int]:
    """(number of numeric cells, number of non-missing cells)."""
    present = [c for c in cells if not _is_missing(c)]
    return sum(_parses(c, decimal_comma) for c in present), len(present)


def _detect_delimiter(sample: list[str]) -> tuple[str | None, bool]:
    """Pick the delimiter that splits the sample lines consistently into the most numbers.

    Returns the delimiter (None for runs of whitespace) and whether numbers
    are written with a decimal comma.
    """
    best: tuple[tuple[bool, int, float, int], str | None, bool] | None = None
    candidates: tuple[str | None, ...] = (*_DELIMITERS, _WHITESPACE)
    for rank, delim in enumerate(candidates):
        if delim is not None and not any(delim in s for s in sample):
            continue
        rows = _split_fields(sample, delim)
        width, n_width = Counter(len(r) for r in rows).most_common(1)[0]
        if width < 2:
            continue
        consistency = n_width / len(rows)
        cells = [c for r in rows[1:] for c in r] or [c for r in rows for c in r]
        decimal_comma = delim != "," and any(_DECIMAL_COMMA.match(c) for c in cells)
        numbers = sum(_parses(c, decimal_comma) for c in cells)
        # A delimiter that splits most lines alike beats one that does not;
        # ragged lines are then reported where they are, by line number.
        key = (consistency >= 0.8, numbers, consistency, -rank)
        if best is None or key > best[0]:
            best = (key, delim, decimal_comma)
    if best is None:
        # Nothing splits the lines into two or more fields: the caller reports one column.
        return ",", False
    return best[1], best[2]


def _detect_header(rows: list[list[str]], decimal_comma: bool) -> bool:
    """Whether the first row names the columns: text where the data below holds numbers."""
    first = rows[0]
    rest = rows[1:]
    if not rest:
        return any(not _parses(c, decimal_comma) and not _is_missing(c) for c in first)
    for j, cell in enumerate(first):
        if _parses(cell, decimal_comma) or _is_missing(cell):
            continue
        numeric, present = _numeric_share([r[j] for r in rest if j < len(r)], decimal_comma)
        if present and 2 * numeric >= present:
            return True
    # A first row of text over columns that are all text is a header too.
    return all(not _parses(c, decimal_comma) and c.strip() for c in first) and any(
        c.strip() and not _parses(c, decimal_comma) for c in rest[0]
    )


class _Table:
    """A parsed file: column names and raw cells (text) or an array (``.npy``)."""

    def __init__(
        self,
        path: str,
        names: tuple[str, ...],
        *,
        rows: list[list[str]] | None = None,
        line_numbers: list[int] | None = None,
        n_cols: int | None = None,
        has_header: bool = False,
        decimal_comma: bool = False,
        skip: tuple[int, ...] = (),
        array: np.ndarray | None = None,
    ) -> None:
        self.path = path
        self.names = names
        self.rows = rows
        self.line_numbers = line_numbers
        self.n_cols = n_cols if n_cols is not None else len(names)
        self.has_header = has_header
        self.decimal_comma = decimal_comma
        self.skip = skip
        self.array = array
        self._ragged_checked = False

    # -- columns ---------------------------------------------------------------------------

    def column_label(self, j: int) -> str | int:
        """How an error message names column j: its name, or its 1-based number."""
        # Columns with no name in the header get "column 3"-style names; the
        # number alone reads better after the word "column".
        named = self.has_header and self.names[j] != f"column {j + 1}"
        return self.names[j] if named else j + 1

    def numeric_names(self) -> tuple[str, ...]:
        return tuple(self.names[j] for j in self._numeric_indices())

    def _numeric_indices(self) -> list[int]:
        if self.array is not None:
            return list(range(self.n_cols))
        assert self.rows is not None
        sample = self.rows[:_SAMPLE_LINES]
        out = []
        for j in range(self.n_cols):
            if j in self.skip:
                continue
            numeric, present = _numeric_share(
                [r[j] for r in sample if j < len(r)], self.decimal_comma
            )
            # A majority rule rather than "every cell": a typo in a column of
            # numbers must end in an error naming the cell, not in the column
            # silently disappearing from the choice.
            if present and 2 * numeric >= present:
                out.append(j)
        return out

    def _available(self) -> str:
        numeric = set(self._numeric_indices())
        parts = []
        for j, name in enumerate(self.names):
            if j in self.skip:
                continue
            note = "" if j in numeric else ", text"
            parts.append(f"{j}: {name!r}{note}")
        return "; ".join(parts)

    def resolve(self, spec: tuple[str | int, str | int] | None) -> tuple[int, int]:
        """0-based indices of the two chosen columns."""
        if spec is None:
            numeric = self._numeric_indices()
            if len(numeric) < 2:
                found = (
                    "no column" if not numeric else f"only one column ({self.names[numeric[0]]!r})"
                )
                raise DataFileError(
                    f"two columns of numbers are needed; found {found}. "
                    f"Columns (0-based index: name): {self._available()}",
                    path=self.path,
                )
            return numeric[0], numeric[1]
        indices = [self._resolve_one(c) for c in spec]
        if indices[0] == indices[1]:
            raise DataFileError(
                f"the two chosen columns are the same column ({self.names[indices[0]]!r}); "
                "choose two different columns",
                path=self.path,
            )
        return indices[0], indices[1]

    def _resolve_one(self, c: str | int) -> int:
        if isinstance(c, int):
            if 0 <= c < self.n_cols and c not in self.skip:
                return c
            raise DataFileError(
                f"there is no column with index {c}. "
                f"Columns (0-based index: name): {self._available()}",
                path=self.path,
            )
        usable = [j for j in range(self.n_cols) if j not in self.skip]
        matches = [j for j in usable if self.names[j] == c]
        if not matches:
            matches = [j for j in usable if self.names[j].strip().lower() == c.strip().lower()]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise DataFileError(
                f"several columns are named {c!r} (indices "
                f"{', '.join(map(str, matches))}); choose one by index",
                path=self.path,
            )
        raise DataFileError(
            f"there is no column named {c!r}. Columns (0-based index: name): {self._available()}",
            path=self.path,
        )

    # -- values ----------------------------------------------------------------------------

    def column_values(self, j: int) -> tuple[np.ndarray, np.ndarray]:
        """Column j as float64 and its missing-value mask, both of shape (n_rows,)."""
        if self.array is not None:
            values = np.ascontiguousarray(self.array[:, j])
            missing = np.isnan(values)
            self._check_finite(values, j)
            return values, missing
        self._check_ragged()
        assert self.rows is not None
        cells = [r[j] for r in self.rows]
        if self.decimal_comma:
            cells = [c.replace(",", ".") for c in cells]
        try:
            values = np.array(cells, dtype=np.float64)
        except ValueError:
            values = self._convert_slowly(cells, j)
        missing = np.isnan(values)
        self._check_finite(values, j)
        return values, missing

    def _convert_slowly(self, cells: list[str], j: int) -> np.ndarray:
        """Conversion that knows missing values and locates the cell that is not a number."""
        missing = np.fromiter((_is_missing(c) for c in cells), dtype=bool, count=len(cells))
        present = np.flatnonzero(~missing)
        values = np.full(len(cells), np.nan)
        subset = [cells[i] for i in present]
        try:
            values[present] = np.array(subset, dtype=np.float64)
        except ValueError:
            for i in present:
                try:
                    values[i] = float(cells[i])
                except ValueError:
                    assert self.line_numbers is not None
                    assert self.rows is not None
                    raise DataFileError(
                        f"{self.rows[i][j].strip()!r} is not a number",
                        path=self.path,
                        line=self.line_numbers[i],
                        column=self.column_label(j),
                    ) from None
        return values

    def _check_finite(self, values: np.ndarray, j: int) -> None:
        inf = np.isinf(values)
        if not inf.any():
            return
        i = int(np.argmax(inf))
        if self.array is not None:
            raise DataFileError(
                f"infinite value ({values[i]}) in row {i + 1}; coordinates must be finite",
                path=self.path,
                column=self.column_label(j),
            )
        assert self.rows is not None
        assert self.line_numbers is not None
        raise DataFileError(
            f"infinite value {self.rows[i][j].strip()!r}; coordinates must be finite",
            path=self.path,
            line=self.line_numbers[i],
            column=self.column_label(j),
        )

    def _check_ragged(self) -> None:
        """Every data row must have as many fields as the header (or the first rows)."""
        if self._ragged_checked:
            return
        assert self.rows is not None
        assert self.line_numbers is not None
        lengths = np.fromiter(map(len, self.rows), dtype=np.int64, count=len(self.rows))
        for i in np.flatnonzero(lengths != self.n_cols):
            row = self.rows[i]
            # Extra empty fields come from a trailing delimiter: harmless.
            if len(row) > self.n_cols and not any(c.strip() for c in row[self.n_cols :]):
                continue
            like = "the header" if self.has_header else "the first lines"
            raise DataFileError(
                f"this row has {len(row)} field{'s' if len(row) != 1 else ''} where "
                f"{like} has {self.n_cols}",
                path=self.path,
                line=self.line_numbers[i],
            )
        self._ragged_checked = True
