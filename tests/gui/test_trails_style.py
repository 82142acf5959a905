"""Mean paths (T) read on the plot: above the points and ellipses, thick, cased in the outline."""

from __future__ import annotations

from PySide6 import QtGui


def _trails(window):
    return window.inside_em.trails


def test_mean_paths_are_above_the_points_and_ellipses_and_cased(window):
    s, scatter = window.session, window.scatter
    for _ in range(4):
        s.step_iteration()
    window.inside_em.actions["trails"].setChecked(True)
    window.flush()
    trails = _trails(window)
    shown = [c for row in trails.curves for c in row if c.isVisible()]
    assert shown
    top_ellipse = max(c.zValue() for curves in scatter.ellipse_curves.values() for c in curves)
    for curve in shown:
        # Above the points and every ellipse (and their ghosts), below the means.
        assert curve.zValue() > scatter.points.zValue()
        assert curve.zValue() > top_ellipse
        assert curve.zValue() > max(g.zValue() for g in scatter.ghost_curves)
        assert curve.zValue() < scatter.means_item.zValue()
        pen, casing = curve.opts["pen"], curve.opts["shadowPen"]
        assert pen.widthF() >= 4
        # A casing wider than the line, in the colour of the means' outline.
        assert casing is not None and casing.widthF() > pen.widthF() + 2
        assert casing.color().rgb() == scatter.mean_outline().rgb()
    assert trails.dots.zValue() > top_ellipse


def test_mean_paths_follow_the_theme_outline(window):
    scatter, trails = window.scatter, _trails(window)
    scatter.set_mean_outline("#eeeeee")  # a dark theme's foreground
    for row in trails.curves:
        for curve in row:
            assert curve.opts["shadowPen"].color().rgb() == QtGui.QColor("#eeeeee").rgb()
    assert trails.dots.opts["pen"].color().rgb() == QtGui.QColor("#eeeeee").rgb()
