"""The immutable state of EM after one half-step, shared by EM and k-means."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from emviz.core.mixture import Mixture

#: A component whose responsibility mass falls below this many points is
#: reported as collapsing.
COLLAPSE_MASS = 1.0


@dataclass(frozen=True, eq=False)
class Snapshot:
    """The state of EM after one half-step.

    Attributes
    ----------
    iteration : int
        0 for the starting point; iteration ``t`` has an "E" and an "M"
        snapshot.
    phase : {"init", "E", "M"}
        The half-step that produced this snapshot.
    mixture : Mixture
        The parameters theta after this half-step (an E-step leaves them
        unchanged).
    resp : array of shape (n_samples, n_components) or None
        The responsibilities q after this half-step: for "E" the posterior
        under ``mixture``; for "M" the responsibilities the M-step used
        (the posterior under the previous mixture); ``None`` for "init" and
        for snapshots whose responsibilities were dropped to save memory.
        Read-only.
    log_likelihood : float
        log p(X | mixture).
    converged : bool
        True on the M snapshot at which the gain per point fell below ``tol``.
    collapsing : tuple of int
        Components held at the covariance floor or carrying less than one
        point's worth of responsibility.
    expected_complete, entropy : float
        Q(q, theta) = E_q[log p(X, Z | theta)] and H(q) for this snapshot's
        q and theta, when the run was asked for them (``bound=True``), else
        NaN.  For "init", q is taken to be the posterior.
    """

    iteration: int
    phase: str
    mixture: Mixture
    resp: np.ndarray | None
    log_likelihood: float
    converged: bool = False
    collapsing: tuple[int, ...] = ()
    expected_complete: float = math.nan
    entropy: float = math.nan

    @property
    def lower_bound(self) -> float:
        """L(q, theta) = Q + H (NaN unless the run computed the bound)."""
        return self.expected_complete + self.entropy

    @property
    def kl(self) -> float:
        """KL(q || p(Z | X, theta)) = log p - L: the gap the next E-step closes."""
        return self.log_likelihood - self.lower_bound

    @property
    def next_phase(self) -> str:
        """The half-step that follows this one: "E" after "init" or "M", "M" after "E"."""
        return "M" if self.phase == "E" else "E"

    def without_resp(self) -> Snapshot:
        """The same snapshot with ``resp`` dropped (history keeps parameters only)."""
        if self.resp is None:
            return self
        return replace(self, resp=None)


def collapsing_components(nk: np.ndarray, clipped: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) for i in np.flatnonzero(clipped | (nk < COLLAPSE_MASS)))
