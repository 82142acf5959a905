"""The per-format readers behind :func:`emviz.core.io.load_points`.

A reader turns the bytes of a file into a table of named columns that can
give any two columns as float64 arrays:

- :func:`npy_table` checks a ``.npy`` header (shape, dtype, order) against
  the size of the file *before* anything is allocated, then views the data
  in place;
- :func:`text_table` detects the delimiter, a header row and an R row-name
  column from the first few hundred lines, and converts the two chosen
  columns chunk by chunk, so that the whole file never exists as Python
  strings (a 200 MB CSV peaked at 15 times its size when it did).

Every problem is a :class:`~emviz.core.errors.DataFileError` naming the
file, and the line and the column where there is one.
"""

from __future__ import annotations

import codecs
import csv
import gc
import io
import math
import re
from collections import Counter
from collections.abc import Iterator, Sequence

import numpy as np

from emviz.core.columns import Report, Table, name_of, shown
from emviz.core.errors import DataFileError

__all__ = ["MAX_COLUMNS", "MISSING_VALUES", "NPY_MAGIC", "npy_table", "text_table"]

#: Cell texts read as a missing value, compared after stripping and lower-casing.
MISSING_VALUES: frozenset[str] = frozenset(
    {"", "na", "nan", "n/a", "null", "none", ".", "?", "-nan", "+nan"}
)
#: Most columns a text table may have (a binary file read as text has millions).
MAX_COLUMNS = 10_000
NPY_MAGIC = b"\x93NUMPY"

# Delimiters tried in order of preference when several split the sample into
# the same number of numbers (a ';' file with decimal commas also splits on ',').
_DELIMITERS = ("\t", ";", ",", "|")
_WHITESPACE = None
_SAMPLE_LINES = 200
_CHUNK_LINES = 50_000
# Text is decoded and split into lines in blocks of about this many bytes.
_BLOCK_BYTES = 4 << 20
_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d*,\d+(?:[eE][-+]?\d+)?\s*$")
_QUOTED_OR_BARE = re.compile(r'"((?:[^"]|"")*)"|(\S+)')
# C0 and C1 control characters other than tab, newline, vertical tab, form
# feed and carriage return: real text has (almost) none.
_CONTROL = re.compile(r"[\x01-\x08\x0e-\x1f\x7f-\x9f]")
# ----------------------------------------------------------------------------------------------
# .npy


def npy_table(data: bytes, path: str) -> _ArrayTable:
    """The table of a ``.npy`` file; the header is checked before any allocation.

    Parameters
    ----------
    data : bytes
        The whole file.
    path : str
        The file's name, for messages.
    """
    if not data.startswith(NPY_MAGIC):
        raise DataFileError(
            "not a .npy file: it does not start with the NumPy file signature", path=path
        )
    fp = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(fp)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fp)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fp)
        else:
            raise ValueError(f"format version {version[0]}.{version[1]} is not supported")
    except Exception as exc:  # noqa: BLE001 - untrusted header: ValueError, TokenError, SyntaxError...
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataFileError(
            f"not a valid .npy array file: its header cannot be read ({reason[:200]})", path=path
        ) from None
    if dtype.hasobject:
        raise DataFileError(
            "not a valid .npy array file: it holds Python objects, not numbers", path=path
        )
    if dtype.names is not None:
        raise DataFileError(
            "structured (record) arrays are not supported; save a plain 2D array", path=path
        )
    if dtype.kind not in "biuf":
        raise DataFileError(f"the array holds values of type {dtype}, not real numbers", path=path)
    if len(shape) != 2:
        raise DataFileError(
            f"expected a 2D array of shape (n_points, n_columns); this one has shape {shape}",
            path=path,
        )
    n_rows, n_cols = shape
    if n_cols < 2:
        raise DataFileError(
            f"the array has only {n_cols} column; two are needed (shape {shape})", path=path
        )
    # Python integers: a header claiming (10**12, 2) is compared, not allocated.
    needed = math.prod(shape) * dtype.itemsize
    offset = fp.tell()
    available = len(data) - offset
    if needed > available:
        raise DataFileError(
            f"not a valid .npy array file: the header announces shape {shape} of {dtype} "
            f"({_size(needed)}) but the file holds {_size(available)} of data "
            "(truncated or corrupt)",
            path=path,
        )
    if n_cols > MAX_COLUMNS:
        raise DataFileError(f"the array has {n_cols} columns; at most {MAX_COLUMNS}", path=path)
    flat = np.frombuffer(data, dtype=dtype, count=n_rows * n_cols, offset=offset)
    array = flat.reshape(shape, order="F" if fortran else "C")
    names = tuple(f"column {j + 1}" for j in range(n_cols))
    return _ArrayTable(path, names, array)


def _size(n_bytes: int) -> str:
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.3g} {unit}"
    return f"{n_bytes} bytes"


# ----------------------------------------------------------------------------------------------
# Text: decoding and lines


class _Lines:
    """The lines of a text file, decoded block by block.

    The encoding is chosen once for the whole file: UTF-16 with a byte-order
    mark, else UTF-8 (with or without a BOM) if every byte sequence is valid,
    else Windows-1252, else Latin-1 (which decodes anything).
    """

    def __init__(self, data: bytes, path: str) -> None:
        self.data = data
        self.path = path
        self.text: str | None = None  # the whole text, for UTF-16 only
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            try:
                self.text = data.decode("utf-16")
            except UnicodeDecodeError:
                raise DataFileError("cannot decode this UTF-16 file", path=path) from None
            self.encoding = "utf-16"
            return
        nul = data.find(b"\x00")
        if nul >= 0:
            raise DataFileError(
                "this looks like a binary file, not a text table (it contains NUL bytes)",
                path=path,
                line=data.count(b"\n", 0, nul) + 1,
            )
        # cp1252 agrees with Latin-1 on letters such as 'é' and also decodes the
        # curly quotes that Excel writes; Latin-1 takes any byte as a last resort.
        self.encoding = next(e for e in ("utf-8-sig", "cp1252", "latin-1") if self._decodes(e))
        sample = next(self._texts(), ("", 0))[0][:65536]
        if len(_CONTROL.findall(sample)) > 0.01 * len(sample) + 2:
            raise DataFileError(
                "this looks like a binary file, not a text table (it has control characters)",
                path=path,
            )

    def _decodes(self, encoding: str) -> bool:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            for start, end in self._blocks():
                decoder.decode(self.data[start:end], final=end == len(self.data))
        except UnicodeDecodeError:
            return False
        return True

    def _blocks(self) -> Iterator[tuple[int, int]]:
        """(start, end) byte ranges of about ``_BLOCK_BYTES``, each ending at a line end.

        A line-end byte never occurs inside a UTF-8 or single-byte character,
        and a cut after "\\n" keeps "\\r\\n" whole.
        """
        data, n, start = self.data, len(self.data), 0
        while start < n:
            end = start + _BLOCK_BYTES
            if end >= n:
                yield start, n
                return
            cut = data.rfind(b"\n", start, end)
            if cut < 0:
                cut = data.rfind(b"\r", start, end)  # old Mac line ends
            if cut < 0:  # one very long line: to its end
                found = [i for i in (data.find(b"\n", end), data.find(b"\r", end)) if i >= 0]
                cut = min(found) if found else n - 1
            if data[cut : cut + 2] == b"\r\n":
                cut += 1
            yield start, cut + 1
            start = cut + 1

    def _texts(self) -> Iterator[tuple[str, int]]:
        """(text, byte offset of its end) of each block."""
        if self.text is not None:
            yield self.text, len(self.data)
            return
        decoder = codecs.getincrementaldecoder(self.encoding)()
        n = len(self.data)
        for start, end in self._blocks():
            yield decoder.decode(self.data[start:end], final=end == n), end

    def content(self) -> Iterator[tuple[list[str], list[int], float]]:
        """Lines that are neither blank nor a comment, in chunks of ``_CHUNK_LINES``.

        Yields (lines, their 1-based line numbers, fraction of the file read).
        Line ends are normalised here: ``str.splitlines`` would also split on
        characters such as U+0085 that Latin-1 text may hold inside a cell.
        """
        n = max(len(self.data), 1)
        number = 1
        pending: list[str] = []
        numbers: list[int] = []
        for text, end in self._texts():
            lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
            if end < n and lines[-1] == "":
                lines.pop()  # the block ended with its last line's end
            for i, s in enumerate(lines, number):
                if (t := s.lstrip()) and t[0] != "#":
                    pending.append(s)
                    numbers.append(i)
                    if len(pending) == _CHUNK_LINES:
                        yield pending, numbers, end / n
                        pending, numbers = [], []
            number += len(lines)
        if pending:
            yield pending, numbers, 1.0


# ----------------------------------------------------------------------------------------------
# Text: fields


def _split_fields(lines: list[str], delimiter: str | None) -> list[list[str] | None]:
    """Fields of each line; one entry per line, None for a line the csv module refuses."""
    if delimiter is _WHITESPACE:
        return [_split_whitespace(s) for s in lines]
    if not any('"' in s for s in lines):
        return [s.split(delimiter) for s in lines]
    try:
        rows: list[list[str] | None] = list(
            csv.reader(lines, delimiter=delimiter, skipinitialspace=True)
        )
        if len(rows) == len(lines):
            return rows
    except csv.Error:
        pass
    # An unbalanced quote made the reader run on into the next lines (or past
    # its field size limit). Taking the lines one at a time keeps line numbers
    # right for the error that follows.
    out: list[list[str] | None] = []
    for s in lines:
        try:
            out.append(next(csv.reader([s], delimiter=delimiter, skipinitialspace=True), []))
        except csv.Error:
            out.append(None)
    return out


def _split_whitespace(line: str) -> list[str]:
    if '"' not in line:
        return line.split()
    return [q.replace('""', '"') if b == "" else b for q, b in _QUOTED_OR_BARE.findall(line)]


def _checked_rows(
    lines: list[str], numbers: list[int], delimiter: str | None, path: str
) -> list[list[str]]:
    rows = _split_fields(lines, delimiter)
    for row, number in zip(rows, numbers, strict=True):
        if row is None:
            raise DataFileError(
                f"a field longer than {csv.field_size_limit()} characters "
                "(a quote that is never closed?)",
                path=path,
                line=number,
            )
    return rows  # type: ignore[return-value]


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


def _detect_delimiter(sample: list[str], numbers: list[int], path: str) -> tuple[str | None, bool]:
    """Pick the delimiter that splits the sample lines consistently into the most numbers.

    Returns the delimiter (None for runs of whitespace) and whether numbers
    are written with a decimal comma.
    """
    best: tuple[tuple[bool, int, float, int], str | None, bool] | None = None
    candidates: tuple[str | None, ...] = (*_DELIMITERS, _WHITESPACE)
    for rank, delim in enumerate(candidates):
        if delim is not None and not any(delim in s for s in sample):
            continue
        rows = _checked_rows(sample, numbers, delim, path)
        width, n_width = Counter(len(r) for r in rows).most_common(1)[0]
        if width < 2:
            continue
        consistency = n_width / len(rows)
        cells = [c for r in rows[1:] for c in r] or [c for r in rows for c in r]
        decimal_comma = delim != "," and any(_DECIMAL_COMMA.match(c) for c in cells)
        numbers_found = sum(_parses(c, decimal_comma) for c in cells)
        # A delimiter that splits most lines alike beats one that does not;
        # ragged lines are then reported where they are, by line number.
        key = (consistency >= 0.8, numbers_found, consistency, -rank)
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


# ----------------------------------------------------------------------------------------------
# Tables


class _ArrayTable(Table):
    """A ``.npy`` array: every column is numeric."""

    def __init__(self, path: str, names: tuple[str, ...], array: np.ndarray) -> None:
        super().__init__(path, names)
        self.array = array

    def pair(self, j0: int, j1: int, report: Report) -> tuple[np.ndarray, ...]:
        out = []
        for j in (j0, j1):
            values = np.ascontiguousarray(self.array[:, j], dtype=np.float64)
            inf = np.isinf(values)
            if inf.any():
                i = int(np.argmax(inf))
                raise DataFileError(
                    f"infinite value ({values[i]}) in row {i + 1}; coordinates must be finite",
                    path=self.path,
                    column=self.column_label(j),
                )
            out += [values, np.isnan(values)]
            report(0.5 if j == j0 else 0.95)
        return tuple(out)


class _TextTable(Table):
    """A text table: names and kinds of columns from the first lines, values streamed."""

    def __init__(
        self,
        lines: _Lines,
        names: tuple[str, ...],
        *,
        delimiter: str | None,
        decimal_comma: bool,
        has_header: bool,
        skip: tuple[int, ...],
        sample: list[list[str]],
    ) -> None:
        super().__init__(lines.path, names, has_header=has_header, skip=skip)
        self.lines = lines
        self.delimiter = delimiter
        self.decimal_comma = decimal_comma
        self.sample = sample  # the first data rows

    def _numeric_indices(self) -> list[int]:
        out = []
        for j in range(self.n_cols):
            if j in self.skip:
                continue
            numeric, present = _numeric_share(
                [r[j] for r in self.sample if j < len(r)], self.decimal_comma
            )
            # A majority rule rather than "every cell": a typo in a column of
            # numbers must end in an error naming the cell, not in the column
            # silently disappearing from the choice.
            if present and 2 * numeric >= present:
                out.append(j)
        return out

    def pair(self, j0: int, j1: int, report: Report) -> tuple[np.ndarray, ...]:
        """Stream the data rows once, converting only columns j0 and j1.

        Problems are reported in this order, each at its first line: a row
        with the wrong number of fields, a cell of column j0 that is not a
        number, an infinite value in j0, then the same for j1.
        """
        parts: dict[int, list[np.ndarray]] = {j0: [], j1: []}
        first_bad: dict[int, DataFileError] = {}
        first_inf: dict[int, DataFileError] = {}
        skip_header = self.has_header
        # Millions of small lists would otherwise trigger the cyclic garbage
        # collector again and again, which takes three times as long as the splitting.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            for lines, numbers, fraction in self.lines.content():
                if skip_header:
                    lines, numbers, skip_header = lines[1:], numbers[1:], False
                rows = _checked_rows(lines, numbers, self.delimiter, self.path)
                self._check_ragged(rows, numbers)
                for j in (j0, j1):
                    values = self._convert(rows, numbers, j, first_bad)
                    if j not in first_inf:
                        self._find_inf(values, rows, numbers, j, first_inf)
                    parts[j].append(values)
                del rows
                report(0.05 + 0.9 * fraction)
        finally:
            if gc_was_enabled:
                gc.enable()
        for j in (j0, j1):
            for found in (first_bad, first_inf):
                if j in found:
                    raise found[j]
        out = []
        for j in (j0, j1):
            values = np.concatenate(parts.pop(j)) if parts[j] else np.empty(0)
            out += [values, np.isnan(values)]
        return tuple(out)

    def _check_ragged(self, rows: list[list[str]], numbers: list[int]) -> None:
        """Every data row must have as many fields as the header (or the first rows)."""
        n = self.n_cols
        for row, number in zip(rows, numbers, strict=True):
            if len(row) == n:
                continue
            # Extra empty fields come from a trailing delimiter: harmless.
            if len(row) > n and not any(c.strip() for c in row[n:]):
                continue
            like = "the header" if self.has_header else "the first lines"
            raise DataFileError(
                f"this row has {len(row)} field{'s' if len(row) != 1 else ''} where {like} has {n}",
                path=self.path,
                line=number,
            )

    def _convert(
        self, rows: list[list[str]], numbers: list[int], j: int, first_bad: dict
    ) -> np.ndarray:
        cells = [r[j] for r in rows]
        if self.decimal_comma:
            cells = [c.replace(",", ".") for c in cells]
        try:
            return np.array(cells, dtype=np.float64)
        except ValueError:
            pass
        # Missing values, and the first cell that is not a number, located.
        values = np.full(len(cells), np.nan)
        for i, c in enumerate(cells):
            if _is_missing(c):
                continue
            try:
                values[i] = float(c)
            except ValueError:
                if j not in first_bad:
                    first_bad[j] = DataFileError(
                        f"{shown(rows[i][j].strip())} is not a number",
                        path=self.path,
                        line=numbers[i],
                        column=self.column_label(j),
                    )
        return values

    def _find_inf(
        self, values: np.ndarray, rows: list[list[str]], numbers: list[int], j: int, found: dict
    ) -> None:
        inf = np.isinf(values)
        if inf.any():
            i = int(np.argmax(inf))
            found[j] = DataFileError(
                f"infinite value {shown(rows[i][j].strip())}; coordinates must be finite",
                path=self.path,
                line=numbers[i],
                column=self.column_label(j),
            )


def text_table(data: bytes, path: str) -> _TextTable:
    """The table of a text file: delimiter, header and columns from its first lines.

    Parameters
    ----------
    data : bytes
        The whole file (or, for a preview, its beginning cut at a line end).
    path : str
        The file's name, for messages.
    """
    lines = _Lines(data, path)
    first = next(lines.content(), None)
    if first is None:
        raise DataFileError("the file has no data (only blank or comment lines)", path=path)
    content, numbers = first[0][: _SAMPLE_LINES + 1], first[1][: _SAMPLE_LINES + 1]
    delimiter, decimal_comma = _detect_delimiter(
        content[:_SAMPLE_LINES], numbers[:_SAMPLE_LINES], path
    )
    rows = _checked_rows(content, numbers, delimiter, path)
    sample_rows = rows[:_SAMPLE_LINES]
    if max(map(len, rows)) > MAX_COLUMNS:
        raise DataFileError(
            f"a line has more than {MAX_COLUMNS} fields; this is not a table of points",
            path=path,
            line=numbers[int(np.argmax([len(r) for r in rows]))],
        )
    has_header = _detect_header(sample_rows, decimal_comma)
    if has_header:
        header = [name_of(c) for c in rows[0]]
        body = rows[1:]
        if not body:
            raise DataFileError(
                "the file has a header line but no data rows", path=path, line=numbers[0]
            )
        data_width = Counter(len(r) for r in body[:_SAMPLE_LINES]).most_common(1)[0][0]
        # A trailing delimiter on the header line only makes empty names.
        while len(header) > 1 and header[-1] == "" and data_width < len(header):
            header.pop()
        if data_width == len(header) + 1:
            # R's write.table writes no name for the row-name column.
            header.insert(0, "")
        names = [h if h else f"column {j + 1}" for j, h in enumerate(header)]
        index_column = header[0] == "" and _looks_like_row_names(
            [r[0] for r in body[:_SAMPLE_LINES] if r]
        )
    else:
        body = rows
        n_cols = Counter(len(r) for r in sample_rows).most_common(1)[0][0]
        names = [f"column {j + 1}" for j in range(n_cols)]
        index_column = False
    if len(names) < 2:
        raise DataFileError(
            "the file has only one column; two columns of numbers are needed "
            "(the separator may be one that is not recognised: use a comma, tab, "
            "semicolon or spaces)",
            path=path,
        )
    return _TextTable(
        lines,
        tuple(names),
        delimiter=delimiter,
        decimal_comma=decimal_comma,
        has_header=has_header,
        skip=(0,) if index_column else (),
        sample=body[:_SAMPLE_LINES],
    )
