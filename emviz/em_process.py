"""EM in a child process, so that drawing never slows it down.

A run on a thread shares the interpreter lock with the window: each of the
E-step's numpy calls must take the lock back before the next one starts, and
while the window draws (Python code holding the lock) the worker waits up to
the switch interval for it.  Measured on a 2-core machine, EM ran at a quarter
to two thirds of its speed while the window drew.  A child process has an
interpreter of its own, so EM runs at full speed on the second core.

What crosses between the two processes:

* commands and snapshots without responsibilities (a few hundred bytes each)
  through a :func:`multiprocessing.Pipe`;
* the points, once per data set, and the responsibilities of each new
  posterior through shared memory: the child writes them into one of two
  slots of a ring, the parent copies them out and frees the slot.  An "M"
  snapshot shares the responsibilities of the "E" snapshot before it (the
  posterior the M-step used), so only one array of shape (n_samples, K)
  crosses per iteration.

The child runs :func:`emviz.core.em.iterate_em`, the one EM loop, exactly as a
thread would: the snapshots, their numbers and the responsibilities are
bit for bit those of a run on a thread.

This module has no Qt; :class:`emviz.worker.ProcessRelay` brings the
messages into the Qt event loop.

Usage::

    proc = EMProcess()
    token = proc.load(X)                     # array of shape (n_samples, 2)
    proc.run(1, token, start, dict(cov_type="full", reg_covar=1e-6, tol=1e-6,
             max_iter=100, bound=True), n_components=3)
    while (msg := proc.receive())[0] != "finished":   # on a reader thread
        ...
    proc.close()
"""

from __future__ import annotations

import multiprocessing
import os
import time
from dataclasses import replace
from multiprocessing import shared_memory
from typing import Any

import numpy as np

from emviz.core.em import Snapshot

__all__ = ["EMProcess", "RING_SLOTS", "shared_memory_room"]

#: Slots of the responsibilities ring, each of n_samples x K floats.  The
#: parent copies a slot out in a few milliseconds; the child never waits
#: for one (see :func:`_run`).
RING_SLOTS = 2

# Snapshots are sent in batches at most this often, in seconds: on small
# data EM makes hundreds a second, and one message per snapshot would keep
# the parent's reader thread (which shares the window's interpreter lock)
# from keeping up; the pipe would fill and stall EM.
_BATCH_INTERVAL = 0.01

# Scheduling priority of the child below the window's (Unix "nice" increment).
_NICENESS = 5

# How often the child looks at the cancel flag while it waits (a slot of the
# ring, or the pacing delay between snapshots), in seconds.
_POLL = 0.01


def shared_memory_room(n_bytes: int) -> bool:
    """Whether ``n_bytes`` more of shared memory fit (with a margin).

    On Linux shared memory lives in /dev/shm, which containers often cap at
    64 MB; writing past the cap kills the process with SIGBUS, so a run that
    would not fit goes to a thread instead.
    """
    try:
        st = os.statvfs("/dev/shm")
    except (OSError, AttributeError):
        return True  # not Linux: shared memory is backed by the page file
    return st.f_bavail * st.f_frsize > 2 * n_bytes


class _Shared:
    """A block of shared memory seen as a float64 array (either side)."""

    def __init__(self, shape: tuple[int, ...], name: str | None = None) -> None:
        size = max(8, int(np.prod(shape)) * 8)
        if name is None:
            self.shm = shared_memory.SharedMemory(create=True, size=size)
            self.owner = True
        else:
            # Attaching registers the block with the resource tracker again
            # (Python < 3.13); the child shares its parent's tracker, which
            # keeps one entry per name, so the creator's unlink settles it.
            self.shm = shared_memory.SharedMemory(name=name)
            self.owner = False
        self.name = self.shm.name
        self.array = np.ndarray(shape, dtype=np.float64, buffer=self.shm.buf)

    def close(self) -> None:
        self.array = None  # the buffer cannot close while an array exports it
        try:
            self.shm.close()
        finally:
            if self.owner:
                try:
                    self.shm.unlink()
                except FileNotFoundError:
                    pass


# ---------------------------------------------------------------- child side


def _serve(conn, cancelled, delay, free_slots) -> None:  # pragma: no cover - child process
    """The child's loop: load data sets and run EM until told to quit.

    Parameters
    ----------
    conn : Connection
        Its end of the pipe.
    cancelled : Value("q")
        Runs with an id up to this value are cancelled.
    delay : Value("d")
        Seconds to wait after each snapshot (read afresh each time).
    free_slots : Semaphore
        Free slots of the responsibilities ring.
    """
    # The window comes first: on a machine with as many busy threads as
    # cores, the scheduler then takes the time for drawing from EM rather
    # than make the window stutter.
    if hasattr(os, "nice"):
        os.nice(_NICENESS)
    _Child(conn, cancelled, delay, free_slots).serve()


class _Child:  # pragma: no cover - runs in the child process
    def __init__(self, conn, cancelled, delay, free_slots) -> None:
        self.conn = conn
        self.cancelled = cancelled
        self.delay = delay
        self.free_slots = free_slots
        self.data = {}  # token -> PreparedData, one data set at a time

    def serve(self) -> None:
        conn = self.conn
        while True:
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                return
            kind = msg[0]
            if kind == "quit":
                return
            if kind == "load":
                self.load(*msg[1:])
            elif kind == "run":
                _, run_id, token, start, kwargs, ring_name, ring_shape = msg
                ring = _Shared(ring_shape, ring_name)
                try:
                    reason = self.run(run_id, self.data.get(token), start, kwargs, ring)
                except Exception as exc:  # reported to the window, never lost in the child
                    conn.send(("failed", run_id, str(exc)))
                    reason = "error"
                finally:
                    ring.close()
                conn.send(("finished", run_id, reason))

    def load(self, token: int, name: str, n: int) -> None:
        from emviz.core.em import prepare

        block = _Shared((n, 2), name)
        try:
            X = block.array.copy()
        finally:
            block.close()
        self.data.clear()
        try:
            self.data[token] = prepare(X)
            self.conn.send(("loaded", token, None))
        except Exception as exc:  # the parent checked X; report rather than die
            self.conn.send(("loaded", token, str(exc)))

    def cancelled_run(self, run_id: int) -> bool:
        return self.cancelled.value >= run_id

    def run(self, run_id: int, data, start, kwargs: dict, ring: _Shared) -> str:
        if data is None:
            raise RuntimeError("the EM process lost the data set")
        batch: list[tuple] = []
        sent = time.monotonic()

        def send(entry: tuple, now: bool = False) -> None:
            nonlocal sent
            batch.append(entry)
            if now or self.delay.value > 0 or time.monotonic() - sent >= _BATCH_INTERVAL:
                self.conn.send(("snapshots", run_id, batch[:]))
                batch.clear()
                sent = time.monotonic()

        try:
            return self._iterate(run_id, data, start, kwargs, ring, send)
        finally:
            if batch:
                self.conn.send(("snapshots", run_id, batch))

    def _iterate(self, run_id: int, data, start, kwargs: dict, ring: _Shared, send) -> str:
        from emviz.core.em import iterate_em

        last_resp, last_slot, slot = None, -1, -1
        for snap in iterate_em(None, start, data=data, **kwargs):
            if self.cancelled_run(run_id):
                return "stopped"
            resp = snap.resp
            if resp is None:
                send((snap, -1, False))
            elif resp is last_resp:
                send((snap.without_resp(), last_slot, False))
            elif self.free_slots.acquire(block=False):
                # Slots are filled in turn and copied out in the same order,
                # so the next one in turn is the free one.
                slot = (slot + 1) % RING_SLOTS
                # resp is the transpose of a C-ordered (K, n) array: copy that.
                np.copyto(ring.array[slot], resp.T)
                last_resp, last_slot = resp, slot
                # Sent at once: the parent frees the slot when it has it.
                send((snap.without_resp(), slot, True), now=True)
            else:
                # The parent has not copied out the last posteriors yet (its
                # window is busy, and EM makes hundreds a second on small
                # data): send the parameters alone rather than wait.  The
                # window recomputes these responsibilities if it shows them.
                last_resp, last_slot = resp, -1
                send((snap.without_resp(), -1, False))
            if snap.converged:
                return "converged"
            deadline = time.monotonic() + self.delay.value
            while self.delay.value > 0 and time.monotonic() < deadline:
                if self.cancelled_run(run_id):
                    return "stopped"
                time.sleep(min(_POLL, max(0.0, deadline - time.monotonic())))
        return "max_iter"


# --------------------------------------------------------------- parent side


class EMProcess:
    """The parent's handle on one EM child process.

    Commands (:meth:`load`, :meth:`run`, :meth:`cancel`, :meth:`set_delay`,
    :meth:`close`) are called from the GUI thread and never block on the
    child; :meth:`receive` blocks and is called from one reader thread.
    The child starts with the first command.
    """

    def __init__(self) -> None:
        self._ctx = multiprocessing.get_context("spawn")
        self._cancelled = self._ctx.Value("q", 0, lock=False)
        self._delay = self._ctx.Value("d", 0.0, lock=False)
        self._free_slots = self._ctx.Semaphore(RING_SLOTS)
        self._conn, child_conn = self._ctx.Pipe(duplex=True)
        self._process = self._ctx.Process(
            target=_serve,
            args=(child_conn, self._cancelled, self._delay, self._free_slots),
            name="emviz-em",
            daemon=True,
        )
        self._process.start()
        child_conn.close()
        self._token = 0
        self._loading: dict[int, _Shared] = {}
        self._rings: dict[int, _Shared] = {}
        self._last_resp: dict[int, np.ndarray] = {}
        self.loaded_token = 0
        self.closed = False

    @property
    def alive(self) -> bool:
        return not self.closed and self._process.is_alive()

    def load(self, X: np.ndarray) -> int:
        """Send the points (array of shape (n_samples, 2)); returns their token."""
        X = np.ascontiguousarray(X, dtype=np.float64)
        self._token += 1
        block = _Shared(X.shape)
        block.array[...] = X
        self._loading[self._token] = block
        self._conn.send(("load", self._token, block.name, X.shape[0]))
        return self._token

    def run(
        self,
        run_id: int,
        token: int,
        start: Snapshot | Any,
        kwargs: dict,
        n_samples: int,
        n_components: int,
    ) -> None:
        """Start run ``run_id`` of ``iterate_em(None, start, data=<token's data>, **kwargs)``.

        A run still going is cancelled first (the child takes commands in
        order, so this run starts when that one has stopped).
        """
        self.cancel(run_id - 1)
        if isinstance(start, Snapshot):
            start = start.without_resp()
        ring = _Shared((RING_SLOTS, n_components, n_samples))
        self._rings[run_id] = ring
        self._conn.send(("run", run_id, token, start, kwargs, ring.name, ring.array.shape))

    def cancel(self, run_id: int) -> None:
        """Cancel every run with an id up to ``run_id``."""
        if run_id > self._cancelled.value:
            self._cancelled.value = run_id

    def set_delay(self, seconds: float) -> None:
        self._delay.value = float(seconds)

    def receive(self) -> tuple:
        """The next message from the child (blocks; call from one reader thread).

        Returns one of ``("snapshots", run_id, [Snapshot, ...])`` (with
        their responsibilities), ``("failed", run_id, message)``,
        ``("finished", run_id, reason)``, ``("loaded", token, error or None)``
        and ``("closed",)`` once the child is gone.
        """
        while True:
            try:
                msg = self._conn.recv()
            except (EOFError, OSError):
                return ("closed",)
            kind = msg[0]
            if kind == "snapshots":
                run_id = msg[1]
                return ("snapshots", run_id, [self._attach_resp(run_id, *e) for e in msg[2]])
            if kind == "loaded":
                block = self._loading.pop(msg[1], None)
                if block is not None:
                    block.close()
                if msg[2] is None:
                    self.loaded_token = msg[1]
                return msg
            if kind == "finished":
                ring = self._rings.pop(msg[1], None)
                if ring is not None:
                    ring.close()
                self._last_resp.pop(msg[1], None)
            return msg

    def _attach_resp(self, run_id: int, snap: Snapshot, slot: int, fresh: bool) -> Snapshot:
        if slot < 0:
            return snap
        if fresh:
            ring = self._rings[run_id]
            if self._cancelled.value >= run_id:
                resp = None  # nobody will look at it
            else:
                resp_t = ring.array[slot].copy()
                resp_t.setflags(write=False)
                resp = resp_t.T
            self._free_slots.release()
            self._last_resp[run_id] = resp
        else:
            resp = self._last_resp.get(run_id)
        return replace(snap, resp=resp)

    def close(self, timeout: float = 2.0) -> None:
        """Stop the child, cancelling any run; the reader then receives ``("closed",)``.

        Call :meth:`release` once the reader thread has ended.
        """
        if self.closed:
            return
        self.closed = True
        self.cancel(2**62)
        try:
            self._conn.send(("quit",))
        except (OSError, ValueError):
            pass
        self._process.join(timeout)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(timeout)

    def release(self) -> None:
        """Free the pipe and the shared memory (after the reader has ended)."""
        self._conn.close()
        for block in [*self._loading.values(), *self._rings.values()]:
            block.close()
        self._loading.clear()
        self._rings.clear()
        self._last_resp.clear()
