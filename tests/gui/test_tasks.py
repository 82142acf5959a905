"""BackgroundTask: partial results, stale results dropped, one shutdown for a window's tasks."""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject

from emviz.runs.tasks import BackgroundTask, shutdown_tasks


def test_partial_results_arrive_in_order_then_the_result(qtbot):
    task = BackgroundTask("parts")
    parts = []
    task.partial.connect(parts.append)

    def job(progress, should_stop):
        for i in range(3):
            progress(i + 1, 3, f"part {i}")
        return "done"

    with qtbot.waitSignal(task.result, timeout=5000) as blocker:
        task.start(job)
    assert blocker.args == ["done"] and parts == ["part 0", "part 1", "part 2"]
    qtbot.waitUntil(lambda: not task.live_threads, timeout=5000)


def test_a_task_started_again_drops_the_first_ones_results(qtbot):
    task = BackgroundTask("stale")
    gate = threading.Event()
    results, parts = [], []
    task.result.connect(results.append)
    task.partial.connect(parts.append)

    def slow(progress, should_stop):
        gate.wait(10)
        progress(1, 1, "stale part")
        return "stale"

    task.start(slow)
    with qtbot.waitSignal(task.result, timeout=5000):
        task.start(lambda progress, should_stop: "fresh")
    gate.set()
    qtbot.waitUntil(lambda: not task.live_threads, timeout=5000)
    assert results == ["fresh"] and parts == []


def test_shutdown_tasks_stops_every_task_under_a_root(qtbot):
    root = QObject()
    child = QObject(root)
    tasks = [BackgroundTask("a", root), BackgroundTask("b", child)]
    stopped = []
    started = threading.Barrier(3, timeout=10)

    def wait_for_stop(progress, should_stop):
        started.wait()
        while not should_stop():
            threading.Event().wait(0.005)  # the job polls its stop flag, as EM does
        return "late"

    for i, task in enumerate(tasks):
        task.stopped.connect(lambda i=i: stopped.append(i))
        task.start(wait_for_stop)
    started.wait()
    shutdown_tasks(root)
    assert sorted(stopped) == [0, 1]
    assert all(not t.running and not t.live_threads for t in tasks)
