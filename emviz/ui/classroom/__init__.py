"""For the lecture hall: presentation mode, light and dark themes, remembered
settings, and undo for the actions that throw work away.

``install(window)`` returns a :class:`Classroom` (the window keeps it as
``window.classroom``), which adds

- View > Presentation mode (F11): full screen, large fonts, thick lines, big
  points and markers, and only the essential controls (the next step, the EM
  buttons, the speed); F11 or Esc leaves it (:mod:`.presentation`,
  :mod:`.styling`);
- View > Theme > Light / Dark: plot backgrounds and axes, the Qt palette,
  and in the dark theme the palette entries that would vanish on a dark
  background swapped for light ones (:mod:`.themes`);
- Edit > Undo / Redo (Ctrl+Z, Ctrl+Shift+Z) for every change of the data and
  every new start, and Edit > Clear added points (:mod:`.undo`);
- remembered settings: window geometry, theme and run speed, restored on the
  next start (where they are kept: :mod:`emviz.ui.remembered`, which also
  holds the last folder of the file dialogs).

The remembered theme is applied once every feature of the window is
installed (:meth:`Classroom.all_installed`), and every restyle styles every
plot of the window then, so the classroom does not need to come last.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui

from emviz.ui.actions import make_action
from emviz.ui.classroom.presentation import PresentationLayout
from emviz.ui.classroom.styling import PRESENTATION_POINT_SIZE, PRESENTATION_SCALE, PlotStyler
from emviz.ui.classroom.themes import THEMES, apply_global_theme, restore_application
from emviz.ui.classroom.undo import DataUndo, SessionState
from emviz.ui.remembered import (
    last_folder,
    read_setting,
    remember_folder,
    settings_store,
    write_setting,
)

__all__ = [
    "PRESENTATION_POINT_SIZE",
    "PRESENTATION_SCALE",
    "THEMES",
    "Classroom",
    "SessionState",
    "install",
    "last_folder",
    "remember_folder",
    "settings_store",
]


class Classroom(QtCore.QObject):
    """Presentation mode, themes, remembered settings and undo for one window."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.session = window.session
        self.theme = "light"
        #: The theme remembered for the next start: the last one chosen in the
        #: menu (``set_theme(..., persist=True)``), not one given for this
        #: start only (``emviz --theme``, which uses ``persist=False``).
        self.remembered_theme = "light"
        self.presenting = False
        self.presentation_layout = PresentationLayout(window)
        self.styler = PlotStyler(window)
        self._make_view_actions()
        edit = window.add_menu("edit", "&Edit", before="em")  # between File and EM
        edit.setObjectName("editMenu")
        self.undo = DataUndo(window, edit)
        self.undo_stack = self.undo.undo_stack
        self.undo_action = self.undo.undo_action
        self.redo_action = self.undo.redo_action
        self.clear_action = self.undo.clear_action
        self.session.data_changed.connect(self._on_data_changed)
        window.controls.speed_slider.valueChanged.connect(self._on_speed)

    def all_installed(self) -> None:
        """The remembered theme, speed and geometry, once every feature's plots exist.

        Every plot, the toolbar and the type are styled then, in the light
        theme too.
        """
        self.restore_settings()
        if self.theme == "light":
            apply_global_theme("light")
            self.restyle()

    def clear_added_points(self) -> bool:
        """Back to the points as loaded; EM restarts from the mixture shown (undoable)."""
        return self.undo.clear_added_points()

    # ---------------------------------------------------------------- actions

    def _make_view_actions(self) -> None:
        w = self.window
        view = w.menus["view"]
        view.addSeparator()
        self.presentation_action = make_action(
            w,
            "presentation",
            "&Presentation mode",
            ["F11"],
            "Full screen, large fonts, thick lines, only the essential controls",
            self.set_presentation,
            checkable=True,
        )
        view.addAction(self.presentation_action)
        self.leave_action = make_action(
            w, "leavePresentation", "Leave presentation mode", ["Esc"], "Leave presentation mode"
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

    # ---------------------------------------------------------------- settings

    def restore_settings(self) -> None:
        """Theme, speed and window geometry from the last session."""
        theme = read_setting("theme", "light")
        if theme in THEMES:
            self.remembered_theme = str(theme)
            if theme != self.theme:
                self.set_theme(str(theme), persist=False)
        speed = read_setting("speed")
        slider = self.window.controls.speed_slider
        try:
            speed = int(speed) if speed is not None else None
        except (TypeError, ValueError):
            speed = None
        if speed is not None and slider.minimum() <= speed <= slider.maximum():
            slider.setValue(speed)
        geometry = read_setting("geometry")
        if isinstance(geometry, QtCore.QByteArray | bytes) and geometry:
            self.window.restoreGeometry(QtCore.QByteArray(geometry))

    def save_settings(self) -> None:
        if settings_store() is None:
            return
        geometry = self.presentation_layout.normal_geometry if self.presenting else None
        write_setting("geometry", geometry if geometry is not None else self.window.saveGeometry())
        write_setting("theme", self.remembered_theme)
        write_setting("speed", self.window.controls.speed_slider.value())

    def _on_speed(self, value: int) -> None:
        write_setting("speed", int(value))

    def shutdown(self) -> None:
        """Remember the settings; the window calls this once, when it closes."""
        self.save_settings()
        # The Qt palette, style, font and the colour table are the
        # application's: leave them as found for whatever runs next (tests,
        # a new window).
        restore_application()

    # ---------------------------------------------------------------- theme

    def set_theme(self, name: str, persist: bool = True) -> None:
        """Switch to the "light" or "dark" theme; ``persist``: remember it for the next start."""
        if name not in THEMES:
            raise ValueError(f"unknown theme {name!r}; expected one of {', '.join(THEMES)}")
        self.theme = name
        self.theme_actions[name].setChecked(True)
        apply_global_theme(name)
        self.restyle()
        # Views drawn in the foreground colour follow the theme.
        for view in self.window.extra_views:
            if hasattr(view, "set_theme"):
                view.set_theme(THEMES[name]["fg"])
        if persist:
            self.remembered_theme = name
            write_setting("theme", name)

    def restyle(self) -> None:
        """Apply the theme and the presentation sizes to every plot, the window and its toolbar."""
        self.styler.restyle(self.theme, self.presenting)
        toolbar = self.window.features.get("toolbar")
        if toolbar is not None and hasattr(toolbar, "restyle"):
            toolbar.restyle(self.theme, self.presenting)

    def _on_data_changed(self) -> None:
        # The views draw new data in their default style: the theme and sizes again.
        self.styler.restyle_points(self.presenting)
        if self.theme != "light" or self.presenting:
            self.restyle()

    # ---------------------------------------------------------------- presentation

    def set_presentation(self, on: bool, full_screen: bool = True) -> None:
        """Presentation mode on or off (F11)."""
        on = bool(on)
        if on == self.presenting:
            return
        self.presenting = on
        self.presentation_action.blockSignals(True)
        self.presentation_action.setChecked(on)
        self.presentation_action.blockSignals(False)
        self.leave_action.setEnabled(on)
        if on:
            self.presentation_layout.enter()
        else:
            self.presentation_layout.leave()
        self.restyle()
        self.presentation_layout.show(on, full_screen)
        for listener in self.presentation_layout.listeners:
            listener(on)
        self.window.statusBar().showMessage(
            "Presentation mode: F11 or Esc to leave" if on else "Presentation mode off", 5000
        )


def install(window) -> Classroom:
    """Presentation mode, themes, remembered settings and undo (kept as ``window.classroom``)."""
    return getattr(window, "classroom", None) or Classroom(window)
