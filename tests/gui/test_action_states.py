"""The window's enable rules, as a pure function of a plain state: no widget needed."""

from __future__ import annotations

import dataclasses

import pytest

from emviz.ui.actions import (
    ACTIONS,
    MENU_LAYOUT,
    WHY_NO_DATA,
    WHY_RUNNING,
    ActionState,
    action_states,
    next_step_text,
    run_label,
)

EMPTY = ActionState()
#: Data loaded, the initial mixture shown (one snapshot), an E-step next.
START = ActionState(has_points=True, history_length=1, index=0, next_phase="E", can_run=True)
#: Three half-steps in; an M-step next, the latest shown.
MID = dataclasses.replace(START, history_length=3, index=1, next_phase="M")
RUNNING = dataclasses.replace(MID, running=True, index=2, next_phase="E")


def enabled(state: ActionState) -> set[str]:
    return {key for key, (on, _why) in action_states(state).items() if on}


def why(state: ActionState, key: str) -> str:
    on, reason = action_states(state)[key]
    assert not on
    return reason


def test_every_rule_has_a_reason_exactly_when_disabled():
    keys = {"e", "m", "iterate", "run", "stop", "reset", "back", "forward", "last", "reinit"}
    keys.add("treat_missing")
    for state in (EMPTY, START, MID, RUNNING):
        states = action_states(state)
        assert set(states) == keys
        for on, reason in states.values():
            assert (reason == "") == on


def test_no_data_disables_everything_and_says_so():
    assert enabled(EMPTY) == set()
    for key in ("e", "m", "iterate", "run", "reinit"):
        assert why(EMPTY, key) == WHY_NO_DATA
    assert why(EMPTY, "stop") == "disabled: EM is not running"


def test_points_without_history_can_only_be_reinitialised():
    assert enabled(dataclasses.replace(EMPTY, has_points=True)) == {"reinit"}


def test_at_the_start_e_step_iterate_run_and_reinit():
    assert enabled(START) == {"e", "iterate", "run", "reinit"}
    assert "do the E-step first" in why(START, "m")
    assert why(START, "reset") == "disabled: already at the initial mixture"
    assert why(START, "back") == "disabled: at the first step"
    assert why(START, "forward") == why(START, "last") == "disabled: at the latest step"


def test_after_an_e_step_the_m_step_comes_next():
    state = dataclasses.replace(MID, index=2, history_length=3)
    assert "M-step comes next" in why(state, "e")
    assert {"m", "iterate", "back", "reset"} <= enabled(state)


def test_mid_history_both_ways_are_open():
    assert {"m", "back", "forward", "last", "reset"} <= enabled(MID)


def test_while_running_steps_are_disabled_and_pause_and_stop_enabled():
    assert enabled(RUNNING) == {"run", "stop", "reset", "back", "reinit"}
    for key in ("e", "m", "iterate"):
        assert why(RUNNING, key) == WHY_RUNNING
    # Running: Run (Pause) stays enabled even when can_run would say no.
    assert action_states(dataclasses.replace(RUNNING, can_run=False))["run"][0]


def test_a_paused_run_can_be_stopped():
    paused = dataclasses.replace(MID, paused=True)
    assert action_states(paused)["stop"][0]


def test_run_disabled_when_converged_or_at_max_iter():
    converged = dataclasses.replace(MID, can_run=False, converged=True)
    assert "converged" in why(converged, "run")
    limit = dataclasses.replace(MID, can_run=False, max_iter=7)
    assert why(limit, "run") == "disabled: max_iter (7) reached"


def test_missing_values_can_be_treated_only_when_some_are_missing():
    assert why(START, "treat_missing") == "disabled: no point has a missing coordinate"
    assert action_states(dataclasses.replace(START, incomplete_rows=82))["treat_missing"][0]
    assert action_states(dataclasses.replace(RUNNING, incomplete_rows=1))["treat_missing"][0]


def test_run_label_follows_running_and_paused():
    assert run_label(START) == ("Run", "Run EM to convergence; press again to pause")
    assert run_label(RUNNING) == ("Pause", "Pause the run")
    assert run_label(dataclasses.replace(MID, paused=True)) == ("Resume", "Resume the run")


@pytest.mark.parametrize(
    ("state", "text"),
    [
        (EMPTY, "No data: open or generate some (Ctrl+O, Ctrl+G)"),
        (START, "Next step: E-step"),
        (RUNNING, "Running… next step: E-step"),
        (dataclasses.replace(MID, index=2, converged=True), "Converged. Next step: M-step"),
        # Converged but looking back at an earlier step: just the next step.
        (dataclasses.replace(MID, converged=True), "Next step: M-step"),
    ],
)
def test_next_step_text(state, text):
    assert next_step_text(state) == text


def test_the_table_has_each_action_once_and_every_menu_entry_exists():
    keys = [spec.key for spec in ACTIONS]
    assert len(keys) == len(set(keys))
    listed = {k for entries in MENU_LAYOUT.values() for k in entries if k is not None}
    assert listed <= set(keys)


def test_state_of_a_session_reads_it(qtbot):
    """``ActionState.of`` reads a real Session (no window) as the rules expect."""
    from emviz.session import Session

    session = Session()
    assert ActionState.of(session) == dataclasses.replace(
        EMPTY, max_iter=session.settings.max_iter, index=session.index
    )
    session.load_dataset("old_faithful")
    state = ActionState.of(session)
    assert (state.has_points, state.history_length, state.index) == (True, 1, 0)
    assert enabled(state) == {"e", "iterate", "run", "reinit"}
    session.step_e()
    state = ActionState.of(session)
    assert state.next_phase == "M" and enabled(state) >= {"m", "back", "reset"}
    session.shutdown()
