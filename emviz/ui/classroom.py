"""For the lecture hall: presentation mode, light and dark themes, remembered
settings, and undo for the actions that throw work away.

``install(window)`` adds

- View > Presentation mode (F11): full screen, large fonts, thick lines, big
  points and markers, and only the essential controls (the next step, the EM
  buttons, the speed); F11 or Esc leaves it;
- View > Theme > Light / Dark: plot backgrounds and axes, the Qt palette,
  and in the dark theme the palette entries that would vanish on a dark
  background (black, wine) swapped for light ones, so the colour-blind-safe
  palette stays readable;
- Edit > Undo / Redo (Ctrl+Z, Ctrl+Shift+Z) for every change of the data
  (opening a file or a session, a data set, generated points, points added
  by clicking) and Edit > Clear added points.  An undo restores the previous
  data, settings and history exactly: snapshots are immutable, so the undo
  command keeps references to them;
- remembered settings (QSettings): window geometry, last folder, theme and
  run speed, restored on the next start.

Where settings are kept (:func:`settings_store`): the file named by the
``EMVIZ_SETTINGS`` environment variable (INI format; tests point it at a
temporary file), else the user's emviz settings, but only in the emviz
application itself (``emviz.app.main`` sets the organisation name "emviz");
a window built by a test or by ``emviz export`` remembers nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import Qt

from emviz.core.settings import APPLICATION, ORGANIZATION
from emviz.ui import palette as _palette
from emviz.ui.style import BASE_POINT_SIZE

__all__ = [
    "PRESENTATION_POINT_SIZE",
    "THEMES",
    "Classroom",
    "install",
    "last_folder",
    "remember_folder",
    "settings_store",
]

SETTINGS_ENV = "EMVIZ_SETTINGS"

#: Font size of the window in presentation mode, in points.
PRESENTATION_POINT_SIZE = 20
#: Line widths and marker sizes are multiplied by this in presentation mode.
PRESENTATION_SCALE = 1.8

#: (plot background, plot foreground, Qt palette) of each theme.
THEMES = {
    "light": {"bg": "#FFFFFF", "fg": "#000000", "muted": "#555555", "warning": "#B00000"},
    "dark": {"bg": "#15181D", "fg": "#EDEDED", "muted": "#B8B8B8", "warning": "#FF7B72"},
}
#: Palette entries replaced in the dark theme: black becomes near-white, Tol's
#: wine (too dark on black) becomes Tol's purple.  The others keep their hue.
_DARK_SWAPS = {6: (235, 235, 235), 8: (0xAA, 0x44, 0x99)}
_LIGHT_PALETTE = _palette.PALETTE.copy()


# ============================================================================
# Settings


def settings_store() -> QtCore.QSettings | None:
    """The QSettings to remember things in, or None where nothing is remembered."""
    path = os.environ.get(SETTINGS_ENV, "")
    if path:
        return QtCore.QSettings(path, QtCore.QSettings.Format.IniFormat)
    app = QtCore.QCoreApplication.instance()
    if app is None or app.organizationName() != ORGANIZATION:
        return None
    return QtCore.QSettings(ORGANIZATION, APPLICATION)


def _read(key: str, default=None):
    store = settings_store()
    return default if store is None else store.value(key, default)


def _write(key: str, value) -> None:
    store = settings_store()
    if store is not None:
        store.setValue(key, value)
        store.sync()


def last_folder(*, opening: bool = False) -> str:
    """The folder of the last file opened or saved.

    With none remembered: for an Open dialog (``opening``) the bundled data
    sets, so that a newcomer's first Open shows files that load; for a Save
    dialog the home folder (never the installed package).
    """
    folder = _read("last_folder", "")
    if folder and Path(str(folder)).is_dir():
        return str(folder)
    if opening:
        bundled = bundled_data_folder()
        if bundled is not None:
            return str(bundled)
    return str(Path.home())


def bundled_data_folder() -> Path | None:
    """The folder of the bundled data sets, or None in a broken installation."""
    from emviz.core.errors import EmvizError
    from emviz.core.resources import resources_dir

    try:
        folder = resources_dir() / "datasets"
    except EmvizError:
        return None
    return folder if folder.is_dir() else None


def remember_folder(path: str | os.PathLike[str]) -> None:
    """Remember the folder of ``path`` (a file) for the next file dialog.

    The bundled data sets' folder is not remembered: it is where Open starts
    anyway, and a Save dialog must not offer the installed package.
    """
    p = Path(path)
    folder = p if p.is_dir() else p.parent
    bundled = bundled_data_folder()
    if bundled is not None and folder.resolve() == bundled.resolve():
        return
    _write("last_folder", str(folder))


# ============================================================================
# Undo


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

    def __init__(self, classroom: Classroom, before: SessionState, text: str) -> None:
        super().__init__(text)
        self.classroom = classroom
        self.before = before
        self.after: SessionState | None = None
        self._done = True

    def undo(self) -> None:
        self.after = self.classroom.capture()
        self.classroom.restore(self.before)

    def redo(self) -> None:
        if self._done:  # pushed after the fact: nothing to do the first time
            self._done = False
            return
        if self.after is not None:
            self.classroom.restore(self.after)


# ============================================================================
# The feature


class Classroom(QtCore.QObject):
    """Presentation mode, themes, remembered settings and undo for one window."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.session = window.session
        self.theme = "light"
        self.presenting = False
        self._was_maximized = False
        self._normal_geometry: QtCore.QByteArray | None = None
        self._hidden: list[QtWidgets.QWidget] = []
        self._restoring = False
        self._base_n = self.session.n_samples
        self._last = SessionState.of(self.session, self._base_n)
        self._pending_text: str | None = None
        self._baseline = self._capture_baseline()
        self.undo_stack = QtGui.QUndoStack(self)
        self._make_actions()
        s = self.session
        s.data_changed.connect(self._on_data_changed)
        for signal in (s.history_changed, s.snapshot_changed, s.settings_changed):
            signal.connect(self._on_state_changed)
        window.installEventFilter(self)
        window.controls.speed_slider.valueChanged.connect(self._on_speed)
        self.restore_settings()

    # ---------------------------------------------------------------- actions

    def _action(self, name, text, shortcuts, tip, slot=None, checkable=False) -> QtGui.QAction:
        action = QtGui.QAction(text, self.window)
        action.setObjectName(f"{name}Action")
        if shortcuts:
            action.setShortcuts([QtGui.QKeySequence(k) for k in shortcuts])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            keys = action.shortcut().toString(QtGui.QKeySequence.SequenceFormat.NativeText)
            tip = f"{tip} ({keys})"
        action.setToolTip(tip)
        action.setStatusTip(tip)
        action.setCheckable(checkable)
        if slot is not None:
            if checkable:
                action.toggled.connect(slot)
            else:
                action.triggered.connect(lambda _c=False: slot())
        self.window.addAction(action)
        return action

    def _make_actions(self) -> None:
        w = self.window
        view = w.menus["view"]
        view.addSeparator()
        self.presentation_action = self._action(
            "presentation",
            "&Presentation mode",
            ["F11"],
            "Full screen, large fonts, thick lines, only the essential controls",
            self.set_presentation,
            checkable=True,
        )
        view.addAction(self.presentation_action)
        self.leave_action = self._action(
            "leavePresentation", "Leave presentation mode", ["Esc"], "Leave presentation mode"
        )
        self.leave_action.triggered.connect(lambda: self.set_presentation(False))
        self.leave_action.setEnabled(False)
        theme_menu = view.addMenu("&Theme")
        theme_menu.setObjectName("themeMenu")
        group = QtGui.QActionGroup(self)
        group.setExclusive(True)
        self.theme_actions: dict[str, QtGui.QAction] = {}
        for name, label in (("light", "&Light"), ("dark", "&Dark")):
            action = QtGui.QAction(label, w)
            action.setObjectName(f"theme_{name}Action")
            action.setCheckable(True)
            action.setChecked(name == self.theme)
            action.triggered.connect(lambda _c=False, n=name: self.set_theme(n))
            group.addAction(action)
            theme_menu.addAction(action)
            self.theme_actions[name] = action

        # Edit menu, between File and EM.
        edit = QtWidgets.QMenu("&Edit", w)
        edit.setObjectName("editMenu")
        edit.setToolTipsVisible(True)
        w.menuBar().insertMenu(w.menus["em"].menuAction(), edit)
        w.menus["edit"] = edit
        self.undo_action = self.undo_stack.createUndoAction(w, "&Undo")
        self.undo_action.setObjectName("undoAction")
        self.undo_action.setShortcuts([QtGui.QKeySequence("Ctrl+Z")])
        self.redo_action = self.undo_stack.createRedoAction(w, "&Redo")
        self.redo_action.setObjectName("redoAction")
        self.redo_action.setShortcuts(
            [QtGui.QKeySequence("Ctrl+Shift+Z"), QtGui.QKeySequence("Ctrl+Y")]
        )
        for action in (self.undo_action, self.redo_action):
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            w.addAction(action)
            edit.addAction(action)
        # Say what a key press undid: one Ctrl+Z can take back a whole data
        # set (setting changes with nothing run make no entry of their own).
        self.undo_action.triggered.connect(lambda: self._say_done("Undone", +1))
        self.redo_action.triggered.connect(lambda: self._say_done("Redone", 0))
        edit.addSeparator()
        self.clear_action = self._action(
            "clearAdded",
            "&Clear added points",
            [],
            "Remove the points added by clicking; EM goes on from the mixture shown "
            "(Ctrl+Z brings them back)",
            self.clear_added_points,
        )
        edit.addAction(self.clear_action)
        self._update_clear()

    def _say_done(self, verb: str, offset: int) -> None:
        """Status message naming the command just undone (``offset`` 1) or redone (0)."""
        stack = self.undo_stack
        index = stack.index() + offset - 1
        if 0 <= index < stack.count():
            self.window.statusBar().showMessage(f"{verb}: {stack.text(index)}", 6000)

    # ---------------------------------------------------------------- settings

    def restore_settings(self) -> None:
        """Theme, speed and window geometry from the last session."""
        theme = _read("theme", "light")
        if theme in THEMES and theme != self.theme:
            self.set_theme(str(theme), persist=False)
        speed = _read("speed")
        slider = self.window.controls.speed_slider
        try:
            speed = int(speed) if speed is not None else None
        except (TypeError, ValueError):
            speed = None
        if speed is not None and slider.minimum() <= speed <= slider.maximum():
            slider.setValue(speed)
        geometry = _read("geometry")
        if isinstance(geometry, QtCore.QByteArray | bytes) and geometry:
            self.window.restoreGeometry(QtCore.QByteArray(geometry))

    def save_settings(self) -> None:
        if settings_store() is None:
            return
        geometry = self._normal_geometry if self.presenting else None
        _write("geometry", geometry if geometry is not None else self.window.saveGeometry())
        _write("theme", self.theme)
        _write("speed", self.window.controls.speed_slider.value())

    def _on_speed(self, value: int) -> None:
        _write("speed", int(value))

    def eventFilter(self, obj, event) -> bool:
        if obj is self.window and event.type() == QtCore.QEvent.Type.Close:
            self.save_settings()
            if self.theme != "light":
                # The Qt palette and the colour table are the application's:
                # leave them as found for whatever runs next (tests, a new window).
                _apply_global_theme("light")
        return False

    # ---------------------------------------------------------------- theme

    def set_theme(self, name: str, persist: bool = True) -> None:
        """Switch to the "light" or "dark" theme."""
        if name not in THEMES:
            raise ValueError(f"unknown theme {name!r}; expected one of {', '.join(THEMES)}")
        self.theme = name
        self.theme_actions[name].setChecked(True)
        _apply_global_theme(name)
        self.restyle()
        # Views drawn in the foreground colour follow the theme.
        for view in self.window.extra_views:
            if hasattr(view, "set_theme"):
                view.set_theme(THEMES[name]["fg"])
        if persist:
            _write("theme", name)

    # ---------------------------------------------------------------- presentation

    def set_presentation(self, on: bool, full_screen: bool = True) -> None:
        """Presentation mode on or off (F11)."""
        on = bool(on)
        w = self.window
        if on == self.presenting:
            return
        self.presenting = on
        self.presentation_action.blockSignals(True)
        self.presentation_action.setChecked(on)
        self.presentation_action.blockSignals(False)
        self.leave_action.setEnabled(on)
        if on:
            self._was_maximized = w.isMaximized()
            self._normal_geometry = w.saveGeometry()
            self._hidden = [x for x in self._inessential() if x.isVisible() or not w.isVisible()]
            for widget in self._hidden:
                widget.hide()
        else:
            for widget in self._hidden:
                widget.show()
            self._hidden = []
        self._layout_for(on)
        self.restyle()
        if on and full_screen:
            w.showFullScreen()
        elif not on and w.isFullScreen():
            if self._was_maximized:
                w.showMaximized()
            else:
                w.showNormal()
                if self._normal_geometry is not None:
                    w.restoreGeometry(self._normal_geometry)
        w.statusBar().showMessage(
            "Presentation mode: F11 or Esc to leave" if on else "Presentation mode off", 5000
        )

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
            side_min = getattr(self, "_side_min", None)
            if side_min is not None:
                side_min[0].setMinimumWidth(side_min[1])
                self._side_min = None
            for split, sizes in getattr(self, "_saved_sizes", {}).items():
                split.setSizes(sizes)
            self._saved_sizes = {}
            spacer = getattr(self, "_spacer", None)
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

    # ---------------------------------------------------------------- styling

    def _capture_baseline(self) -> dict:
        """Line widths and sizes as the views made them (presentation scales these)."""
        w = self.window
        base: dict = {"curves": {}, "items": {}}
        sc = w.scatter
        for n_std, curves in sc.ellipse_curves.items():
            pen = curves[0].opts["pen"]
            base["curves"][n_std] = (pen.widthF(), pen.style())
        ll = w.loglik
        base["ll_curve"] = ll.curve.opts["pen"].widthF()
        for key in ("init_item", "e_item", "m_item", "converged_item"):
            item = getattr(ll, key)
            base["items"][key] = (item.opts["size"], item.opts["pen"].widthF())
        base["means_size"] = sc.means_item.opts["size"]
        base["selected"] = (sc.selected_item.opts["size"], sc.selected_item.opts["pen"].widthF())
        base["cursor"] = ll.cursor.pen.widthF()
        base["next_font"] = w.controls.next_label.font().pointSize()
        base["left_widths"] = {
            id(p): getattr(p.getPlotItem().getAxis("left"), "fixedWidth", None)
            for p in self._plots()
        }
        return base

    def _plots(self) -> list[pg.PlotWidget]:
        return self.window.findChildren(pg.PlotWidget)

    def restyle(self) -> None:
        """Apply the theme and the presentation sizes to every plot and the window."""
        w = self.window
        t = THEMES[self.theme]
        bg, fg, muted = t["bg"], t["fg"], t["muted"]
        big = self.presenting
        scale = PRESENTATION_SCALE if big else 1.0
        base = self._baseline
        pt = PRESENTATION_POINT_SIZE if big else BASE_POINT_SIZE

        font = w.font()
        font.setPointSize(pt)
        w.setFont(font)
        # Docks (a floating one is a window of its own) and the menus do not
        # inherit the window's font: size them too.
        for dock in w.findChildren(QtWidgets.QDockWidget):
            dock.setFont(font)
        w.menuBar().setFont(font)
        for menu in w.menuBar().findChildren(QtWidgets.QMenu):
            menu.setFont(font)
        nf = w.controls.next_label.font()
        nf.setPointSize(base["next_font"] + (pt - BASE_POINT_SIZE))
        w.controls.next_label.setFont(nf)
        w.warning_label.setStyleSheet(f"color: {t['warning']}; font-weight: bold;")

        tick = QtGui.QFont()
        tick.setPointSize(pt if big else BASE_POINT_SIZE)
        for plot in self._plots():
            plot.setBackground(bg)
            item = plot.getPlotItem()
            left_width = base["left_widths"].get(id(plot))
            for name in ("left", "bottom"):
                axis = item.getAxis(name)
                axis.setPen(pg.mkPen(fg, width=1.5 * scale))
                axis.setTextPen(fg)
                axis.setTickFont(tick)
                if axis.labelText:
                    axis.setLabel(axis.labelText, color=fg, **{"font-size": f"{pt + 1}pt"})
            if left_width:
                # Fixed widths keep the plots aligned; large fonts need the automatic width.
                item.getAxis("left").setWidth(None if big else left_width)
            legend = item.legend
            if legend is not None:
                for _sample, label in legend.items:
                    label.setText(label.text, color=fg, size=f"{pt - 1 if big else 11}pt")

        # The scatter plot: points, ellipses, means, selection ring.
        sc = w.scatter
        for n_std, curves in sc.ellipse_curves.items():
            width, style = base["curves"][n_std]
            for k, curve in enumerate(curves):
                curve.setPen(pg.mkPen(_palette.qcolor(k), width=width * scale, style=style))
        brushes = getattr(sc, "_mean_brushes", None)
        if isinstance(brushes, list):
            brushes[:] = [pg.mkBrush(_palette.qcolor(k)) for k in range(len(brushes))]
        if hasattr(sc, "_mean_pen"):
            sc._mean_pen = pg.mkPen(fg, width=2 * scale)
        sc.means_item.setSize(int(round(base["means_size"] * (1.5 if big else 1.0))))
        size, width = base["selected"]
        sc.selected_item.setSize(size * (1.4 if big else 1.0))
        sc.selected_item.setPen(pg.mkPen(fg, width=width * scale))
        self._restyle_points()
        sc.redraw()

        # The log-likelihood plot.
        ll = w.loglik
        ll.curve.setPen(pg.mkPen(muted, width=base["ll_curve"] * scale))
        for key, item in (
            ("init_item", ll.init_item),
            ("e_item", ll.e_item),
            ("m_item", ll.m_item),
            ("converged_item", ll.converged_item),
        ):
            size, width = base["items"][key]
            item.setSize(size * (1.5 if big else 1.0))
            pen = QtGui.QPen(item.opts["pen"])
            if key in ("init_item", "converged_item"):
                pen.setColor(QtGui.QColor(fg))
            pen.setWidthF(width * scale)
            item.setPen(pen)
        ll.e_item.setBrush(pg.mkBrush(bg))
        cursor_pen = QtGui.QPen(ll.cursor.pen)
        cursor_pen.setWidthF(base["cursor"] * scale)
        ll.cursor.setPen(cursor_pen)
        text_font = ll.converged_text.textItem.font()
        text_font.setPointSize(pt)
        ll.converged_text.setFont(text_font)
        w.flush()

    def _restyle_points(self) -> None:
        from emviz.ui.scatter_view import point_diameter

        n = self.session.n_samples
        d = point_diameter(n)
        if self.presenting:
            d = int(round(d * 1.6))
        self.window.scatter.points.setDiameter(d, outline=n <= 3000)

    # ---------------------------------------------------------------- undo

    def capture(self) -> SessionState:
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
        self._restyle_points()
        if self.theme != "light" or self.presenting:
            self.restyle()
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


def _apply_global_theme(name: str) -> None:
    """The application's Qt palette and the component colours, for theme ``name``."""
    from emviz.ui import scatter_view
    from emviz.ui.points import quantize

    colours = _LIGHT_PALETTE.copy()
    if name == "dark":
        for k, rgb in _DARK_SWAPS.items():
            colours[k] = rgb
    # The palette array is shared by every view (blend, hard, qcolor) and is
    # changed in place so that they all follow.
    _palette.PALETTE[:] = colours
    scatter_view._HARD_CODES[:] = quantize(_palette.PALETTE)
    app = QtWidgets.QApplication.instance()
    if app is None:
        return
    if not hasattr(app, "_emviz_light_palette"):
        app._emviz_light_palette = QtGui.QPalette(app.palette())
        app._emviz_light_style = app.style().name()
    if name == "dark":
        app.setStyle("Fusion")
        app.setPalette(_dark_qpalette())
    else:
        app.setStyle(app._emviz_light_style)
        app.setPalette(app._emviz_light_palette)


def _dark_qpalette() -> QtGui.QPalette:
    R = QtGui.QPalette.ColorRole
    G = QtGui.QPalette.ColorGroup
    p = QtGui.QPalette()
    colours = {
        R.Window: "#23272E",
        R.WindowText: "#EDEDED",
        R.Base: "#15181D",
        R.AlternateBase: "#23272E",
        R.ToolTipBase: "#2F343C",
        R.ToolTipText: "#EDEDED",
        R.PlaceholderText: "#8A8F98",
        R.Text: "#EDEDED",
        R.Button: "#2F343C",
        R.ButtonText: "#EDEDED",
        R.BrightText: "#FF7B72",
        R.Light: "#3A4049",
        R.Midlight: "#323740",
        R.Mid: "#262A31",
        R.Dark: "#0F1115",
        R.Shadow: "#000000",
        R.Highlight: "#3D8FD6",
        R.HighlightedText: "#FFFFFF",
        R.Link: "#6CB6FF",
        R.LinkVisited: "#B392F0",
    }
    for role, colour in colours.items():
        p.setColor(role, QtGui.QColor(colour))
    for role in (R.WindowText, R.Text, R.ButtonText):
        p.setColor(G.Disabled, role, QtGui.QColor("#7A7F88"))
    return p


def install(window) -> None:
    """Presentation mode, themes, remembered settings and undo (sets ``window.classroom``)."""
    window.classroom = Classroom(window)
