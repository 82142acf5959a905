"""Loading a data file on a worker thread, with a progress bar and Cancel.

A million-row CSV takes a few seconds to read; on the GUI thread that is a
frozen window. :func:`load_file_async` reads it on a
:class:`emviz.runs.tasks.BackgroundTask` with
:func:`emviz.core.io.load_points`, whose ``progress`` callback moves a
``QProgressDialog`` and, once Cancel is pressed, answers False so that the
reader stops with ``LoadCancelled`` at its next chunk.

- Success: ``window.session.load_points(X, name, columns)`` on the GUI thread.
- Failure: ``window.show_error(message)`` (the message names the file, the
  line and the column); the data and the history are untouched.
- Cancel: nothing changes.
- Closing the window cancels the load and waits for the thread (the
  window's :func:`emviz.runs.tasks.shutdown_tasks`).

Usage (what ``MainWindow.open_file`` does)::

    load = load_file_async(window, path, columns)
    load.finished.connect(...)   # "loaded", "failed" or "cancelled"
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6 import QtCore, QtWidgets
from PySide6.QtCore import QObject, Signal, Slot

from emviz.core.io import LoadCancelled, load_points
from emviz.runs.tasks import BackgroundTask

__all__ = ["AsyncLoad", "load_file_async"]

#: Steps of the progress bar.
_STEPS = 1000
#: The dialog appears only for loads longer than this (ms).
_SHOW_AFTER_MS = 300


def _read(path: str, columns, progress: Callable, should_stop: Callable) -> tuple[str, object]:
    """Read ``path`` (on the task's thread): ("loaded", LoadedPoints), ("failed", message)
    or ("cancelled", None)."""

    def report(fraction: float) -> bool:
        progress(int(round(fraction * _STEPS)), _STEPS)
        return not should_stop()

    try:
        if should_stop():
            raise LoadCancelled("loading cancelled")
        return "loaded", load_points(path, columns, missing="keep", progress=report)
    except LoadCancelled:
        return "cancelled", None
    except (OSError, ValueError) as exc:  # DataFileError and EmvizError are ValueErrors
        return "failed", str(exc)
    except Exception as exc:  # never lost in the thread
        return "failed", f"{Path(path).name}: {type(exc).__name__}: {exc}"


class AsyncLoad(QObject):
    """One file being loaded for ``window``: its background task and the dialog.

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
        self.columns = columns
        self.outcome: str | None = None
        self._cancelled = False
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
        # A child of this load, so of the window: its shutdown_tasks stops it.
        self.task = BackgroundTask("load", self)
        self.task.progress.connect(self._on_progress)
        self.task.result.connect(self._on_result)
        self.task.failed.connect(self._on_failed)
        self.task.stopped.connect(self._on_stopped)
        self.thread = None

    def start(self) -> None:
        self.dialog.setValue(0)
        path, columns = self.path, self.columns
        self.task.start(lambda progress, should_stop: _read(path, columns, progress, should_stop))
        self.thread = self.task.thread

    @property
    def running(self) -> bool:
        return self.outcome is None

    @Slot()
    def cancel(self) -> None:
        """Stop at the reader's next progress report; nothing is changed."""
        self._cancelled = True
        self.task.cancel()

    def shutdown(self, timeout_ms: int = 10000) -> None:
        """Cancel and wait for the thread (the window is closing); nothing is changed."""
        self.task.shutdown(timeout_ms)
        self._on_stopped()

    # -------------------------------------------------------------- results

    @Slot(int, int)
    def _on_progress(self, step: int, _total: int) -> None:
        if self.outcome is None and not self._cancelled:
            self.dialog.setValue(min(step, _STEPS - 1))

    @Slot(object)
    def _on_result(self, out: tuple[str, object]) -> None:
        kind, value = out
        if kind == "failed":
            self._finish("failed", value)
        elif kind == "cancelled" or self._cancelled:
            # Cancel pressed after the last chunk: still nothing changes.
            self._finish("cancelled")
        else:
            self._load(value)

    def _load(self, loaded) -> None:
        if self.outcome is not None:
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
    def _on_stopped(self) -> None:
        """Shut down with the window: nothing changes, and nothing is shown."""
        if self.outcome is None:
            self.outcome = "cancelled"
            self._close_dialog()
            self.finished.emit("cancelled")

    def _finish(self, outcome: str, message: str = "") -> None:
        if self.outcome is not None:  # already ended (shut down with the window)
            return
        self.outcome = outcome
        thread = self.task.thread
        if thread is not None:
            thread.quit()
            thread.wait()
        self._close_dialog()
        if outcome == "failed":
            self.window.show_error(message)
        elif outcome == "cancelled":
            self.window.statusBar().showMessage("Loading cancelled", 6000)
        self.finished.emit(outcome)

    def _close_dialog(self) -> None:
        self.dialog.reset()
        self.dialog.close()


def load_file_async(window, path, columns=None) -> AsyncLoad:
    """Load two columns of ``path`` into ``window.session`` without blocking the window.

    A load still running for ``window`` is cancelled first.  The load is a
    child of ``window``, which keeps it alive.  Returns the
    :class:`AsyncLoad`; its ``finished`` signal says how it ended.
    """
    for load in window.findChildren(AsyncLoad):
        if load.running:
            load.shutdown()
    load = AsyncLoad(window, str(path), columns)
    load.start()
    return load
