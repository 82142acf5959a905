"""Narration under the scatter plot: the core's sentences for the step shown, at a chosen level."""

from __future__ import annotations

from dataclasses import replace

from PySide6 import QtWidgets

from emviz.core.narration import narrate
from emviz.ui.views.narration_view import SMALLEST


def expected(s, level: str) -> str:
    i = s.index
    before = replace(s.history[i - 1], resp=s.resp_at(i - 1))
    return narrate(before, replace(s.history[i], resp=s.resp_at(i)), level)


def level_action(window, level: str):
    menu = window.findChild(QtWidgets.QMenu, "narrationMenu")
    assert menu.menuAction() in window.menus["view"].actions()
    return next(a for a in menu.actions() if a.objectName() == f"narration_{level}Action")


def test_the_bar_sits_under_the_scatter_plot_and_narrates_each_step(window):
    bar = window.narration
    assert bar.isVisible() and bar.level == "basic"
    assert bar.parentWidget() is window.scatter.parentWidget()
    scatter = window.scatter.geometry()
    assert bar.geometry().top() >= scatter.bottom() and bar.width() >= scatter.width() - 2
    s = window.session
    assert "start" in bar.text()
    s.step_e()
    window.flush()
    assert bar.text() == expected(s, "basic") and bar.text()
    s.step_m()
    window.flush()
    assert bar.text() == expected(s, "basic")
    s.back()  # the history moves: the narration follows
    window.flush()
    assert bar.text() == expected(s, "basic") and s.history[s.index].phase == "E"


def test_the_level_comes_from_the_view_menu(window):
    bar, s = window.narration, window.session
    for _ in range(3):
        s.step()
    level_action(window, "detailed").trigger()
    window.flush()
    assert bar.level == "detailed" and bar.text() == expected(s, "detailed")
    assert bar.text() != expected(s, "basic")
    level_action(window, "off").trigger()
    assert not bar.isVisible()
    level_action(window, "medium").trigger()
    window.flush()
    assert bar.isVisible() and bar.text() == expected(s, "medium")


def fits(bar) -> bool:
    """The bar's text, wrapped at its width in its font, is no taller than the bar."""
    from PySide6 import QtCore, QtGui
    from PySide6.QtCore import Qt

    box = bar.contentsRect()
    needed = QtGui.QFontMetrics(bar.font()).boundingRect(
        QtCore.QRect(0, 0, box.width(), 100_000), int(Qt.TextFlag.TextWordWrap), bar.text()
    )
    return needed.height() <= box.height()


def test_the_scatter_plot_keeps_its_size_whatever_the_narration_says(window):
    bar, s = window.narration, window.session
    level_action(window, "detailed").trigger()
    sizes, heights = set(), set()
    for _ in range(6):
        s.step()
        window.flush()
        QtWidgets.QApplication.processEvents()
        sizes.add((window.scatter.width(), window.scatter.height()))
        heights.add(bar.height())
        # The text fits, or its type is down to the smallest allowed (the rest
        # is cut, and whole in the tooltip).
        smallest = SMALLEST * window.font().pointSizeF()
        assert fits(bar) or bar.font().pointSizeF() <= smallest + 0.5, bar.text()
        assert bar.toolTip() == bar.text()
    assert len(sizes) == 1 and len(heights) == 1


def test_presentation_mode_puts_it_beside_the_strip_as_large_as_fits(window, qtbot):
    bar, s = window.narration, window.session
    parts = window.layout_parts
    s.step_e()
    window.classroom.set_presentation(True, full_screen=False)
    window.flush()
    QtWidgets.QApplication.processEvents()
    assert bar.isVisible() and bar.text() == expected(s, "basic")
    assert bar.parentWidget() is parts.bottom_split
    assert bar.width() > window.loglik.width() * 0.5 and fits(bar)
    assert bar.font().pointSizeF() <= window.font().pointSizeF()
    window.classroom.set_presentation(False)
    QtWidgets.QApplication.processEvents()
    assert bar.parentWidget() is parts.scatter_box and bar.isVisible()
    assert fits(bar)


def test_missing_values_mode_narrates_without_errors(window):
    s = window.session
    s.load_dataset("old_faithful_holes")
    window.actions_by_key["treat_missing"].trigger()
    for _ in range(4):
        s.step()
        window.flush()
        assert window.narration.text() == expected(s, "basic")
    assert not window.errors
