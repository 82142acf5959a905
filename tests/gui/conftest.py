"""Fixtures of the GUI tests: a main window, and a guard against running threads."""

from __future__ import annotations

import traceback
import weakref

import pytest
from PySide6.QtCore import QThread


@pytest.fixture(autouse=True)
def _dangling_qthreads(monkeypatch, qtbot, request):
    """Fail a test that leaves a QThread running (after napari's fixture of that name).

    Every ``QThread.start`` is recorded with where it was called; after the
    test (and after the fixtures it used, such as ``window``, were torn
    down) a thread still running is stopped and the test fails.
    """
    started: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
    base_start = QThread.start

    def start_and_record(self, *args):
        started[self] = "".join(traceback.format_stack(limit=6)[:-1])
        return base_start(self, *args)

    monkeypatch.setattr(QThread, "start", start_and_record)
    yield
    dangling = []
    for thread, where in list(started.items()):
        try:
            if thread.isRunning():
                dangling.append((thread, where))
        except RuntimeError:  # the C++ object is gone: it is not running
            continue
    for thread, _ in dangling:
        thread.quit()
        qtbot.waitUntil(thread.isFinished, timeout=3000)
    if dangling:
        where = "\n".join(w for _, w in dangling)
        pytest.fail(f"{len(dangling)} QThread(s) left running, started at:\n{where}")


@pytest.fixture(autouse=True)
def _steps_at_once(monkeypatch):
    """Steps change the scatter plot at once, as the tests read it right after a step.

    The transitions (ellipses gliding, colours blending) have their own tests
    in test_transitions.py, which give them back their duration.
    """
    from emviz.ui.views import transitions

    monkeypatch.setattr(transitions, "DURATION_S", 0.0)


@pytest.fixture
def window(qtbot, _dangling_qthreads):
    """The main window as ``emviz`` opens it (Old Faithful, K = 2), shown offscreen."""
    from emviz.cli import create_main_window

    win = create_main_window([])
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()


@pytest.fixture
def fast(window):
    """The window with the speed slider at its maximum (no delay between half-steps)."""
    slider = window.findChild(type(window.controls.speed_slider), "speedSlider")
    slider.setValue(slider.maximum())
    return window
