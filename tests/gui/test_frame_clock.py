"""FrameClock: requests during a run merge into frames paced by the GUI thread's busy time."""

from __future__ import annotations

import time

import pytest

from emviz.runs import pacing
from emviz.runs.pacing import FrameClock

#: The GUI thread's CPU time as the clock sees it: only the frames' own work.
_CPU = [0.0]


@pytest.fixture(autouse=True)
def _frames_cpu_only(monkeypatch):
    """The clock reads this thread's CPU time, which in the whole suite also
    counts work that earlier tests left on the GUI thread; such work beyond
    1/DUTY of the time kept the paced frame from coming due (the test passed
    alone and failed in the suite). Here the CPU time is the frames' work alone."""
    _CPU[0] = 0.0
    monkeypatch.setattr(pacing.time, "thread_time", lambda: _CPU[0])


def _busy(seconds: float) -> None:
    """A frame that costs ``seconds`` of CPU time (the clock counts CPU time)."""
    _CPU[0] += seconds


def test_requests_while_a_frame_is_not_due_merge_into_one_frame(qtbot):
    frames = []
    clock = FrameClock(lambda: (frames.append(time.perf_counter()), _busy(0.03)))
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
