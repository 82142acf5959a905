"""Undo for the actions that throw work away: Edit > Undo / Redo and Clear added points.

Every change of the data (opening a file or a session, a data set, generated
points, points added by clicking) and every new start on the same data (K,
covariance type, initialisation or seed changed, Re-initialise, an edited
start) can be undone with Ctrl+Z and redone with Ctrl+Shift+Z. An undo
restores the previous data, settings and history exactly: snapshots are
immutable, so the undo command keeps references to them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import Qt

from emviz.ui.actions import make_action

__all__ = ["DataChange", "DataUndo", "SessionState"]


@dataclass(frozen=True)
class SessionState:
    """Everything a data change replaces; references only (arrays and snapshots are immutable)."""

    X: np.ndarray | None
    name: str
    columns: tuple[str, str]
    truth: object
    settings: object
    history: tuple
    index: int
    base_n: int

    @classmethod
    def of(cls, session, base_n: int) -> SessionState:
        return cls(
            session.X,
            session.data_name,
            tuple(session.columns),
            session.truth,
            session.settings,
            tuple(session.history),
            session.index,
            base_n,
        )


class DataChange(QtGui.QUndoCommand):
    """A change of the data, already done when pushed; undo brings back ``before``.

    The state to redo is taken when undoing, so steps taken after the change
    are part of what redo brings back.
    """

    def __init__(self, undo: DataUndo, before: SessionState, text: str) -> None:
        super().__init__(text)
        self.undo_history = undo
        self.before = before
        self.after: SessionState | None = None
        self._done = True

    def undo(self) -> None:
        self.after = self.undo_history.capture()
        self.undo_history.restore(self.before)

    def redo(self) -> None:
        if self._done:  # pushed after the fact: nothing to do the first time
            self._done = False
            return
        if self.after is not None:
            self.undo_history.restore(self.after)


class DataUndo(QtCore.QObject):
    """The undo stack of one window's session, its actions, and the Edit menu entries.

    Parameters
    ----------
    window : MainWindow
        Its ``session`` is watched; status messages go to its status bar.
    edit : QMenu
        The menu that lists Undo, Redo and Clear added points.
    """

    def __init__(self, window, edit: QtWidgets.QMenu) -> None:
        super().__init__(window)
        self.window = window
        self.session = s = window.session
        self._restoring = False
        self._base_n = s.n_samples
        self._last = SessionState.of(s, self._base_n)
        self._pending_text: str | None = None
        self.undo_stack = QtGui.QUndoStack(self)
        self.undo_action = self.undo_stack.createUndoAction(window, "&Undo")
        self.undo_action.setObjectName("undoAction")
        self.undo_action.setShortcuts([QtGui.QKeySequence("Ctrl+Z")])
        self.redo_action = self.undo_stack.createRedoAction(window, "&Redo")
        self.redo_action.setObjectName("redoAction")
        self.redo_action.setShortcuts(
            [QtGui.QKeySequence("Ctrl+Shift+Z"), QtGui.QKeySequence("Ctrl+Y")]
        )
        for action in (self.undo_action, self.redo_action):
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            window.addAction(action)
            edit.addAction(action)
        # Say what a key press undid: one Ctrl+Z can take back a whole data
        # set (setting changes with nothing run make no entry of their own).
        self.undo_action.triggered.connect(lambda: self._say_done("Undone", +1))
        self.redo_action.triggered.connect(lambda: self._say_done("Redone", 0))
        edit.addSeparator()
        self.clear_action = make_action(
            window,
            "clearAdded",
            "&Clear added points",
            [],
            "Remove the points added by clicking; EM goes on from the mixture shown "
            "(Ctrl+Z brings them back)",
            self.clear_added_points,
        )
        edit.addAction(self.clear_action)
        self._update_clear()
        s.data_changed.connect(self._on_data_changed)
        for signal in (s.history_changed, s.snapshot_changed, s.settings_changed):
            signal.connect(self._on_state_changed)

    def _say_done(self, verb: str, offset: int) -> None:
        """Status message naming the command just undone (``offset`` 1) or redone (0)."""
        stack = self.undo_stack
        index = stack.index() + offset - 1
        if 0 <= index < stack.count():
            self.window.statusBar().showMessage(f"{verb}: {stack.text(index)}", 6000)

    def capture(self) -> SessionState:
        """The session's data, settings and history now."""
        return SessionState.of(self.session, self._base_n)

    def restore(self, state: SessionState) -> None:
        """Put the session back in ``state``: data, settings and history, exactly."""
        s = self.session
        self._restoring = True
        try:
            if state.X is None:
                return
            s.settings = state.settings  # loading initialises with the right K
            s.load_points(state.X, state.name, state.columns, state.truth)
            s.settings = state.settings
            s.settings_changed.emit()
            if state.history:
                s.set_history(list(state.history))
                s.set_index(state.index)
            self._base_n = state.base_n
        finally:
            self._restoring = False
            self._last = self.capture()
            self._update_clear()

    def _on_data_changed(self) -> None:
        s = self.session
        before = self._last
        if not self._restoring:
            added = (
                before.X is not None
                and s.X is not None
                and len(s.X) > len(before.X)
                and s.data_name == before.name
                and np.array_equal(s.X[: len(before.X)], before.X)
            )
            if not added:
                self._base_n = s.n_samples
            text = self._pending_text or (
                "add points" if added else f"load {s.data_name or 'data'}"
            )
            if before.X is not None:
                self.undo_stack.push(DataChange(self, before, text))
        self._last = self.capture()
        self._update_clear()

    def _on_state_changed(self) -> None:
        if self._restoring:
            return
        s = self.session
        before = self._last
        # A new start on the same data (K, covariance type, initialisation or
        # seed changed, Re-initialise, an edited start) throws the history
        # away: that too can be undone.
        restarted = (
            s.X is not None
            and s.X is before.X
            and len(before.history) > 1
            and len(s.history) == 1
            and s.history[0] is not before.history[0]
        )
        if restarted:
            self.undo_stack.push(DataChange(self, before, "re-initialise"))
            self._last = self.capture()
            return
        self._last = self.capture()
        if self.undo_stack.canRedo():
            # A new change after an undo: the undone future is gone (as in an editor).
            # An obsolete command pushed onto the stack drops the redo entries.
            cmd = QtGui.QUndoCommand("")
            cmd.setObsolete(True)
            self.undo_stack.push(cmd)

    def _update_clear(self) -> None:
        extra = self.session.n_samples - self._base_n
        self.clear_action.setEnabled(extra > 0)
        self.clear_action.setText(
            f"&Clear {extra} added point{'s' if extra != 1 else ''}"
            if extra > 0
            else "&Clear added points"
        )

    def clear_added_points(self) -> bool:
        """Back to the points as loaded; EM restarts from the mixture shown (undoable)."""
        s = self.session
        if s.X is None or s.n_samples <= self._base_n:
            return False
        mixture = s.history[s.index].mixture if s.history else None
        X = s.X[: self._base_n]
        self._pending_text = "clear added points"
        try:
            s.load_points(X, s.data_name, s.columns, s.truth)
        finally:
            self._pending_text = None
        if mixture is not None and mixture.n_components <= s.n_samples:
            s.set_start(mixture)
        return True
