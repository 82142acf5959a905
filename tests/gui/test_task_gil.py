"""Workers running Python code leave the GUI thread its turns (the GIL is shared).

A redraw enters Python from Qt hundreds of times (pyqtgraph's paint and
bounds methods), and each entry takes the GIL back from the worker. Were a
worker to keep the GIL until the interpreter's switch interval (5 ms) forced
it out, each redraw would wait for hundreds of intervals: a few redraws a
run, progress and Cancel queued behind them.

The check runs in a child process (this file as a script), as a user runs
one window per process: widgets the suite's earlier tests leave behind
change how the GUI thread and a worker share the interpreter. The child
redraws a plot of 20 curves on every turn of the event loop while a
background task computes, and prints how many redraws it saw meanwhile.
"""

from __future__ import annotations

import os
import subprocess
import sys

#: Units of pure-Python work the task does, each about 0.1 ms, polling its stop flag between.
UNITS = 5000
#: Fewest redraws a busy worker must leave the GUI thread (about 150 are seen; 0 to 2
#: when the worker keeps the GIL).
FEWEST_REDRAWS = 20
#: Seconds a child may take.
CHILD_TIMEOUT = 240


def test_the_gui_thread_redraws_while_a_task_computes():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run(
        [sys.executable, __file__],
        env=env,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    redraws = int(proc.stdout.strip().splitlines()[-1])
    assert redraws >= FEWEST_REDRAWS, f"{redraws} redraws while the task ran"


# ------------------------------------------------------------------ the child process


def _busy_unit() -> int:
    total = 0
    for i in range(300):
        total += i * i
    return total


def _child() -> int:
    """Redraws seen while the task ran; prints the count."""
    import numpy as np
    import pyqtgraph as pg
    from PySide6 import QtCore, QtWidgets

    from emviz.runs.tasks import BackgroundTask

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

    def job(progress, should_stop):
        for _ in range(UNITS):
            _busy_unit()
            done[0] += 1
            if should_stop():
                return "stopped"
        return "done"

    worker = BackgroundTask("gil")
    worker.result.connect(lambda _out: loop.quit())

    timer = QtCore.QTimer()
    timer.timeout.connect(redraw)
    timer.start(0)
    QtCore.QTimer.singleShot(0, lambda: worker.start(job))
    QtCore.QTimer.singleShot(CHILD_TIMEOUT * 1000, loop.quit)  # never hang
    loop.exec()
    timer.stop()
    worker.shutdown()
    during = sum(1 for u in log if 0 < u < UNITS)
    print(during)
    app.quit()
    return during


if __name__ == "__main__":
    _child()
