"""Presentation mode's layout: full screen, the essential controls only, room for the plots.

:class:`PresentationLayout` hides what a lecture hall does not need (the
model settings, the display options, the tables), gives the log-likelihood
plot and the large buttons more room, and puts everything back as it was on
leaving. The sizes (fonts, lines, markers) are the styler's
(:mod:`emviz.ui.classroom.styling`).
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

__all__ = ["PresentationLayout"]


class PresentationLayout:
    """Enters and leaves presentation mode's layout for ``window``."""

    def __init__(self, window) -> None:
        self.window = window
        self._was_maximized = False
        #: The window's geometry before presentation mode (remembered instead of full screen).
        self.normal_geometry: QtCore.QByteArray | None = None
        self._hidden: list[QtWidgets.QWidget] = []
        self._saved_sizes: dict = {}
        self._side_min = None
        self._spacer = None

    def enter(self) -> None:
        """Hide the inessential widgets and make room for the plots and buttons."""
        w = self.window
        self._was_maximized = w.isMaximized()
        self.normal_geometry = w.saveGeometry()
        self._hidden = [x for x in self._inessential() if x.isVisible() or not w.isVisible()]
        for widget in self._hidden:
            widget.hide()
        self._layout_for(True)

    def leave(self) -> None:
        """Show what :meth:`enter` hid and put the splitters back."""
        for widget in self._hidden:
            widget.show()
        self._hidden = []
        self._layout_for(False)

    def show(self, on: bool, full_screen: bool = True) -> None:
        """Full screen on entering (if ``full_screen``); the window as it was on leaving."""
        w = self.window
        if on and full_screen:
            w.showFullScreen()
        elif not on and w.isFullScreen():
            if self._was_maximized:
                w.showMaximized()
            else:
                w.showNormal()
                if self.normal_geometry is not None:
                    w.restoreGeometry(self.normal_geometry)

    def _layout_for(self, on: bool) -> None:
        """More room for the log-likelihood plot and the buttons; the controls packed at the top."""
        w = self.window
        left_split = w.scatter.parentWidget()
        main_split = w.centralWidget()
        right = w.controls.parentWidget()
        right_layout = right.layout() if right is not None else None
        if on:
            self._saved_sizes = {}
            for split in (left_split, main_split):
                if isinstance(split, QtWidgets.QSplitter):
                    self._saved_sizes[split] = split.sizes()
            if isinstance(left_split, QtWidgets.QSplitter) and left_split.count() == 2:
                total = sum(left_split.sizes())
                left_split.setSizes([int(total * 0.64), total - int(total * 0.64)])
            if isinstance(main_split, QtWidgets.QSplitter) and main_split.count() >= 2:
                # The side panel (a scroll area) wide enough for the large buttons.
                side = main_split.widget(1)
                self._side_min = (side, side.minimumWidth())
                side.setMinimumWidth(max(side.minimumWidth(), 540))
            if right_layout is not None:
                self._spacer = QtWidgets.QSpacerItem(
                    0, 0, QtWidgets.QSizePolicy.Policy.Minimum,
                    QtWidgets.QSizePolicy.Policy.Expanding,
                )  # fmt: skip
                right_layout.addItem(self._spacer)
        else:
            side_min = self._side_min
            if side_min is not None:
                side_min[0].setMinimumWidth(side_min[1])
                self._side_min = None
            for split, sizes in self._saved_sizes.items():
                split.setSizes(sizes)
            self._saved_sizes = {}
            spacer = self._spacer
            if spacer is not None and right_layout is not None:
                right_layout.removeItem(spacer)
                self._spacer = None

    def _inessential(self) -> list[QtWidgets.QWidget]:
        """What presentation mode hides: the settings, display options, tables."""
        w = self.window
        out: list[QtWidgets.QWidget] = []
        for box in w.findChildren(QtWidgets.QGroupBox):
            if box.title() in ("Model", "Show", "Point clicked"):
                out.append(box)
        for name in ("param_table", "param_caption"):  # the caption goes with its table
            widget = getattr(w, name, None)
            if widget is not None:
                out.append(widget)
        return out
