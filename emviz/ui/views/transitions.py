"""Changes the audience can see: a step's ellipses glide and its colours blend.

An E-step recolours the points and an M-step moves the ellipses; shown at
once, the change is easy to miss. At single steps and slow runs the scatter
plot instead shows a short transition (:data:`DURATION_S`) from what it
showed to the new snapshot:

- means move along the straight line between the old and new ones;
- covariances follow the path of their Cholesky factors,
  ``L(s) = (1 - s) L0 + s L1`` and ``Sigma(s) = L(s) L(s)^T``: the factors are
  lower triangular with positive diagonals, and so is every mix of them,
  so every ``Sigma(s)`` is positive definite (a straight mix of the
  covariances would be too, but the Cholesky path turns a rotated ellipse
  without first shrinking it);
- weights mix linearly (they stay on the simplex);
- point colours mix linearly between the old and the new colours (a soft
  colour is linear in the responsibilities, so this is the colour of the
  mixed responsibilities).

The progress ``s`` is eased (slow in, slow out). A new target during a
transition starts from the state shown at that moment, so stepping or
dragging the history slider quickly never piles transitions up.

:class:`Transition` is the clock: a QTimer on the GUI thread at about 60
frames a second, with a replaceable time source so tests can stop it at a
chosen moment.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PySide6 import QtCore

from emviz.ui.views.points import RASTER_MIN

__all__ = [
    "ANIMATE_MIN_DELAY_S",
    "BLEND_MAX_POINTS",
    "DURATION_S",
    "FRAME_MS",
    "MixtureParams",
    "Transition",
    "ease",
    "interpolate_params",
    "mix_colours",
    "transition_duration",
]

#: Length of a transition at single steps, in seconds.
DURATION_S = 0.4
#: During a run, transitions only when each half-step waits at least this long
#: (the speed slider's default and slower); faster runs change at once.
ANIMATE_MIN_DELAY_S = 0.2
#: During a run a transition takes at most this share of the delay, so it
#: ends before the next snapshot arrives.
_SHARE_OF_DELAY = 0.6
#: Interval of the frames, in milliseconds (about 60 a second).
FRAME_MS = 16
#: Point colours blend only below this many points, drawn as points. From
#: :data:`emviz.ui.views.points.RASTER_MIN` in view on the cloud is a raster,
#: whose every new colouring is a sliced job over all the points: at 60
#: frames a second it would hold the GUI thread, so the colours change at
#: once there (the ellipses still glide). Measured on the 2-core machine:
#: a blend frame costs under 1 ms of colour work at 10,000 points, and the
#: paint that follows costs what any paint of those points costs.
BLEND_MAX_POINTS = RASTER_MIN - 1


def transition_duration(running: bool, delay: float) -> float:
    """Seconds a transition lasts (0: none) for a run state and its delay per half-step."""
    if not running:
        return DURATION_S
    if delay < ANIMATE_MIN_DELAY_S:
        return 0.0
    return min(DURATION_S, _SHARE_OF_DELAY * delay)


def ease(t: float) -> float:
    """Smoothstep ``3 t^2 - 2 t^3`` of ``t`` clipped to [0, 1]: slow in, slow out."""
    t = min(max(float(t), 0.0), 1.0)
    return t * t * (3.0 - 2.0 * t)


@dataclass(frozen=True)
class MixtureParams:
    """What the scatter plot draws of a mixture (plain arrays, possibly in between two).

    Attributes
    ----------
    weights : array of shape (K,)
    means : array of shape (K, 2)
    covariances : array of shape (K, 2, 2)
    """

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray

    @classmethod
    def of(cls, mixture) -> MixtureParams:
        """The parameters of a :class:`emviz.core.mixture.Mixture` (or anything with them)."""
        return cls(
            np.asarray(mixture.weights, float),
            np.asarray(mixture.means, float),
            np.asarray(mixture.covariances, float),
        )

    @property
    def n_components(self) -> int:
        return int(self.means.shape[0])

    def same_as(self, other: MixtureParams | None) -> bool:
        return (
            other is not None
            and other.means.shape == self.means.shape
            and np.array_equal(other.means, self.means)
            and np.array_equal(other.covariances, self.covariances)
            and np.array_equal(other.weights, self.weights)
        )


def _cholesky(covariances: np.ndarray) -> np.ndarray:
    """Lower Cholesky factors of 2x2 covariances, array of shape (K, 2, 2), in closed form.

    ``[[a, b], [b, c]] = L L^T`` with ``L = [[sqrt(a), 0], [b / sqrt(a), sqrt(c - b^2 / a)]]``.
    The diagonal is floored at a tiny positive value, so a covariance that is
    numerically singular still gives a usable factor.
    """
    a = covariances[:, 0, 0]
    b = covariances[:, 0, 1]
    c = covariances[:, 1, 1]
    tiny = 1e-300
    l11 = np.sqrt(np.maximum(a, tiny))
    l21 = b / l11
    l22 = np.sqrt(np.maximum(c - l21 * l21, tiny))
    out = np.zeros_like(covariances)
    out[:, 0, 0] = l11
    out[:, 1, 0] = l21
    out[:, 1, 1] = l22
    return out


def interpolate_params(start: MixtureParams, end: MixtureParams, s: float) -> MixtureParams:
    """The parameters a share ``s`` (0..1) of the way from ``start`` to ``end``.

    Means and weights mix linearly, covariances along the path of their
    Cholesky factors (positive definite all the way). ``s = 0`` and ``s = 1``
    give ``start`` and ``end`` exactly (the same arrays).
    """
    if s <= 0.0:
        return start
    if s >= 1.0:
        return end
    factor = (1.0 - s) * _cholesky(start.covariances) + s * _cholesky(end.covariances)
    covariances = factor @ np.swapaxes(factor, 1, 2)
    return MixtureParams(
        weights=(1.0 - s) * start.weights + s * end.weights,
        means=(1.0 - s) * start.means + s * end.means,
        covariances=covariances,
    )


def mix_colours(start: np.ndarray, end: np.ndarray, s: float) -> np.ndarray:
    """Colours a share ``s`` of the way from ``start`` to ``end``, arrays of shape (n, 3)."""
    if s <= 0.0:
        return start
    if s >= 1.0:
        return end
    out = np.multiply(start, 1.0 - s)
    out += s * end
    return out


class Transition(QtCore.QObject):
    """A progress from 0 to 1 over a duration, ticked by a timer on the GUI thread.

    :meth:`start` begins one (ending any running one), each timer tick emits
    :attr:`frame` with the eased progress, and the last tick emits it with
    exactly 1.0 and stops. :attr:`clock` gives the time in seconds
    (``time.monotonic`` by default; tests replace it and call :meth:`tick`).
    """

    #: The eased progress, a float in (0, 1]; 1.0 is the last frame.
    frame = QtCore.Signal(float)

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.clock: Callable[[], float] = time.monotonic
        self.duration = DURATION_S
        self._started = 0.0
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(FRAME_MS)
        self._timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self.tick)

    @property
    def active(self) -> bool:
        """Whether a transition is under way."""
        return self._timer.isActive()

    def start(self, duration: float) -> None:
        """Begin a transition of ``duration`` seconds (> 0)."""
        self.duration = float(duration)
        self._started = self.clock()
        self._timer.start()

    def stop(self) -> None:
        """End the transition where it is, with no last frame."""
        self._timer.stop()

    def progress(self) -> float:
        """The share of the duration elapsed, 0..1 (not eased)."""
        if self.duration <= 0:
            return 1.0
        return min(max((self.clock() - self._started) / self.duration, 0.0), 1.0)

    def tick(self) -> None:
        """Emit the frame for now; the last one (progress 1) ends the transition."""
        if not self.active:
            return
        t = self.progress()
        if t >= 1.0:
            self._timer.stop()
            self.frame.emit(1.0)
        else:
            self.frame.emit(ease(t))
