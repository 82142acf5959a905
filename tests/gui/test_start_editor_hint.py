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
    assert window.statusBar().currentMessage() == HINT
    s.step_e()  # the handles go, and the hint with them: the start can no longer be edited
    window.flush()
    assert not editor.active
    assert window.statusBar().currentMessage() != HINT
    s.reinitialize()  # a new start: the handles come back, with the hint
    window.flush()
    assert editor.active
    assert window.statusBar().currentMessage() == HINT
    assert "drag" in HINT and "Shift+click" in HINT and "Ctrl+click" in HINT
