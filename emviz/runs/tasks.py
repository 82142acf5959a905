"""Work off the GUI thread: one function at a time, with progress, Cancel and one shutdown.

:class:`BackgroundTask` is the one class the window uses for work that takes
long enough to freeze it: restarts, model choice, file loading, session
replay. The function it runs is Qt-free: ``fn(progress, should_stop)`` reports
``progress(done, total)`` and polls ``should_stop()``; a task started again
drops the previous task's results (a stale result is never shown).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QThread, Signal, Slot

__all__ = ["BackgroundTask", "share_gil_with_gui", "shutdown_tasks", "thread_for"]


#: The interpreter's switch interval while workers run (seconds; Python's default is 5 ms).
GUI_SWITCH_INTERVAL = 0.0005


def share_gil_with_gui() -> None:
    """Make a thread that waits for the GIL get it within :data:`GUI_SWITCH_INTERVAL`.

    A thread that has waited the switch interval for the GIL asks the one
    holding it to let go, and gets it next.  The GUI thread takes the GIL
    back after nearly every call into Qt: at the default 5 ms a redraw that
    makes a hundred such calls could wait half a second behind a busy
    worker.  :func:`_yield_to_gui` hands it over sooner when a processor is
    free; this bounds the wait when none is (a loaded machine).  Called
    when a worker thread starts; it only ever shortens the interval.
    """
    if sys.getswitchinterval() > GUI_SWITCH_INTERVAL:
        sys.setswitchinterval(GUI_SWITCH_INTERVAL)


def _yield_to_gui() -> None:
    """Let the GUI thread take the GIL if it is waiting for it; call once per unit of work.

    A worker running Python code keeps the GIL until another thread has
    waited for it for the switch interval (5 ms).  The GUI thread gives the
    GIL up around almost every call into Qt and must take it back after
    each, so a redraw that makes a few hundred such calls would wait a few
    hundred switch intervals: seconds, with progress reports and Cancel
    queued behind it.  Releasing the GIL here (a zero-length sleep) hands
    it to a waiting GUI thread at once, and costs microseconds when none is
    waiting.
    """
    time.sleep(0)


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


_NO_PARTIAL = object()


class _TaskWorker(QObject):
    """Runs ``fn(progress, should_stop)`` once, in the thread it was moved to."""

    progress = Signal(int, int)
    partial = Signal(object)
    result = Signal(object)
    failed = Signal(str)
    finished = Signal()

    def __init__(self, fn: Callable, stop: threading.Event) -> None:
        super().__init__()
        self._fn = fn
        self._stop = stop
        #: Units of work completed (written by the worker thread, read anywhere).
        self.n_done = 0

    def _progress(self, done: int, total: int, partial: object = _NO_PARTIAL) -> None:
        self.n_done = int(done)
        if partial is not _NO_PARTIAL:
            self.partial.emit(partial)
        self.progress.emit(int(done), int(total))

    def _should_stop(self) -> bool:
        _yield_to_gui()  # polled once per half-step (or chunk): the GUI's turn
        return self._stop.is_set()

    @Slot()
    def run(self) -> None:
        try:
            out = self._fn(self._progress, self._should_stop)
        except Exception as exc:  # reported to the GUI thread, never lost in the thread
            self.failed.emit(str(exc))
        else:
            self.result.emit(out)
        finally:
            self.finished.emit()


class BackgroundTask(QObject):
    """One function at a time on a QThread, cancellable, with a clean shutdown.

    ``start(fn)`` runs ``fn(progress, should_stop)`` on a new QThread; the
    worker, its thread and its stop flag are kept as attributes until the
    thread has ended (a dropped reference ends in "QThread: Destroyed while
    thread is still running").  Starting again cancels the task in progress:
    its result is ignored.  :meth:`shutdown` stops everything and waits.

    Signals (all in the GUI thread)
    -------------------------------
    progress(done, total), result(object), failed(str)
        From the current task only.
    partial(object)
        A part of the result, passed as ``progress(done, total, part)``
        (a K of model choice), from the current task until it is cancelled.
    finished()
        The current task's function returned (result or failure), or it was
        cancelled and its thread has ended.
    stopped()
        :meth:`shutdown` ended a task in progress: no result will come.
    """

    progress = Signal(int, int)
    partial = Signal(object)
    result = Signal(object)
    failed = Signal(str)
    finished = Signal()
    stopped = Signal()

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._name = name
        self._id = 0
        self._live: dict[int, tuple[QThread, _TaskWorker, threading.Event]] = {}
        self.worker: _TaskWorker | None = None
        self.thread: QThread | None = None
        self.stop_flag: threading.Event | None = None

    @property
    def running(self) -> bool:
        return self.worker is not None

    @property
    def live_threads(self) -> list[QThread]:
        return [t for t, _w, _s in self._live.values() if t.isRunning()]

    def start(self, fn: Callable) -> None:
        share_gil_with_gui()
        self.cancel()
        self._id += 1
        task_id = self._id
        stop = threading.Event()
        worker = _TaskWorker(fn, stop)
        thread = thread_for(worker, f"emviz-{self._name}-{task_id}")
        worker.progress.connect(self._on_progress)
        worker.partial.connect(self._on_partial)
        worker.result.connect(self._on_result)
        worker.failed.connect(self._on_failed)
        worker.finished.connect(self._on_worker_finished)
        worker.finished.connect(thread.quit)
        thread.finished.connect(self._reap)
        self._live[task_id] = (thread, worker, stop)
        self.worker, self.thread, self.stop_flag = worker, thread, stop
        thread.start()

    def cancel(self) -> None:
        """Ask the current task to stop (it acts within one half-step of EM)."""
        if self.stop_flag is not None:
            self.stop_flag.set()

    def _current(self) -> bool:
        return self.sender() is self.worker and self.worker is not None

    @Slot(int, int)
    def _on_progress(self, done: int, total: int) -> None:
        if self._current() and not self.stop_flag.is_set():
            self.progress.emit(done, total)

    @Slot(object)
    def _on_partial(self, part: object) -> None:
        if self._current() and not self.stop_flag.is_set():
            self.partial.emit(part)

    @Slot(object)
    def _on_result(self, out: object) -> None:
        if self._current():
            self.result.emit(out)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        if self._current():
            self.failed.emit(message)

    @Slot()
    def _on_worker_finished(self) -> None:
        if self._current():
            self.worker = self.stop_flag = None
            self.finished.emit()

    @Slot()
    def _reap(self) -> None:
        # "finished" is emitted by the thread just before it ends: wait for the
        # end before the last reference goes.
        for key, (thread, _w, _s) in list(self._live.items()):
            if thread.isFinished():
                thread.wait()
                del self._live[key]
                if self.thread is thread:
                    self.thread = None

    def shutdown(self, timeout_ms: int = 10000) -> None:
        """Stop every task and wait for the threads (the window is closing)."""
        was_running = self.running
        for thread, _worker, stop in list(self._live.values()):
            stop.set()
            thread.quit()
            thread.wait(timeout_ms)
        self._live.clear()
        self.worker = self.thread = self.stop_flag = None
        if was_running:
            self.stopped.emit()


def shutdown_tasks(root: QObject, timeout_ms: int = 10000) -> None:
    """Shut down every :class:`BackgroundTask` among ``root``'s descendants.

    The one shutdown of a window's work off the GUI thread: every task is
    created with a parent (the view or the load it serves), so the Qt object
    tree is the list of them.
    """
    for task in root.findChildren(BackgroundTask):
        task.shutdown(timeout_ms)
