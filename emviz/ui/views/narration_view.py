"""Narration: what the half-step shown just did, in a sentence or two under the scatter plot.

The text is :func:`emviz.core.narration.narrate` of the snapshot shown and
the one before it, at the level chosen in View > Narration (basic, medium,
detailed, or off).  The level is remembered between sessions.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import Qt

from emviz.core.narration import LEVELS, narrate
from emviz.runs.pacing import RedrawThrottle
from emviz.session import Session
from emviz.ui.remembered import read_setting, write_setting

__all__ = ["NarrationBar", "narration_menu", "narration_text"]

#: Lines of the window's type the bar under the scatter plot is high.
#: Type never shrinks below this share of the window's (a longer text is cut).
SMALLEST = 0.8
LINES = 3
#: The level a first start narrates at.
DEFAULT_LEVEL = "basic"
_SETTING = "narration"


def narration_text(session: Session, level: str, index: int | None = None) -> str:
    """The narration of snapshot ``index`` (default: the one shown), or where EM stands.

    Parameters
    ----------
    session : Session
    level : {"basic", "medium", "detailed"}
    index : int, optional
        A position in ``session.history``.
    """
    history = session.history
    i = session.index if index is None else int(index)
    if not history or not 0 <= i < len(history):
        return ""
    after = history[i]
    if i == 0:
        return "The start: press E for the E-step, which colours each point by its components."
    change = session.objective_changes().get(i)
    if after.phase == "init":
        what = change or "a new start"
        return f"EM goes on from a new mixture here: {what}."
    before = replace(history[i - 1], resp=session.resp_at(i - 1))
    text = narrate(before, replace(after, resp=session.resp_at(i)), level)
    if change is not None:
        # Across a change of the objective log p may fall: say why first.
        text = f"The objective changed before this step ({change}). {text}"
    return text


class NarrationBar(QtWidgets.QLabel):
    """A sentence or two under the scatter plot; hidden when the level is "off".

    Its height is always that of :data:`LINES` lines of the window's type,
    so the scatter plot above it keeps its size from step to step (and the
    frames of an exported animation theirs); a longer text gets smaller
    type.  In a box of fixed size (presentation mode's strip,
    :meth:`fit_to_box`) the type likewise shrinks until the text fits.
    """

    def __init__(self, session: Session, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("narrationBar")
        self.session = session
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setContentsMargins(8, 2, 8, 2)
        self.setSizePolicy(
            QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Ignored
        )
        self.setAlignment(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft)
        self._boxed = False
        self._fitting = False
        level = str(read_setting(_SETTING, DEFAULT_LEVEL))
        self.level = level if level in (*LEVELS, "off") else DEFAULT_LEVEL
        self.setVisible(self.level != "off")
        self._throttle = RedrawThrottle(self.redraw, parent=self, busy=lambda: session.running)
        session.history_changed.connect(self._throttle.request)
        session.snapshot_changed.connect(self._throttle.request)
        session.data_changed.connect(self._throttle.request)
        session.run_state_changed.connect(self._throttle.flush)
        self.redraw()

    def set_level(self, level: str, persist: bool = True) -> None:
        """Narrate at ``level`` ("basic", "medium", "detailed") or not at all ("off")."""
        if level not in (*LEVELS, "off"):
            raise ValueError(f"unknown narration level {level!r}")
        self.level = level
        self.setVisible(level != "off")
        if persist:
            write_setting(_SETTING, level)
        self.redraw()

    def flush(self) -> None:
        """Show what is pending now (tests, export)."""
        self._throttle.flush()

    def fit_to_box(self, on: bool) -> None:
        """In a box of fixed size (True), or :data:`LINES` lines under the plot (False)."""
        self._boxed = on
        self.setFont(QtGui.QFont())  # the parent's again
        self._set_height()
        self._fit()

    def _window_font(self) -> QtGui.QFont:
        parent = self.parentWidget()
        return parent.font() if parent is not None else QtGui.QFont()

    def _set_height(self) -> None:
        if self._boxed:
            self.setMinimumHeight(0)
            self.setMaximumHeight(16_777_215)
            return
        margins = self.contentsMargins()
        lines = QtGui.QFontMetrics(self._window_font()).lineSpacing() * LINES
        self.setFixedHeight(lines + margins.top() + margins.bottom() + 2)

    def event(self, event: QtCore.QEvent) -> bool:
        # Moved (under the plot, or beside presentation mode's strip): its height anew.
        if event.type() == QtCore.QEvent.Type.ParentChange:
            self._set_height()
        return super().event(event)

    def changeEvent(self, event: QtCore.QEvent) -> None:  # noqa: N802 (Qt's name)
        super().changeEvent(event)
        if event.type() == QtCore.QEvent.Type.FontChange and not self._fitting:
            self._set_height()
            self._fit()

    def setText(self, text: str) -> None:  # noqa: N802 (Qt's name)
        super().setText(text)
        self._fit()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        largest = self._window_font().pointSizeF()
        box = self.contentsRect()
        font = QtGui.QFont(self.font())
        size = largest
        # Beside presentation mode's strip the box is what there is: smaller
        # type rather than a cut sentence.
        smallest = max(7.0, (0.55 if self._boxed else SMALLEST) * largest)
        while size > smallest:
            font.setPointSizeF(size)
            flags = int(Qt.TextFlag.TextWordWrap)
            needed = QtGui.QFontMetrics(font).boundingRect(
                QtCore.QRect(0, 0, max(box.width(), 1), 100_000), flags, self.text()
            )
            if needed.height() <= box.height():
                break
            size -= 0.5
        if font.pointSizeF() != self.font().pointSizeF():
            self._fitting = True
            self.setFont(font)
            self._fitting = False

    def redraw(self) -> None:
        if self.level == "off":
            self.setText("")
            return
        try:
            text = narration_text(self.session, self.level)
        except Exception as exc:  # a narration never takes the window down
            text = f"(No narration for this step: {exc})"
        self.setText(text)
        self.setToolTip(text)


def narration_menu(window, bar: NarrationBar) -> QtWidgets.QMenu:
    """View > Narration: Off, Basic, Medium, Detailed (one checked)."""
    menu = QtWidgets.QMenu("&Narration", window)
    menu.setObjectName("narrationMenu")
    group = QtGui.QActionGroup(menu)
    group.setExclusive(True)
    for level, text in (
        ("off", "&Off"),
        ("basic", "&Basic: plain words"),
        ("medium", "&Medium: with the main numbers"),
        ("detailed", "&Detailed: N_k, π_k, μ_k, Δ log p"),
    ):
        action = QtGui.QAction(text, menu, checkable=True)
        action.setObjectName(f"narration_{level}Action")
        action.setChecked(bar.level == level)
        action.setStatusTip("What the step shown did, in words under the scatter plot")
        action.triggered.connect(lambda _c=False, lv=level: bar.set_level(lv))
        group.addAction(action)
        menu.addAction(action)
    return menu
