"""The look of the window: theme and presentation switches restyle everything they
touch, at any moment, and the toolbar's icons work in both themes (pytest-qt, offscreen)."""

from __future__ import annotations

import pyqtgraph as pg
import pytest
from PySide6 import QtGui, QtWidgets

from emviz.ui.classroom.themes import THEMES
from emviz.ui.toolbar import TOOLBAR_ACTIONS, themed_icon
from emviz.ui.views.style import BASE_POINT_SIZE


@pytest.fixture(autouse=True)
def _settings_file(tmp_path, monkeypatch):
    """Remembered settings go to a temporary INI file, never the user's."""
    monkeypatch.setenv("EMVIZ_SETTINGS", str(tmp_path / "settings" / "emviz.ini"))


@pytest.fixture
def win(window):
    yield window
    window.classroom.set_presentation(False)
    window.classroom.set_theme("light", persist=False)


def mean_outline(scatter) -> QtGui.QColor:
    """The outline colour the means are drawn with now (per spot, else the item's)."""
    item = scatter.means_item
    pens = [p for p in item.data["pen"] if p is not None] if len(item.data) else []
    pen = pens[0] if pens else item.opts["pen"]
    return QtGui.QColor(pen.color())


def type_sizes(win) -> dict:
    """The point size of everything that shows text in a window of its own, or the toolbar."""
    sizes = {"window": win.font().pointSize(), "menu bar": win.menuBar().font().pointSize()}
    for kind in (QtWidgets.QMenu, QtWidgets.QDockWidget, QtWidgets.QToolBar):
        for widget in win.findChildren(kind):
            name = widget.title() if kind is QtWidgets.QMenu else widget.objectName()
            sizes[f"{kind.__name__} {name}"] = widget.font().pointSize()
    sizes["application"] = QtWidgets.QApplication.instance().font().pointSize()
    return sizes


def assert_every_plot_in(win, theme: str) -> None:
    bg = QtGui.QColor(THEMES[theme]["bg"])
    fg = QtGui.QColor(THEMES[theme]["fg"])
    plots = win.findChildren(pg.PlotWidget)
    assert len(plots) >= 8  # the main ones, Inside EM's and the Lab's
    for plot in plots:
        assert plot.backgroundBrush().color() == bg, plot
        axis = plot.getPlotItem().getAxis("bottom")
        assert axis.textPen().color() == fg, plot
        for legend in plot.scene().items():
            if isinstance(legend, pg.LegendItem):
                # On a background of the theme, not on the data.
                colour = legend.opts["brush"].color()
                assert colour.alpha() > 150 and abs(colour.lightness() - bg.lightness()) < 40


def test_theme_switches_while_presenting_restyle_the_means_and_every_plot(qtbot, win):
    c = win.classroom
    sc = win.scatter
    win.flush()
    normal = type_sizes(win)
    assert set(normal.values()) == {BASE_POINT_SIZE}
    c.set_presentation(True, full_screen=False)
    for theme in ("dark", "light", "dark"):
        c.set_theme(theme, persist=False)
        win.flush()
        # The means were drawn before the switch and have not moved since.
        assert mean_outline(sc) == QtGui.QColor(THEMES[theme]["fg"]), theme
        assert_every_plot_in(win, theme)
    c.set_presentation(False)
    assert type_sizes(win) == normal  # menus, docks, toolbar and popups back to normal
    assert mean_outline(sc) == QtGui.QColor(THEMES["dark"]["fg"])
    c.set_theme("light", persist=False)
    win.flush()
    assert mean_outline(sc) == QtGui.QColor(THEMES["light"]["fg"])
    assert_every_plot_in(win, "light")


def test_presentation_raises_the_type_of_menus_docks_toolbar_and_popups(qtbot, win):
    from emviz.ui.classroom import PRESENTATION_POINT_SIZE

    win.classroom.set_presentation(True, full_screen=False)
    assert set(type_sizes(win).values()) == {PRESENTATION_POINT_SIZE}
    # A dialog opened now (a window of its own) reads as large as the rest.
    box = QtWidgets.QMessageBox(win)
    qtbot.addWidget(box)
    assert box.font().pointSize() == PRESENTATION_POINT_SIZE


# ---------------------------------------------------------------------------- toolbar


def toolbar_keys() -> list[str]:
    return [entry[0] for entry in TOOLBAR_ACTIONS if entry is not None]


def icon_colour(icon: QtGui.QIcon, mode=QtGui.QIcon.Mode.Normal) -> QtGui.QColor:
    """The colour of the icon's most opaque pixel (its strokes)."""
    image = icon.pixmap(48, 48, mode).toImage()
    best = max(
        ((x, y) for x in range(image.width()) for y in range(image.height())),
        key=lambda p: image.pixelColor(*p).alpha(),
    )
    return image.pixelColor(*best)


def test_the_toolbar_has_the_step_run_and_history_commands(win):
    bar = win.findChild(QtWidgets.QToolBar, "emToolBar")
    assert bar is not None and bar.isVisible()
    keys = toolbar_keys()
    assert keys == [
        "e",
        "m",
        "iterate",
        "run",
        "stop",
        "reset",
        "reinit",
        "back",
        "forward",
        "last",
    ]
    on_bar = [a for a in bar.actions() if not a.isSeparator()]
    assert on_bar == [win.actions_by_key[k] for k in keys]
    # The menus show the same icons (they are the actions').
    assert not win.actions_by_key["e"].icon().isNull()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_toolbar_icon_is_drawn_in_the_themes_colour(win, theme):
    win.classroom.set_theme(theme, persist=False)
    wanted = QtGui.QColor(THEMES[theme]["icon"])
    for key in toolbar_keys():
        icon = win.actions_by_key[key].icon()
        assert not icon.isNull(), key
        colour = icon_colour(icon)
        assert colour.rgb() == wanted.rgb(), (key, colour.name())


def test_icons_differ_between_the_themes_and_read_on_their_background(qapp):
    files = [entry[1] for entry in TOOLBAR_ACTIONS if entry is not None] + ["pause"]
    for name in files:
        light = icon_colour(themed_icon(name, "light"))
        dark = icon_colour(themed_icon(name, "dark"))
        assert light.lightness() < 100 < 180 < dark.lightness(), name


def test_toolbar_buttons_follow_the_actions_enabled_state_and_the_run_text(qtbot, win):
    bar = win.toolbar.bar
    e_button = bar.widgetForAction(win.actions_by_key["e"])
    m_button = bar.widgetForAction(win.actions_by_key["m"])
    assert e_button.isEnabled() and not m_button.isEnabled()  # an E-step comes first
    win.actions_by_key["e"].trigger()
    win.update_state()
    assert not e_button.isEnabled() and m_button.isEnabled()
    disabled = icon_colour(win.actions_by_key["m"].icon(), QtGui.QIcon.Mode.Disabled)
    assert disabled.rgb() == QtGui.QColor(THEMES["light"]["icon_disabled"]).rgb()

    run = win.actions_by_key["run"]
    play = run.icon().pixmap(48, 48).toImage()
    run.setText("Pause")  # as update_state does while a run goes on
    pause = run.icon().pixmap(48, 48).toImage()
    assert pause != play
    run.setText("Resume")
    assert run.icon().pixmap(48, 48).toImage() == play
