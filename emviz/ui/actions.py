"""The main window's actions, from one table, and when each is enabled.

:data:`ACTIONS` lists every command of the window (its key, menu text,
shortcut, tooltip and what it does); :data:`MENU_LAYOUT` says which menu
lists which, in order; :func:`build_actions` turns the table into QActions.

:func:`action_states` is the rule book: given an :class:`ActionState` (a few
plain values read from the session), it says which actions are enabled and,
for each disabled one, why. It is a pure function: the tests build an
``ActionState`` by hand and need no widget. :func:`run_label` and
:func:`next_step_text` are the texts that change with the same state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ACTIONS",
    "MENU_LAYOUT",
    "ActionSpec",
    "ActionState",
    "action_states",
    "build_actions",
    "make_action",
    "next_step_text",
    "run_label",
    "set_tip",
]

WHY_RUNNING = "disabled while EM runs: pause (R) or stop (S) first"
WHY_NO_DATA = "disabled: no data"
RUN_TIP = "Run EM to convergence; press again to pause"


@dataclass(frozen=True)
class ActionSpec:
    """One command of the window.

    ``handler`` is called with the window (and, for a checkable action, the
    new checked state) when the action is triggered (toggled).
    """

    key: str
    text: str
    shortcut: str
    tip: str
    handler: Callable[..., Any]
    checkable: bool = False
    checked: bool = False


def _latest(w) -> None:
    w.session.set_index(len(w.session.history) - 1)


#: Every action of the main window. Features add their own actions to their own menus.
ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("open", "&Open…", "Ctrl+O", "Open a data file (CSV, TSV, text or .npy)",
               lambda w: w.open_file()),
    ActionSpec("generate", "&Generate…", "Ctrl+G", "Draw points from a known mixture",
               lambda w: w.generate()),
    ActionSpec("quit", "&Quit", "Ctrl+Q", "Quit emviz", lambda w: w.close()),
    ActionSpec("e", "&E-step", "E", "E-step: compute every point's responsibilities",
               lambda w: w.session.step_e()),
    ActionSpec("m", "&M-step", "M", "M-step: re-estimate weights, means and covariances",
               lambda w: w.session.step_m()),
    ActionSpec("iterate", "&Iteration (E+M)", "Space", "One full iteration: E-step then M-step",
               lambda w: w.session.step_iteration()),
    ActionSpec("run", "&Run", "R", RUN_TIP, lambda w: w.session.toggle_run()),
    ActionSpec("stop", "&Stop", "S", "Stop the run here", lambda w: w.session.stop()),
    ActionSpec("reset", "Rese&t", "Home", "Back to the initial mixture",
               lambda w: w.session.reset()),
    ActionSpec("reinit", "Re-&initialise", "N", "A new starting mixture (next seed)",
               lambda w: w.session.reinitialize()),
    ActionSpec("back", "&Back", "Left", "One half-step back in the history",
               lambda w: w.session.back()),
    ActionSpec("forward", "&Forward", "Right", "One half-step forward in the history",
               lambda w: w.session.forward()),
    ActionSpec("last", "&Latest", "End", "The latest step in the history", _latest),
    ActionSpec("sd1", "1 sd", "1", "Ellipses at 1 standard deviation (39 % of a component)",
               lambda w, on: w.scatter.set_sd_visible(1, on), checkable=True, checked=True),
    ActionSpec("sd2", "2 sd", "2", "Ellipses at 2 standard deviations (86 %)",
               lambda w, on: w.scatter.set_sd_visible(2, on), checkable=True, checked=True),
    ActionSpec("sd3", "3 sd", "3", "Ellipses at 3 standard deviations (99 %)",
               lambda w, on: w.scatter.set_sd_visible(3, on), checkable=True, checked=True),
    ActionSpec("hard", "&Hard assignment", "H",
               "Colour each point by its most responsible component only (soft blend when off)",
               lambda w, on: w.scatter.set_hard_assignment(on), checkable=True),
    ActionSpec("add", "&Add points mode", "A", "Clicks on the plot add points to the data",
               lambda w, on: w.scatter.set_add_mode(on), checkable=True),
    ActionSpec("aspect", "E&qual axis scales", "X",
               "Same scale on both axes, so ellipses keep their true shape (turned off on "
               "loading data whose two ranges differ more than 5-fold)",
               lambda w, on: w.scatter.set_equal_aspect(on), checkable=True, checked=True),
    ActionSpec("animate", "A&nimate steps", "G",
               "Single steps and slow runs glide: ellipses and means move, point colours "
               "blend, and the ellipses before the step stay as faint dashed ghosts",
               lambda w, on: w.scatter.set_animate(on), checkable=True, checked=True),
    ActionSpec("fit", "&Fit view", "F", "Zoom to the data", lambda w: w.scatter.fit_view()),
    ActionSpec("climb", "Log-likelihood: &zoom to the climb", "Z",
               "Plot the gap to the best log-likelihood on a log scale: the first M-step's "
               "jump no longer flattens the slow climb that follows",
               lambda w, on: w.loglik.set_zoom_to_climb(on), checkable=True),
    ActionSpec("keys", "&Keyboard shortcuts", "F1", "List the keyboard shortcuts",
               lambda w: w.show_keys()),
)  # fmt: skip

#: The window's own menus (key, title) in order, and the actions each lists
#: (None: a separator). The window puts its data-set submenu and a separator
#: before "quit".
MENU_LAYOUT: dict[tuple[str, str], tuple[str | None, ...]] = {
    ("file", "&File"): ("open", "generate", "quit"),
    ("em", "&EM"): ("e", "m", "iterate", None, "run", "stop", None, "reset", "reinit"),
    ("history", "&History"): ("back", "forward", "reset", "last"),
    ("view", "&View"): (
        "sd1",
        "sd2",
        "sd3",
        None,
        "hard",
        "add",
        "animate",
        None,
        "aspect",
        "fit",
        "climb",
    ),
    ("help", "&Help"): ("keys",),
}


def set_tip(action, tip: str) -> None:
    """The action's tooltip: ``tip`` followed by its shortcut, as in "Stop the run here (S)"."""
    from PySide6 import QtGui

    keys = action.shortcut().toString(QtGui.QKeySequence.SequenceFormat.NativeText)
    action.setToolTip(f"{tip} ({keys})" if keys else tip)


def build_actions(window, specs: tuple[ActionSpec, ...] = ACTIONS) -> dict:
    """A QAction for each of ``specs``, added to ``window``; returned by key.

    Each action's object name is ``<key>Action``; its shortcut works
    anywhere in the window.
    """
    from PySide6 import QtGui
    from PySide6.QtCore import Qt

    actions = {}
    for spec in specs:
        action = QtGui.QAction(spec.text, window)
        action.setObjectName(f"{spec.key}Action")
        if spec.shortcut:
            action.setShortcut(QtGui.QKeySequence(spec.shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setCheckable(spec.checkable)
        if spec.checkable:
            action.setChecked(spec.checked)
            action.toggled.connect(lambda on, h=spec.handler: h(window, on))
        else:
            action.triggered.connect(lambda _checked=False, h=spec.handler: h(window))
        set_tip(action, spec.tip)
        window.addAction(action)
        actions[spec.key] = action
    return actions


def make_action(
    window, name: str, text: str, shortcuts: list[str], tip: str, slot=None, checkable=False
):
    """A feature's QAction named ``<name>Action``, added to ``window`` (its keys work there).

    The tooltip and status tip are ``tip`` with the first shortcut; ``slot``
    is called on trigger (with the checked state if ``checkable``).
    """
    from PySide6 import QtGui
    from PySide6.QtCore import Qt

    action = QtGui.QAction(text, window)
    action.setObjectName(f"{name}Action")
    if shortcuts:
        action.setShortcuts([QtGui.QKeySequence(k) for k in shortcuts])
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        keys = action.shortcut().toString(QtGui.QKeySequence.SequenceFormat.NativeText)
        tip = f"{tip} ({keys})"
    action.setToolTip(tip)
    action.setStatusTip(tip)
    action.setCheckable(checkable)
    if slot is not None:
        if checkable:
            action.toggled.connect(slot)
        else:
            action.triggered.connect(lambda _c=False: slot())
    window.addAction(action)
    return action


# ============================================================================
# When actions are enabled


@dataclass(frozen=True)
class ActionState:
    """What the enable rules read from the session: plain values, no Qt.

    Attributes
    ----------
    has_points : bool
        Data is loaded (the session's ``X`` is not None).
    history_length : int
        Snapshots in the history (0 before data is loaded).
    index : int
        The snapshot shown.
    next_phase : str
        "E" or "M": the half-step that comes next from the snapshot shown.
    running, paused : bool
        A run is in progress / paused (a paused run can be resumed).
    can_run : bool
        Run would do something: not converged and below ``max_iter``.
    converged : bool
        The snapshot shown has converged.
    max_iter : int
        The iteration limit of a run.
    incomplete_rows : int
        Rows of the data with one coordinate missing (whether or not EM
        treats them).
    """

    has_points: bool = False
    history_length: int = 0
    index: int = -1
    next_phase: str = "E"
    running: bool = False
    paused: bool = False
    can_run: bool = False
    converged: bool = False
    max_iter: int = 100
    incomplete_rows: int = 0

    @property
    def has_history(self) -> bool:
        return self.history_length > 0

    @property
    def at_end(self) -> bool:
        return self.index == self.history_length - 1

    @classmethod
    def of(cls, session) -> ActionState:
        """The state of ``session`` (a :class:`emviz.session.Session`) now."""
        snap = session.history[session.index] if session.history else None
        return cls(
            has_points=session.X is not None,
            history_length=len(session.history),
            index=session.index,
            next_phase=session.next_phase,
            running=session.running,
            paused=session.paused,
            can_run=session.can_run,
            converged=bool(snap is not None and snap.converged),
            max_iter=session.settings.max_iter,
            incomplete_rows=session.n_incomplete_raw,
        )


def action_states(state: ActionState) -> dict[str, tuple[bool, str]]:
    """Whether each EM and history action is enabled, and if not, why.

    Parameters
    ----------
    state : ActionState

    Returns
    -------
    dict
        For the keys "e", "m", "iterate", "run", "stop", "reset", "back",
        "forward", "last", "reinit" and "treat_missing" (the missing-values
        feature's toggle): ``(enabled, reason)``, where ``reason`` (shown
        after the tooltip) is "" for an enabled action.
    """
    has = state.has_history
    running = state.running
    out: dict[str, tuple[bool, str]] = {}

    def rule(key: str, on: bool, why: str) -> None:
        out[key] = (on, "" if on else why)

    if running:
        e_why = m_why = WHY_RUNNING
    elif has:
        e_why = "disabled: the E-step was just done; the M-step comes next"
        m_why = "disabled: the M-step needs responsibilities; do the E-step first"
    else:
        e_why = m_why = WHY_NO_DATA
    rule("e", has and not running and state.next_phase == "E", e_why)
    rule("m", has and not running and state.next_phase == "M", m_why)
    rule("iterate", has and not running, WHY_RUNNING if running else WHY_NO_DATA)
    can_run = running or state.can_run
    if has and not can_run:
        run_why = (
            "disabled: converged; step on, reset or re-initialise"
            if state.converged
            else f"disabled: max_iter ({state.max_iter}) reached"
        )
    else:
        run_why = WHY_NO_DATA
    rule("run", can_run, run_why)
    rule("stop", running or state.paused, "disabled: EM is not running")
    rule("reset", has and state.index > 0, "disabled: already at the initial mixture")
    rule("back", has and state.index > 0, "disabled: at the first step")
    rule("forward", has and not state.at_end, "disabled: at the latest step")
    rule("last", has and not state.at_end, "disabled: at the latest step")
    rule("reinit", state.has_points, WHY_NO_DATA)
    rule("treat_missing", state.incomplete_rows > 0, "disabled: no point has a missing coordinate")
    return out


def run_label(state: ActionState) -> tuple[str, str]:
    """The Run action's (text, tooltip): Run, Pause while running, Resume when paused."""
    if state.running:
        return "Pause", "Pause the run"
    if state.paused:
        return "Resume", "Resume the run"
    return "Run", RUN_TIP


def next_step_text(state: ActionState) -> str:
    """The line above the EM buttons: what the next step is, or that there is no data."""
    if not state.has_history:
        return "No data: open or generate some (Ctrl+O, Ctrl+G)"
    if state.running:
        return f"Running… next step: {state.next_phase}-step"
    if state.converged and state.at_end:
        return f"Converged. Next step: {state.next_phase}-step"
    return f"Next step: {state.next_phase}-step"
