"""EM off the GUI thread: one runner interface, on a thread or in the EM process.

A runner drives :func:`emviz.core.em.iterate_em`, the one EM loop, from a
starting snapshot and reports to the GUI thread.  The session holds one
runner at a time and never asks which: :class:`ThreadRunner` runs EM on a
QThread (small data: no start-up cost), :class:`ProcessRunner` in the EM
process of :mod:`emviz.runs.em_process` (large data: drawing cannot slow it
down).  Snapshots are immutable, so they cross threads with no copy and no
lock.

Usage (what :class:`emviz.session.Session` does)::

    runner = ThreadRunner(parent)
    runner.snapshots.connect(on_snapshots)   # (run_id, [Snapshot, ...])
    runner.finished.connect(on_finished)     # (run_id, reason)
    runner.start(run_id, data, start, delay=0.2, reg_covar=..., tol=..., max_iter=...)
    ...
    runner.stop()          # at once, even during the pacing delay
    runner.shutdown()      # the window is closing: stop and wait

Each run has an id chosen by the caller; a runner reports every run's
messages with its id, and the caller ignores those of a run it has stopped.
"""

from __future__ import annotations

import threading
from collections import defaultdict

from PySide6.QtCore import QObject, QThread, Signal, Slot

from emviz.core.data import PreparedData
from emviz.core.em import iterate_em
from emviz.core.mixture import Mixture
from emviz.core.snapshot import Snapshot
from emviz.runs.em_process import EMProcess
from emviz.runs.tasks import share_gil_with_gui, thread_for

__all__ = [
    "EMRunner",
    "EMRuns",
    "EMWorker",
    "ProcessRunner",
    "RunControl",
    "RunnerUnavailable",
    "ThreadRunner",
]

#: How often a paused worker looks at the stop flag, in seconds.
_PAUSE_POLL = 0.02


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


class RunnerUnavailable(RuntimeError):
    """The runner cannot run EM here (the EM process did not start); use another."""


class EMRunner(QObject):
    """What every runner offers: start a run, change its pace, stop it, shut down.

    Signals (all received in the GUI thread)
    ----------------------------------------
    snapshots(run_id, list)
        New snapshots of run ``run_id``, oldest first, with their
        responsibilities (a run in the EM process may send some without).
    finished(run_id, reason)
        Emitted last for every run: "converged", "max_iter", "stopped" or "error".
    failed(run_id, message)
        An exception ended the run (emitted before ``finished``).
    error(message)
        A problem not tied to a run (the EM process could not take the points).
    """

    snapshots = Signal(int, object)
    finished = Signal(int, str)
    failed = Signal(int, str)
    error = Signal(str)

    def start(
        self,
        run_id: int,
        data: PreparedData,
        start: Snapshot,
        *,
        delay: float = 0.0,
        **em_kwargs,
    ) -> None:
        """Run ``iterate_em(None, start, data=data, **em_kwargs)`` as run ``run_id``.

        ``delay`` is the pause after each half-step, in seconds.  A run
        still going is stopped first.  Raises :class:`RunnerUnavailable` if
        this runner cannot run here.
        """
        raise NotImplementedError

    def set_delay(self, seconds: float) -> None:
        """Change the pause after each half-step of the current run (at once)."""
        raise NotImplementedError

    def stop(self) -> None:
        """End the current run at once; its later messages carry a stale id."""
        raise NotImplementedError

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Stop every run and wait for the threads (window closing, app quitting)."""
        raise NotImplementedError

    @property
    def live_threads(self) -> list[QThread]:
        """Threads of runs that are still running."""
        return []


class ThreadRunner(EMRunner):
    """Runs EM on a QThread per run, through :class:`EMWorker`.

    The control, the worker and the thread of the current run are kept as
    attributes, and every run's until its thread has ended (a dropped
    reference ends in "QThread: Destroyed while thread is still running").
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.control: RunControl | None = None
        self.worker: EMWorker | None = None
        self.thread: QThread | None = None
        self._threads: dict[int, tuple[QThread, EMWorker, RunControl]] = {}

    def start(self, run_id, data, start, *, delay=0.0, **em_kwargs) -> None:
        share_gil_with_gui()
        self.stop()
        control = RunControl(delay)
        worker = EMWorker(run_id, data, start, control, **em_kwargs)
        thread = thread_for(worker, f"emviz-run-{run_id}")
        worker.snapshot.connect(self._on_snapshot)
        worker.failed.connect(self._on_failed)
        worker.finished.connect(self._on_finished)
        worker.finished.connect(thread.quit)
        thread.finished.connect(lambda: self._on_thread_finished(run_id))
        self.control, self.worker, self.thread = control, worker, thread
        self._threads[run_id] = (thread, worker, control)
        thread.start()

    def set_delay(self, seconds: float) -> None:
        if self.control is not None:
            self.control.delay = float(seconds)

    def stop(self) -> None:
        if self.control is not None:
            self.control.cancel()
        self.control = self.worker = None

    @Slot(int, object)
    def _on_snapshot(self, run_id: int, snap: Snapshot) -> None:
        self.snapshots.emit(run_id, [snap])

    @Slot(int, str)
    def _on_failed(self, run_id: int, message: str) -> None:
        self.failed.emit(run_id, message)

    @Slot(int, str)
    def _on_finished(self, run_id: int, reason: str) -> None:
        self.finished.emit(run_id, reason)

    def _on_thread_finished(self, run_id: int) -> None:
        entry = self._threads.pop(run_id, None)
        if entry is None:
            return
        thread = entry[0]
        # "finished" is emitted from the thread just before it ends: wait for
        # the end before the last reference goes.
        thread.wait()
        if self.thread is thread:
            self.thread = None

    def shutdown(self, timeout_ms: int = 5000) -> None:
        self.stop()
        for thread, _worker, control in list(self._threads.values()):
            control.stop.set()
            thread.quit()
            thread.wait(timeout_ms)
        self._threads.clear()
        self.thread = None

    @property
    def live_threads(self) -> list[QThread]:
        return [t for t, _w, _c in self._threads.values() if t.isRunning()]


class ProcessRunner(EMRunner):
    """Runs EM in the EM process (:class:`emviz.runs.em_process.EMProcess`).

    The process starts with the first run (or :meth:`warm`) and serves every
    later one; a reader thread (:class:`ProcessRelay`) brings its messages
    into the Qt event loop.  The points are sent once per data set.  If the
    process dies mid-run, the run fails ("the EM process ended
    unexpectedly") and the next run starts a new process.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.process: EMProcess | None = None
        self._relay: ProcessRelay | None = None
        self._relay_thread: QThread | None = None
        # Which data set the process holds, and its token there.
        self._data: tuple[object, int] | None = None
        # The run the process is on (0: none), to fail it if the process dies.
        self._run_id = 0
        self._live_run = 0

    @property
    def token(self) -> int:
        """The process's token for the data set it was last sent (0: none)."""
        return 0 if self._data is None else self._data[1]

    def warm(self, data: PreparedData) -> None:
        """Start the process and send it ``data`` now, so that the first run starts at once.

        Raises :class:`RunnerUnavailable` if the process cannot start.
        """
        self._token_for(self._ensure_process(), data)

    def start(self, run_id, data, start, *, delay=0.0, **em_kwargs) -> None:
        proc = self._ensure_process()
        token = self._token_for(proc, data)
        self.stop()
        proc.set_delay(delay)
        mixture = start.mixture if isinstance(start, Snapshot) else start
        proc.run(run_id, token, start, em_kwargs, data.n_samples, mixture.n_components)
        self._run_id = self._live_run = run_id

    def set_delay(self, seconds: float) -> None:
        if self.process is not None:
            self.process.set_delay(float(seconds))

    def stop(self) -> None:
        if self.process is not None and self._run_id:
            self.process.cancel(self._run_id)
        self._live_run = 0

    def _ensure_process(self) -> EMProcess:
        """The EM process, started if need be."""
        if self.process is not None and self.process.alive:
            return self.process
        self._close_process()
        try:
            proc = EMProcess()
        except (OSError, RuntimeError, ValueError) as exc:
            raise RunnerUnavailable(f"the EM process did not start ({exc})") from exc
        relay = ProcessRelay(proc)
        thread = thread_for(relay, "emviz-em-process-reader")
        relay.snapshots_ready.connect(self._on_snapshots)
        relay.failed.connect(self._on_failed)
        relay.finished.connect(self._on_finished)
        relay.loaded.connect(self._on_loaded)
        relay.closed.connect(thread.quit)
        relay.closed.connect(self._on_closed)
        self.process, self._relay, self._relay_thread = proc, relay, thread
        thread.start()
        return proc

    def _token_for(self, proc: EMProcess, data: PreparedData) -> int:
        """The process's token for ``data``, sending the points if it lacks them."""
        if self._data is None or self._data[0] is not data:
            self._data = (data, proc.load(data.X))
        return self._data[1]

    @Slot()
    def _on_snapshots(self) -> None:
        if self._relay is None:
            return
        by_run: dict[int, list[Snapshot]] = defaultdict(list)
        for run_id, snap in self._relay.take():
            by_run[run_id].append(snap)
        for run_id, snaps in by_run.items():
            self.snapshots.emit(run_id, snaps)

    @Slot(int, str)
    def _on_failed(self, run_id: int, message: str) -> None:
        self.failed.emit(run_id, message)

    @Slot(int, str)
    def _on_finished(self, run_id: int, reason: str) -> None:
        if run_id == self._live_run:
            self._live_run = 0
        self.finished.emit(run_id, reason)

    @Slot(int, object)
    def _on_loaded(self, token: int, error: str | None) -> None:
        if error is not None:
            self.error.emit(f"the EM process could not take the points: {error}")

    @Slot()
    def _on_closed(self) -> None:
        """The EM process ended: asked to, or not (then its run ends with an error)."""
        proc = self.process
        if proc is None:
            return  # closed by _close_process already
        crashed = not proc.closed
        self._close_process()
        run_id, self._live_run = self._live_run, 0
        if crashed and run_id:
            self.failed.emit(run_id, "the EM process ended unexpectedly")
            self.finished.emit(run_id, "error")

    def _close_process(self, timeout_ms: int = 5000) -> None:
        proc, thread = self.process, self._relay_thread
        if proc is None:
            return
        proc.close(timeout_ms / 1000)
        if thread is not None:
            thread.quit()
            thread.wait(timeout_ms)
        proc.release()
        self.process = self._relay = self._relay_thread = None
        self._data = None

    def shutdown(self, timeout_ms: int = 5000) -> None:
        self.stop()
        self._close_process(timeout_ms)


class EMRuns(QObject):
    """The runs of one session: numbered, each on a thread or in the EM process.

    It holds a :class:`ThreadRunner` and a :class:`ProcessRunner` and uses one
    at a time, as the caller asks per run; if the EM process cannot start,
    the run goes to a thread (and every later one, with a ``note``).  Each
    run gets a new id, and messages of any run but the current one are
    dropped here, so a stopped run can never show up late.

    Signals (GUI thread; of the current run only)
    ---------------------------------------------
    snapshots(list), finished(reason), failed(message)
        As :class:`EMRunner`'s, without the run id.
    error(message)
        A problem not tied to a run.
    note(message)
        Information for the status bar (EM falls back to a thread).
    """

    snapshots = Signal(object)
    finished = Signal(str)
    failed = Signal(str)
    error = Signal(str)
    note = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        #: Whether runs that ask for the EM process may have it.
        self.use_process = True
        self.run_id = 0
        self._thread_runner = ThreadRunner(self)
        self._process_runner = ProcessRunner(self)
        self._runner: EMRunner = self._thread_runner
        for runner in (self._thread_runner, self._process_runner):
            runner.snapshots.connect(self._on_snapshots)
            runner.failed.connect(self._on_failed)
            runner.finished.connect(self._on_finished)
            runner.error.connect(self.error)

    @property
    def process(self) -> EMProcess | None:
        """The EM process, once a run or :meth:`warm` has started it."""
        return self._process_runner.process

    @property
    def process_runner(self) -> ProcessRunner:
        return self._process_runner

    @property
    def live_threads(self) -> list[QThread]:
        return self._thread_runner.live_threads

    def start(
        self, data: PreparedData, start: Snapshot, *, in_process: bool, delay: float, **em_kwargs
    ) -> None:
        """Start a new run (see :meth:`EMRunner.start`); the one before is stopped."""
        self.stop()
        if in_process and self.use_process:
            try:
                self._runner = self._process_runner
                self._runner.start(self.run_id, data, start, delay=delay, **em_kwargs)
                return
            except RunnerUnavailable as exc:
                self._unavailable(exc)
        self._runner = self._thread_runner
        self._runner.start(self.run_id, data, start, delay=delay, **em_kwargs)

    def warm(self, data: PreparedData) -> None:
        """Start the EM process and send it ``data`` before the first run asks."""
        if self.use_process:
            try:
                self._process_runner.warm(data)
            except RunnerUnavailable as exc:
                self._unavailable(exc)

    def _unavailable(self, exc: RunnerUnavailable) -> None:
        self.use_process = False
        self.note.emit(f"EM runs on a thread: {exc}")

    def set_delay(self, seconds: float) -> None:
        self._runner.set_delay(seconds)

    def stop(self) -> None:
        """End the current run; anything still on its way from it is dropped."""
        self._runner.stop()
        self.run_id += 1

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Stop every run and wait for the threads and the EM process."""
        self.stop()
        for runner in (self._thread_runner, self._process_runner):
            runner.shutdown(timeout_ms)

    @Slot(int, object)
    def _on_snapshots(self, run_id: int, snaps: list) -> None:
        if run_id == self.run_id:
            self.snapshots.emit(snaps)

    @Slot(int, str)
    def _on_failed(self, run_id: int, message: str) -> None:
        if run_id == self.run_id:
            self.failed.emit(message)

    @Slot(int, str)
    def _on_finished(self, run_id: int, reason: str) -> None:
        if run_id == self.run_id:
            self.finished.emit(reason)
