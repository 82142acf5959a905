"""Colours: a colour-blind-safe palette for up to ten components.

The first eight are Okabe and Ito's palette (Okabe & Ito 2008, "Color
Universal Design"), reordered so that the first two, the usual K = 2, are
the blue/orange pair that every form of colour blindness separates; yellow
comes late because it is faint on a white projector screen. The last two
come from Paul Tol's "muted" scheme.
"""

from __future__ import annotations

import numpy as np
from PySide6 import QtGui

__all__ = ["GREY", "PALETTE", "blend", "hard", "qcolor"]

PALETTE_HEX = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#D55E00",  # vermillion
    "#56B4E9",  # sky blue
    "#000000",  # black
    "#F0E442",  # yellow
    "#882255",  # wine (Tol)
    "#999933",  # olive (Tol)
)

#: array of shape (10, 3), channels 0..255
PALETTE = np.array([[int(h[i : i + 2], 16) for i in (1, 3, 5)] for h in PALETTE_HEX], float)

#: Points not assigned yet (the "init" snapshot).
GREY = (150.0, 150.0, 150.0)


def qcolor(k: int, alpha: int = 255) -> QtGui.QColor:
    r, g, b = PALETTE[k % len(PALETTE)]
    return QtGui.QColor(int(r), int(g), int(b), alpha)


def blend(resp: np.ndarray) -> np.ndarray:
    """Soft colours: each point's colour is the responsibility-weighted mean of the palette.

    Parameters
    ----------
    resp : array of shape (n, K)

    Returns
    -------
    array of shape (n, 3)
    """
    # Component by component rather than ``resp @ PALETTE``: a (n, K) x (K, 3)
    # product goes to BLAS, whose threads made it 100 times slower (tens of
    # ms at 100,000 points) while Qt was painting.
    n, k = resp.shape
    out = np.empty((n, 3))
    tmp = np.empty(n)
    for c in range(3):
        col = out[:, c]
        np.multiply(resp[:, 0], PALETTE[0, c], out=tmp)
        col[:] = tmp
        for j in range(1, k):
            np.multiply(resp[:, j], PALETTE[j, c], out=tmp)
            col += tmp
    return out


def hard(resp: np.ndarray) -> np.ndarray:
    """Colour of the most responsible component, array of shape (n, 3)."""
    return PALETTE[np.argmax(resp, axis=1)]
