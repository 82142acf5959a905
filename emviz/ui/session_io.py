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
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from PySide6 import QtGui, QtWidgets
from PySide6.QtCore import Qt

from emviz.core.em import Snapshot
from emviz.core.errors import EmvizError
from emviz.core.session_file import SUFFIX, SessionFile, load_session, replay, save_session

__all__ = [
    "SessionIO",
    "apply_session_file",
    "install",
    "open_session",
    "replay_with_bound",
    "save_session_file",
]

SESSION_FILTER = f"emviz sessions (*{SUFFIX})"


class _BoundSessionFile(SessionFile):
    """A SessionFile whose replay also computes Q and H, as the window's session does."""

    def em_kwargs(self):
        return {**super().em_kwargs(), "bound": True}


def replay_with_bound(sf: SessionFile) -> list[Snapshot]:
    """The history of ``sf`` exactly as the window computed it (with lower-bound terms)."""
    fields = {f.name: getattr(sf, f.name) for f in dataclasses.fields(sf)}
    return replay(_BoundSessionFile(**fields))


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
    previous = s.settings
    s.settings = settings  # so that loading initialises with the file's own settings
    try:
        s.load_points(sf.X, sf.source or Path(sf.path or "session").stem, sf.columns)
    except (ValueError, TypeError) as exc:
        s.settings = previous
        window.show_error(f"Could not open the session {sf.path or ''}:\n{exc}")
        return False
    s.settings = settings
    s.settings_changed.emit()
    s.set_history(history)
    s.set_index(index)
    return True


def open_session(window, path: str | Path) -> bool:
    """Open a ``.emviz`` file; a bad file shows a message and keeps the session as it was."""
    try:
        sf = load_session(path)
    except (OSError, ValueError) as exc:  # DataFileError is a ValueError
        window.show_error(str(exc))
        return False
    if not apply_session_file(window, sf):
        return False
    n = sf.n_half_steps
    window.statusBar().showMessage(
        f"Opened session {Path(path).name}: {len(sf.X)} points, {n} half-step"
        f"{'' if n == 1 else 's'}" + (f" — {sf.note}" if sf.note else ""),
        8000,
    )
    return True


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
        self._route_open(window)

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

    def _route_open(self, window) -> None:
        """File > Open and drag and drop accept .emviz sessions too."""
        original = window.open_file

        def open_file(path: str | None = None) -> bool:
            if not path:
                path = window.ask_open_path()
                if not path:
                    return False
            if str(path).lower().endswith(SUFFIX):
                return open_session(window, path)
            return original(path)

        def ask_open_path() -> str | None:
            from emviz.ui.classroom import last_folder, remember_folder

            path, _ = QtWidgets.QFileDialog.getOpenFileName(
                window,
                "Open data or a session",
                last_folder(opening=True),
                "Data files and sessions (*.csv *.tsv *.txt *.dat *.npy *.emviz);;"
                f"{SESSION_FILTER};;All files (*)",
            )
            if path:
                remember_folder(path)
            return path or None

        window.open_file = open_file
        window.ask_open_path = ask_open_path
        action = window.actions_by_key.get("open")
        if action is not None:
            action.triggered.disconnect()
            action.triggered.connect(lambda _c=False: window.open_file())

    # ---------------------------------------------------------------- dialogs

    def ask_save_path(self) -> str | None:
        from emviz.ui.classroom import last_folder, remember_folder

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
        from emviz.ui.classroom import last_folder, remember_folder

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


def install(window) -> None:
    """File > Save session… (Ctrl+S) and Open session… (Ctrl+Shift+O)."""
    window.session_io = SessionIO(window)
