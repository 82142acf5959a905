"""Workers running Python code leave the GUI thread its turns (the GIL is shared).

A redraw enters Python from Qt hundreds of times (pyqtgraph's paint and
bounds methods), and each entry takes the GIL back from the worker. Were a
worker to keep the GIL until the interpreter's switch interval (5 ms) forced
it out, each redraw would wait for hundreds of intervals: a few redraws a
run, progress and Cancel queued behind them.

Each case runs in a child process (this file as a script), as a user runs
one window per process: widgets the suite's earlier tests leave behind
change how the GUI thread and a worker share the interpreter. The child
redraws a plot of 20 curves on every turn of the event loop while the
worker computes, and prints how many redraws it saw meanwhile.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

#: Units of pure-Python work the task does, each about 0.1 ms, polling its stop flag between.
UNITS = 5000
#: Half-steps of the EM run on a thread.
HALF_STEPS = 4000
#: Fewest redraws a busy worker must leave the GUI thread (about 150 are seen; 0 to 2
#: when the worker keeps the GIL).
FEWEST_REDRAWS = 20
#: Seconds a child may take.
CHILD_TIMEOUT = 240


@pytest.mark.parametrize("case", ["task", "em_thread"])
def test_the_gui_thread_redraws_while_a_worker_computes(case):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run(
        [sys.executable, __file__, case],
        env=env,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    redraws = int(proc.stdout.strip().splitlines()[-1])
    assert redraws >= FEWEST_REDRAWS, f"{redraws} redraws while the {case} worker ran"


# ------------------------------------------------------------------ the child process


def _busy_unit() -> int:
    total = 0
    for i in range(300):
        total += i * i
    return total


def _child(case: str) -> int:
    """Redraws seen while the worker of ``case`` ran; prints the count."""
    import numpy as np
    import pyqtgraph as pg
    from PySide6 import QtCore, QtWidgets

    app = QtWidgets.QApplication(["gil"])
    plot = pg.PlotWidget()
    plot.resize(400, 300)
    plot.show()
    x = np.arange(50.0)
    curves = [plot.plot(x, np.random.default_rng(i).random(50)) for i in range(20)]
    log: list[int] = []
    done = [0]

    def redraw() -> None:
        for c in curves:
            c.setData(x, np.random.default_rng(len(log)).random(50))
        plot.repaint()
        log.append(done[0])

    loop = QtCore.QEventLoop()
    if case == "task":
        from emviz.runs.tasks import BackgroundTask

        total = UNITS

        def job(progress, should_stop):
            for _ in range(UNITS):
                _busy_unit()
                done[0] += 1
                if should_stop():
                    return "stopped"
            return "done"

        worker = BackgroundTask("gil")
        worker.result.connect(lambda _out: loop.quit())
        start = lambda: worker.start(job)  # noqa: E731
    else:
        from emviz.core.data import as_data
        from emviz.core.init import initialize
        from emviz.runs.em_runner import ThreadRunner

        total = HALF_STEPS
        data = as_data(np.random.default_rng(0).normal(size=(300, 2)))
        begin = initialize(data, 3, method="random_from_data", seed=1)
        worker = ThreadRunner()
        worker.snapshots.connect(lambda _id, snaps: done.__setitem__(0, done[0] + len(snaps)))
        worker.finished.connect(lambda _id, _reason: loop.quit())
        start = lambda: worker.start(1, data, begin, tol=0.0, max_iter=HALF_STEPS // 2)  # noqa: E731

    timer = QtCore.QTimer()
    timer.timeout.connect(redraw)
    timer.start(0)
    QtCore.QTimer.singleShot(0, start)
    QtCore.QTimer.singleShot(CHILD_TIMEOUT * 1000, loop.quit)  # never hang
    loop.exec()
    timer.stop()
    worker.shutdown()
    during = sum(1 for u in log if 0 < u < total)
    print(during)
    app.quit()
    return during


if __name__ == "__main__":
    _child(sys.argv[1])
