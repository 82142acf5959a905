"""Pacing the views during a run: frames paced by their cost, redraws coalesced.

:class:`FrameClock` decides when the session tells the views about a run's
new snapshots (one frame at a time, frames paced by the GUI thread's busy
time); :class:`RedrawThrottle` merges each view's redraw requests, so that
during a run the views redraw one per turn of the event loop and never one
frame behind.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer
from shiboken6 import Shiboken

__all__ = ["FrameClock", "RedrawThrottle"]


class FrameClock(QObject):
    """Call ``notify`` on request, at most once per frame, with frames paced by their cost.

    During a run, snapshots arrive faster than a window can draw them (EM
    makes hundreds of half-steps a second on small data).  The session adds
    each to the history at once but tells the views through this clock: a
    request when no frame is due runs ``notify`` at once; requests that come
    sooner are merged into one frame that follows when it is due.

    A frame is due when the GUI thread has been busy for at most 1 /
    :attr:`DUTY` of the time since the previous frame began.  Busy time is
    the thread's CPU time (``time.thread_time``), so it counts everything a
    frame causes: the views' redraws, their paints, the point cloud's raster
    slices and taking in the snapshots.  The window then keeps most of the
    GUI thread free for the user whatever the data size, and never queues
    up frames it cannot draw.
    """

    #: Wall time over GUI-thread time between frames.
    DUTY = 2.0
    #: Shortest interval between frames, in seconds (60 frames a second).
    MIN_INTERVAL = 1 / 60

    def __init__(self, notify: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._notify = notify
        self._wall = -1e9
        self._cpu = 0.0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.request)

    @property
    def pending(self) -> bool:
        """Whether a frame is waiting for its time."""
        return self._timer.isActive()

    def wait(self) -> float:
        """Seconds until the next frame is due (0 or less: now)."""
        elapsed = time.perf_counter() - self._wall
        busy = time.thread_time() - self._cpu
        return max(self.MIN_INTERVAL - elapsed, self.DUTY * busy - elapsed)

    def request(self) -> None:
        """Something changed: draw it in this frame or the next."""
        if self._timer.isActive():
            return
        wait = self.wait()
        if wait <= 0:
            self._frame()
        else:
            self._timer.start(max(1, int(wait * 1000)))

    def flush(self) -> None:
        """Draw a waiting frame now (a run ended: show where it stopped)."""
        if self._timer.isActive():
            self._timer.stop()
            self._frame()

    def _frame(self) -> None:
        self._wall = time.perf_counter()
        self._cpu = time.thread_time()
        self._notify()


class _Turns(QObject):
    """The views waiting to redraw during a run, redrawn one per turn of the event loop.

    All the views hear of a frame at once.  Redrawn together, their paints
    then come together too (Qt paints every changed widget of a window in
    one go), and the event loop stalls for the sum: at 10,000 points the
    scatter plot and the log-likelihood plot took 50 to 60 ms between them.
    One view per turn, each paint comes before the next view's redraw (a
    zero-time timer fires only once the posted events, such as paints, are
    handled), and the event loop answers in between.
    """

    def __init__(self) -> None:
        super().__init__()
        self._waiting: list[RedrawThrottle] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._next)

    def add(self, throttle: RedrawThrottle) -> None:
        if throttle not in self._waiting:
            self._waiting.append(throttle)
        if not self._timer.isActive():
            self._timer.start(0)

    def discard(self, throttle: RedrawThrottle) -> None:
        if throttle in self._waiting:
            self._waiting.remove(throttle)

    def __contains__(self, throttle: RedrawThrottle) -> bool:
        return throttle in self._waiting

    def _next(self) -> None:
        while self._waiting:
            throttle = self._waiting.pop(0)
            if Shiboken.isValid(throttle):  # its view may have closed meanwhile
                throttle._fire()
                break
        if self._waiting:
            self._timer.start(0)


_TURNS: _Turns | None = None


def _turns() -> _Turns:
    global _TURNS
    if _TURNS is None or not Shiboken.isValid(_TURNS):
        _TURNS = _Turns()
    return _TURNS


class RedrawThrottle(QObject):
    """Call ``redraw`` on request, merging requests that come together.

    With ``busy`` given: when it returns False (no run in progress) every
    request redraws at once, so a click shows its effect immediately.
    During a run, requests wait their turn: the views waiting redraw one per
    turn of the event loop, in the order they asked (see :class:`_Turns`),
    and a view that hears of a frame twice (``history_changed`` and
    ``snapshot_changed``) draws it once.  How often frames come during a run
    is the session's business (:class:`FrameClock`).

    Without ``busy`` (a view that redraws on its own schedule), requests are
    merged so that redraws are at least ``interval_ms`` apart, and the last
    state is always drawn.
    """

    def __init__(
        self,
        redraw: Callable[[], None],
        interval_ms: int = 16,
        parent=None,
        busy: Callable[[], bool] | None = None,
    ) -> None:
        super().__init__(parent)
        self._redraw = redraw
        self._busy = busy
        self._interval = interval_ms / 1000.0
        self._last = -1e9
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._fire)
        self.destroyed.connect(lambda *_: _TURNS is not None and _TURNS.discard(self))

    @property
    def pending(self) -> bool:
        return self._timer.isActive() or (_TURNS is not None and self in _TURNS)

    def request(self) -> None:
        if self._busy is not None:
            if not self._busy():
                # Not running: the user did something, show it now.
                self._fire()
            else:
                _turns().add(self)
            return
        if self._timer.isActive():
            return
        wait = self._last + self._interval - time.perf_counter()
        if wait <= 0:
            self._fire()
        else:
            self._timer.start(max(1, int(wait * 1000)))

    def flush(self) -> None:
        """Redraw now if a redraw is pending."""
        if self.pending:
            self._fire()

    def _fire(self) -> None:
        self._timer.stop()
        if _TURNS is not None:
            _TURNS.discard(self)
        self._redraw()
        self._last = time.perf_counter()
