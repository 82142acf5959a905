"""Presentation mode's layout: full screen, the plots large, the numbers readable from the back.

Designed for a 1280x720 projector and a 1920x1080 screen::

    +--------------------------------------------+------------------+
    |                                            | Next step: ...   |
    |   scatter plot (at least half the screen)  | [E-step][M-step] |
    |                                            | [Iter.] [Run]    |
    |                                            | ...  speed       |
    +--------------------------------------------+ readout:         |
    |   log-likelihood (or the bound slice): strip| π, μ, σ, ρ; log p|
    +--------------------------------------------+------------------+
    | status bar                                                    |

:class:`PresentationLayout` hides what a lecture hall does not need (the
model settings, the display options, the point inspector, the parameter
table, which the readout replaces, the history bar and the toolbars,
whose commands keep their keys, the speed's wording), closes the open
panels, and puts everything back exactly as it was on leaving (splitter
sizes, panels, the window's geometry). The
sizes of fonts, lines and markers are the styler's
(:mod:`emviz.ui.classroom.styling`).
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from emviz.ui.docks import FittingScrollArea

__all__ = ["PresentationLayout", "strip_height"]

#: The log-likelihood strip's share of the screen's height, and its bounds in pixels.
STRIP_SHARE = 0.14
STRIP_MIN, STRIP_MAX = 96, 260
#: On a screen at least this high, the strip's share is larger (room to read the curve).
TALL_SCREEN, TALL_SHARE = 900, 0.2


#: The narration's share of the strip's width (beside the log-likelihood).
NARRATION_SHARE = 0.55


def strip_height(screen_height: int) -> int:
    """Height of the log-likelihood strip on a screen ``screen_height`` pixels high."""
    share = TALL_SHARE if screen_height >= TALL_SCREEN else STRIP_SHARE
    return max(STRIP_MIN, min(STRIP_MAX, int(screen_height * share)))


class PresentationLayout:
    """Enters and leaves presentation mode's layout for ``window``."""

    def __init__(self, window) -> None:
        self.window = window
        self._was_maximized = False
        #: The window's geometry before presentation mode (remembered instead of full screen).
        self.normal_geometry: QtCore.QByteArray | None = None
        self._hidden: list[QtWidgets.QWidget] = []
        self._closed_docks: list[QtWidgets.QDockWidget] = []
        self._saved_sizes: dict = {}
        self._saved_stretch: list[tuple] = []
        self._button_columns = 3
        self._saved_margins = None
        self._normal_size = window.size()
        self._normal_rect = window.geometry()
        self._went_full_screen = False
        self._resize_watch = _ResizeWatch(window)
        self._strip: QtWidgets.QWidget | None = None
        self._side_hidden = False
        #: Called with True on entering presentation mode, False on leaving
        #: (a feature that lays out its own panel for the room: the quiz).
        self.listeners: list = []
        self.active = False

    # ---------------------------------------------------------------- enter / leave

    def enter(self) -> None:
        """Hide the inessential widgets and panels; the plots and the readout take the room."""
        w = self.window
        parts = getattr(w, "layout_parts", None)
        self.active = True
        self._was_maximized = w.isMaximized()
        self.normal_geometry = w.saveGeometry()
        self._normal_size = w.size()
        self._normal_rect = w.geometry()
        self._hidden = [x for x in self._inessential() if x.isVisible() or not w.isVisible()]
        for widget in self._hidden:
            widget.hide()
        self._closed_docks = [
            dock
            for dock in w.findChildren(QtWidgets.QDockWidget)
            if dock.isVisible() and not dock.isFloating()
        ]
        for dock in self._closed_docks:
            dock.hide()
        if parts is None:
            return
        self._saved_sizes = {
            split: split.sizes()
            for split in (parts.main_split, parts.left_split, parts.bottom_split)
        }
        # The splitters give a change of the window's size to the scatter plot
        # only: the strip and the side column keep theirs.
        self._saved_stretch = []
        for split, stretches in ((parts.left_split, (1, 0)), (parts.main_split, (1, 0))):
            for i, factor in enumerate(stretches):
                policy = split.widget(i).sizePolicy()
                saved = (policy.horizontalStretch(), policy.verticalStretch())
                self._saved_stretch.append((split.widget(i), saved))
                policy.setHorizontalStretch(factor)
                policy.setVerticalStretch(factor)
                split.widget(i).setSizePolicy(policy)
        plot_area = parts.left_split.parentWidget().layout()
        self._saved_margins = plot_area.contentsMargins()
        plot_area.setContentsMargins(0, 0, 0, 0)  # every pixel to the plots
        controls = w.controls
        self._button_columns = getattr(controls, "button_columns", 3)
        if hasattr(controls, "set_button_columns"):
            controls.set_button_columns(2)
        readout = getattr(w, "readout", None)
        if readout is not None:
            readout.show()
            readout.flush()
        self.use_strip(self._strip)
        self.hide_side(self._side_hidden)
        # The narration beside the strip: under the scatter plot it would
        # take the height the plot needs on a 720-pixel projector.
        narration = getattr(w, "narration", None)
        if narration is not None:
            parts.bottom_split.addWidget(narration)
            narration.fit_to_box(True)
        self.arrange()

    def hide_side(self, hidden: bool) -> None:
        """Hide the side column (a panel of the features takes its place), or show it again.

        Outside presentation mode it takes effect on entering.
        """
        self._side_hidden = bool(hidden)
        parts = getattr(self.window, "layout_parts", None)
        if parts is not None and self.active:
            parts.side_scroll.setVisible(not hidden)

    def use_strip(self, strip: QtWidgets.QWidget | None) -> None:
        """In the strip under the scatter plot: ``strip`` in place of the log-likelihood, or it.

        A feature's view (Inside EM's bound slice) that lives, hidden, in the
        bottom splitter beside the log-likelihood plot; None: the
        log-likelihood.  Outside presentation mode it takes effect on entering.
        """
        w = self.window
        self._strip = strip
        if not self.active:
            return
        parts = getattr(w, "layout_parts", None)
        loglik = getattr(w, "loglik", None)
        if parts is None or loglik is None:
            return
        for i in range(parts.bottom_split.count()):
            widget = parts.bottom_split.widget(i)
            if widget is not loglik and widget is not parts.table_box:
                widget.setVisible(widget is strip)
        loglik.setVisible(strip is None)
        if strip is not None and hasattr(strip, "flush"):
            strip.flush()

    def leave(self) -> None:
        """Show what :meth:`enter` hid, reopen the panels, put the splitters back."""
        w = self.window
        self.active = False
        for widget in self._hidden:
            widget.show()
        self._hidden = []
        readout = getattr(w, "readout", None)
        if readout is not None:
            readout.hide()
        parts = getattr(w, "layout_parts", None)
        if parts is not None:
            parts.side_scroll.show()
        narration = getattr(w, "narration", None)
        if parts is not None and narration is not None:
            narration.fit_to_box(False)
            parts.scatter_box.layout().addWidget(narration)
            narration.setVisible(narration.level != "off")
        if parts is not None and getattr(w, "loglik", None) is not None:
            for i in range(parts.bottom_split.count()):
                widget = parts.bottom_split.widget(i)
                if widget is not w.loglik and widget is not parts.table_box:
                    widget.hide()
            w.loglik.show()
        if hasattr(w.controls, "set_button_columns"):
            w.controls.set_button_columns(self._button_columns)
        parts = getattr(w, "layout_parts", None)
        if parts is not None and self._saved_margins is not None:
            parts.left_split.parentWidget().layout().setContentsMargins(self._saved_margins)
            self._saved_margins = None
        for widget, (horizontal, vertical) in self._saved_stretch:
            policy = widget.sizePolicy()
            policy.setHorizontalStretch(horizontal)
            policy.setVerticalStretch(vertical)
            widget.setSizePolicy(policy)
        self._saved_stretch = []
        for dock in self._closed_docks:
            dock.show()
        self._closed_docks = []
        self._restore_sizes()

    def show(self, on: bool, full_screen: bool = True) -> None:
        """Full screen on entering (if ``full_screen``); the window as it was on leaving."""
        w = self.window
        if on and full_screen:
            self._went_full_screen = True
            w.showFullScreen()
            screen = w.screen()
            if screen is not None and w.geometry() != screen.geometry():
                # Without a window manager (a bare X server, a kiosk), full
                # screen is only a wish: the window takes the screen itself.
                w.setGeometry(screen.geometry())
        elif not on and (w.isFullScreen() or self._went_full_screen):
            # (Without a window manager the window's state never says full screen.)
            self._went_full_screen = False
            if self._was_maximized:
                w.showMaximized()
            else:
                w.showNormal()
                if self.normal_geometry is not None:
                    w.restoreGeometry(self.normal_geometry)
                # Without a window manager nothing undoes the full-screen
                # geometry: the window takes its own back, once Qt has
                # handled the change of state.
                QtCore.QTimer.singleShot(0, w, self._back_to_normal_rect)
        elif not on and not self._was_maximized:
            # Presented in a window: the large type may have widened it.
            QtCore.QTimer.singleShot(0, w, self._back_to_normal_rect)
        # Once the window has its new size (full screen, or back): the
        # strip's height for this screen, or the sizes from before.
        if on:
            QtCore.QTimer.singleShot(0, w, self.arrange)
        else:
            self._restore_sizes()
            if w.size() != self._normal_size:
                # The window system resizes the window later: the splitters
                # get their sizes back when it is the size it was.
                self._resize_watch.watch(self._normal_size, self._restore_sizes)

    def _back_to_normal_rect(self) -> None:
        w = self.window
        if not (self.active or w.isFullScreen() or w.isMaximized() or self._was_maximized):
            if w.geometry() != self._normal_rect:
                w.setGeometry(self._normal_rect)

    # ---------------------------------------------------------------- sizes

    def arrange(self) -> None:
        """The strip's height and the side column's width for the window's screen."""
        w = self.window
        parts = getattr(w, "layout_parts", None)
        if parts is None or not self.active:
            return
        screen = w.screen() or QtWidgets.QApplication.primaryScreen()
        height = screen.geometry().height() if screen is not None else w.height()
        left = parts.left_split
        total = sum(left.sizes()) or left.height()
        strip = strip_height(height)
        left.setSizes([max(total - strip, 1), strip])
        # The strip's row: the log-likelihood (or its stand-in) and the narration.
        bottom = parts.bottom_split
        width = sum(bottom.sizes()) or bottom.width()
        shares = [0] * bottom.count()
        for i in range(bottom.count()):
            widget = bottom.widget(i)
            if widget is getattr(w, "narration", None):
                shares[i] = int(width * NARRATION_SHARE)
            elif not widget.isHidden():
                shares[i] = 1
        rest = width - sum(s for s in shares if s > 1)
        bottom.setSizes([s if s > 1 else (rest if s else 0) for s in shares])
        main = parts.main_split
        total = sum(main.sizes()) or main.width()
        side = parts.side_scroll.minimumSizeHint().width()
        main.setSizes([max(total - side, 1), side])

    def _restore_sizes(self) -> None:
        if self.active:
            return
        # The panels' minimum widths for the normal font first, and the
        # splitters' reaction to them: else they redistribute afterwards.
        for area in self.window.findChildren(FittingScrollArea):
            area.fit_width()
        QtWidgets.QApplication.sendPostedEvents(None, QtCore.QEvent.Type.LayoutRequest)
        for split, saved in self._saved_sizes.items():
            split.setSizes(saved)

    def _inessential(self) -> list[QtWidgets.QWidget]:
        """What presentation mode hides: the settings, display options, inspector, table."""
        w = self.window
        out: list[QtWidgets.QWidget] = []
        for box in w.findChildren(QtWidgets.QGroupBox):
            if box.title() in ("Model", "Show", "Point clicked"):
                out.append(box)
        # The caption goes with its table; the readout shows the numbers instead.
        for name in ("param_table", "param_caption"):
            widget = getattr(w, name, None)
            if widget is not None:
                out.append(widget)
        parts = getattr(w, "layout_parts", None)
        if parts is not None:
            out += [parts.table_box, parts.history_bar]
        # The speed's wording: the slider stays (its tooltip and the status
        # bar say the speed); two lines of large type the readout needs.
        speed_label = getattr(w.controls, "speed_label", None)
        if speed_label is not None:
            out.append(speed_label)
        # Toolbars: the side column has the EM buttons, and the keys work;
        # the height goes to the plot (at 1280x720 it needs every pixel).
        out += [bar for bar in w.findChildren(QtWidgets.QToolBar) if bar.parentWidget() is w]
        return out


class _ResizeWatch(QtCore.QObject):
    """Calls a function once, when ``window`` is next resized to a given size."""

    def __init__(self, window: QtWidgets.QWidget) -> None:
        super().__init__(window)
        self._size: QtCore.QSize | None = None
        self._fn = None
        window.installEventFilter(self)

    def watch(self, size: QtCore.QSize, fn) -> None:
        self._size, self._fn = QtCore.QSize(size), fn

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt's name)
        if (
            self._fn is not None
            and event.type() == QtCore.QEvent.Type.Resize
            and event.size() == self._size
        ):
            fn, self._fn = self._fn, None
            QtCore.QTimer.singleShot(0, self, fn)  # after the layout has the new size
        return False
