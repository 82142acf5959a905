"""The main window's layout: the plots, the side panel, the history bar; sizes that fit the screen.

:func:`build_layout` makes the window's views and arranges them::

    +--------------------------------------+---------------------+
    | scatter plot                         | next step           |
    |                                      | EM buttons, speed   |
    | narration: what the step did         | Point clicked       |
    +-----------------+--------------------+ Model (2 columns)   |
    | log-likelihood  | parameter table    | Show                |
    +-----------------+--------------------+ (readout: presenting)|
    | History  <  ==========o=====  >  3 / 9: iteration 1, M-step |
    +------------------------------------------------------------+

and returns the :class:`LayoutParts` that presentation mode rearranges.
:func:`fitted_size` and :func:`fits_screen` keep the window on its screen.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import Qt

from emviz.ui.docks import FittingScrollArea
from emviz.ui.views.controls import ControlPanel
from emviz.ui.views.loglik_view import LoglikView
from emviz.ui.views.narration_view import NarrationBar, narration_menu
from emviz.ui.views.param_table import ParamTable, RespView
from emviz.ui.views.readout import Readout
from emviz.ui.views.scatter_view import ScatterView

__all__ = [
    "AdaptiveLabel",
    "PREFERRED_SIZE",
    "SCREEN_SHARE",
    "LayoutParts",
    "build_layout",
    "fitted_size",
]

#: The window's largest opening size (a 1920x1080 screen gets 92 % of it: room for panels).
PREFERRED_SIZE = QtCore.QSize(1800, 1000)
#: On a smaller screen, this share of its available width and height.
SCREEN_SHARE = 0.92


@dataclass
class LayoutParts:
    """The containers of the window's layout (presentation mode rearranges them)."""

    main_split: QtWidgets.QSplitter
    left_split: QtWidgets.QSplitter
    bottom_split: QtWidgets.QSplitter
    table_box: QtWidgets.QWidget
    history_bar: QtWidgets.QWidget
    side_scroll: QtWidgets.QScrollArea
    side: QtWidgets.QWidget
    inspector: QtWidgets.QGroupBox
    scatter_box: QtWidgets.QWidget


def fitted_size(available: QtCore.QRect) -> QtCore.QSize:
    """The window's size on a screen whose available geometry is ``available``.

    :data:`PREFERRED_SIZE`, or :data:`SCREEN_SHARE` of the available area
    where that is smaller (a 1280x720 projector: 1177x662).
    """
    return QtCore.QSize(
        min(PREFERRED_SIZE.width(), int(available.width() * SCREEN_SHARE)),
        min(PREFERRED_SIZE.height(), int(available.height() * SCREEN_SHARE)),
    )


def fit_to_screen(window: QtWidgets.QWidget, screen: QtCore.QObject | None = None) -> None:
    """Size ``window`` for its screen (:func:`fitted_size`) and centre it there."""
    screen = screen or window.screen() or QtWidgets.QApplication.primaryScreen()
    if screen is None:
        window.resize(PREFERRED_SIZE)
        return
    available = screen.availableGeometry()
    # Never under the window's minimum (the layout would widen it past the
    # centred position), never over the screen.
    size = fitted_size(available).expandedTo(window.minimumSizeHint())
    size = size.boundedTo(available.size())
    window.resize(size)
    centre = available.center()
    window.move(centre.x() - size.width() // 2, centre.y() - size.height() // 2)


def fits_screen(window: QtWidgets.QWidget) -> bool:
    """Whether ``window``'s frame lies inside the available area of a screen."""
    frame = window.frameGeometry()
    for screen in QtWidgets.QApplication.screens():
        if screen.availableGeometry().contains(frame):
            return True
    return False


def build_layout(window) -> LayoutParts:
    """Make the window's views (``window.scatter``, ``loglik``, ...) and lay them out."""
    s = window.session
    window.scatter = ScatterView(s)
    window.loglik = LoglikView(s)
    window.param_table = ParamTable(s)
    window.resp_view = RespView(s)
    window.controls = ControlPanel(s, window.actions_by_key)
    window.readout = Readout(s)
    window.readout.hide()  # shown in presentation mode, in place of the table
    window.narration = NarrationBar(s)
    window.add_views(window.narration)
    view_menu = window.menus["view"]
    view_menu.addSeparator()
    view_menu.addMenu(narration_menu(window, window.narration))

    history_bar = _history_bar(window)

    # The table with a caption that says what it was estimated from.
    table_box = QtWidgets.QWidget(objectName="paramBox")
    table_layout = QtWidgets.QVBoxLayout(table_box)
    table_layout.setContentsMargins(0, 0, 0, 0)
    table_layout.setSpacing(2)
    table_layout.addWidget(window.param_table, 1)
    window.param_caption = QtWidgets.QLabel(objectName="paramCaption")
    window.param_caption.setWordWrap(True)
    table_layout.addWidget(window.param_caption)
    bottom = QtWidgets.QSplitter(Qt.Orientation.Horizontal, objectName="bottomSplitter")
    bottom.addWidget(window.loglik)
    bottom.addWidget(table_box)
    bottom.setStretchFactor(0, 1)
    bottom.setStretchFactor(1, 1)
    bottom.setSizes([560, 520])
    left_split = QtWidgets.QSplitter(Qt.Orientation.Vertical, objectName="plotSplitter")
    scatter_box = QtWidgets.QWidget(objectName="scatterBox")
    scatter_layout = QtWidgets.QVBoxLayout(scatter_box)
    scatter_layout.setContentsMargins(0, 0, 0, 0)
    scatter_layout.setSpacing(0)
    scatter_layout.addWidget(window.scatter, 1)
    scatter_layout.addWidget(window.narration)
    left_split.addWidget(scatter_box)
    left_split.addWidget(bottom)
    left_split.setStretchFactor(0, 3)
    left_split.setStretchFactor(1, 1)
    left_split.setSizes([640, 250])
    left = QtWidgets.QWidget(objectName="plotArea")
    left_layout = QtWidgets.QVBoxLayout(left)
    left_layout.setContentsMargins(4, 4, 4, 4)
    left_layout.addWidget(left_split, 1)
    left_layout.addWidget(history_bar)

    side = QtWidgets.QWidget(objectName="sidePanel")
    side_layout = QtWidgets.QVBoxLayout(side)
    side_layout.setContentsMargins(0, 0, 0, 0)
    side_layout.addWidget(window.controls)
    inspector = QtWidgets.QGroupBox("Point clicked", objectName="pointInspector")
    resp_layout = QtWidgets.QVBoxLayout(inspector)
    resp_layout.setContentsMargins(6, 4, 6, 4)
    resp_layout.setSpacing(2)
    resp_layout.addWidget(window.resp_view.title)
    window.resp_view.setMinimumHeight(100)
    window.resp_view.setMaximumHeight(150)
    resp_layout.addWidget(window.resp_view, 1)
    # Right under the EM buttons: on a 720-pixel screen the model settings
    # below it may need scrolling, the point inspector never.
    window.controls.insert_after_steps(inspector)
    readout_margins = QtWidgets.QHBoxLayout()
    readout_margins.setContentsMargins(8, 0, 8, 0)
    readout_margins.addWidget(window.readout)
    side_layout.addLayout(readout_margins)
    side_layout.addStretch(1)
    side_scroll = FittingScrollArea(side)
    side_scroll.setObjectName("sidePanelScroll")

    splitter = QtWidgets.QSplitter(Qt.Orientation.Horizontal, objectName="mainSplitter")
    splitter.addWidget(left)
    splitter.addWidget(side_scroll)
    splitter.setStretchFactor(0, 1)
    splitter.setStretchFactor(1, 0)
    splitter.setCollapsible(1, False)
    splitter.setSizes([1150, 420])
    window.setCentralWidget(splitter)
    return LayoutParts(
        main_split=splitter,
        left_split=left_split,
        bottom_split=bottom,
        table_box=table_box,
        history_bar=history_bar,
        side_scroll=side_scroll,
        side=side,
        inspector=inspector,
        scatter_box=scatter_box,
    )


def _history_bar(window) -> QtWidgets.QWidget:
    """History: a label, Back, the slider of half-steps, Forward, where the slider is."""
    window.history_slider = QtWidgets.QSlider(Qt.Orientation.Horizontal, objectName="historySlider")
    window.history_slider.setToolTip("The history of half-steps: drag to replay (Left/Right)")
    window.history_slider.setPageStep(2)
    window.history_slider.valueChanged.connect(window.session.set_index)
    # As wide as its longest text for the history's length (a fixed width cut
    # "12 / 140: iteration 6, M-step" in presentation's large font).
    window.history_label = ReservingLabel(objectName="historyLabel")
    back = QtWidgets.QToolButton(objectName="backButton")
    back.setDefaultAction(window.actions_by_key["back"])
    back.setArrowType(Qt.ArrowType.LeftArrow)
    forward = QtWidgets.QToolButton(objectName="forwardButton")
    forward.setDefaultAction(window.actions_by_key["forward"])
    forward.setArrowType(Qt.ArrowType.RightArrow)
    bar = QtWidgets.QWidget(objectName="historyBar")
    row = QtWidgets.QHBoxLayout(bar)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(QtWidgets.QLabel("History"))
    row.addWidget(back)
    row.addWidget(window.history_slider, 1)
    row.addWidget(forward)
    row.addWidget(window.history_label)
    return bar


class ReservingLabel(QtWidgets.QLabel):
    """A label as wide as its text or a reserved text, whichever is wider, in its current font.

    The history label's text changes at every step; were its width to
    follow, the slider and, in a window at its narrowest, the plots would
    move with it (an exported animation's frames changed size).
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._reserved = ""

    def reserve(self, text: str) -> None:
        """Keep room for ``text``."""
        if text != self._reserved:
            self._reserved = text
            self.updateGeometry()

    def _widened(self, size: QtCore.QSize) -> QtCore.QSize:
        margins = self.contentsMargins()
        width = self.fontMetrics().horizontalAdvance(self._reserved) + margins.left()
        return QtCore.QSize(max(size.width(), width + margins.right() + 2), size.height())

    def sizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt's name)
        return self._widened(super().sizeHint())

    def minimumSizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt's name)
        return self._widened(super().minimumSizeHint())


class AdaptiveLabel(QtWidgets.QLabel):
    """A one-line label that shows the longest of its variants that fits its width.

    ``text()`` is the full text (the first variant); a shorter form is drawn
    where the label is narrower, with the full text in the tooltip. Its size
    hint is the width of the form shown, its minimum the shortest form's, so
    that a long line never widens the window.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._variants: list[str] = []

    def set_variants(self, variants: list[str]) -> None:
        """The full text, then shorter forms of it, longest first."""
        self._variants = list(variants)
        self.setText(self._variants[0] if self._variants else "")
        self.updateGeometry()
        self.update()
        self.setToolTip("" if self.shown_text() == self.text() else self.text())

    def _width_of(self, text: str) -> int:
        margins = self.contentsMargins()
        return (
            self.fontMetrics().horizontalAdvance(text)
            + margins.left()
            + margins.right()
            + 2 * self.margin()
            + 2
        )

    def shown_text(self) -> str:
        """The form drawn at the label's width."""
        variants = self._variants or [self.text()]
        for text in variants:
            if self._width_of(text) <= self.width():
                return text
        return variants[-1]

    def sizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt's name)
        return QtCore.QSize(self._width_of(self.shown_text()), super().sizeHint().height())

    def minimumSizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt's name)
        variants = self._variants or [self.text()]
        return QtCore.QSize(self._width_of(variants[-1]), super().minimumSizeHint().height())

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        shown = self.shown_text()
        self.setToolTip("" if shown == self.text() else self.text())

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        painter = QtGui.QPainter(self)
        rect = self.contentsRect().adjusted(self.margin(), 0, -self.margin(), 0)
        self.style().drawItemText(
            painter,
            rect,
            int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
            self.palette(),
            self.isEnabled(),
            self.shown_text(),
            self.foregroundRole(),
        )
