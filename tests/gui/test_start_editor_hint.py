"""The start editor's drag handles explain themselves: tooltips and a status-bar hint."""

from __future__ import annotations

from emviz.ui.lab.start_editor import HINT


def test_handles_have_tooltips_and_the_status_bar_says_what_they_do(window):
    editor = window.lab.editor
    s = window.session
    window.flush()
    assert editor.active
    assert "drag" in editor.mean_items[0].toolTip().lower()
    assert "mean" in editor.mean_items[0].toolTip().lower()
    for handle in editor.axis_items[0]:
        tip = handle.toolTip().lower()
        assert "drag" in tip and "ellipse" in tip and "turn" in tip
    bar = window.statusBar()
    s.step_e()  # the handles go: the start can no longer be edited
    window.flush()
    assert not editor.active
    bar.clearMessage()
    s.reinitialize()  # a new start: the handles come back, with the hint (the bar is free)
    window.flush()
    assert editor.active
    assert bar.currentMessage() == HINT
    s.step_e()  # the handles go, and the hint with them
    window.flush()
    assert bar.currentMessage() != HINT
    bar.showMessage("a message of the session")
    s.reinitialize()  # the handles come back; the session's message is not covered
    window.flush()
    assert editor.active
    assert bar.currentMessage() == "a message of the session"
    # Resting the pointer on a handle says what it does, over any message.
    editor.mean_items[0]._on_hover()
    assert bar.currentMessage() == HINT
    assert "drag" in HINT and "Shift+click" in HINT and "Ctrl+click" in HINT
