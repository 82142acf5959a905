"""Coalescing redraws: one per turn of the event loop during a run, and never one behind."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

__all__ = ["RedrawThrottle"]


class RedrawThrottle(QObject):
    """Call ``redraw`` on request, merging requests that come together.

    With ``busy`` given: when it returns False (no run in progress) every
    request redraws at once, so a click shows its effect immediately.
    During a run, requests are merged into one redraw on the next turn of
    the event loop: a view that hears of a frame twice (``history_changed``
    and ``snapshot_changed``) draws it once.  How often frames come during a
    run is the session's business (:class:`emviz.frame_clock.FrameClock`).

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

    @property
    def pending(self) -> bool:
        return self._timer.isActive()

    def request(self) -> None:
        if self._busy is not None:
            if not self._busy():
                # Not running: the user did something, show it now.
                self._timer.stop()
                self._fire()
            elif not self._timer.isActive():
                self._timer.start(0)
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
        self._redraw()
        self._last = time.perf_counter()
