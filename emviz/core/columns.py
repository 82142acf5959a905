"""Choosing two columns of a table, by name or by index, with messages that say which exist.

:class:`Table` is the part shared by the readers of :mod:`emviz.core.readers`
(a ``.npy`` array, a text table): column names, which are numeric, and the
resolution of a user's choice (``("bill_length_mm", 3)``) into two indices.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from emviz.core.errors import DataFileError

__all__ = ["MAX_NAME_CHARS", "Report", "Table", "name_of", "shown"]

#: Longest column name kept (a longer header cell is cut, ending in "…"): names
#: become axis labels, menu items and session-file fields.
MAX_NAME_CHARS = 1_000

#: A progress report: the fraction done, in [0, 1].
Report = Callable[[float], None]

# Cell texts and names are cut to this many characters in messages.
_SHOWN_CHARS = 60
# Columns listed in a message before "... and N more".
_LISTED_COLUMNS = 40


def name_of(cell: str) -> str:
    """A header cell as a column name: stripped, and cut to :data:`MAX_NAME_CHARS`."""
    name = cell.strip()
    return name if len(name) <= MAX_NAME_CHARS else name[: MAX_NAME_CHARS - 1] + "…"


def shown(text: str) -> str:
    """``repr`` of a cell or a name, cut for a message (a 1 MB cell must not fill a dialog)."""
    if len(text) <= _SHOWN_CHARS:
        return repr(text)
    return repr(text[:_SHOWN_CHARS]) + f"... ({len(text)} characters)"


class Table:
    """Column names and the choice of two of them; subclasses give the values."""

    def __init__(
        self,
        path: str,
        names: tuple[str, ...],
        *,
        has_header: bool = False,
        skip: tuple[int, ...] = (),
    ) -> None:
        self.path = path
        self.names = names
        self.n_cols = len(names)
        self.has_header = has_header
        self.skip = skip

    def column_label(self, j: int) -> str | int:
        """How an error message names column j: its name, or its 1-based number."""
        # Columns with no name in the header get "column 3"-style names; the
        # number alone reads better after the word "column".
        named = self.has_header and self.names[j] != f"column {j + 1}"
        return self.names[j][:_SHOWN_CHARS] if named else j + 1

    def numeric_names(self) -> tuple[str, ...]:
        return tuple(self.names[j] for j in self._numeric_indices())

    def _numeric_indices(self) -> list[int]:
        return list(range(self.n_cols))

    def _available(self) -> str:
        numeric = set(self._numeric_indices())
        parts = []
        for j, name in enumerate(self.names):
            if j in self.skip:
                continue
            note = "" if j in numeric else ", text"
            parts.append(f"{j}: {shown(name)}{note}")
        if len(parts) > _LISTED_COLUMNS:
            parts[_LISTED_COLUMNS:] = [f"... and {len(parts) - _LISTED_COLUMNS} more"]
        return "; ".join(parts)

    def resolve(self, spec: tuple[str | int, str | int] | None) -> tuple[int, int]:
        """0-based indices of the two chosen columns."""
        if spec is None:
            numeric = self._numeric_indices()
            if len(numeric) < 2:
                found = (
                    "no column"
                    if not numeric
                    else f"only one column ({shown(self.names[numeric[0]])})"
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
                f"the two chosen columns are the same column ({shown(self.names[indices[0]])}); "
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
                f"several columns are named {shown(c)} (indices "
                f"{', '.join(map(str, matches))}); choose one by index",
                path=self.path,
            )
        raise DataFileError(
            f"there is no column named {shown(c)}. "
            f"Columns (0-based index: name): {self._available()}",
            path=self.path,
        )

    def pair(self, j0: int, j1: int, report: Report) -> tuple[np.ndarray, ...]:
        """Columns j0 and j1 as float64 and their missing-value masks, all of shape (n_rows,)."""
        raise NotImplementedError
