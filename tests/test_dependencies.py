"""Guards against dependency versions known to break emviz."""

import sys

import pytest


def test_qpainter_calls_do_not_leak_references_to_none():
    """PySide6 6.12.0 on CPython 3.11 drops a reference to None per QPainter call.

    pyqtgraph makes such calls on every repaint; once None's count reaches
    zero the interpreter aborts ("Fatal Python error: none_dealloc").  On
    CPython 3.12+ None is immortal and its count never moves, so this passes
    there by construction; pyproject.toml's bounds keep 3.11 off 6.12.
    """
    from PySide6.QtGui import QBrush, QColor, QImage, QPainter

    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    brush = QBrush(QColor(10, 20, 30))
    try:
        for _ in range(10):  # warm up caches that might hold references
            painter.setBrush(brush)
        before = sys.getrefcount(None)
        for _ in range(1000):
            painter.setBrush(brush)
        after = sys.getrefcount(None)
    finally:
        painter.end()
    assert abs(after - before) < 50, f"None's refcount moved by {after - before} in 1000 calls"


def test_installed_pyside6_is_within_the_declared_bounds():
    import PySide6

    version = tuple(int(p) for p in PySide6.__version__.split(".")[:2])
    if sys.version_info < (3, 12):
        assert version < (6, 12), "PySide6 6.12 leaks None references on Python 3.11"
    assert version >= (6, 7)


@pytest.mark.parametrize("module", ["numpy", "pyqtgraph", "PySide6.QtWidgets"])
def test_runtime_dependencies_import(module):
    __import__(module)
