"""Coalescing redraws: at most about 60 per second, and never one behind."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

__all__ = ["RedrawThrottle"]


class RedrawThrottle(QObject):
    """Call ``redraw`` on request, but not more often than every ``interval_ms``.

    A request when the last redraw is older than the interval redraws at
    once (a click shows its effect immediately); requests that come faster
    (a running worker) are merged into one redraw by a single-shot timer, so
    drawing never slows the worker down and the last state is always drawn.
    If ``busy`` is given and returns False (no run in progress), every
    request redraws at once.

    During a run the interval also grows with what a redraw costs (at most
    1 / ``DUTY`` of the GUI thread per view): a view that takes 40 ms to
    draw is redrawn every 160 ms, so the GUI thread leaves the interpreter
    lock to the EM worker most of the time, while cheap views still update
    about 60 times a second.
    """

    #: Interval over cost of the last redraw, during a run.
    DUTY = 4.0
    #: The longest interval the cost can impose, in seconds.
    MAX_INTERVAL = 0.5

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
        self._interval = self._base_interval = interval_ms / 1000.0
        self._last = -1e9
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._fire)

    @property
    def pending(self) -> bool:
        return self._timer.isActive()

    def request(self) -> None:
        if self._busy is not None and not self._busy():
            # Not running: the user did something, show it now.
            self._timer.stop()
            self._fire()
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
        if self._timer.isActive():
            self._timer.stop()
            self._fire()

    def _fire(self) -> None:
        t0 = time.perf_counter()
        self._redraw()
        # Measured from the end of the redraw: a slow redraw still leaves
        # the event loop time to take in the worker's snapshots.
        self._last = time.perf_counter()
        self._adapt(self._last - t0)

    def _adapt(self, cost: float) -> None:
        running = self._busy is not None and self._busy()
        if running:
            self._interval = max(self._base_interval, min(self.DUTY * cost, self.MAX_INTERVAL))
        else:
            self._interval = self._base_interval
