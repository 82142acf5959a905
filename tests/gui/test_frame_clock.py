"""FrameClock: requests during a run merge into frames paced by the GUI thread's busy time."""

from __future__ import annotations

import time

from emviz.runs.pacing import FrameClock


def _busy(seconds: float) -> None:
    """Use the CPU (not sleep) for ``seconds``: the clock counts CPU time."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_requests_while_a_frame_is_not_due_merge_into_one_frame(qtbot):
    frames = []
    clock = FrameClock(lambda: (frames.append(time.perf_counter()), _busy(0.03)))
    # A margin between a frame's CPU time and the wait after it, so that a
    # loaded machine (wall time running ahead of CPU time) cannot make the
    # next frame due early; not so wide that the GUI thread's other work
    # while the test waits (multiplied by DUTY) delays it past the timeout.
    clock.DUTY = 5.0
    clock.request()
    assert len(frames) == 1  # nothing was due: drawn at once
    for _ in range(5):
        clock.request()
    assert len(frames) == 1 and clock.pending
    qtbot.waitUntil(lambda: len(frames) == 2, timeout=10000)
    assert not clock.pending
    # The frame cost 30 ms of CPU: the next may start only DUTY times that later.
    assert frames[1] - frames[0] >= clock.DUTY * 0.03 * 0.9


def test_flush_draws_a_waiting_frame_at_once(qtbot):
    frames = []
    clock = FrameClock(lambda: (frames.append(1), _busy(0.02)))
    clock.DUTY = 100.0  # the second frame is not due for 2 s, however loaded the machine
    clock.request()
    clock.request()
    assert clock.pending and len(frames) == 1
    clock.flush()
    assert len(frames) == 2 and not clock.pending
    clock.flush()  # nothing waiting: nothing drawn
    assert len(frames) == 2
