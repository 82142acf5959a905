"""Redraw time of the explorer window during a run, at 1e3, 1e4 and 1e5 points.

Run it (no display needed)::

    PYTHONPATH=. .venv/bin/python tests/benchmarks/bench_redraw.py [--repeats 30]

For each size it feeds the snapshots of a real EM run to the session, as
the worker does, and times what one coalesced redraw costs:

- ``scatter``: recolour every point from the responsibilities (quantised to
  the shared palette), move the ellipses and means, and paint the plot
  (``QWidget.grab`` forces a full paint);
- ``window``: every view (scatter, log-likelihood, table, responsibility
  bars, status) redrawn and the whole window painted.

It prints the median and the worst time in milliseconds. The target is
under about 50 ms at 100,000 points.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6 import QtWidgets  # noqa: E402

from emviz.core.em import iterate_em  # noqa: E402


def make_points(n: int, rng: np.random.Generator) -> np.ndarray:
    centres = np.array([[0.0, 0.0], [6.0, 1.0], [2.0, 6.0]])
    labels = rng.integers(0, 3, n)
    return centres[labels] + rng.normal(size=(n, 2)) * [1.0, 1.5]


def bench(n: int, repeats: int) -> dict[str, list[float]]:
    from emviz.cli import create_main_window

    window = create_main_window([])
    window.resize(1500, 950)
    window.show()
    session = window.session
    rng = np.random.default_rng(0)
    session.load_points(make_points(n, rng), name=f"{n} points")
    session.update_settings(n_components=3)
    window.flush()
    start = session.history[0]
    snaps = list(
        iterate_em(None, start, data=session.data, max_iter=max(2, repeats // 2 + 1), tol=0.0)
    )[: repeats + 1]
    times: dict[str, list[float]] = {"scatter": [], "window": []}
    QtWidgets.QApplication.processEvents()
    for i, snap in enumerate(snaps):
        session._append(snap)  # what a snapshot arriving from the worker does
        t0 = time.perf_counter()
        window.scatter.redraw()
        window.scatter.grab()
        t1 = time.perf_counter()
        window.loglik.redraw()
        window.param_table.redraw()
        window.resp_view.redraw()
        window.update_state()
        window.grab()
        t2 = time.perf_counter()
        if i:  # the first redraw builds caches
            times["scatter"].append(1e3 * (t1 - t0))
            times["window"].append(1e3 * (t2 - t0))
    window.close()
    return times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    args = parser.parse_args(argv)
    QtWidgets.QApplication.instance() or QtWidgets.QApplication(["bench"])
    print(f"{'points':>8} {'what':>8} {'median ms':>10} {'worst ms':>9}")
    for n in args.sizes:
        times = bench(n, args.repeats)
        for what, t in times.items():
            print(f"{n:>8} {what:>8} {statistics.median(t):>10.1f} {max(t):>9.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
