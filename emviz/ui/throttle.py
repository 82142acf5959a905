"""Coalescing redraws: during a run one view per turn of the event loop, and never one behind."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer
from shiboken6 import Shiboken

__all__ = ["RedrawThrottle"]


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
    is the session's business (:class:`emviz.frame_clock.FrameClock`).

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
