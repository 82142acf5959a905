"""Side panels of the main window: docks that scroll, stack as tabs and come to the front.

Features add their panels with :func:`add_dock`; the window calls
:func:`stack_right_docks` once every feature is installed, so that the
panels on the right share one tab stack (opening several never makes the
window taller than the screen).

A panel is never narrower than its content (it scrolls vertically, never
sideways: :class:`FittingScrollArea`), opens at its content's width, and
comes to the front with the keyboard focus when opened from its menu.
The tab titles are never elided: when a panel opened from its menu makes
the titles of the panels open no longer fit above the stack, the panel
looked at longest ago closes (it is one click away in its menu).
"""

from __future__ import annotations

import itertools

from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import Qt

__all__ = [
    "FittingScrollArea",
    "FlowLayout",
    "add_dock",
    "flow_row",
    "labelled",
    "bring_to_front",
    "scrolled",
    "stack_right_docks",
]

_MOVABLE = (
    QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetMovable
    | QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetClosable
    | QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetFloatable
)

#: When each dock was last brought to the front (a rising count).
_fronted = itertools.count()


class FittingScrollArea(QtWidgets.QScrollArea):
    """A frameless scroll area that scrolls vertically only and is as wide as its content.

    Its minimum width follows the content's minimum width (which changes
    with the font: presentation mode's large type, and back), so a splitter
    or dock area never gives it less: nothing is cut at the right edge and
    there is no sideways scrolling. Its minimum height stays small, so a
    tall panel never makes the window taller than the screen.
    """

    def __init__(self, content: QtWidgets.QWidget, parent=None) -> None:
        super().__init__(parent)
        self._pending = False
        #: The panel itself (the scroll area's widget is its :class:`_Holder`).
        self.content = content
        self.setWidget(_Holder(content))
        self.setWidgetResizable(True)
        self.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # the panel's focus when opened
        content.installEventFilter(self)
        self.fit_width()

    def content_width(self) -> int:
        """The width the content needs, with room for the vertical scroll bar."""
        content = self.content
        bar = self.verticalScrollBar().sizeHint().width()
        return content.minimumSizeHint().width() + bar + 2 * self.frameWidth()

    def fit_width(self) -> None:
        """Minimum width: the content's (see :meth:`content_width`)."""
        self._pending = False
        width = self.content_width()
        if self.minimumWidth() != width:
            self.setMinimumWidth(width)

    def minimumSizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt's name)
        return QtCore.QSize(self.content_width(), 80)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt's name)
        if (
            watched is self.content
            and not self._pending
            and event.type()
            in (
                QtCore.QEvent.Type.LayoutRequest,
                QtCore.QEvent.Type.FontChange,
                QtCore.QEvent.Type.Show,
            )
        ):
            self._pending = True
            QtCore.QTimer.singleShot(0, self, self.fit_width)
        return False


class _Holder(QtWidgets.QWidget):
    """Holds a panel in a scroll area at the viewport's height, down to the panel's minimum.

    A scroll area sizes a panel whose layout has height-for-width (any
    word-wrapped label) at its *preferred* height for the width, however
    tall: a Restarts panel 1,600 px tall in a 900 px dock, its plot taking
    the screen and its tables scrolled out of sight.  The holder has no
    layout: its minimum height is the panel's minimum for the width it has,
    so the panel fills the dock and its plots and tables share the height,
    and it scrolls only when the dock is shorter than that minimum.
    """

    def __init__(self, content: QtWidgets.QWidget) -> None:
        super().__init__()
        self.content = content
        content.setParent(self)
        content.installEventFilter(self)

    def _min_height(self, width: int) -> int:
        layout = self.content.layout()
        if layout is not None and layout.hasHeightForWidth():
            return max(layout.minimumHeightForWidth(width), self.content.minimumHeight())
        return self.content.minimumSizeHint().height()

    def minimumSizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt's name)
        hint = self.content.minimumSizeHint()
        return QtCore.QSize(hint.width(), self._min_height(max(self.width(), hint.width())))

    def sizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt's name)
        return self.content.sizeHint()

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        self.content.setGeometry(self.rect())
        if event.oldSize().width() != event.size().width():
            self.updateGeometry()  # the minimum height depends on the width

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt's name)
        if watched is self.content and event.type() == QtCore.QEvent.Type.LayoutRequest:
            self.updateGeometry()
        return False


def scrolled(widget: QtWidgets.QWidget) -> QtWidgets.QScrollArea:
    """``widget`` in a :class:`FittingScrollArea`: a dock's content then needs little height.

    A dock holding a tall panel otherwise imposes the panel's minimum size on
    the main window, which grows past the screen.
    """
    return FittingScrollArea(widget)


def bring_to_front(dock: QtWidgets.QDockWidget, make_room: bool = True) -> QtWidgets.QDockWidget:
    """Show ``dock``, make it the current tab of its stack and give it the keyboard focus.

    The focus goes to the panel's scroll area, not to a field in it: a
    number field with the focus would take the window's one-key shortcuts
    (E, M, Space). With ``make_room``, panels looked at longest ago close
    if the tab titles no longer fit (:func:`keep_tab_titles_whole`).
    """
    dock.show()
    dock.raise_()
    dock.setProperty("emvizFronted", next(_fronted))
    target = dock.widget() or dock
    dock.activateWindow()
    target.setFocus(Qt.FocusReason.OtherFocusReason)
    window = dock.parentWidget()
    if make_room and isinstance(window, QtWidgets.QMainWindow) and not dock.isFloating():
        QtCore.QTimer.singleShot(0, window, lambda: keep_tab_titles_whole(window, dock))
    return dock


def add_dock(
    window: QtWidgets.QMainWindow,
    key: str,
    title: str,
    widget: QtWidgets.QWidget,
    tip: str = "",
    areas: Qt.DockWidgetArea = Qt.DockWidgetArea.AllDockWidgetAreas,
    tab_title: str = "",
) -> QtWidgets.QDockWidget:
    """A hidden dock named ``<key>Dock`` on the right of ``window``, holding ``widget`` scrolled.

    Its toggle action (``dock.toggleViewAction()``, for the feature's menu)
    brings the panel to the front when it opens it: a panel opened behind
    the current tab looked as if the click had done nothing. With
    ``tab_title``, the tab (the dock's window title) is that short form and
    the menu entry and tooltip give the full ``title``.
    """
    dock = QtWidgets.QDockWidget(tab_title or title, window)
    dock.setObjectName(f"{key}Dock")
    dock.setWidget(scrolled(widget))
    # A floating dock is a window of its own: it does not inherit the main
    # window's (projector-sized) font.
    dock.setFont(window.font())
    dock.setFeatures(_MOVABLE)
    dock.setAllowedAreas(areas)
    dock.setToolTip(f"{title}: {tip}" if tip and tab_title else tip or title)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    dock.hide()  # opened from its menu; the main view stays roomy
    action = dock.toggleViewAction()
    action.setText(title)
    action.triggered.connect(lambda checked, d=dock: bring_to_front(d) if checked else None)
    return dock


def right_docks(window: QtWidgets.QMainWindow) -> list[QtWidgets.QDockWidget]:
    """The docks in the right-hand area of ``window`` (open or not, not floating)."""
    return [
        dock
        for dock in window.findChildren(QtWidgets.QDockWidget)
        if window.dockWidgetArea(dock) == Qt.DockWidgetArea.RightDockWidgetArea
        and not dock.isFloating()
    ]


def stack_right_docks(window: QtWidgets.QMainWindow) -> None:
    """Stack the docks on the right of ``window`` as tabs of one panel, titles on top.

    A dock opens at its content's width (at least a third of the window
    where there is room); the tab titles are never elided (see the module's
    docstring).
    """
    window.setTabPosition(
        Qt.DockWidgetArea.RightDockWidgetArea, QtWidgets.QTabWidget.TabPosition.North
    )
    right = right_docks(window)
    for dock in right[1:]:
        window.tabifyDockWidget(right[0], dock)

    def opened(visible: bool, dock: QtWidgets.QDockWidget) -> None:
        if not visible:
            return
        area = dock.widget()
        need = area.content_width() if isinstance(area, FittingScrollArea) else 0
        # The content's preferred width (a table's columns), up to a third of the window.
        preferred = area.widget().sizeHint().width() + area.verticalScrollBar().sizeHint().width()
        width = max(need, min(max(preferred, 360), window.width() // 3))
        if dock.width() < width:
            window.resizeDocks([dock], [width], Qt.Orientation.Horizontal)

    for dock in right:
        dock.visibilityChanged.connect(lambda visible, d=dock: opened(visible, d))


def keep_tab_titles_whole(window: QtWidgets.QMainWindow, keep: QtWidgets.QDockWidget) -> None:
    """Close the panels looked at longest ago until every tab title of the stack fits.

    ``keep`` (the panel just opened) stays open. The tab bar elides nothing
    and scrolls: a title that does not fit is out of its bar.
    """
    for bar in window.findChildren(QtWidgets.QTabBar):
        if bar.parent() is not window:
            continue
        bar.setElideMode(Qt.TextElideMode.ElideNone)
    window.layout().activate()  # the tab bar at the width of the dock just opened
    for _ in range(len(right_docks(window))):
        crowded = _crowded_tab_bar(window, keep)
        if crowded is None:
            return
        open_docks = [
            d
            for d in right_docks(window)
            if d.isVisible() and d is not keep and d.windowTitle() in crowded
        ]
        if not open_docks:
            return
        oldest = min(open_docks, key=lambda d: d.property("emvizFronted") or -1)
        oldest.hide()
        QtWidgets.QApplication.sendPostedEvents()
        window.layout().activate()


def _crowded_tab_bar(window, keep) -> set[str] | None:
    """The titles of the tab bar holding ``keep`` if its tabs do not all fit, else None."""
    for bar in window.findChildren(QtWidgets.QTabBar):
        if bar.parent() is not window or not bar.isVisible() or bar.count() < 2:
            continue
        titles = {bar.tabText(i) for i in range(bar.count())}
        if keep.windowTitle() not in titles:
            continue
        # Unelided, each tab is as wide as its title; the bar scrolls the rest.
        widths = sum(bar.tabRect(i).width() for i in range(bar.count()))
        if widths > max(bar.width(), keep.width()):
            return titles
    return None


class FlowLayout(QtWidgets.QLayout):
    """Widgets in a row that wraps onto the next line when the panel is narrow (Qt's flow layout).

    A panel's row of controls (check boxes, a field and its buttons) then
    needs only the width of its widest widget: docked beside the plots on
    a 1280-pixel screen, or in presentation mode's large type, it wraps
    instead of scrolling sideways or cutting its text.
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None, spacing: int = 6) -> None:
        super().__init__(parent)
        self._items: list[QtWidgets.QLayoutItem] = []
        self.setContentsMargins(0, 0, 0, 0)
        self.setSpacing(spacing)

    def addItem(self, item: QtWidgets.QLayoutItem) -> None:  # noqa: N802 (Qt's name)
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int):  # noqa: N802 (Qt's name)
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int):  # noqa: N802 (Qt's name)
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:  # noqa: N802 (Qt's name)
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt's name)
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 (Qt's name)
        return self._arrange(QtCore.QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QtCore.QRect) -> None:  # noqa: N802 (Qt's name)
        super().setGeometry(rect)
        self._arrange(rect, move=True)

    def sizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt's name)
        """All in one row."""
        widths = [item.sizeHint().width() for item in self._visible()]
        heights = [item.sizeHint().height() for item in self._visible()] or [0]
        m = self.contentsMargins()
        width = sum(widths) + self.spacing() * max(len(widths) - 1, 0)
        return QtCore.QSize(width + m.left() + m.right(), max(heights) + m.top() + m.bottom())

    def minimumSize(self) -> QtCore.QSize:  # noqa: N802 (Qt's name)
        """The widest widget (each at least its size hint: nothing is squeezed)."""
        size = QtCore.QSize()
        for item in self._visible():
            size = size.expandedTo(item.sizeHint().expandedTo(item.minimumSize()))
        m = self.contentsMargins()
        return size + QtCore.QSize(m.left() + m.right(), m.top() + m.bottom())

    def _visible(self) -> list[QtWidgets.QLayoutItem]:
        return [item for item in self._items if not item.isEmpty()]

    def _arrange(self, rect: QtCore.QRect, move: bool) -> int:
        """Place the items left to right, wrapping; the height used."""
        m = self.contentsMargins()
        area = rect.adjusted(m.left(), m.top(), -m.right(), -m.bottom())
        x, y, line = area.x(), area.y(), 0
        gap = self.spacing()
        for item in self._visible():
            hint = item.sizeHint()
            if x > area.x() and x + hint.width() > area.right() + 1:
                x, y, line = area.x(), y + line + gap, 0
            if move:
                item.setGeometry(QtCore.QRect(QtCore.QPoint(x, y), hint))
            x += hint.width() + gap
            line = max(line, hint.height())
        return y + line - rect.y() + m.bottom()


def flow_row(*widgets: QtWidgets.QWidget, spacing: int = 6) -> QtWidgets.QWidget:
    """A widget laying ``widgets`` out in a :class:`FlowLayout` (a row that wraps)."""
    row = QtWidgets.QWidget()
    flow = FlowLayout(row, spacing)
    for widget in widgets:
        flow.addWidget(widget)
    policy = row.sizePolicy()
    policy.setHeightForWidth(True)
    row.setSizePolicy(policy)
    return row


def labelled(text: str, field: QtWidgets.QWidget) -> QtWidgets.QWidget:
    """A label and its field side by side, kept together when a flow row wraps."""
    pair = QtWidgets.QWidget()
    row = QtWidgets.QHBoxLayout(pair)
    row.setContentsMargins(0, 0, 0, 0)
    label = QtWidgets.QLabel(text)
    label.setBuddy(field)
    row.addWidget(label)
    row.addWidget(field)
    return pair
