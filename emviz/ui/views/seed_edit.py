"""A spin box for seeds: any whole number from 0 to :data:`~emviz.core.settings.SEED_MAX`.

A ``QSpinBox`` holds a C ``int`` (at most 2**31 - 1), but a seed may be
any 63-bit number: the restarts record ``run_seed`` values of that size, and
a run loaded from them shows its seed in the Model panel. :class:`SeedEdit`
keeps its value as a Python ``int`` and otherwise behaves as a spin box: the
arrows, Up/Down, Page Up/Down and the wheel step by one; typed digits are
taken on Enter or when the field loses the focus (or at each key with
keyboard tracking on); ``value()``, ``setValue()`` and ``valueChanged`` are
named as a spin box's.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import Signal

from emviz.core.settings import SEED_MAX

__all__ = ["SeedEdit"]

_State = QtGui.QValidator.State
_Step = QtWidgets.QAbstractSpinBox.StepEnabledFlag


class SeedEdit(QtWidgets.QAbstractSpinBox):
    """A spin box for a whole number in [``minimum()``, ``maximum()``] of any size.

    Parameters
    ----------
    parent : QWidget, optional
    objectName : str, optional
        The widget's object name.

    Signals
    -------
    valueChanged(object)
        The value changed (an ``int``; ``object`` because a Qt ``int`` signal
        would overflow above 2**31 - 1). Not emitted by :meth:`setValue` with
        the value already held, nor while signals are blocked.
    """

    valueChanged = Signal(object)  # noqa: N815 (Qt's name)

    def __init__(self, parent: QtWidgets.QWidget | None = None, objectName: str = "") -> None:  # noqa: N803
        super().__init__(parent)
        if objectName:
            self.setObjectName(objectName)
        self._minimum = 0
        self._maximum = SEED_MAX
        self._value = 0
        self.setButtonSymbols(QtWidgets.QAbstractSpinBox.ButtonSymbols.UpDownArrows)
        self.setInputMethodHints(QtCore.Qt.InputMethodHint.ImhDigitsOnly)
        self.editingFinished.connect(self.interpretText)
        self.lineEdit().textEdited.connect(self._on_text_edited)
        self._show()

    # ------------------------------------------------------------ spin-box API

    def value(self) -> int:
        """The number held (not the text being typed)."""
        return self._value

    def setValue(self, value: int) -> None:  # noqa: N802 (Qt's name)
        """Hold ``value``, clamped to the range; the text shows it."""
        value = min(max(int(value), self._minimum), self._maximum)
        changed = value != self._value
        self._value = value
        self._show()
        if changed:
            self.valueChanged.emit(value)

    def minimum(self) -> int:
        return self._minimum

    def maximum(self) -> int:
        return self._maximum

    def setRange(self, minimum: int, maximum: int) -> None:  # noqa: N802 (Qt's name)
        """Allow ``minimum`` to ``maximum`` (both >= 0); the value is clamped into it."""
        minimum, maximum = int(minimum), int(maximum)
        if not 0 <= minimum <= maximum:
            raise ValueError(
                f"a seed range needs 0 <= minimum <= maximum; got {minimum}, {maximum}"
            )
        self._minimum, self._maximum = minimum, maximum
        self.updateGeometry()
        self.setValue(self._value)

    def setMinimum(self, minimum: int) -> None:  # noqa: N802 (Qt's name)
        self.setRange(minimum, max(minimum, self._maximum))

    def setMaximum(self, maximum: int) -> None:  # noqa: N802 (Qt's name)
        self.setRange(min(self._minimum, maximum), maximum)

    def textFromValue(self, value: int) -> str:  # noqa: N802 (Qt's name)
        return str(int(value))

    def valueFromText(self, text: str) -> int | None:  # noqa: N802 (Qt's name)
        """The number ``text`` spells, or None if it is not one within the range."""
        text = text.strip()
        # Digits only (int() would also take "1_000" and "+5"); no more of them
        # than the maximum has, so int() never sees 5000 digits.
        if not text.isascii() or not text.isdigit() or len(text) > len(str(self._maximum)):
            return None
        value = int(text)
        return value if self._minimum <= value <= self._maximum else None

    def interpretText(self) -> None:  # noqa: N802 (Qt's name)
        """Take the typed text as the value; text that is no number in range is undone."""
        value = self.valueFromText(self.text())
        if value is None:
            self._show()
        else:
            self.setValue(value)

    # ------------------------------------------------------------ QAbstractSpinBox

    def validate(self, text: str, pos: int) -> object:
        """Digits only, and never a number beyond the maximum (as a QSpinBox does)."""
        stripped = text.strip()
        if not stripped:
            return _State.Intermediate, text, pos
        if not stripped.isascii() or not stripped.isdigit():
            return _State.Invalid, text, pos
        if len(stripped) > len(str(self._maximum)) or int(stripped) > self._maximum:
            return _State.Invalid, text, pos
        if int(stripped) < self._minimum:
            return _State.Intermediate, text, pos
        return _State.Acceptable, text, pos

    def fixup(self, text: str) -> str:
        return self.textFromValue(self._value)

    def stepBy(self, steps: int) -> None:  # noqa: N802 (Qt's name)
        """Arrows, Up/Down, Page Up/Down and the wheel: from the typed number, if any."""
        typed = self.valueFromText(self.text())
        start = self._value if typed is None else typed
        self.setValue(start + int(steps))
        self.selectAll()

    def stepEnabled(self) -> QtWidgets.QAbstractSpinBox.StepEnabledFlag:  # noqa: N802 (Qt's name)
        flags = _Step.StepNone
        if self.isReadOnly():
            return flags
        if self._value < self._maximum:
            flags |= _Step.StepUpEnabled
        if self._value > self._minimum:
            flags |= _Step.StepDownEnabled
        return flags

    def sizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt's name)
        return self._size_for(len(str(self._maximum)))

    def minimumSizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt's name)
        # Room for ten digits; a longer seed scrolls in a narrow panel.
        return self._size_for(min(10, len(str(self._maximum))))

    # ------------------------------------------------------------ private

    def _size_for(self, digits: int) -> QtCore.QSize:
        self.ensurePolished()
        text_width = self.fontMetrics().horizontalAdvance("0" * digits) + 6
        height = self.lineEdit().sizeHint().height()
        option = QtWidgets.QStyleOptionSpinBox()
        self.initStyleOption(option)
        return self.style().sizeFromContents(
            QtWidgets.QStyle.ContentsType.CT_SpinBox, option, QtCore.QSize(text_width, height), self
        )

    def _show(self) -> None:
        self.lineEdit().setText(self.textFromValue(self._value))

    def _on_text_edited(self, text: str) -> None:
        if self.keyboardTracking():
            value = self.valueFromText(text)
            if value is not None and value != self._value:
                # Keep the text as typed (setValue would rewrite it and move the cursor).
                self._value = value
                self.update()
                self.valueChanged.emit(value)
