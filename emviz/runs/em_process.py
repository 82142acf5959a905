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
  posterior through shared memory: the child writes them into a free slot
  of a ring (:class:`_Ring`) and the window reads them there, with no copy,
  for as long as it holds on to them; the slot is free again once the last
  array viewing it is gone.  An "M" snapshot shares the responsibilities of
  the "E" snapshot before it (the posterior the M-step used), so only one
  array of shape (n_samples, K) crosses per iteration.  The ring is kept
  from one run to the next while the data and K stay the same.

The child runs :func:`emviz.core.em.iterate_em`, the one EM loop, exactly as a
thread would: the snapshots, their numbers and the responsibilities are
bit for bit those of a run on a thread.

This module has no Qt; :class:`emviz.runs.em_runner.ProcessRunner` brings the
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
import threading
import time
import weakref
from dataclasses import replace
from multiprocessing import shared_memory
from typing import Any

import numpy as np

from emviz.core.snapshot import Snapshot

__all__ = ["EMProcess", "RING_SLOTS", "ring_slots", "shared_bytes", "shared_memory_room"]

#: Fewest slots of the responsibilities ring, each of n_samples x K floats:
#: the window holds the posterior it shows and the newest one, not drawn
#: yet, while the child fills a third.  With fewer, EM outpaces the frames
#: on mid-sized data (400,000 points) and a step finding no free slot is
#: recomputed on the GUI thread if shown.  The child fills the lowest free
#: slot, so a slot costs memory only once written: while the window keeps
#: up (each new posterior drawn before the next), two are in use.
RING_SLOTS = 3
# A fourth slot while the ring stays this small, in bytes: on small data EM
# makes a step every few milliseconds, several per frame.
_RING_BUDGET = 64 * 2**20
_RING_MAX_SLOTS = 4
# Bytes before the first slot of a ring: one ownership flag per slot, and
# slots aligned on a cache line.
_RING_HEADER = 64
# A slot's flag: the child may fill it, or it holds a posterior the parent
# has not let go of yet.
_FREE, _FILLED = 0, 1

# Snapshots are sent in batches at most this often, in seconds: on small
# data EM makes hundreds a second, and one message per snapshot would keep
# the parent's reader thread (which shares the window's interpreter lock)
# from keeping up; the pipe would fill and stall EM.
_BATCH_INTERVAL = 0.01

# Scheduling priority of the child below the window's (Unix "nice" increment).
_NICENESS = 5

# How often the child looks at the cancel flag during the pacing delay between
# snapshots, in seconds.
_POLL = 0.01


def ring_slots(n_samples: int, n_components: int) -> int:
    """Slots of the responsibilities ring for a run on this many points and components."""
    slot_bytes = 8 * max(1, n_samples * n_components)
    return min(max(RING_SLOTS, _RING_BUDGET // slot_bytes), _RING_MAX_SLOTS)


def shared_bytes(n_samples: int, n_components: int) -> int:
    """Shared memory a run in the EM process takes: the ring and the points, in bytes."""
    ring = _RING_HEADER + ring_slots(n_samples, n_components) * 8 * n_samples * n_components
    return ring + 16 * n_samples


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


class _Block(shared_memory.SharedMemory):
    """Shared memory that may be let go of while arrays still view it.

    ``SharedMemory.__del__`` lets a ``BufferError`` escape when an array
    still views the block; that happens only at interpreter exit here (the
    window still shows responsibilities from the ring), and the mapping then
    goes with the last such array.
    """

    def __del__(self) -> None:
        try:
            self.close()
        except (OSError, BufferError):
            pass


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


class _Ring:
    """Slots for responsibilities in shared memory, each an array of shape (K, n_samples).

    The child fills a free slot (:meth:`take`, :meth:`slot`) and sends its
    number; the parent views it in place (:meth:`view`), read-only, and the
    slot is free again once the last array viewing it is gone.  A slot's
    flag in the header says who owns it, and each side writes only the flags
    it owns: the child turns a free flag to filled, the parent a filled one
    back to free.  So the child never writes to a slot the parent can still
    read (the parent frees it only after its last view is gone, long after
    its last read of it), and neither side ever waits for the other.

    Parameters
    ----------
    n_slots : int
    shape : (int, int)
        (n_components, n_samples) of every slot.
    name : str, optional
        Attach to the ring of that name (the child); else create one (the parent).
    """

    def __init__(self, n_slots: int, shape: tuple[int, int], name: str | None = None) -> None:
        if not 0 < n_slots <= _RING_HEADER:
            raise ValueError(f"a ring has 1 to {_RING_HEADER} slots; got {n_slots}")
        self.n_slots = int(n_slots)
        self.shape = (int(shape[0]), int(shape[1]))
        self._slot_bytes = 8 * self.shape[0] * self.shape[1]
        if name is None:
            size = _RING_HEADER + self.n_slots * max(self._slot_bytes, 8)
            self._shm = _Block(create=True, size=size)
            self.owner = True
        else:
            self._shm = _Block(name=name)
            self.owner = False
        self.name = self._shm.name
        # Parent side: arrays viewing the ring, and its state, changed from
        # any thread (a view dies on the thread that drops it last).
        self._lock = threading.RLock()
        self._live = 0
        self.retired = False
        self.closed = False

    @property
    def flags(self) -> memoryview:
        """One byte per slot: ``_FREE`` or ``_FILLED``."""
        return self._shm.buf[: self.n_slots]

    def _offset(self, slot: int) -> int:
        return _RING_HEADER + slot * self._slot_bytes

    # child side

    def take(self) -> int:
        """The lowest free slot, now marked filled; -1 if the parent holds them all.

        The lowest, so that slots beyond those in turn are never written
        (and take no memory) while the window keeps up.
        """
        buf = self._shm.buf
        for slot in range(self.n_slots):
            if buf[slot] == _FREE:
                buf[slot] = _FILLED
                return slot
        return -1

    def slot(self, slot: int) -> np.ndarray:
        """Slot ``slot`` to write into, array of shape (K, n_samples)."""
        count = self.shape[0] * self.shape[1]
        flat = np.frombuffer(self._shm.buf, np.float64, count, self._offset(slot))
        return flat.reshape(self.shape)

    # parent side

    def view(self, slot: int) -> np.ndarray | None:
        """The filled slot ``slot``, read-only array of shape (K, n_samples).

        The slot stays the parent's while this array or any view of it lives.
        None if the ring was retired (the run it served is over).
        """
        with self._lock:
            if self.retired:
                return None
            start = self._offset(slot)
            # np.frombuffer keeps the memoryview as its base, so the mapping
            # cannot be closed under the array (np.ndarray(buffer=...) would
            # keep only the mmap, which then closes regardless).
            buf = self._shm.buf[start : start + self._slot_bytes].toreadonly()
            flat = np.frombuffer(buf, np.float64)
            self._live += 1
        # Views of ``flat`` (the reshape, its transpose, slices) keep it as
        # their base: it dies with the last of them.
        weakref.finalize(flat, self._let_go, slot).atexit = False
        return flat.reshape(self.shape)

    def free(self, slot: int) -> None:
        """Give slot ``slot`` back to the child without viewing it."""
        with self._lock:
            if not self.retired:
                self._shm.buf[slot] = _FREE

    def _let_go(self, slot: int) -> None:
        with self._lock:
            self._live -= 1
            if not self.retired:
                self._shm.buf[slot] = _FREE

    def retire(self) -> None:
        """No more runs use this ring: unlink it, and unmap it once nothing views it."""
        with self._lock:
            if self.retired:
                return
            self.retired = True
            if self.owner:
                try:
                    self._shm.unlink()
                except FileNotFoundError:
                    pass
        _RETIRED.add(self)
        close_retired_rings()

    def try_close(self) -> bool:
        """Unmap a retired ring if no array views it any more; whether it is closed."""
        with self._lock:
            if self.closed or self._live:
                return self.closed
            try:
                self._shm.close()
            except BufferError:
                # The last view's finaliser runs before its buffer is
                # released: the next call closes it.
                return False
            self.closed = True
            return True

    def close(self) -> None:
        """Unmap the ring (child side: it holds no views)."""
        self._shm.close()
        self.closed = True


# Rings retired while the window still viewed them, until they are unmapped.
# Holding them here also keeps ``SharedMemory.__del__`` from running while an
# array still views the block.
_RETIRED: set[_Ring] = set()


def close_retired_rings() -> None:
    """Unmap the retired rings that nothing views any more."""
    for ring in list(_RETIRED):
        if ring.try_close():
            _RETIRED.discard(ring)


# ---------------------------------------------------------------- child side


def _serve(conn, cancelled, delay) -> None:  # pragma: no cover - child process
    """The child's loop: load data sets and run EM until told to quit.

    Parameters
    ----------
    conn : Connection
        Its end of the pipe.
    cancelled : Value("q")
        Runs with an id up to this value are cancelled.
    delay : Value("d")
        Seconds to wait after each snapshot (read afresh each time).
    """
    # The window comes first: on a machine with as many busy threads as
    # cores, the scheduler then takes the time for drawing from EM rather
    # than make the window stutter.
    if hasattr(os, "nice"):
        os.nice(_NICENESS)
    _Child(conn, cancelled, delay).serve()


class _Child:  # pragma: no cover - runs in the child process
    def __init__(self, conn, cancelled, delay) -> None:
        self.conn = conn
        self.cancelled = cancelled
        self.delay = delay
        self.data = {}  # token -> PreparedData, one data set at a time
        self.ring: _Ring | None = None  # kept from run to run while the parent reuses it

    def serve(self) -> None:
        try:
            self._serve()
        finally:
            if self.ring is not None:
                self.ring.close()

    def _serve(self) -> None:
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
                _, run_id, token, start, kwargs, ring_name, n_slots, shape = msg
                if self.cancelled_run(run_id):
                    # Superseded while it waited in the pipe (Stop, or a newer
                    # Run): dropped before its first E-step, so that a burst of
                    # Run/Stop clicks leaves no backlog of work nobody will see.
                    conn.send(("finished", run_id, "stopped"))
                    continue
                try:
                    ring = self.attach_ring(ring_name, n_slots, shape)
                    reason = self.run(run_id, self.data.get(token), start, kwargs, ring)
                except Exception as exc:  # reported to the window, never lost in the child
                    conn.send(("failed", run_id, str(exc)))
                    reason = "error"
                conn.send(("finished", run_id, reason))

    def attach_ring(self, name: str, n_slots: int, shape: tuple[int, int]) -> _Ring:
        if self.ring is None or self.ring.name != name:
            if self.ring is not None:
                self.ring.close()  # retired by the parent: the memory goes with this
                self.ring = None
            self.ring = _Ring(n_slots, shape, name)
        return self.ring

    def load(self, token: int, name: str, n: int) -> None:
        from emviz.core.data import prepare

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

    def run(self, run_id: int, data, start, kwargs: dict, ring: _Ring) -> str:
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

    def _iterate(self, run_id: int, data, start, kwargs: dict, ring: _Ring, send) -> str:
        from emviz.core.em import iterate_em

        last_resp, last_slot = None, -1
        for snap in iterate_em(None, start, data=data, **kwargs):
            if self.cancelled_run(run_id):
                return "stopped"
            resp = snap.resp
            if resp is None:
                send((snap, -1, False))
            elif resp is last_resp and last_slot >= 0:
                # An M snapshot: the posterior of the E snapshot before it, sent already.
                send((snap.without_resp(), last_slot, False))
            else:
                # A new posterior, or the one of the E snapshot before for
                # which no slot was free then (one may be now).
                last_resp, last_slot = resp, ring.take()
                if last_slot >= 0:
                    # resp is the transpose of a C-ordered (K, n) array: copy that.
                    np.copyto(ring.slot(last_slot), resp.T)
                    # Sent at once: the window lets go of the slot it shows
                    # when it shows this one.
                    send((snap.without_resp(), last_slot, True), now=True)
                else:
                    # The window still holds every slot (it is busy, and EM
                    # makes hundreds of steps a second on small data): send the
                    # parameters alone rather than wait.  The window
                    # recomputes these responsibilities if it shows them.
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

    The responsibilities of received snapshots view the ring in place: a
    slot goes back to the child when the last array viewing it is gone, so
    the window should keep only the posteriors it shows (as the session
    does) and copy anything it keeps longer.
    """

    def __init__(self) -> None:
        self._ctx = multiprocessing.get_context("spawn")
        self._cancelled = self._ctx.Value("q", 0, lock=False)
        self._delay = self._ctx.Value("d", 0.0, lock=False)
        self._conn, child_conn = self._ctx.Pipe(duplex=True)
        self._process = self._ctx.Process(
            target=_serve,
            args=(child_conn, self._cancelled, self._delay),
            name="emviz-em",
            daemon=True,
        )
        self._process.start()
        child_conn.close()
        self._token = 0
        self._loading: dict[int, _Shared] = {}
        #: The ring of the last run, kept for the next one of the same shape.
        self._ring: _Ring | None = None
        #: Runs not finished yet and their ring (read by the reader thread).
        self._run_rings: dict[int, _Ring] = {}
        self._last_resp: dict[int, np.ndarray | None] = {}
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
        ring = self._ring_for(n_components, n_samples)
        self._run_rings[run_id] = ring
        self._conn.send(("run", run_id, token, start, kwargs, ring.name, ring.n_slots, ring.shape))

    def _ring_for(self, n_components: int, n_samples: int) -> _Ring:
        """The ring for a run on (n_samples, n_components): the last one if it fits.

        Reusing it spares allocating (and the child mapping) a ring afresh
        for every run, Pause and Resume while the window still views the last
        one (a million points, K = 10: 80 MB a slot).
        """
        close_retired_rings()
        shape = (n_components, n_samples)
        if self._ring is None or self._ring.shape != shape:
            if self._ring is not None:
                self._ring.retire()
            self._ring = _Ring(ring_slots(n_samples, n_components), shape)
        return self._ring

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
                # A ring retired with a new data set or K is unmapped as soon
                # as the window has let go of what it showed from it.
                close_retired_rings()
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
                self._run_rings.pop(msg[1], None)
                self._last_resp.pop(msg[1], None)
                close_retired_rings()
            return msg

    def _attach_resp(self, run_id: int, snap: Snapshot, slot: int, fresh: bool) -> Snapshot:
        if slot < 0:
            return snap
        if fresh:
            ring = self._run_rings[run_id]
            if self._cancelled.value >= run_id:
                ring.free(slot)  # nobody will look at it
                resp = None
            else:
                resp_t = ring.view(slot)
                resp = None if resp_t is None else resp_t.T
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
        """Free the pipe and the shared memory (after the reader has ended).

        The ring's name is gone at once; its memory goes when no array
        views it any more (the window may still show its last posterior).
        """
        self._conn.close()
        for block in self._loading.values():
            block.close()
        self._last_resp.clear()
        for ring in {*self._run_rings.values(), self._ring} - {None}:
            ring.retire()
        self._loading.clear()
        self._run_rings.clear()
        self._ring = None
