"""The mean markers' outline follows the theme: ScatterView.set_mean_outline."""

from __future__ import annotations

from PySide6 import QtGui

from emviz.ui.classroom.themes import THEMES


def _outline_colours(scatter) -> set[str]:
    """The outline colour of every mean marker drawn."""
    item = scatter.means_item
    pens = [spot.pen() for spot in item.points()]
    assert pens, "no mean drawn"
    return {QtGui.QColor(p.color()).name() for p in pens}


def test_set_mean_outline_restyles_the_means_drawn(window, qtbot):
    scatter = window.scatter
    window.session.step_e()
    window.session.step_m()
    scatter.flush()
    # The window opens in the light theme: the means outlined in its foreground.
    assert _outline_colours(scatter) == {THEMES["light"]["fg"].lower()}
    seen = []
    scatter.mean_outline_changed.connect(seen.append)
    scatter.set_mean_outline("#f0f0f0")
    # At once, with no new snapshot: the means already drawn change colour.
    assert _outline_colours(scatter) == {"#f0f0f0"}
    assert scatter.mean_outline().name() == "#f0f0f0"
    assert [c.name() for c in seen] == ["#f0f0f0"]
    # And the means of later steps keep it.
    window.session.step_e()
    window.session.step_m()
    scatter.flush()
    assert _outline_colours(scatter) == {"#f0f0f0"}


def test_set_mean_outline_keeps_the_width_unless_given(window):
    scatter = window.scatter
    width = scatter._mean_pen.widthF()
    scatter.set_mean_outline("w")
    assert scatter._mean_pen.widthF() == width
    scatter.set_mean_outline("k", width=5)
    assert scatter._mean_pen.widthF() == 5
