"""The toolbar: the step, run and history commands with icons drawn for both themes.

``install(window)`` adds a :class:`Toolbar` (kept as ``window.toolbar``) at
the top of the window with the window's own actions (``actions_by_key``):
E-step, M-step, one iteration | Run, Stop | Reset, Re-initialise | Back,
Forward, Latest; and beside it a second, small bar (``Toolbar.modes_bar``,
icons only) with the modes the features register (:data:`MODE_ACTIONS`: the
quiz's "Predict, then reveal" toggle). The buttons are the actions, so they are
enabled, disabled and explained exactly as the menus are.

The icons are SVG files in ``resources/icons`` drawn in ``currentColor``.
:func:`themed_icon` renders one in a theme's icon colour (and its disabled
colour) with :class:`QtSvg.QSvgRenderer`; the icons are set on the actions,
so the menus show them too, and are redrawn when the theme changes
(:meth:`Toolbar.restyle`, called by the classroom). The Run action's icon
follows its text: a play icon for Run and Resume, a pause icon for Pause.
"""

from __future__ import annotations

from functools import cache

from PySide6 import QtCore, QtGui, QtSvg, QtWidgets
from PySide6.QtCore import Qt

from emviz.core.errors import EmvizError
from emviz.core.resources import resource_path
from emviz.ui.classroom.themes import THEMES
from emviz.ui.views.style import ICON_SIZE, SPACING

__all__ = ["MODE_ACTIONS", "TOOLBAR_ACTIONS", "Toolbar", "install", "icon_svg", "themed_icon"]

#: The toolbar's actions (keys of ``window.actions_by_key``) and their icon
#: files, in order; None is a separator.
TOOLBAR_ACTIONS: tuple[tuple[str, str] | None, ...] = (
    ("e", "e_step"),
    ("m", "m_step"),
    ("iterate", "iterate"),
    None,
    ("run", "run"),
    ("stop", "stop"),
    None,
    ("reset", "reset"),
    ("reinit", "reinit"),
    None,
    ("back", "back"),
    ("forward", "forward"),
    ("last", "last"),
)

#: The modes' bar, beside the commands: checkable actions of the features
#: (keys of ``window.actions_by_key``, found if the feature is installed
#: before the toolbar) and their icon files.
MODE_ACTIONS: tuple[tuple[str, str], ...] = (("quiz", "quiz"),)

#: Rendered sizes of each icon (Qt picks the nearest for the button and the
#: screen's pixel ratio).
_PIXMAP_SIZES = (16, 24, 32, 48, 72)


@cache
def icon_svg(name: str) -> str:
    """The SVG text of ``resources/icons/<name>.svg`` (drawn in ``currentColor``).

    Raises
    ------
    EmvizError
        If the icon file is missing (a broken installation).
    """
    return resource_path("icons", f"{name}.svg").read_text("utf-8")


def _render(svg: str, colour: str, size: int) -> QtGui.QPixmap:
    renderer = QtSvg.QSvgRenderer(QtCore.QByteArray(svg.replace("currentColor", colour).encode()))
    image = QtGui.QImage(size, size, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QtGui.QPainter(image)
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    return QtGui.QPixmap.fromImage(image)


def themed_icon(name: str, theme: str = "light") -> QtGui.QIcon:
    """The icon ``name`` in ``theme``'s icon colour, with a greyed form for disabled actions.

    Parameters
    ----------
    name : str
        The file name in ``resources/icons`` without ``.svg``.
    theme : str
        "light" or "dark" (:data:`emviz.ui.classroom.themes.THEMES`).

    Returns
    -------
    QIcon
        A null icon if the file cannot be found, so a broken installation
        still shows the actions' text.
    """
    try:
        svg = icon_svg(name)
    except EmvizError:
        return QtGui.QIcon()
    colours = THEMES[theme]
    icon = QtGui.QIcon()
    for size in _PIXMAP_SIZES:
        icon.addPixmap(_render(svg, colours["icon"], size), QtGui.QIcon.Mode.Normal)
        icon.addPixmap(_render(svg, colours["icon_disabled"], size), QtGui.QIcon.Mode.Disabled)
    return icon


class Toolbar(QtCore.QObject):
    """The window's toolbar (``bar``) and the icons of its actions, in the current theme."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.theme = "light"
        self.bar = QtWidgets.QToolBar("EM and history", window)
        self.bar.setObjectName("emToolBar")
        self.bar.setMovable(False)
        self.bar.setFloatable(False)
        self.bar.toggleViewAction().setObjectName("toolbarViewAction")
        self.bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.bar.setContentsMargins(SPACING // 2, 0, SPACING // 2, 0)
        self.bar.layout().setSpacing(SPACING // 2)
        self.actions: dict[str, QtGui.QAction] = {}
        self._icons: dict[str, str] = {}  # action key -> icon file
        self._rendered: dict[tuple[str, str], QtGui.QIcon] = {}  # (file, theme) -> icon
        self._run_icon: tuple[str, str] | None = None  # the Run action's (file, theme)
        self._fill(self.bar, TOOLBAR_ACTIONS)
        window.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.bar)
        #: The modes (the quiz), in a bar of their own beside the commands.
        self.modes_bar = QtWidgets.QToolBar("Modes", window)
        self.modes_bar.setObjectName("modesToolBar")
        self.modes_bar.setMovable(False)
        self.modes_bar.setFloatable(False)
        self.modes_bar.toggleViewAction().setObjectName("modesToolbarViewAction")
        self.modes_bar.setContentsMargins(SPACING // 2, 0, SPACING // 2, 0)
        self.modes_bar.layout().setSpacing(SPACING // 2)
        # Icons only (the tooltips name them): the commands' bar keeps its room.
        self.modes_bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        self._fill(self.modes_bar, MODE_ACTIONS)
        if self.modes_bar.actions():
            window.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.modes_bar)
        else:
            self.modes_bar.hide()
        # The Run action changes its text (Run, Pause, Resume) as a run
        # starts and pauses: its icon follows.
        run = self.actions.get("run")
        if run is not None:
            run.changed.connect(self._follow_run_text)
        view = getattr(window, "menus", {}).get("view")
        if view is not None:
            self.bar.toggleViewAction().setText("&Toolbar")
            view.addSeparator()
            view.addAction(self.bar.toggleViewAction())
        classroom = getattr(window, "classroom", None)
        self.restyle(getattr(classroom, "theme", "light"), getattr(classroom, "presenting", False))

    def _fill(self, bar: QtWidgets.QToolBar, entries) -> None:
        """Put the window's actions of ``entries`` ((key, icon) or None) on ``bar``."""
        for entry in entries:
            if entry is None:
                bar.addSeparator()
                continue
            key, icon = entry
            action = self.window.actions_by_key.get(key)
            if action is None:
                continue
            self.actions[key] = action
            self._icons[key] = icon
            bar.addAction(action)
            button = bar.widgetForAction(action)
            if button is not None:
                button.setObjectName(f"{key}ToolButton")

    def icon_name(self, key: str) -> str:
        """The icon file an action shows now (the Run action's depends on its text)."""
        if key == "run" and self.actions["run"].text().replace("&", "") == "Pause":
            return "pause"
        return self._icons[key]

    def restyle(self, theme: str, presenting: bool = False) -> None:
        """Icons in ``theme``'s colours; larger icons and only icons in presentation mode.

        In presentation mode the buttons show their icons only (the tooltips
        name them), so the bar stays one row at the large font.
        """
        self.theme = theme
        for key, action in self.actions.items():
            name = self.icon_name(key)
            if key == "run":
                self._run_icon = (name, theme)
            action.setIcon(self.icon(name, theme))
        size = ICON_SIZE["presentation" if presenting else "normal"]
        for bar in (self.bar, self.modes_bar):
            bar.setIconSize(QtCore.QSize(size, size))
        self.bar.setToolButtonStyle(
            Qt.ToolButtonStyle.ToolButtonIconOnly
            if presenting
            else Qt.ToolButtonStyle.ToolButtonTextBesideIcon
        )

    def icon(self, name: str, theme: str) -> QtGui.QIcon:
        """The icon file ``name`` in ``theme`` (rendered once per window and theme)."""
        key = (name, theme)
        if key not in self._rendered:
            self._rendered[key] = themed_icon(name, theme)
        return self._rendered[key]

    def _follow_run_text(self) -> None:
        name = self.icon_name("run")
        if self._run_icon == (name, self.theme):
            return  # setIcon emits "changed" too: nothing to do then
        self._run_icon = (name, self.theme)
        self.actions["run"].setIcon(self.icon(name, self.theme))


def install(window) -> Toolbar:
    """The toolbar with the step, run and history commands (kept as ``window.toolbar``)."""
    return getattr(window, "toolbar", None) or Toolbar(window)
