"""The readout: the numbers a lecturer talks about, in large type.

For the snapshot shown: the log-likelihood and its change since the last
M-step, and for each component its weight π, mean μ and covariance Σ, the
latter as the two standard deviations σx, σy and the correlation ρ (the
2x2 matrix in three numbers that can be read from the back of the room).
"""

from __future__ import annotations

import html
import math

from PySide6 import QtWidgets
from PySide6.QtCore import Qt

from emviz.runs.pacing import RedrawThrottle
from emviz.session import Session
from emviz.ui.views.palette import qcolor

__all__ = ["Readout", "readout_rows"]


def _num(v: float) -> str:
    """Three significant digits; a minus sign rather than a hyphen."""
    if not math.isfinite(v):
        return str(v)
    text = f"{v:.3g}"
    if "e" in text:
        mantissa, exp = text.split("e")
        text = f"{mantissa}·10^{int(exp)}"
    return text.replace("-", "−")


def _fixed(v: float) -> str:
    """Two decimals (a log-likelihood: its changes, not its size, matter)."""
    if not math.isfinite(v) or abs(v) >= 1e9:
        return _num(v)
    return f"{v:.2f}".replace("-", "−")


def readout_rows(session: Session) -> tuple[str, list[tuple[str, str, str]]]:
    """The log-likelihood line and, per component, (π, μ, Σ) as text.

    Returns
    -------
    loglik : str
        "log-likelihood −1130 (+2.31)": the value shown and its change since
        the snapshot two half-steps back (the last full iteration), or "" with
        no history.
    components : list of (str, str, str)
        For each component: "π 0.356", "μ (2.04, 54.5)", "σ (0.268, 5.9) ρ 0.14".
    """
    if not session.history:
        return "", []
    index = session.index
    snap = session.history[index]  # not session.current: no responsibilities needed
    ll = snap.log_likelihood
    # The value to two decimals: its changes near convergence are small.
    line = f"log-likelihood {_fixed(ll)}"
    changes = session.objective_changes()
    if index >= 2 and (index in changes or index - 1 in changes):
        line += "  (objective changed)"  # not a rise or fall of EM's
    elif index >= 2:
        before = session.history[index - 2].log_likelihood
        if math.isfinite(before) and math.isfinite(ll):
            change = ll - before
            sign = "+" if change >= 0 else "−"
            line += f"  ({sign}{_num(abs(change))})"
    m = snap.mixture
    rows = []
    for k in range(m.n_components):
        cov = m.covariances[k]
        sx, sy = math.sqrt(cov[0, 0]), math.sqrt(cov[1, 1])
        rho = cov[0, 1] / (sx * sy) if sx > 0 and sy > 0 else 0.0
        rows.append(
            (
                f"π {_num(m.weights[k])}",
                f"μ ({_num(m.means[k][0])}, {_num(m.means[k][1])})",
                f"σ ({_num(sx)}, {_num(sy)})  ρ {_num(rho)}",
            )
        )
    return line, rows


class Readout(QtWidgets.QLabel):
    """π, μ, Σ of each component and the log-likelihood, as rich text in the window's font.

    Each component's line starts with a swatch of its colour; the text
    wraps by component (never inside a number), so the readout is as narrow
    as its longest line.
    """

    def __init__(self, session: Session, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("readout")
        self.session = session
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setToolTip(
            "π: weight, μ: mean, σ: standard deviations along x and y, "
            "ρ: correlation (Σ = [[σx², ρσxσy], [ρσxσy, σy²]]); "
            "the change of the log-likelihood is over the last iteration"
        )
        self._throttle = RedrawThrottle(self.redraw, parent=self, busy=lambda: session.running)
        session.snapshot_changed.connect(self._throttle.request)
        session.history_changed.connect(self._throttle.request)
        session.run_state_changed.connect(self._throttle.flush)
        self.redraw()

    def flush(self) -> None:
        """Draw a pending redraw now."""
        self._throttle.flush()

    def redraw(self) -> None:
        """The text from the snapshot shown."""
        loglik, rows = readout_rows(self.session)
        if not loglik:
            self.setText("")
            return
        name, _, value = loglik.partition(" ")  # the name above its value: a narrow column
        cells = []
        for k, (pi, mu, sigma) in enumerate(rows):
            colour = qcolor(k).name()
            # Three short lines per component: the readout stays a narrow
            # column beside the plot in presentation mode's large type.
            cells.append(
                f"<tr><td rowspan=3 style='color:{colour}'><b>■ {k + 1}</b>&nbsp;</td>"
                f"<td>{html.escape(pi)}</td></tr>"
                f"<tr><td>{html.escape(mu)}</td></tr>"
                f"<tr><td>{html.escape(sigma)}</td></tr>"
            )
        self.setText(
            f"<p>{html.escape(name)}<br><b>{html.escape(value)}</b></p>"
            f"<table cellspacing=0 cellpadding=2>{''.join(cells)}</table>"
        )
