"""Loading a data file on a worker thread, with a progress bar and Cancel.

A million-row CSV takes a few seconds to read; on the GUI thread that is a
frozen window. :func:`load_file_async` reads it on a ``QThread`` with
:func:`emviz.core.io.load_points`, whose ``progress`` callback moves a
``QProgressDialog`` and, once Cancel is pressed, answers False so that the
reader stops with ``LoadCancelled`` at its next chunk.

- Success: ``window.session.load_points(X, name, columns)`` on the GUI thread.
- Failure: ``window.show_error(message)`` (the message names the file, the
  line and the column); the data and the history are untouched.
- Cancel: nothing changes.
- Closing the window cancels the load and waits for the thread.

Usage (what ``MainWindow.open_file`` does)::

    load = load_file_async(window, path, columns)
    load.finished.connect(...)   # "loaded", "failed" or "cancelled"
"""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6 import QtCore, QtWidgets
from PySide6.QtCore import QObject, Signal, Slot

from emviz.core.io import LoadCancelled, load_points
from emviz.runs.tasks import thread_for

__all__ = ["AsyncLoad", "load_file_async"]

#: Steps of the progress bar.
_STEPS = 1000
#: The dialog appears only for loads longer than this (ms).
_SHOW_AFTER_MS = 300


class _LoadWorker(QObject):
    """Reads the file on the worker thread; reports through queued signals."""

    progressed = Signal(int)
    loaded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, path: str, columns, cancel: threading.Event) -> None:
        super().__init__()
        self.path = path
        self.columns = columns
        self.cancel = cancel

    def _progress(self, fraction: float) -> bool:
        self.progressed.emit(int(round(fraction * _STEPS)))
        return not self.cancel.is_set()

    @Slot()
    def run(self) -> None:
        try:
            if self.cancel.is_set():
                raise LoadCancelled("loading cancelled")
            result = load_points(self.path, self.columns, missing="keep", progress=self._progress)
        except LoadCancelled:
            self.cancelled.emit()
        except (OSError, ValueError) as exc:  # DataFileError and EmvizError are ValueErrors
            self.failed.emit(str(exc))
        except Exception as exc:  # never lost in the thread
            self.failed.emit(f"{Path(self.path).name}: {type(exc).__name__}: {exc}")
        else:
            self.loaded.emit(result)


class AsyncLoad(QObject):
    """One file being loaded for ``window``: the thread, its worker and the dialog.

    Signals
    -------
    finished(str)
        "loaded", "failed" or "cancelled", once, after the session (or the
        error box) has been updated.
    """

    finished = Signal(str)

    def __init__(self, window, path: str, columns=None) -> None:
        super().__init__(window)
        self.window = window
        self.path = str(path)
        self.outcome: str | None = None
        self._cancel = threading.Event()
        name = Path(self.path).name
        dialog = QtWidgets.QProgressDialog(f"Loading {name}…", "Cancel", 0, _STEPS, window)
        dialog.setObjectName("loadProgressDialog")
        dialog.setWindowTitle("emviz")
        dialog.setWindowModality(QtCore.Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(_SHOW_AFTER_MS)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.canceled.connect(self.cancel)
        self.dialog = dialog
        self.worker = _LoadWorker(self.path, columns, self._cancel)
        self.thread = thread_for(self.worker, "emviz-load")
        self.worker.progressed.connect(self._on_progress)
        self.worker.loaded.connect(self._on_loaded)
        self.worker.failed.connect(self._on_failed)
        self.worker.cancelled.connect(self._on_cancelled)
        # Closing the window mid-load is a normal event: cancel and wait.
        window.installEventFilter(self)

    def start(self) -> None:
        self.dialog.setValue(0)
        self.thread.start()

    @property
    def running(self) -> bool:
        return self.outcome is None

    @Slot()
    def cancel(self) -> None:
        """Stop at the reader's next progress report; nothing is changed."""
        self._cancel.set()

    def shutdown(self, timeout_ms: int = 10000) -> None:
        """Cancel and wait for the thread (the window is closing); nothing is changed."""
        self._cancel.set()
        self.thread.quit()
        self.thread.wait(timeout_ms)
        if self.outcome is None:
            self.outcome = "cancelled"
            self._close_dialog()
            self.window.removeEventFilter(self)
            _ACTIVE.discard(self)
            self.finished.emit("cancelled")

    def eventFilter(self, obj, event) -> bool:
        if obj is self.window and event.type() == QtCore.QEvent.Type.Close:
            self.shutdown()
        return False

    # -------------------------------------------------------------- results

    @Slot(int)
    def _on_progress(self, step: int) -> None:
        if self.outcome is None and not self._cancel.is_set():
            self.dialog.setValue(min(step, _STEPS - 1))

    @Slot(object)
    def _on_loaded(self, loaded) -> None:
        if self.outcome is not None:
            return
        if self._cancel.is_set():  # Cancel pressed after the last chunk: still nothing changes
            self._finish("cancelled")
            return
        try:
            self.window.session.load_points(
                loaded.X, Path(loaded.path).name, loaded.columns, skipped=loaded.n_dropped
            )
        except ValueError as exc:
            self._finish("failed", str(exc))
            return
        if loaded.n_dropped:
            self.window.statusBar().showMessage(
                f"{loaded.n_dropped} rows with missing values were skipped", 6000
            )
        self._finish("loaded")

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._finish("failed", message)

    @Slot()
    def _on_cancelled(self) -> None:
        self._finish("cancelled")

    def _finish(self, outcome: str, message: str = "") -> None:
        if self.outcome is not None:  # already ended (shut down with the window)
            return
        self.outcome = outcome
        self.thread.quit()
        self.thread.wait()
        self._close_dialog()
        self.window.removeEventFilter(self)
        _ACTIVE.discard(self)
        if outcome == "failed":
            self.window.show_error(message)
        elif outcome == "cancelled":
            self.window.statusBar().showMessage("Loading cancelled", 6000)
        self.finished.emit(outcome)

    def _close_dialog(self) -> None:
        self.dialog.reset()
        self.dialog.close()


# Loads in progress keep a reference here until they finish (a dropped
# QThread ends in "QThread: Destroyed while thread is still running").
_ACTIVE: set[AsyncLoad] = set()


def load_file_async(window, path, columns=None) -> AsyncLoad:
    """Load two columns of ``path`` into ``window.session`` without blocking the window.

    A load already running for ``window`` is cancelled first. Returns the
    :class:`AsyncLoad`; its ``finished`` signal says how it ended.
    """
    for load in list(_ACTIVE):
        if load.window is window:
            load.shutdown()
    load = AsyncLoad(window, str(path), columns)
    _ACTIVE.add(load)
    load.start()
    return load
