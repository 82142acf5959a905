"""The window's features: registered from one list, in any order, stopped by one shutdown."""

from __future__ import annotations

import re
from pathlib import Path

import pyqtgraph as pg
import pytest
from PySide6 import QtGui, QtWidgets

import emviz
from emviz.ui import main_window
from emviz.ui.main_window import FEATURES, MainWindow

DARK_BG = "#15181d"


@pytest.fixture(autouse=True)
def _settings_file(tmp_path, monkeypatch):
    """Remembered settings go to a temporary INI file, never the user's."""
    path = tmp_path / "settings" / "emviz.ini"
    monkeypatch.setenv("EMVIZ_SETTINGS", str(path))
    return path


class Probe:
    """A feature that counts the window's calls."""

    def __init__(self, window) -> None:
        self.window = window
        self.installed_with = sorted(window.features)
        self.all_installed_calls = 0
        self.shutdown_calls = 0

    def all_installed(self) -> None:
        self.all_installed_calls += 1

    def shutdown(self) -> None:
        self.shutdown_calls += 1


def make_window(qtbot, features=FEATURES) -> MainWindow:
    from emviz.session import Session
    from emviz.ui.views.style import configure_pyqtgraph

    configure_pyqtgraph()
    window = MainWindow(Session(), features=features)
    window.session.setParent(window)
    qtbot.addWidget(window)
    window.session.load_dataset("old_faithful")
    return window


def feature_sources() -> dict[str, str]:
    """The source of every module that installs a feature (a package: all its modules)."""
    out = {}
    for _name, install in FEATURES:
        module = __import__(install.__module__, fromlist=["_"])
        path = Path(module.__file__)
        files = path.parent.glob("*.py") if path.name == "__init__.py" else [path]
        for file in files:
            out[str(file.relative_to(Path(emviz.__file__).parent))] = file.read_text("utf-8")
    return out


def test_every_feature_of_the_list_is_installed_and_kept_by_name(qtbot):
    window = make_window(qtbot)
    assert list(window.features) == [name for name, _ in FEATURES]
    for name, feature in window.features.items():
        assert getattr(window, name) is feature
    # Help stays the last menu, whatever the features added.
    assert window.menuBar().actions()[-1].text() == "&Help"
    window.close()


def test_no_feature_replaces_or_sets_anything_on_the_window():
    assignment = re.compile(r"\b(window|w|self\.window)\.[A-Za-z_]+ = ")
    for path, source in feature_sources().items():
        assert not assignment.search(source), path


def test_the_window_installs_no_feature_by_itself_outside_its_list():
    source = Path(main_window.__file__).read_text("utf-8")
    assert "extensions" not in source


def test_in_any_order_the_remembered_theme_and_presentation_reach_every_plot(qtbot):
    """The classroom installed first styles the plots the later features make."""
    first = make_window(qtbot)
    first.classroom.set_theme("dark")  # remembered
    first.close()
    classroom_first = tuple(sorted(FEATURES, key=lambda f: f[0] != "classroom"))
    assert classroom_first[0][0] == "classroom"
    window = make_window(qtbot, classroom_first)
    try:
        assert window.classroom.theme == "dark"
        plots = window.findChildren(pg.PlotWidget)
        assert len(plots) >= 8  # the main two, Inside EM's, the lab's
        for plot in plots:
            assert plot.backgroundBrush().color().name() == DARK_BG, plot
        restarts = window.lab.restarts.findChild(pg.PlotWidget)
        axis = restarts.getPlotItem().getAxis("left")
        assert axis.fixedWidth == 90
        window.classroom.set_presentation(True, full_screen=False)
        assert axis.fixedWidth is None  # large fonts: the automatic width
        window.classroom.set_presentation(False)
        assert axis.fixedWidth == 90
    finally:
        window.classroom.set_theme("light", persist=False)
        window.close()


def test_one_shutdown_from_close_or_quit_stops_every_feature_once(qtbot):
    window = make_window(qtbot, (*FEATURES, ("probe", Probe)))
    probe = window.probe
    assert probe.installed_with == sorted(name for name, _ in FEATURES)
    assert probe.all_installed_calls == 1
    stopped = []
    window.lab.restarts.shutdown = lambda: stopped.append("lab")
    base = type(window.session).shutdown

    def count(session=window.session):
        stopped.append("session")
        base(session)

    window.session.shutdown = count
    window.close()
    assert probe.shutdown_calls == 1
    assert stopped == ["lab", "session"]  # the features' work first, then the run
    QtWidgets.QApplication.instance().aboutToQuit.emit()
    window.close()
    assert probe.shutdown_calls == 1 and stopped == ["lab", "session"]


def test_quitting_shuts_the_window_down(qtbot):
    window = make_window(qtbot, (*FEATURES, ("probe", Probe)))
    QtWidgets.QApplication.instance().aboutToQuit.emit()
    assert window.probe.shutdown_calls == 1
    window.close()
    assert window.probe.shutdown_calls == 1


def test_session_files_open_through_the_windows_file_handler(qtbot, tmp_path):
    window = make_window(qtbot)
    path = tmp_path / "run.emviz"
    window.session.step_iteration()
    assert window.session_io.save(str(path))
    window.session.load_dataset("iris")
    opened = []
    window.add_file_handler((".other",), lambda p: opened.append(p) or True, "others")
    assert window.open_file(str(path))
    assert len(window.session.history) == 3 and window.session.n_samples == 272
    assert window.open_file(str(tmp_path / "x.OTHER"))
    assert opened == [str(tmp_path / "x.OTHER")]
    window.close()


def test_a_feature_action_registered_twice_is_refused(qtbot):
    window = make_window(qtbot)
    assert window.actions_by_key["treat_missing"].objectName() == "treatMissingAction"
    with pytest.raises(ValueError, match="treat_missing"):
        window.register_action("treat_missing", QtGui.QAction(window))
    window.close()


def current_tab(window) -> str:
    """The title of the dock shown in front of the right-hand tab stack."""
    for bar in window.findChildren(QtWidgets.QTabBar):
        if bar.isVisible() and bar.count() > 1:
            return bar.tabText(bar.currentIndex())
    return ""


def test_opening_a_panel_from_its_menu_brings_it_to_the_front(qtbot):
    window = make_window(qtbot)
    window.show()
    qtbot.waitExposed(window)
    lab, inside = window.lab, window.inside_em
    lab.actions["restarts"].trigger()
    inside.actions["bound_dock"].trigger()
    qtbot.waitUntil(lambda: current_tab(window) == "Lower bound")
    lab.actions["collapse"].trigger()
    assert lab.docks["collapse"].isVisible()
    qtbot.waitUntil(lambda: current_tab(window) == "Collapse")
    assert not lab.docks["collapse"].visibleRegion().isEmpty()
    window.close()


def test_remembered_folders_are_importable_where_the_file_dialogs_look_for_them():
    from emviz.ui import classroom, remembered

    for name in ("last_folder", "remember_folder", "settings_store"):
        assert getattr(classroom, name) is getattr(remembered, name)
