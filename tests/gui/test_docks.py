"""Side panels: a panel fills its dock's height and scrolls only below its minimum."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from emviz.ui.docks import add_dock


class _Plot(QtWidgets.QWidget):
    """A plot that would like 1,500 px of height and can do with 60."""

    def sizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt's name)
        return QtCore.QSize(300, 1500)

    def minimumSizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt's name)
        return QtCore.QSize(100, 60)


def _panel() -> QtWidgets.QWidget:
    """A word-wrapped caption (height-for-width) above a plot that would like 1,500 px."""
    panel = QtWidgets.QWidget()
    layout = QtWidgets.QVBoxLayout(panel)
    caption = QtWidgets.QLabel("A caption long enough to wrap over several lines " * 4)
    caption.setWordWrap(True)
    layout.addWidget(caption)
    layout.addWidget(_Plot(), 1)
    return panel


def test_a_panel_fills_its_dock_instead_of_scrolling(qtbot):
    window = QtWidgets.QMainWindow()
    qtbot.addWidget(window)
    window.setCentralWidget(QtWidgets.QLabel("plot"))
    panel = _panel()
    dock = add_dock(window, "test", "Test", panel)
    window.resize(900, 600)
    window.show()
    dock.show()
    qtbot.waitExposed(window)
    area = dock.widget()
    # At the dock's height: the plot shrinks, the panel does not scroll (it
    # was laid out at its preferred height, the plot 1,500 px tall).
    qtbot.waitUntil(lambda: panel.height() == area.viewport().height())
    assert area.verticalScrollBar().maximum() == 0
    # A dock shorter than the panel's minimum: the panel scrolls.
    panel.layout().itemAt(1).widget().setMinimumHeight(900)
    qtbot.waitUntil(lambda: area.verticalScrollBar().maximum() > 0)
    assert panel.height() > 900 > area.viewport().height()
