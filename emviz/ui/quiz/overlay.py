"""The quiz on the scatter plot: handles for the guessed means and ghosts of revealed guesses.

Before an M-step each component gets a draggable crosshair
(:class:`pyqtgraph.TargetItem`, as the start editor's means) at its guessed
new mean; the selected one (Tab) is drawn thicker. A drag sends the guess to
:meth:`emviz.ui.quiz.Quiz.set_guess_mean`, the same intent the arrow keys
use; the overlay only draws the quiz's state.

After a reveal the guess stays as a ghost: faded rings at the guessed means
with a dashed line to each true new mean (M), or, beside the picked point,
the guessed responsibilities next to the true ones (E). Everything here is a
screen aid (:mod:`emviz.ui.views.screen_aids`): exports leave it out.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui

from emviz.core.settings import MAX_COMPONENTS
from emviz.ui.views.palette import qcolor
from emviz.ui.views.screen_aids import mark_screen_aid

__all__ = ["QuizOverlay", "ghost_text"]

_HANDLE_SIZE = 26
_GHOST_ALPHA = 160
_Z = 45


def ghost_text(guess: np.ndarray, truth: np.ndarray) -> str:
    """The E-step ghost's text: each component's guessed and true responsibility."""
    # Components neither the guess nor EM gives a share of 0.01 are left out
    # (with K = 10 the label would cover the plot).
    rows = [
        f"{k + 1}: you {g:.2f} · EM {t:.2f}"
        for k, (g, t) in enumerate(zip(guess, truth, strict=True))
        if max(g, t) >= 0.005
    ]
    return "\n".join(rows)


class QuizOverlay(QtCore.QObject):
    """Guess handles and ghosts of ``quiz`` on ``plot`` (the scatter view).

    Attributes
    ----------
    mean_items : list of TargetItem
        The guess handle of each component (shown before an M-step in quiz mode).
    ghost_means : ScatterPlotItem
        Faded rings at the guessed means of the last M-step revealed.
    ghost_lines : PlotCurveItem
        Dashed lines from each guessed mean to the true one.
    ghost_label : TextItem
        The guessed and true responsibilities beside the point of the last
        E-step revealed.
    """

    def __init__(self, quiz, plot) -> None:
        super().__init__(quiz)
        self.quiz = quiz
        self.plot = plot
        self._updating = False
        self._foreground = "#1e1e1e"
        self.mean_items: list[pg.TargetItem] = []
        for k in range(MAX_COMPONENTS):
            colour = qcolor(k)
            item = pg.TargetItem(
                size=_HANDLE_SIZE,
                symbol="crosshair",
                pen=pg.mkPen(colour, width=2.5),
                brush=pg.mkBrush(qcolor(k, 60)),
                hoverPen=pg.mkPen(colour, width=4),
                hoverBrush=pg.mkBrush(colour),
            )
            item.setZValue(_Z)
            item.setToolTip(
                f"Your guess for the new mean of component {k + 1}: drag it "
                "(or Tab to select it and the arrow keys to nudge it); Enter reveals"
            )
            item.sigPositionChanged.connect(lambda _it, k=k: self._on_moved(k))
            item.setVisible(False)
            mark_screen_aid(item)
            plot.addItem(item, ignoreBounds=True)
            self.mean_items.append(item)
        self.ghost_means = pg.ScatterPlotItem(symbol="o", size=_HANDLE_SIZE, pxMode=True)
        self.ghost_lines = pg.PlotCurveItem(
            connect="pairs",
            pen=pg.mkPen((90, 90, 90, 230), width=2.5, style=QtCore.Qt.PenStyle.DashLine),
        )
        # On a background (the plot's, nearly opaque): readable over the points.
        self.ghost_label = pg.TextItem(
            "", anchor=(0, 1), color=(30, 30, 30), fill=(255, 255, 255, 215)
        )
        for item in (self.ghost_means, self.ghost_lines, self.ghost_label):
            item.setZValue(_Z - 1)
            item.setVisible(False)
            mark_screen_aid(item)
            plot.addItem(item, ignoreBounds=True)
        quiz.changed.connect(self.redraw)
        self.redraw()

    def flush(self) -> None:
        """Drawn at once; present for the window's ``extra_views``."""

    def set_theme(self, colour) -> None:
        """Text, outlines and the label's background in the theme's colours."""
        self._foreground = colour
        self.ghost_label.setColor(colour)
        # A background that contrasts with the text: dark under light text.
        light_text = pg.mkColor(colour).lightnessF() > 0.5
        self.ghost_label.fill = pg.mkBrush(
            (30, 33, 38, 215) if light_text else (255, 255, 255, 215)
        )
        self.redraw()

    def _on_moved(self, k: int) -> None:
        if self._updating:
            return
        p = self.mean_items[k].pos()
        self.quiz.set_guess_mean(k, (p.x(), p.y()))

    def redraw(self) -> None:
        quiz = self.quiz
        guessing = quiz.phase == "M" and quiz.guess_means is not None
        k_now = len(quiz.guess_means) if guessing else 0
        self._updating = True
        try:
            for k, item in enumerate(self.mean_items):
                shown = k < k_now
                if shown:
                    x, y = quiz.guess_means[k]
                    if not item.moving:
                        item.setPos(float(x), float(y))
                    # Outlined in the foreground, the component's colour
                    # inside: visible among the component's own points; the
                    # selected one (Tab) twice as thick.
                    width = 5.0 if k == quiz.selected else 2.5
                    item.setPen(pg.mkPen(self._foreground, width=width))
                    item.setBrush(pg.mkBrush(qcolor(k, 200)))
                item.setVisible(shown)
        finally:
            self._updating = False
        self._draw_ghost()

    def _draw_ghost(self) -> None:
        quiz = self.quiz
        last = quiz.last if quiz.on and quiz.ghost_shown else None
        m_ghost = last is not None and last.kind == "M"
        e_ghost = (
            last is not None
            and last.kind == "E"
            and quiz.session.X is not None
            and last.point < len(quiz.session.X)
        )
        if m_ghost:
            g, t = last.guess, last.truth
            self.ghost_means.setData(
                x=g[:, 0],
                y=g[:, 1],
                # Outlined in the foreground: a guess among its own
                # component's points stays visible.
                pen=pg.mkPen(self._foreground, width=3),
                brush=[pg.mkBrush(qcolor(k, _GHOST_ALPHA)) for k in range(len(g))],
            )
            ends = np.empty((2 * len(g), 2))
            ends[0::2], ends[1::2] = g, t
            self.ghost_lines.setData(ends[:, 0], ends[:, 1])
        if e_ghost:
            at = self._point_position(last.point)
            e_ghost = at is not None
        if e_ghost:
            # In the window's type: large in presentation mode, read from the back.
            font = QtGui.QFont(self.quiz.window.font())
            font.setBold(True)
            self.ghost_label.setFont(font)
            self.ghost_label.setText(ghost_text(last.guess, last.truth))
            self.ghost_label.setPos(float(at[0]), float(at[1]))
        self.ghost_means.setVisible(m_ghost)
        self.ghost_lines.setVisible(m_ghost)
        self.ghost_label.setVisible(e_ghost)

    def _point_position(self, i: int) -> np.ndarray | None:
        """Where point ``i`` is drawn: with a missing coordinate, at its expected position."""
        s = self.quiz.session
        at = np.asarray(s.X[i], dtype=float)
        if np.all(np.isfinite(at)):
            return at
        if not s.history or s.data is None:
            return None
        # As the missing-values overlay draws it: under the responsibilities shown.
        snap = s.history[s.index]
        resp = s.resp_at(s.index)
        if resp is None or snap.phase == "M":
            return None
        points, _spread = s.data.points(snap.mixture, resp)
        at = np.asarray(points[i], dtype=float)
        return at if np.all(np.isfinite(at)) else None

    def ghost_shown(self) -> bool:
        """Whether a ghost of a revealed guess is on the plot."""
        return any(i.isVisible() for i in (self.ghost_means, self.ghost_lines, self.ghost_label))
