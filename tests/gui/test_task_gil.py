"""Workers running Python code leave the GUI thread its turns (the GIL is shared).

A redraw enters Python from Qt hundreds of times (pyqtgraph's paint and
bounds methods), and each entry takes the GIL back from the worker. Were a
worker to keep the GIL until the interpreter's switch interval (5 ms) forced
it out, each redraw would wait for hundreds of intervals: a few redraws a
run, progress and Cancel queued behind them.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QTimer

from emviz.core.data import as_data
from emviz.core.init import initialize
from emviz.runs.em_runner import ThreadRunner
from emviz.runs.tasks import BackgroundTask

#: Units of pure-Python work the task does, each about 0.1 ms, polling its stop flag between.
UNITS = 5000
#: Fewest redraws a busy worker must leave the GUI thread (about 150 are seen; 0 or 1
#: when the worker keeps the GIL).
FEWEST_REDRAWS = 20


@pytest.fixture
def redraws(qtbot):
    """A plot of 20 curves redrawn on every turn of the event loop, until ``timer.stop()``.

    Returns ``(log, progress, timer)``: each redraw appends ``progress[0]``,
    the worker's count of work done, to ``log``.
    """
    plot = pg.PlotWidget()
    qtbot.addWidget(plot)
    plot.resize(400, 300)
    plot.show()
    qtbot.waitExposed(plot)
    x = np.arange(50.0)
    curves = [plot.plot(x, np.random.default_rng(i).random(50)) for i in range(20)]
    log: list[int] = []
    progress = [0]

    def redraw() -> None:
        for c in curves:
            c.setData(x, np.random.default_rng(len(log)).random(50))
        plot.repaint()
        log.append(progress[0])

    timer = QTimer(plot)
    timer.timeout.connect(redraw)
    timer.start(0)
    return log, progress, timer


def _busy_unit() -> int:
    total = 0
    for i in range(300):
        total += i * i
    return total


def test_the_gui_thread_redraws_while_a_task_computes(qtbot, redraws):
    log, done, timer = redraws

    def job(progress, should_stop):
        for _ in range(UNITS):
            _busy_unit()
            done[0] += 1
            if should_stop():
                return "stopped"
        return "done"

    task = BackgroundTask("gil")
    with qtbot.waitSignal(task.result, timeout=120000) as outcome:
        task.start(job)
    timer.stop()
    assert outcome.args == ["done"]
    qtbot.waitUntil(lambda: not task.live_threads, timeout=10000)
    during = [u for u in log if 0 < u < UNITS]
    assert len(during) >= FEWEST_REDRAWS, f"{len(during)} redraws while the task ran"


def test_the_gui_thread_redraws_while_em_runs_on_a_thread(qtbot, redraws):
    log, done, timer = redraws
    X = np.random.default_rng(0).normal(size=(300, 2))
    data = as_data(X)
    start = initialize(data, 3, method="random_from_data", seed=1)
    n_half_steps = 4000
    runner = ThreadRunner()
    runner.snapshots.connect(lambda run_id, snaps: done.__setitem__(0, done[0] + len(snaps)))
    with qtbot.waitSignal(runner.finished, timeout=120000) as outcome:
        runner.start(1, data, start, tol=0.0, max_iter=n_half_steps // 2)
    timer.stop()
    assert outcome.args == [1, "max_iter"]
    qtbot.waitUntil(lambda: not runner.live_threads, timeout=10000)
    during = [u for u in log if 0 < u < n_half_steps]
    assert len(during) >= FEWEST_REDRAWS, f"{len(during)} redraws while EM ran"
