"""Exceptions raised by the numeric core.

Every error that bad input can cause is a :class:`ValueError` subclass whose
message names the problem, so that scripts can catch ``ValueError`` and the
GUI can show the message as it is.
"""

from __future__ import annotations


class EmvizError(ValueError):
    """Bad input to the numeric core (shapes, values, parameters)."""


class DataFileError(EmvizError):
    """A data file that cannot be read, with where the problem is.

    Parameters
    ----------
    message : str
        What is wrong, in words a user understands.
    path : str or None
        The file.
    line : int or None
        1-based line number in the file, if the problem has one.
    column : int or str or None
        1-based column number or column name, if the problem has one.
    """

    def __init__(
        self,
        message: str,
        path: str | None = None,
        line: int | None = None,
        column: int | str | None = None,
    ) -> None:
        self.reason = message
        self.path = path
        self.line = line
        self.column = column
        where = []
        if path is not None:
            where.append(str(path))
        if line is not None:
            where.append(f"line {line}")
        if column is not None:
            where.append(f"column {column}")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class LoadCancelled(EmvizError):
    """Reading a file or replaying a session was cancelled (by a progress callback or
    a ``should_stop`` that answered True); nothing was changed."""
