"""The real window fits projector and desktop screens, in normal and presentation mode.

Qt's offscreen platform reads its screen description once, when the
QApplication is made, and pytest-qt makes one QApplication per process; so
each screen size is checked in a child process that runs this file as a
script. The child opens the window as ``emviz`` does, opens every panel
through its menu action, enters presentation mode (F11's action), and
prints a JSON report of every problem it found: the window's frame outside
the screen, a label, button, check box or combo box narrower than its text,
a panel that scrolls sideways, a cut widget, an elided tab title, the
scatter plot under half of the screen in presentation mode. The parent
test fails with that list, so a failure names the widgets to fix.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

SCREENS = ((1280, 720), (1920, 1080))

#: Seconds each child may take (the check itself takes a few; a loaded CI machine more).
CHILD_TIMEOUT = 240


@pytest.mark.parametrize(("width", "height"), SCREENS, ids=lambda v: str(v))
def test_window_and_panels_fit_the_screen(tmp_path, width, height):
    config = tmp_path / "screen.json"
    config.write_text(json.dumps({"screens": [_screen(width, height)]}))
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"
    env["EMVIZ_SETTINGS"] = str(tmp_path / "settings.ini")  # nothing remembered from elsewhere
    env.pop("DISPLAY", None)
    report_path = tmp_path / "report.json"
    proc = subprocess.run(
        [sys.executable, __file__, str(report_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
    )
    assert proc.returncode == 0 and report_path.exists(), (
        f"the check on {width}x{height} did not finish (exit {proc.returncode}):\n"
        f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    )
    report = json.loads(report_path.read_text())
    assert report["screen"] == [width, height]
    assert report["panels"] >= 6, "fewer panels than the Inside EM and Lab menus open"
    problems = report["problems"]
    assert not problems, f"{len(problems)} problems on {width}x{height}:\n" + "\n".join(problems)
    assert report["scatter_share"] >= 0.5


def _screen(width: int, height: int) -> dict:
    return {
        "name": f"screen{width}x{height}",
        "x": 0,
        "y": 0,
        "width": width,
        "height": height,
        "logicalDpi": 96,
        "logicalBaseDpi": 96,
        "dpr": 1,
    }


# ------------------------------------------------------------------ the child process


def _describe(widget) -> str:
    """A widget by class, object name and text, for a failure message."""
    name = widget.objectName()
    text = ""
    for getter in ("text", "currentText", "title"):
        fn = getattr(widget, getter, None)
        if callable(fn):
            try:
                text = str(fn())
            except TypeError:
                continue
            break
    path = []
    parent = widget.parentWidget()
    while parent is not None and len(path) < 3:
        if parent.objectName() and not parent.objectName().startswith("qt_"):
            path.append(parent.objectName())
        parent = parent.parentWidget()
    where = f" in {'/'.join(reversed(path))}" if path else ""
    return f"{type(widget).__name__} {name!r} {text[:40]!r}{where}"


def _shown(widget) -> bool:
    """Visible on the screen: shown and with some of it unclipped."""
    return widget.isVisible() and not widget.visibleRegion().isEmpty()


def _check_widgets(window, where: str) -> list[str]:
    """Text widgets narrower than their text, cut widgets, sideways scrolling, elided tabs."""
    from PySide6 import QtWidgets

    problems = []
    tops = [window] + [
        d for d in window.findChildren(QtWidgets.QDockWidget) if d.isFloating() and d.isVisible()
    ]
    kinds = (QtWidgets.QLabel, QtWidgets.QAbstractButton, QtWidgets.QComboBox)
    for top in tops:
        for widget in top.findChildren(QtWidgets.QWidget):
            if not isinstance(widget, kinds) or not _shown(widget):
                continue
            if widget.objectName().startswith("qt_") or isinstance(
                widget.parentWidget(), QtWidgets.QTabBar | QtWidgets.QScrollBar
            ):
                continue  # Qt's own title-bar and scroll buttons
            if isinstance(widget, QtWidgets.QLabel) and widget.wordWrap():
                need = widget.heightForWidth(widget.width())
                if widget.height() < need:
                    problems.append(
                        f"{where}: {_describe(widget)} is {widget.height()} px high, "
                        f"its wrapped text needs {need}"
                    )
                continue
            hint = widget.sizeHint()
            if widget.width() < hint.width():
                problems.append(
                    f"{where}: {_describe(widget)} is {widget.width()} px wide, "
                    f"its text needs {hint.width()}"
                )
            clip = widget.visibleRegion().boundingRect()
            if clip.width() < widget.width():
                problems.append(
                    f"{where}: {_describe(widget)} is cut: {clip.width()} of "
                    f"{widget.width()} px shown"
                )
    # A panel's scroll area, and a text browser (the formulas): never sideways.
    areas = [*window.findChildren(QtWidgets.QScrollArea)]
    areas += window.findChildren(QtWidgets.QTextBrowser)
    for area in areas:
        if not _shown(area):
            continue
        bar = area.horizontalScrollBar()
        content = area.widget() if isinstance(area, QtWidgets.QScrollArea) else None
        if bar.maximum() > 0 or (content is not None and content.width() > area.viewport().width()):
            owner = area.parentWidget()
            problems.append(
                f"{where}: the panel {_describe(owner)} scrolls sideways: content "
                f"{content.width() if content else '?'} px in {area.viewport().width()} px"
            )
    for bar in window.findChildren(QtWidgets.QTabBar):
        if not _shown(bar):
            continue
        metrics = bar.fontMetrics()
        for i in range(bar.count()):
            rect = bar.tabRect(i)
            text = bar.tabText(i)
            if rect.width() < metrics.horizontalAdvance(text) or not bar.rect().contains(rect):
                problems.append(f"{where}: the tab {text!r} is elided or out of view")
    return problems


def _run_child(report_path: str) -> int:
    from PySide6 import QtCore, QtWidgets

    app = QtWidgets.QApplication(sys.argv[:1])
    from emviz.cli import create_main_window

    screen = app.primaryScreen()
    size = screen.geometry().size()
    avail = screen.availableGeometry()
    window = create_main_window([])
    window.show()
    problems: list[str] = []

    def settle(condition=lambda: True, seconds: float = 10.0) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 50)
            window.flush()
            if condition():
                app.processEvents()
                return True
        return False

    def fits(mode: str) -> None:
        frame = window.frameGeometry()
        if not avail.contains(frame):
            problems.append(
                f"{mode}: the window's frame {frame.getRect()} is outside the screen's "
                f"available area {avail.getRect()}"
            )

    settle(lambda: window.isVisible())
    docks = [
        d
        for d in window.findChildren(QtWidgets.QDockWidget)
        if d.toggleViewAction() in _menu_actions(window)
    ]
    scatter_share = 0.0
    for mode in ("normal", "presentation"):
        if mode == "presentation":
            for dock in docks:
                dock.hide()
            settle()
            sizes = _splitter_sizes(window)  # leaving presentation mode restores these
            window.classroom.presentation_action.trigger()
            if not settle(lambda: window.isFullScreen() and window.geometry().size() == size):
                problems.append(
                    f"presentation: the window is {window.geometry().getRect()}, "
                    f"not the whole screen {size.width()}x{size.height()}"
                )
            area = window.scatter.width() * window.scatter.height()
            scatter_share = area / (size.width() * size.height())
            if scatter_share < 0.5:
                problems.append(
                    f"presentation: the scatter plot covers {scatter_share:.0%} of the screen"
                )
            problems += _check_widgets(window, "presentation, no panel")
        window.statusBar().clearMessage()  # the status line, as it reads between messages
        settle()
        fits(mode)
        problems += _check_widgets(window, mode)
        if mode == "normal":
            # The point inspector is seen without scrolling the side panel.
            inspector = window.layout_parts.inspector
            shown = inspector.visibleRegion().boundingRect()
            if shown.height() < inspector.height() or shown.width() < inspector.width():
                problems.append(
                    f"normal: the point inspector shows {shown.width()}x{shown.height()} "
                    f"of {inspector.width()}x{inspector.height()} px without scrolling"
                )
        for dock in docks:
            dock.toggleViewAction().trigger()  # as from its menu: opens it in front
            settle(lambda d=dock: d.isVisible() and not d.visibleRegion().isEmpty())
            title = dock.windowTitle()
            if not dock.isVisible() or dock.visibleRegion().isEmpty():
                problems.append(f"{mode}: the panel {title!r} did not come to the front")
            focus = app.focusWidget()
            if focus is None or not (focus is dock or dock.isAncestorOf(focus)):
                problems.append(f"{mode}: the panel {title!r} did not take the keyboard focus")
            window.statusBar().clearMessage()
            settle()
            fits(f"{mode}, {dock.windowTitle()}")
            problems += _check_widgets(window, f"{mode}, {dock.windowTitle()}")
    for dock in docks:
        dock.hide()  # as before presentation mode, to compare the layouts
    window.classroom.presentation_action.trigger()
    settle(lambda: not window.isFullScreen())
    settle(lambda: _splitter_sizes(window) == sizes, seconds=3)
    window.statusBar().clearMessage()
    settle()
    fits("after presentation")
    problems += _check_widgets(window, "after presentation")
    if _splitter_sizes(window) != sizes:
        problems.append(
            f"after presentation: the layout {_splitter_sizes(window)} is not the one "
            f"before it {sizes}"
        )
    report = {
        "screen": [size.width(), size.height()],
        "panels": len(docks),
        "problems": list(dict.fromkeys(problems)),
        "scatter_share": scatter_share,
    }
    with open(report_path, "w", encoding="utf-8") as out:
        json.dump(report, out, indent=1)
    print(json.dumps(report, indent=1))
    window.close()
    return 0


def _splitter_sizes(window) -> dict:
    """The sizes of the window's splitters, by name."""
    from PySide6 import QtWidgets

    return {
        split.objectName(): split.sizes()
        for split in window.findChildren(QtWidgets.QSplitter)
        if split.objectName()
    }


def _menu_actions(window) -> set:
    """Every action reachable from the menu bar."""
    found = set()

    def walk(menu):
        for action in menu.actions():
            found.add(action)
            if action.menu() is not None:
                walk(action.menu())

    for top in window.menuBar().actions():
        if top.menu() is not None:
            walk(top.menu())
    return found


if __name__ == "__main__":
    sys.exit(_run_child(sys.argv[1]))
