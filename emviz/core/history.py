"""The history of an EM fit: one snapshot per half-step and a cursor on one of them.

History keeps the parameters of every half-step; responsibilities (arrays of
shape (n_samples, n_components), the bulk of the memory) are kept only for
the snapshot last asked for and recomputed when another one is asked for:

* an "E" snapshot's are the posterior under its own mixture;
* an "M" snapshot's are the posterior under the previous snapshot's mixture
  (the responsibilities the M-step used);
* an "init" snapshot has none.

The posterior is computed by a function passed in, so this module knows
nothing of the data.  No Qt: :class:`emviz.session.Session` wraps it.

Usage::

    history = History(lambda mixture: e_step(X, mixture)[0])
    history.reset([first])          # the "init" snapshot
    history.append(next_snapshot)   # the cursor moves to it
    history.set_index(0)            # show the start again
    history.truncate()              # stepping from the past drops the future
    resp = history.resp_at(1)       # recomputed, then cached
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from emviz.core.mixture import Mixture
    from emviz.core.snapshot import Snapshot

__all__ = ["History"]

#: A posterior: the responsibilities of every point under a mixture, array of
#: shape (n_samples, n_components), or None when there are no points.
Posterior = Callable[["Mixture"], "np.ndarray | None"]


class History:
    """Snapshots of every half-step, a cursor, and responsibilities on demand.

    Parameters
    ----------
    posterior : callable
        ``posterior(mixture)`` -> array of shape (n_samples, n_components) or
        None: the responsibilities of the points under ``mixture``.
    cache_size : int, default 1
        Posteriors kept (the most recently asked for).  One is what a window
        needs; each costs n_samples x n_components floats.

    Attributes
    ----------
    index : int
        The snapshot shown; -1 when the history is empty.
    """

    def __init__(self, posterior: Posterior, cache_size: int = 1) -> None:
        if cache_size < 1:
            raise ValueError(f"cache_size must be at least 1; got {cache_size}")
        self._posterior = posterior
        self._cache_size = int(cache_size)
        self._snapshots: list[Snapshot] = []
        self.index = -1
        # index -> responsibilities (or None for "init"), oldest first.
        self._cache: dict[int, np.ndarray | None] = {}
        # During a run, the newest posterior received: it stands in for the
        # newest snapshot's when that came without its own (see append).
        self._stand_in: np.ndarray | None = None
        # What each snapshot maximised (the settings that change the
        # objective, such as reg_covar's floor), parallel to _snapshots.
        self._objectives: list[object] = []
        self._changes: dict[int, str] = {}  # see changes()

    # ------------------------------------------------------------- reading

    @property
    def snapshots(self) -> list[Snapshot]:
        """Every snapshot, without responsibilities, oldest first (do not modify)."""
        return self._snapshots

    def __len__(self) -> int:
        return len(self._snapshots)

    def __bool__(self) -> bool:
        return bool(self._snapshots)

    def __iter__(self) -> Iterator[Snapshot]:
        return iter(self._snapshots)

    def __getitem__(self, index):
        return self._snapshots[index]

    @property
    def shown(self) -> Snapshot | None:
        """The snapshot at the cursor, without responsibilities (None if empty)."""
        return self._snapshots[self.index] if self._snapshots else None

    @property
    def at_end(self) -> bool:
        """Whether the cursor is on the newest snapshot."""
        return self.index == len(self._snapshots) - 1

    def resp_at(self, index: int) -> np.ndarray | None:
        """Responsibilities of snapshot ``index``, array of shape (n_samples, K) or None.

        During a run (see :meth:`append`) the newest snapshot's may be those
        of a step or two before it; otherwise they are always its own.
        """
        index = range(len(self._snapshots))[index]  # negative indices, IndexError
        if index in self._cache:
            return self._cache[index]
        if self._stand_in is not None and index == len(self._snapshots) - 1:
            return self._stand_in
        snap = self._snapshots[index]
        if snap.phase == "init":
            resp = None
        elif snap.phase == "E" or index == 0:
            resp = self._posterior(snap.mixture)
        else:
            resp = self._posterior(self._snapshots[index - 1].mixture)
        self._remember(index, resp)
        return resp

    def _remember(self, index: int, resp: np.ndarray | None) -> None:
        self._cache.pop(index, None)
        self._cache[index] = resp
        while len(self._cache) > self._cache_size:
            del self._cache[next(iter(self._cache))]

    def changes(self) -> dict[int, str]:
        """Where the objective changed: index of the first snapshot after it -> what changed.

        A snapshot computed under another objective than the one before it
        (see :meth:`append`'s ``objective``), or a new start ("init") in the
        middle of the history (a component re-seeded, the mixture edited).
        Across such a point the log-likelihood may fall: it is not an EM
        step that lowered it.
        """
        return dict(self._changes)

    # ------------------------------------------------------------- changing

    def reset(self, snapshots: Sequence[Snapshot] = (), objective: object = None) -> None:
        """Replace every snapshot (their responsibilities are dropped); the cursor on the last.

        ``objective`` is what every one of them maximised (see :meth:`append`).
        """
        self._snapshots = [snap.without_resp() for snap in snapshots]
        self._objectives = [objective] * len(self._snapshots)
        self._changes = {
            i: _NEW_START for i, snap in enumerate(self._snapshots) if i and snap.phase == "init"
        }
        self.index = len(self._snapshots) - 1
        self.forget_resp()

    def forget_resp(self) -> None:
        """Drop every posterior held (the data changed, or a run's stand-in is done)."""
        self._cache.clear()
        self._stand_in = None

    def end_run(self) -> None:
        """A run is over: its stand-in posterior is let go (see :meth:`append`)."""
        self._stand_in = None

    def set_index(self, index: int) -> int:
        """Move the cursor to ``index``, clipped to the history; returns the new index."""
        if self._snapshots:
            self.index = int(min(max(index, 0), len(self._snapshots) - 1))
        return self.index

    def truncate(self) -> bool:
        """Drop the snapshots after the cursor: stepping from the past rewrites the future.

        Returns whether any snapshot was dropped.
        """
        if self.at_end:
            return False
        del self._snapshots[self.index + 1 :]
        del self._objectives[self.index + 1 :]
        for index in [i for i in self._changes if i > self.index]:
            del self._changes[index]
        for index in [i for i in self._cache if i > self.index]:
            del self._cache[index]
        return True

    def append(self, snap: Snapshot, running: bool = False, objective: object = None) -> None:
        """Add ``snap`` after the last snapshot and move the cursor to it.

        ``objective`` names what the step maximised, as a mapping of the
        settings that define it (``{"reg_covar": 1e-6}``): a snapshot whose
        objective differs from the one before it is listed by
        :meth:`changes`.

        Its responsibilities, if it has any, are kept for it.  A snapshot
        received during a run (``running``) without them has the newest
        posterior received stand in for its own until the run ends: EM
        moves on, and computing the posterior here would stall the caller
        for colours that change by a step.  A posterior held before is let
        go of at once (it may hold shared memory the run needs back).
        """
        self._snapshots.append(snap.without_resp())
        self._objectives.append(objective)
        self.index = len(self._snapshots) - 1
        if self.index > 0:
            before = self._objectives[-2]
            if before != objective:
                self._changes[self.index] = _difference(before, objective)
            elif snap.phase == "init":
                self._changes[self.index] = _NEW_START
        if snap.resp is not None or snap.phase == "init":
            self._cache.clear()
            self._remember(self.index, snap.resp)
            self._stand_in = snap.resp if running else None
        else:
            self._cache.clear()


_NEW_START = "a new start (the mixture was edited)"


def _value(v: object) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _difference(before: object, after: object) -> str:
    """What changed: "reg_covar 1e-06 → 0.001" for mappings of settings."""
    if isinstance(before, dict) and isinstance(after, dict):
        keys = [k for k in {**before, **after} if before.get(k) != after.get(k)]
        return "; ".join(
            f"{k} {_value(before.get(k, '?'))} → {_value(after.get(k, '?'))}" for k in keys
        )
    return f"{_value(before)} → {_value(after)}"
