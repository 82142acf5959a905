"""Live EM on many points: the real window, offscreen, during a run at full speed.

Run it (no display needed; about eight minutes with the defaults, half of it the
memory run)::

    PYTHONPATH=. .venv/bin/python tests/benchmarks/bench_live.py
    PYTHONPATH=. .venv/bin/python tests/benchmarks/bench_live.py --sizes 10000 100000 \\
        --half-steps 40 --memory-half-steps 0          # a quick look

For each N (points of a 10-component mixture, K = 10), with runs of at least
``--half-steps`` half-steps (100) and at least ``--min-seconds`` (1 s) of EM
without drawing (500 half-steps at N = 1e4), it

1. runs ``iterate_em`` headless on a plain thread with no window (the same
   start, settings and number of half-steps as the window's run) for the
   throughput without drawing;
2. opens the real window (``create_main_window``), loads the points, sets
   the speed to full (delay 0) and runs EM as the app does (in the EM
   process, :mod:`emviz.runs.em_process`, for these sizes), while it records

   - every coalesced redraw: the views' redraw callbacks (each
     ``RedrawThrottle`` firing), the paint of every plot
     (``GraphicsView.paintEvent``) and the slices of the point cloud's
     raster jobs, summed per turn of the event loop (between two ticks of
     the 5 ms timer);
     "scatter" is the scatter plot's share (recolouring, ellipses, the
     point cloud or its raster, painting);
   - the lateness of a 5 ms ``QTimer`` (the longest stall of the event loop);
   - the EM throughput: half-steps per second from the click on Run to the
     arrival of the last snapshot from the EM process;
   - the tail: from that arrival to the end of the run (``run_finished``),
     when the window shows where EM stopped;
   - the frames of the scatter plot's step transitions (gliding ellipses,
     blending colours; :mod:`emviz.ui.views.transitions`), with "Animate
     steps" on as the app starts: at full speed there are none, each
     snapshot is drawn at once.

   Redraws and stalls are recorded from the click until the window has
   drawn the end of the run (its last frame and paints), and the redraws
   that set up each run (going back to the first snapshot) are drawn before
   the clock starts.

Then, in a fresh process, it runs ``--memory-half-steps`` half-steps at the
largest N in the window and reports (MB = 2**20 bytes):

- ``peak_mb``, ``child_mb``: the peak resident memory (``VmHWM`` in
  /proc/<pid>/status, exact high-water marks; the EM process's read every
  10 ms) of the window's process and of the EM process.  Not ``getrusage``'s
  maxrss, which Linux carries over from parent to child across fork and
  exec: the fresh process reported the timing runs' own size as its peak.
  Each counts the shared memory it maps (the responsibilities ring and the
  points), so their sum counts it twice;
- ``shared_mb``: the most shared memory the EM process had resident
  (``RssShmem`` in /proc/<pid>/status, sampled every 10 ms), memory the
  window maps too: ``peak_mb + child_mb - shared_mb`` counts it once if
  the window's peak comes with all of it mapped, as during a run (the two
  peaks need not coincide, so this can exceed what they held at once);
- ``total_mb``: the most memory the window's process and its children (the
  EM process and multiprocessing's resource tracker, a few MB) held at once,
  sampled every 10 ms from /proc/<pid>/status from before the window opens:
  the sum of their private and file-backed resident pages (``RssAnon``,
  ``RssFile``; shared libraries count in each process that maps them, a few
  tens of MB too many) plus the largest ``RssShmem`` among them, the shared
  memory counted once (the window views only ring slots the EM process has
  filled, so what it maps is resident in the EM process as well).  A peak
  shorter than 10 ms can be missed.  (Pss in smaps_rollup would split the
  shared pages exactly, but reading it costs about 10 ms of CPU a time here.)
- the history length.

``shared_mb`` and ``total_mb`` are 0 where /proc is not available.

Targets (issue 7, on a 2-core machine): redraw at 1e6 under 50 ms median,
event-loop stall under 100 ms worst, throughput while drawing at least 80 %
of the throughput without, peak memory under 1 GB.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import threading
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The application's own start-up setting (emviz.cli sets it before numpy loads).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
from PySide6 import QtCore, QtWidgets  # noqa: E402

K = 10
TOL = 1e-300  # EM runs the full number of half-steps (settings need tol > 0)


def make_points(n: int, seed: int = 0) -> np.ndarray:
    """n points of a 10-component mixture in the plane, array of shape (n, 2)."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-20, 20, (K, 2))
    scales = rng.uniform(0.6, 2.5, (K, 2))
    labels = rng.integers(0, K, n)
    return centres[labels] + rng.normal(size=(n, 2)) * scales[labels]


# ------------------------------------------------------------------ instrumentation


class Probe:
    """Times drawing work per turn of the event loop, and the loop's lateness."""

    def __init__(self) -> None:
        self.active = False
        self.frame_total = 0.0
        self.frame_scatter = 0.0
        self.frames: list[float] = []
        self.scatter_frames: list[float] = []
        self.stalls: list[float] = []
        #: (time, lateness, drawing time, scatter drawing time) of every tick
        self.ticks: list[tuple[float, float, float, float]] = []
        self.paints = 0
        #: when the last batch of snapshots arrived from the EM process
        self.last_arrival = 0.0
        self._depth = 0
        self._timer: QtCore.QTimer | None = None
        self._last = 0.0

    def record(self, seconds: float, scatter: bool) -> None:
        if not self.active:
            return
        self.frame_total += seconds
        if scatter:
            self.frame_scatter += seconds

    def start(self) -> None:
        self.active = True
        self._timer = QtCore.QTimer()
        self._timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        self._timer.setInterval(5)
        self._timer.timeout.connect(self._tick)
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._tick()
        self.active = False
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def _tick(self) -> None:
        now = time.perf_counter()
        late = max(0.0, now - self._last - 0.005)
        self.stalls.append(late)
        self.ticks.append((now, late, self.frame_total, self.frame_scatter))
        self._last = now
        if self.frame_total > 0:
            self.frames.append(self.frame_total)
            self.scatter_frames.append(self.frame_scatter)
        self.frame_total = self.frame_scatter = 0.0


PROBE = Probe()
_KEEP: dict = {}  # the QApplication lives as long as the module


def instrument() -> None:
    """Wrap the redraw callbacks and the plots' paint events (before any window exists)."""
    import pyqtgraph as pg

    from emviz.runs.pacing import RedrawThrottle
    from emviz.ui.views.points import PointCloudItem
    from emviz.ui.views.scatter_view import ScatterView

    fire = RedrawThrottle._fire

    def timed_fire(self):
        t0 = time.perf_counter()
        fire(self)
        owner = self.parent()
        PROBE.record(time.perf_counter() - t0, isinstance(owner, ScatterView))

    RedrawThrottle._fire = timed_fire
    paint_event = pg.GraphicsView.paintEvent

    def timed_paint(self, ev):
        t0 = time.perf_counter()
        paint_event(self, ev)
        PROBE.paints += isinstance(self, ScatterView)
        PROBE.record(time.perf_counter() - t0, isinstance(self, ScatterView))

    pg.GraphicsView.paintEvent = timed_paint
    step_job = PointCloudItem._step_job

    def timed_step(self):
        t0 = time.perf_counter()
        step_job(self)
        PROBE.record(time.perf_counter() - t0, True)

    PointCloudItem._step_job = timed_step

    from emviz.runs.em_process import EMProcess

    receive = EMProcess.receive

    def timed_receive(self):
        msg = receive(self)
        if msg[0] == "snapshots":
            PROBE.last_arrival = time.perf_counter()
        return msg

    EMProcess.receive = timed_receive


# ------------------------------------------------------------------ runs


def headless_rate(session, n_half_steps: int) -> float:
    """Half-steps per second of iterate_em on a plain thread, no window drawing.

    Same data, start (the session's first snapshot) and settings as the run
    in the window.
    """
    from emviz.core.em import iterate_em

    start = session.history[0]
    kwargs = session._em_kwargs()
    out = {}

    def work():
        t0 = time.perf_counter()
        count = 0
        for snap in iterate_em(
            None, start, data=session.data, max_iter=n_half_steps // 2, **kwargs
        ):
            count += 1
            if snap.converged:
                break
        out["rate"] = count / (time.perf_counter() - t0)
        out["count"] = count

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    return out["rate"]


def open_window(X: np.ndarray, n_half_steps: int):
    from emviz.cli import create_main_window

    window = create_main_window([])
    window.resize(1500, 950)
    window.show()
    s = window.session
    s.load_points(X, name=f"{len(X)} points")
    s.update_settings(n_components=K, tol=TOL, max_iter=max(1, n_half_steps // 2))
    s.set_delay(0.0)
    window.flush()
    QtWidgets.QApplication.processEvents()
    return window


def run_in_window(window) -> dict:
    """Run EM on the session's worker with delay 0; returns rate and timings."""
    s = window.session
    done = {}
    loop = QtCore.QEventLoop()

    def finished(reason):
        done["t"] = time.perf_counter()
        done["reason"] = reason
        loop.quit()

    s.run_finished.connect(finished)
    transition_frames = []
    window.scatter.transition.frame.connect(transition_frames.append)
    s.set_index(0)  # every run starts from the same snapshot (the history is cut there)
    window.flush()  # and its redraws are not the run's
    QtWidgets.QApplication.processEvents()
    PROBE.__init__()
    PROBE.start()
    t0 = time.perf_counter()
    s.run()
    loop.exec()
    # The end of the run is drawn in the next turns of the event loop.
    QtCore.QTimer.singleShot(200, loop.quit)
    loop.exec()
    PROBE.stop()
    s.run_finished.disconnect(finished)
    window.scatter.transition.frame.disconnect(transition_frames.append)
    count = len(s.history) - 1
    last = PROBE.last_arrival if PROBE.last_arrival > t0 else done["t"]
    return {
        "rate": count / (last - t0),
        "tail": done["t"] - last,
        "half_steps": count,
        "reason": done["reason"],
        "frames": PROBE.frames,
        "scatter": PROBE.scatter_frames,
        "stall": max(PROBE.stalls) if PROBE.stalls else 0.0,
        "paints": PROBE.paints,
        "mode": window.scatter.points.mode,
        "animate": window.scatter.animate,
        "transition_frames": len(transition_frames),
    }


def bench_size(n: int, n_half_steps: int, repeats: int, min_seconds: float) -> dict:
    """Runs with and without drawing, interleaved ``repeats`` times (the machine is shared:
    its load changes from one second to the next); rates are medians.

    Each run has ``n_half_steps`` half-steps, or more (in hundreds) if EM
    without drawing would take less than ``min_seconds`` for them: a run of
    a fifth of a second measures its start and its last frame more than the
    throughput.
    """
    X = make_points(n)
    window = open_window(X, n_half_steps)
    rate = headless_rate(window.session, min(n_half_steps, 40))
    n_half_steps = max(n_half_steps, 100 * math.ceil(rate * min_seconds / 100))
    window.session.update_settings(max_iter=n_half_steps // 2)
    base, rates, tails, out = [], [], [], None
    for _ in range(repeats):
        base.append(headless_rate(window.session, n_half_steps))
        live = run_in_window(window)
        rates.append(live["rate"])
        tails.append(live["tail"])
        if out is None:
            out = live
        else:
            out["frames"] += live["frames"]
            out["scatter"] += live["scatter"]
            out["stall"] = max(out["stall"], live["stall"])
            out["paints"] += live["paints"]
            out["transition_frames"] += live["transition_frames"]
    window.close()
    window.deleteLater()
    QtWidgets.QApplication.processEvents()
    out["rate"] = statistics.median(rates)
    out["tail"] = statistics.median(tails)
    out["base_rate"] = statistics.median(base)
    out["rates"], out["base_rates"] = rates, base
    return out


def _child_pids() -> list[int]:
    """The processes this one started and that still run (Linux: /proc/<pid>/task/*/children)."""
    pids: list[int] = []
    try:
        for task in os.scandir(f"/proc/{os.getpid()}/task"):
            try:
                with open(f"{task.path}/children") as f:
                    pids.extend(int(pid) for pid in f.read().split())
            except OSError:
                pass
    except OSError:
        pass
    return pids


def peak_rss_kb(pid: int | str = "self") -> int:
    """VmHWM of a process: its peak RSS, in kB (0 if it has gone).

    Not getrusage's ru_maxrss: Linux carries that over from the parent
    across fork and exec, so in the memory run started by the timing runs it
    read the timing runs' own size (776 MB for a window that peaked at 492).
    """
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class MemorySampler:
    """Samples the memory of this process and its children every 10 ms, on a thread.

    ``total_kb`` is the largest sum seen of their RssAnon and RssFile plus
    the largest RssShmem among them (shared memory counted once),
    ``shared_kb`` the largest RssShmem of a child (the EM process),
    ``child_peak_kb`` the largest VmHWM (peak RSS) of a child.
    """

    def __init__(self) -> None:
        self.total_kb = 0
        self.shared_kb = 0
        self.child_peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _status(pid: int | str) -> tuple[int, int]:
        """(RssAnon + RssFile, RssShmem) of a process, in kB."""
        fields = {}
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    key, _, value = line.partition(":")
                    if key in ("RssAnon", "RssFile", "RssShmem"):
                        fields[key] = int(value.split()[0])
        except OSError:
            pass
        return fields.get("RssAnon", 0) + fields.get("RssFile", 0), fields.get("RssShmem", 0)

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            private, shared = self._status("self")
            for pid in _child_pids():
                child_private, child_shared = self._status(pid)
                private += child_private
                shared = max(shared, child_shared)
                self.shared_kb = max(self.shared_kb, child_shared)
                self.child_peak_kb = max(self.child_peak_kb, peak_rss_kb(pid))
            self.total_kb = max(self.total_kb, private + shared)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def memory_run(n: int, n_half_steps: int) -> dict:
    """In this process: the window, n points, n_half_steps half-steps; peak memory."""
    X = make_points(n)
    sampler = MemorySampler()  # from before the window opens: loading counts too
    sampler.start()
    window = open_window(X, n_half_steps)
    del X
    live = run_in_window(window)
    history = len(window.session.history)
    in_process = window.session.em_process is not None
    sampler.stop()
    peak_mb = peak_rss_kb() / 1024.0
    window.close()
    child_mb = sampler.child_peak_kb / 1024.0
    return {
        "peak_mb": peak_mb,
        "child_mb": child_mb if in_process else 0.0,
        "shared_mb": sampler.shared_kb / 1024.0,
        "total_mb": sampler.total_kb / 1024.0,
        "history": history,
        "half_steps": live["half_steps"],
    }


def _ms(values: list[float], f) -> float:
    return 1e3 * f(values) if values else float("nan")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--half-steps", type=int, default=100, help="half-steps per run, at least")
    parser.add_argument(
        "--min-seconds",
        type=float,
        default=1.0,
        help="more half-steps (in hundreds) where a run without drawing would be shorter",
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="interleaved runs with and without drawing"
    )
    parser.add_argument(
        "--memory-half-steps",
        type=int,
        default=1000,
        help="half-steps of the memory run at the largest size (0: skip it)",
    )
    parser.add_argument("--memory-only", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    _KEEP["app"] = QtWidgets.QApplication.instance() or QtWidgets.QApplication(["bench_live"])
    instrument()
    if args.memory_only:
        print(json.dumps(memory_run(args.memory_only, args.memory_half_steps)))
        return 0
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    header = (
        f"{'N':>9} {'steps':>5} {'redraw med':>10} {'worst':>7} {'scatter med':>11} "
        f"{'worst':>7} {'stall max':>9} {'EM/s draw':>9} {'EM/s none':>9} {'ratio':>6} "
        f"{'tail ms':>7} {'paints':>6} {'mode':>6}"
    )
    print(header)
    for n in args.sizes:
        r = bench_size(n, args.half_steps, args.repeats, args.min_seconds)
        print(
            f"{n:>9} {r['half_steps']:>5} {_ms(r['frames'], statistics.median):>10.1f} "
            f"{_ms(r['frames'], max):>7.1f} {_ms(r['scatter'], statistics.median):>11.1f} "
            f"{_ms(r['scatter'], max):>7.1f} {1e3 * r['stall']:>9.1f} {r['rate']:>9.1f} "
            f"{r['base_rate']:>9.1f} {r['rate'] / r['base_rate']:>6.0%} "
            f"{1e3 * r['tail']:>7.0f} {r['paints']:>6} {r['mode']:>6}",
            flush=True,
        )
        rates = ", ".join(
            f"{a:.1f}/{b:.1f}" for a, b in zip(r["rates"], r["base_rates"], strict=True)
        )
        print(f"{'':>9} EM/s drawing/not, run by run: {rates}", flush=True)
        animate = "on" if r["animate"] else "off"
        print(
            f"{'':>9} Animate steps {animate}; transition frames in the runs: "
            f"{r['transition_frames']}",
            flush=True,
        )
    if args.memory_half_steps:
        n = max(args.sizes)
        cmd = [sys.executable, __file__, "--memory-only", str(n)]
        cmd += ["--memory-half-steps", str(args.memory_half_steps)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        mem = json.loads(out.stdout.strip().splitlines()[-1])
        once = mem["peak_mb"] + mem["child_mb"] - mem["shared_mb"]
        print(
            f"memory: N = {n}, {mem['half_steps']} half-steps in the window, history of "
            f"{mem['history']} snapshots, peak RSS {mem['peak_mb']:.0f} MB (window) + "
            f"{mem['child_mb']:.0f} MB (EM process), {mem['shared_mb']:.0f} MB of it shared "
            f"(counted in both): {once:.0f} MB with the shared memory counted once; "
            f"together at most {mem['total_mb']:.0f} MB at any sample (every 10 ms)"
        )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
