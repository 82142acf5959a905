"""The quiz's keys, for a lectern: Tab, the arrows and Esc while quiz mode is on.

The window's own shortcuts use some of these keys (the arrows step through
the history, Esc leaves presentation mode). While the quiz is on, an
application event filter takes them first: it accepts the key's
``ShortcutOverride`` (so no window shortcut fires) and handles the key press
that follows.

- Tab / Shift+Tab: select the next / previous component;
- arrow keys: nudge the selected guessed mean by a few per cent of the view
  (Shift: a fifth of that), or, before an E-step with a point picked, raise
  (Up, Right) or lower (Down, Left) the selected responsibility;
- Esc: leave quiz mode.

Enter (reveal) and P (quiz on and off) are the actions' shortcuts. In a
text field (a setting being typed), the keys are the field's: Enter
commits it rather than revealing.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import QEvent, QObject, Qt

__all__ = ["NUDGE_SHARE", "SHARE_STEP", "QuizKeys"]

#: An arrow key moves the selected guessed mean by this share of the view's range.
NUDGE_SHARE = 0.03
#: An arrow key changes the selected responsibility by this much.
SHARE_STEP = 0.05

_TEXT_FIELDS = (
    QtWidgets.QLineEdit,
    QtWidgets.QAbstractSpinBox,
    QtWidgets.QComboBox,
    QtWidgets.QTextEdit,
    QtWidgets.QPlainTextEdit,
)
_ARROWS = {
    Qt.Key.Key_Left: (-1, 0),
    Qt.Key.Key_Right: (1, 0),
    Qt.Key.Key_Up: (0, 1),
    Qt.Key.Key_Down: (0, -1),
}
_FINE = 0.2  # Shift+arrow moves by this share of a normal nudge


class QuizKeys(QObject):
    """An application event filter, installed while the quiz is on."""

    def __init__(self, quiz) -> None:
        super().__init__(quiz)
        self.quiz = quiz
        self.active = False

    def set_active(self, on: bool) -> None:
        app = QtWidgets.QApplication.instance()
        if app is None or bool(on) == self.active:
            return
        self.active = bool(on)
        if on:
            app.installEventFilter(self)
        else:
            app.removeEventFilter(self)

    def _ours(self, obj: QObject) -> bool:
        """Whether a key event for ``obj`` is one for the quiz's window."""
        window = self.quiz.window
        if isinstance(obj, QtWidgets.QWidget):
            return obj.window() is window
        if isinstance(obj, QtGui.QWindow):
            return obj is window.windowHandle()
        return False

    def handler(self, key: int, modifiers) -> Callable[[], object] | None:
        """What ``key`` with ``modifiers`` does in the quiz now, or None (not the quiz's)."""
        quiz = self.quiz
        mods = modifiers & ~Qt.KeyboardModifier.KeypadModifier
        shift = mods == Qt.KeyboardModifier.ShiftModifier
        if mods not in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.ShiftModifier):
            return None
        if key == Qt.Key.Key_Escape and not shift:
            return lambda: quiz.set_on(False)
        if quiz.phase is None:
            return None
        if key == Qt.Key.Key_Tab and not shift:
            return lambda: quiz.cycle(1)
        if key == Qt.Key.Key_Backtab:
            return lambda: quiz.cycle(-1)
        if key in _ARROWS and (quiz.phase == "M" or quiz.point is not None):
            dx, dy = _ARROWS[key]
            step = NUDGE_SHARE * (_FINE if shift else 1.0)
            return lambda: quiz.nudge(dx * step, dy * step)
        return None

    def eventFilter(self, obj: QObject, event: QtCore.QEvent) -> bool:  # noqa: N802 (Qt's name)
        kind = event.type()
        if kind not in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress):
            return False
        if not self.quiz.on or not self._ours(obj):
            return False
        key = event.key()
        if isinstance(QtWidgets.QApplication.focusWidget(), _TEXT_FIELDS):
            if kind == QEvent.Type.ShortcutOverride and key in (
                Qt.Key.Key_Return,
                Qt.Key.Key_Enter,
            ):
                event.accept()  # the field takes its Enter: no reveal
                return True
            return False
        action = self.handler(key, event.modifiers())
        if action is None:
            return False
        event.accept()
        if kind == QEvent.Type.KeyPress:
            action()
        return True
