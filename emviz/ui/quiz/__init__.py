"""Predict, then reveal: the class guesses the next half-step before EM does it.

``install(window)`` returns a :class:`Quiz` (kept as ``window.quiz``), which adds

- EM > Quiz: predict, then reveal (``P``, and a button on the toolbar's modes
  bar; ``window.actions_by_key["quiz"]``): quiz mode on or off;
- EM > Reveal the step (Enter; ``actions_by_key["quiz_reveal"]``);
- the Quiz panel (:mod:`emviz.ui.quiz.panel`): what to guess, the
  responsibility sliders, Reveal, the last score and the running score;
- the guess handles and the ghosts of revealed guesses on the scatter plot
  (:mod:`emviz.ui.quiz.overlay`), and the quiz's keys (:mod:`emviz.ui.quiz.keys`).

What is guessed depends on the next half-step from the snapshot shown, so the
quiz works from any point of the history and with any data:

- before an M-step, where each mean will go: drag the crosshairs (or Tab to
  select one, the arrow keys to nudge it by :data:`NUDGE_SHARE` of the view);
  scored by the Mahalanobis distance of each guess from the true new mean
  under the true new covariance, averaged over the components
  (:func:`emviz.core.quiz_score.m_step_error`);
- before an E-step, a point's responsibilities: click a point (or "Pick a
  point"), then set the slider (K = 2) or the sliders (K > 2: moving one
  rescales the others; Tab selects one for the arrow keys); scored by
  ``mean_k |guess_k - true_k|`` (:func:`emviz.core.quiz_score.e_step_error`).

Reveal calls the session's own :meth:`~emviz.session.Session.step`, so the
history grows exactly as for a normal step (from a past snapshot it drops
the future, as a step does) and the scatter plot animates it as usual; the
guess stays as a ghost until the snapshot shown changes again. Guessing never
touches the history (picking a point is the session's selection, as a click
on the plot always was). The E/M step buttons keep working in quiz mode:
they step without scoring, and the guess starts again for the next step.
Esc leaves quiz mode and removes the ghosts. EM with missing values works
the same (a point's responsibilities and the M-step's means are those of
the EM being run).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6 import QtCore
from PySide6.QtCore import QObject, Signal

from emviz.core.quiz_score import (
    RunningScore,
    e_step_error,
    m_step_distances,
    set_share,
)
from emviz.ui.actions import make_action
from emviz.ui.docks import add_dock, bring_to_front
from emviz.ui.quiz.keys import NUDGE_SHARE, SHARE_STEP, QuizKeys
from emviz.ui.quiz.overlay import QuizOverlay
from emviz.ui.quiz.panel import QuizPanel

__all__ = ["NUDGE_SHARE", "SHARE_STEP", "Quiz", "Result", "install"]


@dataclass(frozen=True)
class Result:
    """A revealed guess and its score.

    Attributes
    ----------
    kind : {"M", "E"}
        The half-step guessed.
    error : float
        The score: mean Mahalanobis distance (M) or mean absolute error (E).
    guess, truth : ndarray
        The guessed and the true means, arrays of shape (n_components, 2)
        (M), or responsibilities of the picked point, shape (n_components,) (E).
    per_component : ndarray of shape (n_components,)
        Each mean's distance (M), or ``|guess_k - true_k|`` (E).
    point : int or None
        The picked point (E).
    """

    kind: str
    error: float
    guess: np.ndarray
    truth: np.ndarray
    per_component: np.ndarray
    point: int | None = None


class Quiz(QObject):
    """Quiz mode for one window: the guess, reveal, the score (see the module's docstring).

    Signals
    -------
    changed()
        The mode, the guess, the phase or the score changed (the panel and
        the overlay redraw).
    revealed(object)
        A guess was revealed and scored: the :class:`Result`.
    """

    changed = Signal()
    revealed = Signal(object)

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.session = s = window.session
        self.on = False
        #: Guessed means, array of shape (K, 2), before an M-step (else None).
        self.guess_means: np.ndarray | None = None
        #: Guessed responsibilities of the picked point, shape (K,), before an E-step.
        self.guess_resp: np.ndarray | None = None
        #: The component the keys act on (Tab cycles it).
        self.selected = 0
        self.last: Result | None = None
        self.score = RunningScore()
        #: Whether the ghost of ``last`` is shown (until the snapshot shown changes).
        self.ghost_shown = False
        self._context: tuple | None = None
        self._revealing = False

        self.overlay = QuizOverlay(self, window.scatter)
        self.panel = QuizPanel(self)
        self.dock = add_dock(
            window,
            "quiz",
            "Quiz: predict, then reveal",
            self.panel,
            "Guess the next half-step, then reveal it",
            tab_title="Quiz",
        )
        self.dock.visibilityChanged.connect(self._dock_visibility)
        classroom = window.features.get("classroom")
        if classroom is not None:
            classroom.presentation_layout.listeners.append(self._presenting)
        self.keys = QuizKeys(self)
        self.action = make_action(
            window,
            "quiz",
            "&Quiz: predict, then reveal",
            ["P"],
            "Quiz mode: guess where the next step goes, then reveal it",
            self.set_on,
            checkable=True,
        )
        self.action.setIconText("Quiz")
        self.reveal_action = make_action(
            window,
            "quizReveal",
            "Re&veal the step (quiz)",
            ["Return", "Enter"],
            "Do the step guessed and score the guess",
            self.reveal,
        )
        self.reveal_action.setEnabled(False)
        menu = window.menus["em"]
        menu.addSeparator()
        menu.addAction(self.action)
        menu.addAction(self.reveal_action)
        window.register_action("quiz", self.action)
        window.register_action("quiz_reveal", self.reveal_action)
        window.add_views(self.overlay)
        for signal in (
            s.snapshot_changed,
            s.history_changed,
            s.data_changed,
            s.settings_changed,
            s.run_state_changed,
            s.selection_changed,
        ):
            signal.connect(self.refresh)

    # ------------------------------------------------------------------ state

    @property
    def phase(self) -> str | None:
        """The half-step to guess ("M" or "E"), or None (off, no data, a run going on)."""
        s = self.session
        if not self.on or not s.history or s.running or s.data is None:
            return None
        return s.next_phase

    @property
    def point(self) -> int | None:
        """The picked point (the session's selection), or None."""
        s = self.session
        i = s.selected
        return i if i is not None and 0 <= i < s.n_samples else None

    @property
    def can_reveal(self) -> bool:
        return self.phase is not None

    def _mixture(self):
        s = self.session
        return s.history[s.index].mixture if s.history else None

    def _context_now(self) -> tuple | None:
        """What the guess is about: the snapshot shown (a new one starts a new guess)."""
        s = self.session
        if not s.history:
            return None
        snap = s.history[s.index]
        return (id(s.data), s.index, id(snap), snap.mixture.n_components, self.phase)

    def refresh(self) -> None:
        """Follow the session: a new snapshot shown starts a new guess and drops the ghost."""
        if self._revealing:
            return
        context = self._context_now()
        if context != self._context:
            self._context = context
            self._new_guess()
            self.ghost_shown = False
        self.reveal_action.setEnabled(self.can_reveal)
        self.changed.emit()

    def _new_guess(self) -> None:
        mix = self._mixture()
        if mix is None:
            self.guess_means = self.guess_resp = None
            return
        k = mix.n_components
        self.guess_means = np.array(mix.means, dtype=float)
        self.guess_resp = np.full(k, 1.0 / k)
        self.selected = min(self.selected, k - 1)

    # ------------------------------------------------------------------ mode

    def set_on(self, on: bool) -> None:
        """Quiz mode on (the panel opens, the guess handles appear) or off (ghosts go too)."""
        on = bool(on)
        if on == self.on:
            return
        self.on = on
        self.action.blockSignals(True)
        self.action.setChecked(on)
        self.action.blockSignals(False)
        self.keys.set_active(on)
        self._context = None  # a fresh guess
        if on:
            bring_to_front(self.dock)
        else:
            self.ghost_shown = False
            self.dock.hide()
        self._presenting(self._is_presenting())
        self.refresh()
        self.window.statusBar().showMessage(
            "Quiz: guess the next step, Enter reveals it; P or Esc to leave" if on else "Quiz off",
            5000,
        )

    def toggle(self) -> None:
        self.set_on(not self.on)

    def _is_presenting(self) -> bool:
        classroom = self.window.features.get("classroom")
        return bool(getattr(classroom, "presenting", False))

    def _presenting(self, presenting: bool) -> None:
        """In presentation mode the quiz's panel, compact, takes the side column's place.

        The keys do what the side column's buttons did (E, M, Enter, Esc),
        and the scatter plot keeps the rest of the screen.
        """
        compact = presenting and self.on
        self.panel.set_compact(compact)
        classroom = self.window.features.get("classroom")
        if classroom is not None:
            classroom.presentation_layout.hide_side(compact)

    def _dock_visibility(self, visible: bool) -> None:
        if not visible:
            # Decide once the change is over: presentation mode closes every
            # panel (the quiz's is opened again), a click on its close button
            # leaves quiz mode.
            QtCore.QTimer.singleShot(0, self, self._after_dock_hidden)

    def _after_dock_hidden(self) -> None:
        if not self.on or not self.dock.isHidden():
            return
        classroom = self.window.features.get("classroom")
        if classroom is not None and getattr(classroom, "presenting", False):
            bring_to_front(self.dock)
        else:
            self.set_on(False)

    # ------------------------------------------------------------------ guesses

    def set_guess_mean(self, k: int, pos) -> bool:
        """Guess that the M-step puts mean ``k`` at ``pos`` (data coordinates).

        The drag of a handle and the arrow keys come here; the history is untouched.
        """
        if self.phase != "M" or self.guess_means is None or not 0 <= k < len(self.guess_means):
            return False
        pos = np.asarray(pos, dtype=float).reshape(2)
        if not np.all(np.isfinite(pos)):
            return False
        self.guess_means[k] = pos
        self.selected = k
        self.changed.emit()
        return True

    def nudge(self, dx: float, dy: float) -> bool:
        """Arrow keys: move the selected mean by (dx, dy) view ranges, or change a responsibility.

        Before an E-step (a point picked), the selected component's
        responsibility goes up (right, up) or down (left, down) by
        :data:`SHARE_STEP`.
        """
        if self.phase == "M":
            (x0, x1), (y0, y1) = self.window.scatter.getPlotItem().vb.viewRange()
            k = self.selected
            pos = self.guess_means[k] + np.array([dx * (x1 - x0), dy * (y1 - y0)])
            return self.set_guess_mean(k, pos)
        if self.phase == "E" and self.point is not None:
            k = self._share_component()
            step = SHARE_STEP * np.sign(dx + dy)
            return self.set_guess_share(k, self.guess_resp[k] + step)
        return False

    def _share_component(self) -> int:
        """The component the keys set: the selected one (component 1 for K = 2's one slider)."""
        return 0 if len(self.guess_resp) == 2 else self.selected

    def cycle(self, step: int = 1) -> bool:
        """Tab: select the next component (Shift+Tab: the previous one)."""
        mix = self._mixture()
        if self.phase is None or mix is None:
            return False
        self.selected = (self.selected + step) % mix.n_components
        self.changed.emit()
        return True

    def set_guess_share(self, k: int, value: float) -> bool:
        """Guess that the E-step gives the picked point responsibility ``value`` for ``k``.

        The other components share the rest in proportion
        (:func:`emviz.core.quiz_score.set_share`).
        """
        if self.phase != "E" or self.guess_resp is None or not 0 <= k < len(self.guess_resp):
            return False
        self.guess_resp = set_share(self.guess_resp, k, value)
        self.selected = k
        self.changed.emit()
        return True

    def pick_point(self, index: int | None) -> bool:
        """Pick the point whose responsibilities to guess (the session's selection).

        Only a point drawn where it is (no missing coordinate) can be picked,
        as with a click on the plot.
        """
        s = self.session
        if index is not None and (s.X is None or not np.all(np.isfinite(s.X[index]))):
            s.message.emit("Quiz: pick a point with both coordinates known")
            return False
        s.select(index)
        return True

    def pick_random_point(self, rng: np.random.Generator | None = None) -> int | None:
        """Pick a point at random among those drawn (both coordinates known)."""
        X = self.session.X
        if X is None or not len(X):
            return None
        drawn = np.flatnonzero(np.isfinite(X).all(axis=1))
        if not len(drawn):
            return None
        rng = rng if rng is not None else np.random.default_rng()
        i = int(rng.choice(drawn))
        self.pick_point(i)
        return i

    def reset_guess(self) -> None:
        self._new_guess()
        self.changed.emit()

    def reset_score(self) -> None:
        self.score = RunningScore()
        self.changed.emit()

    # ------------------------------------------------------------------ reveal

    def reveal(self) -> Result | None:
        """Do the true half-step (the session's own step) and score the guess.

        Returns the :class:`Result`, or None if nothing was scored (quiz
        off, a run going on, no point picked before an E-step: then the
        step is still done, unscored).
        """
        phase = self.phase
        s = self.session
        if phase is None:
            return None
        point = self.point if phase == "E" else None
        guess = (self.guess_means if phase == "M" else self.guess_resp).copy()
        self._revealing = True
        try:
            stepped = s.step(phase)
        finally:
            self._revealing = False
        if not stepped:
            self.refresh()
            return None
        snap = s.history[s.index]
        if phase == "M":
            mix = snap.mixture
            per = m_step_distances(guess, mix.means, mix.covariances)
            result = Result("M", float(np.mean(per)), guess, np.array(mix.means), per)
        elif point is not None:
            truth = np.array(s.resp_at(s.index)[point], dtype=float)
            per = np.abs(guess - truth)
            result = Result("E", e_step_error(guess, truth), guess, truth, per, point)
        else:
            result = None
            s.message.emit("Quiz: no point was picked, so this E-step was not scored")
        if result is not None:
            self.last = result
            self.score = self.score.added(result.kind, result.error)
        self.refresh()  # a new guess for the next step...
        self.ghost_shown = result is not None  # ...with this one's ghost beside it
        self.changed.emit()
        if result is not None:
            self.revealed.emit(result)
        return result

    def shutdown(self) -> None:
        """Stop listening to the keys (the window calls this once, when it closes)."""
        self.keys.set_active(False)


def install(window) -> Quiz:
    """Quiz mode, its panel, keys and toolbar action (kept as ``window.quiz``)."""
    return getattr(window, "quiz", None) or Quiz(window)
