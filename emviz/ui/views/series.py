"""Per-snapshot numbers of the history in growable arrays, for the plots along the history."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

__all__ = ["PHASE_CODES", "SnapshotSeries"]

#: Phase of a snapshot as a small integer ("phase" field of a series).
PHASE_CODES = {"init": 0, "E": 1, "M": 2}


class SnapshotSeries:
    """One array per field, with a value per snapshot of the history; ``n`` filled so far.

    Each redraw of a plot along the history calls :meth:`sync`, which appends
    only the snapshots added since (a long run would otherwise read the whole
    history again every frame); a rewritten history (stepping from the past,
    a new start) is read again from the start.

    Parameters
    ----------
    fields : mapping of str to (dtype, function)
        For each field, its dtype and the function that takes its value from
        a snapshot.  Field "x" (the index, float) is always there.

    Attributes
    ----------
    arrays : dict of str to array of shape (capacity,)
        The buffers; :meth:`get` gives their filled part.
    """

    def __init__(self, fields: Mapping[str, tuple[type, Callable]], capacity: int = 256) -> None:
        self.fields = dict(fields)
        self.n = 0
        self.snaps: list = []  # the snapshot objects appended, to detect rewrites
        self.arrays: dict[str, np.ndarray] = {}
        self._alloc(capacity)

    def _alloc(self, capacity: int) -> None:
        old = self.arrays
        self.arrays = {"x": np.arange(capacity, dtype=float)}
        for name, (dtype, _) in self.fields.items():
            self.arrays[name] = np.empty(capacity, dtype=dtype)
            if old:
                self.arrays[name][: self.n] = old[name][: self.n]

    def clear(self) -> None:
        self.n = 0
        self.snaps = []

    def append(self, snaps: list) -> None:
        m = len(snaps)
        if not m:
            return
        capacity = len(self.arrays["x"])
        if self.n + m > capacity:
            self._alloc(max(2 * capacity, self.n + m))
        window = slice(self.n, self.n + m)
        for name, (_, value) in self.fields.items():
            self.arrays[name][window] = [value(s) for s in snaps]
        self.snaps.extend(snaps)
        self.n += m

    def get(self, field: str) -> np.ndarray:
        return self.arrays[field][: self.n]

    def sync(self, history: list) -> bool:
        """Bring the series up to ``history``; returns True if it was read again from the start."""
        n = self.n
        same_prefix = n <= len(history) and (
            n == 0 or (history[n - 1] is self.snaps[n - 1] and history[0] is self.snaps[0])
        )
        if same_prefix:
            self.append(history[n:])
            return False
        self.clear()
        self.append(history)
        return True
