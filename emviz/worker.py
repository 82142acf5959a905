"""Running EM off the GUI thread: on a worker thread, or in the EM process.

The worker consumes :func:`emviz.core.em.iterate_em`, the one EM loop, and
sends every snapshot to the GUI thread through ``Signal(int, object)``.
Snapshots are immutable, so they cross threads with no copy and no lock.

Usage (what :class:`emviz.session.Session` does)::

    control = RunControl(delay=0.2)
    thread = QThread()
    worker = EMWorker(run_id, data, start, control, reg_covar=..., tol=..., max_iter=...)
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    worker.finished.connect(thread.quit)
    thread.start()
    ...
    control.stop.set()  # takes effect at once, even during the pacing delay
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, QThread, Signal, Slot

from emviz.core.em import PreparedData, Snapshot, iterate_em
from emviz.core.mixture import Mixture
from emviz.em_process import EMProcess

__all__ = ["EMWorker", "ProcessRelay", "ProcessRunControl", "RunControl", "thread_for"]

#: How often a paused worker looks at the stop flag, in seconds.
_PAUSE_POLL = 0.02


def thread_for(worker: QObject, name: str) -> QThread:
    """A new, not yet started QThread named ``name`` that runs ``worker.run()``.

    ``worker`` is moved to it.  The caller keeps both as attributes (a
    dropped reference ends in "QThread: Destroyed while thread is still
    running"), wires the worker's signals and calls ``start()``.
    """
    thread = QThread()
    thread.setObjectName(name)
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    return thread


class RunControl:
    """What the GUI thread can tell a running worker, thread-safely.

    Attributes
    ----------
    stop : threading.Event
        Set to end the run. The worker checks it before emitting each
        snapshot and waits on it between snapshots, so Stop acts at once.
    pause : threading.Event
        While set, the worker holds the next snapshot back.
    delay : float
        Seconds to wait after each half-step (0 runs as fast as possible).
        Read afresh after every snapshot, so the speed can change mid-run.
    """

    def __init__(self, delay: float = 0.0) -> None:
        self.stop = threading.Event()
        self.pause = threading.Event()
        self.delay = float(delay)

    def cancel(self) -> None:
        """End the run (at once, even during the pacing delay)."""
        self.stop.set()


class EMWorker(QObject):
    """Drive :func:`iterate_em` from ``start`` and emit each snapshot.

    Signals
    -------
    snapshot(run_id, Snapshot)
        One per half-step, with its responsibilities.
    finished(run_id, reason)
        Always emitted last; reason is "converged", "max_iter", "stopped"
        or "error".
    failed(run_id, message)
        An exception ended the run (emitted before ``finished``).
    """

    snapshot = Signal(int, object)
    finished = Signal(int, str)
    failed = Signal(int, str)

    def __init__(
        self,
        run_id: int,
        data: PreparedData,
        start: Mixture | Snapshot,
        control: RunControl,
        *,
        cov_type: str | None = None,
        reg_covar: float = 1e-6,
        tol: float = 1e-6,
        max_iter: int = 500,
        bound: bool = False,
    ) -> None:
        super().__init__()
        self.run_id = run_id
        self.control = control
        self._data = data
        self._start = start
        self._kwargs = dict(
            cov_type=cov_type, reg_covar=reg_covar, tol=tol, max_iter=max_iter, bound=bound
        )

    @Slot()
    def run(self) -> None:
        control = self.control
        reason = "max_iter"
        try:
            for snap in iterate_em(None, self._start, data=self._data, **self._kwargs):
                while control.pause.is_set() and not control.stop.is_set():
                    control.stop.wait(_PAUSE_POLL)
                if control.stop.is_set():
                    reason = "stopped"
                    break
                self.snapshot.emit(self.run_id, snap)
                if snap.converged:
                    reason = "converged"
                    break
                # Pacing: waiting on the stop event lets Stop interrupt the delay.
                if control.delay > 0 and control.stop.wait(control.delay):
                    reason = "stopped"
                    break
        except Exception as exc:  # reported to the GUI, never lost in the thread
            reason = "error"
            self.failed.emit(self.run_id, str(exc))
        self.finished.emit(self.run_id, reason)


class ProcessRunControl:
    """What the GUI thread can tell a run in the EM process (see :class:`RunControl`)."""

    def __init__(self, process: EMProcess, run_id: int, delay: float) -> None:
        self._process = process
        self.run_id = run_id
        self.delay = delay

    @property
    def delay(self) -> float:
        return self._delay

    @delay.setter
    def delay(self, seconds: float) -> None:
        self._delay = float(seconds)
        self._process.set_delay(self._delay)

    def cancel(self) -> None:
        self._process.cancel(self.run_id)


class ProcessRelay(QObject):
    """Brings the EM process's messages into the Qt event loop.

    It lives on a thread of its own for the whole life of the process and
    blocks in :meth:`EMProcess.receive`, which waits without holding the
    interpreter lock.  It emits the same ``finished`` and ``failed`` signals
    as :class:`EMWorker`, for every run of the process; snapshots are
    collected and announced by batch.

    Signals
    -------
    snapshots_ready()
        Snapshots are waiting: call :meth:`take`.
    loaded(token, error)
        The process has the data set ``token`` (error is None) or failed to
        prepare it.
    closed()
        The process has ended (asked to, or not); emitted last.
    """

    snapshots_ready = Signal()
    finished = Signal(int, str)
    failed = Signal(int, str)
    loaded = Signal(int, object)
    closed = Signal()

    def __init__(self, process: EMProcess) -> None:
        super().__init__()
        self.process = process
        self._lock = threading.Lock()
        self._pending: list[tuple[int, Snapshot]] = []

    def take(self) -> list[tuple[int, Snapshot]]:
        """The snapshots received since the last call, oldest first, as (run_id, snapshot)."""
        with self._lock:
            batch, self._pending = self._pending, []
        return batch

    @Slot()
    def run(self) -> None:
        while True:
            msg = self.process.receive()
            kind = msg[0]
            if kind == "snapshots":
                # One queued signal per batch, not per snapshot: on small
                # data EM makes hundreds a second, and the GUI thread takes
                # them all in one go.
                with self._lock:
                    first = not self._pending
                    self._pending.extend((msg[1], snap) for snap in msg[2])
                if first:
                    self.snapshots_ready.emit()
            elif kind == "finished":
                self.finished.emit(msg[1], msg[2])
            elif kind == "failed":
                self.failed.emit(msg[1], msg[2])
            elif kind == "loaded":
                self.loaded.emit(msg[1], msg[2])
            elif kind == "closed":
                break
        self.closed.emit()
