"""The Quiz panel: what to guess next, the responsibility sliders, Reveal and the scores.

The panel only draws the quiz's state (:class:`emviz.ui.quiz.Quiz`) and
sends intents to it: a slider sets a guessed responsibility
(``set_guess_share``), the buttons pick a point, start the guess again,
reveal and clear the score. It redraws from ``quiz.changed``.

Before an E-step with K = 2 there is one slider (component 1's
responsibility; component 2 has the rest); with K > 2 one slider per
component, and moving one rescales the others so they still sum to one.
"""

from __future__ import annotations

from PySide6 import QtWidgets
from PySide6.QtCore import Qt

from emviz.core.settings import MAX_COMPONENTS
from emviz.ui.docks import flow_row
from emviz.ui.views.palette import PALETTE_HEX

__all__ = ["SLIDER_STEPS", "QuizPanel", "instructions"]

#: A slider's range: responsibilities in steps of 1 / SLIDER_STEPS.
SLIDER_STEPS = 100


def instructions(quiz) -> str:
    """What the class is asked to do now."""
    s = quiz.session
    if not quiz.on:
        return "Quiz mode is off: press P (or the Quiz button) to guess each step before EM does."
    if not s.history or s.data is None:
        return "No data: open or generate some first."
    if s.running:
        return "EM is running: stop it (S) to guess the next step."
    if quiz.phase == "M":
        return (
            "Next: an M-step. Drag each crosshair to where you think its mean will go "
            "(Tab selects one, the arrow keys nudge it). Enter reveals."
        )
    if quiz.point is None:
        return (
            "Next: an E-step. Click a point (or Pick a point), then guess its "
            "responsibilities with the slider. Enter reveals."
        )
    k = s.settings.n_components
    how = (
        "the slider (component 1; component 2 takes the rest)"
        if k == 2
        else "the sliders (the others rescale to sum to one; Tab and the arrows set one)"
    )
    if k == 1:
        how = "nothing to set: with one component it takes everything"
    return f"Next: an E-step. Guess point {quiz.point + 1}'s responsibilities with {how}. " + (
        "Enter reveals."
    )


def last_text(result) -> str:
    """The last revealed guess and its score, in words."""
    if result is None:
        return "Last guess: none yet."
    per = ", ".join(f"{k + 1}: {v:.2f}" for k, v in enumerate(result.per_component))
    if result.kind == "M":
        return (
            f"Last guess (M-step): {result.error:.2f} sd from the true means on average "
            f"(Mahalanobis distance per component: {per})."
        )
    pairs = ", ".join(
        f"{k + 1}: {g:.2f} vs {t:.2f}"
        for k, (g, t) in enumerate(zip(result.guess, result.truth, strict=True))
    )
    return (
        f"Last guess (E-step, point {result.point + 1}): mean |error| {result.error:.3f} "
        f"(you vs EM: {pairs})."
    )


def score_text(score) -> str:
    """The running score: guesses and mean error of each kind."""

    n = score.n_guesses
    if not n:
        return "Score: no guesses yet."
    parts = [f"Score: {n} guess{'' if n == 1 else 'es'}."]
    if score.count("M"):
        parts.append(f"M-steps: {score.count('M')}, mean distance {score.mean('M'):.2f} sd.")
    if score.count("E"):
        parts.append(f"E-steps: {score.count('E')}, mean |error| {score.mean('E'):.3f}.")
    return " ".join(parts)


def _wrapped(name: str) -> QtWidgets.QLabel:
    label = QtWidgets.QLabel(objectName=name)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
    return label


class QuizPanel(QtWidgets.QWidget):
    """The quiz's dock content (see the module's docstring)."""

    def __init__(self, quiz, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("quizPanel")
        self.quiz = quiz
        layout = QtWidgets.QVBoxLayout(self)
        self.instructions = _wrapped("quizInstructions")
        layout.addWidget(self.instructions)
        self.sliders: list[QtWidgets.QSlider] = []
        self.slider_labels: list[QtWidgets.QLabel] = []
        self.slider_box = QtWidgets.QWidget(objectName="quizSliders")
        grid = QtWidgets.QVBoxLayout(self.slider_box)
        grid.setContentsMargins(0, 0, 0, 0)
        for k in range(MAX_COMPONENTS):
            label = _wrapped(f"quizShareLabel{k}")
            slider = QtWidgets.QSlider(Qt.Orientation.Horizontal, objectName=f"quizShare{k}")
            slider.setRange(0, SLIDER_STEPS)
            slider.setToolTip(
                f"Your guess of the picked point's responsibility for component {k + 1}"
            )
            slider.valueChanged.connect(lambda v, k=k: self._on_slider(k, v))
            grid.addWidget(label)
            grid.addWidget(slider)
            self.slider_labels.append(label)
            self.sliders.append(slider)
        layout.addWidget(self.slider_box)
        self.reveal_button = QtWidgets.QPushButton("Reveal (Enter)", objectName="quizReveal")
        self.reveal_button.setToolTip("Do the step and score your guess")
        self.reveal_button.clicked.connect(quiz.reveal)
        self.pick_button = QtWidgets.QPushButton("Pick a point", objectName="quizPick")
        self.pick_button.setToolTip("Pick a point at random to guess its responsibilities")
        self.pick_button.clicked.connect(lambda: quiz.pick_random_point())
        self.again_button = QtWidgets.QPushButton("Guess again", objectName="quizAgain")
        self.again_button.setToolTip("Put the guess back where it started")
        self.again_button.clicked.connect(quiz.reset_guess)
        self.step_buttons = flow_row(self.reveal_button, self.pick_button, self.again_button)
        layout.addWidget(self.step_buttons)
        self.last_label = _wrapped("quizLast")
        self.score_label = _wrapped("quizScore")
        self.clear_button = QtWidgets.QPushButton("Clear the score", objectName="quizClear")
        self.clear_button.setToolTip("Start the running score again")
        self.clear_button.clicked.connect(quiz.reset_score)
        self.toggle_button = QtWidgets.QPushButton("Leave the quiz (Esc)", objectName="quizLeave")
        self.toggle_button.setToolTip("Leave quiz mode (P or Esc)")
        self.toggle_button.clicked.connect(lambda: quiz.set_on(False))
        layout.addWidget(self.last_label)
        layout.addWidget(self.score_label)
        self.score_buttons = flow_row(self.clear_button, self.toggle_button)
        layout.addWidget(self.score_buttons)
        layout.addStretch(1)
        self._updating = False
        quiz.changed.connect(self.redraw)
        self.redraw()

    def set_compact(self, on: bool) -> None:
        """For the room (presentation mode): the buttons step aside, the keys do their work."""
        self.step_buttons.setVisible(not on)
        self.score_buttons.setVisible(not on)

    def _on_slider(self, k: int, value: int) -> None:
        if not self._updating:
            self.quiz.set_guess_share(k, value / SLIDER_STEPS)

    def redraw(self) -> None:
        quiz = self.quiz
        self.instructions.setText(instructions(quiz))
        e_guess = quiz.phase == "E" and quiz.point is not None and quiz.guess_resp is not None
        resp = quiz.guess_resp if e_guess else None
        k_now = 0 if resp is None else len(resp)
        n_sliders = 1 if k_now == 2 else k_now
        self._updating = True
        try:
            for k, (slider, label) in enumerate(zip(self.sliders, self.slider_labels, strict=True)):
                shown = k < n_sliders and k_now > 1
                if shown:
                    slider.setValue(round(float(resp[k]) * SLIDER_STEPS))
                    name = f'<b style="color:{PALETTE_HEX[k]}">component {k + 1}</b>'
                    text = f"Responsibility for {name}: {resp[k]:.2f}"
                    if k_now == 2:
                        text += f" (component 2: {resp[1]:.2f})"
                    elif k == quiz.selected:
                        text += " ◀"
                    label.setText(text)
                slider.setVisible(shown)
                label.setVisible(shown)
        finally:
            self._updating = False
        self.slider_box.setVisible(k_now > 1)
        self.reveal_button.setEnabled(quiz.can_reveal)
        self.pick_button.setVisible(quiz.phase == "E")
        self.again_button.setEnabled(quiz.phase is not None)
        self.last_label.setText(last_text(quiz.last))
        self.score_label.setText(score_text(quiz.score))
