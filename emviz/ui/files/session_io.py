"""File > Save session… and Open session…: ``.emviz`` files in the window.

A session file (:mod:`emviz.core.session_file`, documented in
``docs/session-format.md``) holds the data, the settings, the starting mixture
and how many half-steps the history went; opening it replays the history with
the same :func:`~emviz.core.em.iterate_em`, so every snapshot comes back bit
for bit.  Opening checks the whole file and replays it *before* the session
is touched: a corrupt, truncated or newer file shows a message and leaves the
open session exactly as it was.

``install(window)`` adds the two menu items, routes ``.emviz`` files given to
File > Open or dropped on the window to :func:`open_session`, and sets
``window.session_io`` (whose ``ask_*`` methods tests replace).

A long replay (more than :data:`ASYNC_REPLAY_WORK` point-steps) or a large
file (over :data:`ASYNC_SESSION_BYTES`) is read and replayed on a
:class:`~emviz.runs.tasks.BackgroundTask` (one per window, held by its
:class:`SessionOpener`), with a progress dialog and Cancel; Cancel, or closing
the window, keeps the session as it was.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import QObject, Qt, Signal, Slot

from emviz.core.errors import EmvizError, LoadCancelled
from emviz.core.session_file import SUFFIX, SessionFile, load_session, replay, save_session
from emviz.core.snapshot import Snapshot
from emviz.runs.tasks import BackgroundTask

__all__ = [
    "ASYNC_REPLAY_WORK",
    "ASYNC_SESSION_BYTES",
    "SessionIO",
    "SessionOpener",
    "apply_session_file",
    "install",
    "open_session",
    "replay_with_bound",
    "save_session_file",
    "session_opener",
]

#: A replay of more point-steps than this (half-steps x points) runs in the
#: background, with progress and Cancel (about a second of EM on one core).
ASYNC_REPLAY_WORK = 2_000_000
#: A session file larger than this is read in the background too.
ASYNC_SESSION_BYTES = 8 << 20
#: A note is shown in the status bar up to this many characters (its first line).
NOTE_SHOWN_CHARS = 120
# Steps of the progress dialog; it appears only for work longer than _SHOW_AFTER_MS.
_STEPS = 1000
_SHOW_AFTER_MS = 300

SESSION_FILTER = f"emviz sessions (*{SUFFIX})"


class _BoundSessionFile(SessionFile):
    """A SessionFile whose replay also computes Q and H, as the window's session does."""

    def em_kwargs(self):
        return {**super().em_kwargs(), "bound": True}


def replay_with_bound(sf: SessionFile, progress=None, should_stop=None) -> list[Snapshot]:
    """The history of ``sf`` exactly as the window computed it (with lower-bound terms).

    ``progress(done, total)`` and ``should_stop()`` are those of
    :func:`emviz.core.session_file.replay` (which raises LoadCancelled on a stop).
    """
    fields = {f.name: getattr(sf, f.name) for f in dataclasses.fields(sf)}
    return replay(_BoundSessionFile(**fields), progress=progress, should_stop=should_stop)


def _restart_index(history: list[Snapshot]) -> int:
    """Index of the last "init" snapshot: a start edited mid-history begins a new run there."""
    for i in range(len(history) - 1, -1, -1):
        if history[i].phase == "init":
            return i
    return 0


def save_session_file(window, path: str | Path, note: str | None = None) -> bool:
    """Write the window's session to ``path``; on failure show why and return False."""
    s = window.session
    if not s.history or s.X is None:
        window.show_error("Nothing to save: load or generate data first.")
        return False
    history = list(s.history)
    index = s.index
    first = _restart_index(history)
    try:
        save_session(
            path,
            s.X,
            s.settings,
            history[first].mixture,
            len(history) - 1 - first,
            current=max(index - first, 0),
            columns=s.columns,
            source=s.data_name,
            note=note,
            treat_missing=s.data.marginal,
        )
    except (OSError, EmvizError) as exc:
        window.show_error(f"Could not save the session to {path}:\n{exc}")
        return False
    msg = f"Session saved to {Path(path).name}"
    if first:
        msg += f" (from the edited start at step {first}; the steps before it are not kept)"
    window.statusBar().showMessage(msg, 8000)
    return True


def apply_session_file(window, sf: SessionFile, *, with_history: bool = True) -> bool:
    """Show a checked session file in the window: data, settings, history, step shown.

    The settings go through :func:`emviz.core.settings.check_settings`, the
    rule of :meth:`Session.update_settings`, and the history is replayed,
    before anything changes: if either fails, the window's session is
    untouched.  ``with_history=False`` shows only the starting mixture (the
    headless export steps on from there itself).
    """
    try:
        sf.to_settings()  # before the replay: a refused file costs nothing
        history = (
            replay_with_bound(sf)
            if with_history
            else replay_with_bound(dataclasses.replace(sf, n_half_steps=0, current=0))
        )
    except (ValueError, TypeError, OverflowError) as exc:
        window.show_error(f"Could not open the session {sf.path or ''}:\n{exc}")
        return False
    return show_replayed(window, sf, history, sf.current if with_history else 0)


def show_replayed(window, sf: SessionFile, history: list[Snapshot], index: int) -> bool:
    """Put ``sf``'s data and settings and its replayed ``history`` in the window's session.

    Nothing changes if the settings break the window's rule (K above the
    palette's 10 colours, a seed the spin box cannot show...) or the data
    cannot be loaded; the error is shown instead.
    """
    s = window.session
    try:
        settings = sf.to_settings()
    except ValueError as exc:
        window.show_error(f"Could not open the session {sf.path or ''}:\n{exc}")
        return False
    previous = s.settings, s.treat_missing
    # Loading initialises with the file's own settings and missing-values mode.
    s.settings, s.treat_missing = settings, sf.treat_missing
    try:
        s.load_points(sf.X, sf.source or Path(sf.path or "session").stem, sf.columns)
    except (ValueError, TypeError) as exc:
        s.settings, s.treat_missing = previous
        window.show_error(f"Could not open the session {sf.path or ''}:\n{exc}")
        return False
    s.settings = settings
    s.settings_changed.emit()
    s.set_history(history)
    s.set_index(index)
    return True


def open_session(window, path: str | Path) -> bool:
    """Open a ``.emviz`` file; a bad file shows a message and keeps the session as it was.

    Returns True when the session is shown, or when a long one is being
    opened in the background (see :func:`session_opener`), False otherwise.
    """
    return session_opener(window).open(path)


def session_opener(window) -> SessionOpener:
    """The window's :class:`SessionOpener` (made on first use, a child of the window)."""
    opener = window.findChild(SessionOpener, "sessionOpener")
    return opener if opener is not None else SessionOpener(window)


def _replay_work(sf: SessionFile) -> int:
    return (sf.n_half_steps + 1) * len(sf.X) * int(sf.settings["n_components"])


def _file_size(path: str | Path) -> int:
    try:
        return Path(path).stat().st_size
    except (OSError, ValueError):  # reported by the reader, with the file's name
        return 0


def _opened_message(path: str | Path, sf: SessionFile) -> str:
    n = sf.n_half_steps
    steps = f"{n} half-step{'' if n == 1 else 's'}"
    text = f"Opened session {Path(path).name}: {len(sf.X)} points, {steps}"
    if sf.note:
        note = sf.note.strip().splitlines()[0] if sf.note.strip() else ""
        if len(note) > NOTE_SHOWN_CHARS:
            note = note[: NOTE_SHOWN_CHARS - 1] + "…"
        text += f" — {note}" if note else ""
    return text


class SessionOpener(QObject):
    """Opens session files in one window: short ones at once, long ones in the background.

    A long one (see :data:`ASYNC_REPLAY_WORK`, :data:`ASYNC_SESSION_BYTES`)
    is read and replayed by a :class:`~emviz.runs.tasks.BackgroundTask`
    (``fn(progress, should_stop)``) behind a window-modal progress dialog
    with Cancel.  Nothing changes in the session until the whole history is
    replayed; Cancel, an error or closing the window leave it as it was.

    Signals
    -------
    finished(str)
        "opened", "failed" or "cancelled", once per background opening,
        after the session (or the error box) has been updated.
    """

    finished = Signal(str)

    def __init__(self, window) -> None:
        super().__init__(window)
        self.setObjectName("sessionOpener")
        self.window = window
        self.task = BackgroundTask("session", self)
        self.task.progress.connect(self._on_progress)
        self.task.result.connect(self._on_result)
        self.task.failed.connect(self._on_failed)
        self.dialog: QtWidgets.QProgressDialog | None = None
        self.path: str | None = None
        self._cancelled = False
        # Closing the window mid-replay is a normal event: cancel and wait.
        window.installEventFilter(self)

    @property
    def running(self) -> bool:
        """A session is being opened in the background."""
        return self.path is not None

    def open(self, path: str | Path) -> bool:
        window = self.window
        if _file_size(path) > ASYNC_SESSION_BYTES:
            self._start(str(path), None)
            return True
        try:
            sf = load_session(path)
            sf.to_settings()  # the window's rule, before the replay
        except (OSError, ValueError) as exc:  # DataFileError is a ValueError
            window.show_error(str(exc))
            return False
        if _replay_work(sf) > ASYNC_REPLAY_WORK:
            self._start(str(path), sf)
            return True
        if not apply_session_file(window, sf):
            return False
        window.statusBar().showMessage(_opened_message(path, sf), 8000)
        return True

    def _start(self, path: str, sf: SessionFile | None) -> None:
        self.cancel()
        self.path = path
        self._cancelled = False

        def work(progress, should_stop):
            try:
                f = sf if sf is not None else load_session(path, should_stop=should_stop)
                f.to_settings()
                return f, replay_with_bound(f, progress=progress, should_stop=should_stop)
            except LoadCancelled:
                return None

        dialog = QtWidgets.QProgressDialog(
            f"Opening {Path(path).name}…", "Cancel", 0, _STEPS, self.window
        )
        dialog.setObjectName("sessionProgressDialog")
        dialog.setWindowTitle("emviz")
        dialog.setWindowModality(QtCore.Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(_SHOW_AFTER_MS)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.canceled.connect(self.cancel)
        dialog.setValue(0)
        self.dialog = dialog
        self.task.start(work)

    @Slot()
    def cancel(self) -> None:
        """Stop the opening in progress; the session stays as it was."""
        if self.path is None:
            return
        self._cancelled = True
        self.task.cancel()
        self._end("cancelled")
        self.window.statusBar().showMessage("Opening the session was cancelled", 6000)

    def shutdown(self) -> None:
        """Cancel and wait for the thread (the window is closing); nothing is changed."""
        if self.path is not None:
            self._cancelled = True
            self._end("cancelled")
        self.task.shutdown()

    def eventFilter(self, obj, event) -> bool:
        if obj is self.window and event.type() == QtCore.QEvent.Type.Close:
            self.shutdown()
        return False

    @Slot(int, int)
    def _on_progress(self, done: int, total: int) -> None:
        if self.dialog is not None and not self._cancelled and total > 0:
            self.dialog.setValue(min(_STEPS * done // total, _STEPS - 1))

    @Slot(object)
    def _on_result(self, out) -> None:
        if self._cancelled or self.path is None:
            return
        path = self.path
        if out is None:
            self._end("cancelled")
            return
        sf, history = out
        self._close_dialog()
        if show_replayed(self.window, sf, history, sf.current):
            self.window.statusBar().showMessage(_opened_message(path, sf), 8000)
            self._end("opened")
        else:
            self._end("failed")

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        if self._cancelled or self.path is None:
            return
        path = self.path
        self._close_dialog()
        if path not in message:
            message = f"Could not open the session {path}:\n{message}"
        self.window.show_error(message)
        self._end("failed")

    def _close_dialog(self) -> None:
        if self.dialog is not None:
            self.dialog.canceled.disconnect(self.cancel)
            self.dialog.reset()
            self.dialog.hide()
            self.dialog.deleteLater()
            self.dialog = None

    def _end(self, outcome: str) -> None:
        self._close_dialog()
        self.path = None
        self.finished.emit(outcome)


class SessionIO:
    """The Save session / Open session actions and their file dialogs."""

    def __init__(self, window) -> None:
        self.window = window
        file_menu = window.menus["file"]
        self.save_action = self._action(
            "saveSession",
            "&Save session…",
            "Ctrl+S",
            "Save the data, settings and start; the whole history reopens exactly",
            self.save,
        )
        self.open_action = self._action(
            "openSession",
            "Open &session…",
            "Ctrl+Shift+O",
            "Open a saved .emviz session",
            self.open,
        )
        # After File > Open… and Generate…, before the data sets.
        actions = file_menu.actions()
        anchor = actions[2] if len(actions) > 2 else None
        file_menu.insertAction(anchor, self.open_action)
        file_menu.insertAction(anchor, self.save_action)
        file_menu.insertSeparator(anchor)

    def _action(self, key, text, shortcut, tip, slot) -> QtGui.QAction:
        action = QtGui.QAction(text, self.window)
        action.setObjectName(f"{key}Action")
        action.setShortcut(QtGui.QKeySequence(shortcut))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        keys = action.shortcut().toString(QtGui.QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{tip} ({keys})")
        action.setStatusTip(tip)
        action.triggered.connect(lambda _c=False: slot())
        self.window.addAction(action)
        return action

    # ---------------------------------------------------------------- dialogs

    def ask_save_path(self) -> str | None:
        from emviz.ui.remembered import last_folder, remember_folder

        name = Path(self.window.session.data_name or "session").stem.replace(" ", "_")
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self.window, "Save session", str(Path(last_folder()) / f"{name}{SUFFIX}"),
            SESSION_FILTER,
        )  # fmt: skip
        if not path:
            return None
        if not path.lower().endswith(SUFFIX):
            path += SUFFIX
        remember_folder(path)
        return path

    def ask_open_path(self) -> str | None:
        from emviz.ui.remembered import last_folder, remember_folder

        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self.window, "Open session", last_folder(), f"{SESSION_FILTER};;All files (*)"
        )
        if path:
            remember_folder(path)
        return path or None

    # ---------------------------------------------------------------- actions

    def save(self, path: str | None = None) -> bool:
        path = path or self.ask_save_path()
        if not path:
            return False
        return save_session_file(self.window, path)

    def open(self, path: str | None = None) -> bool:
        path = path or self.ask_open_path()
        if not path:
            return False
        return open_session(self.window, path)


def install(window) -> SessionIO:
    """File > Save session… (Ctrl+S) and Open session… (Ctrl+Shift+O); File > Open and
    drag and drop open ``.emviz`` files as sessions."""
    window.add_file_handler((SUFFIX,), lambda path: open_session(window, path), "emviz sessions")
    return SessionIO(window)
