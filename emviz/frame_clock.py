"""Pacing the views during a run: one frame at a time, frames paced by their cost."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

__all__ = ["FrameClock"]


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
