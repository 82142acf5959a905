"""The log-likelihood plot: a legend off the data, the converged label, the log-gap zoom."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore

from emviz.ui.views.loglik_view import gap_to_best


def _settle(window, qtbot) -> None:
    window.flush()
    qtbot.wait(0)  # let the layout place the legend (no timing: one pass of the event loop)
    window.loglik.getPlotItem().layout.activate()  # a legend put back into its row: placed now


def _tall(view, qtbot, height: int = 320) -> None:
    """The plot 720 px wide and ``height`` px tall: room for its legend and titles (or not)."""
    view.window().resize(1500, 950)
    view.setFixedSize(720, height)
    qtbot.waitUntil(lambda: (view.width(), view.height()) == (720, height))


def test_the_legend_is_outside_the_plotted_area(window, qtbot):
    s = window.session
    for _ in range(20):
        s.step_iteration()
    view = window.loglik
    _tall(view, qtbot)
    _settle(window, qtbot)
    item = view.getPlotItem()
    legend, vb = item.legend, item.vb
    assert legend is not None and legend.isVisible() and len(legend.items) == 3
    legend_rect = legend.sceneBoundingRect()
    data_rect = vb.sceneBoundingRect()
    assert legend_rect.width() > 0 and legend_rect.height() > 0
    # Above the view box, not on it: no marker of the legend can land on the
    # curve or on the cursor line, whatever the data.
    assert legend_rect.bottom() <= data_rect.top() + 0.5
    assert not legend_rect.intersects(data_rect.adjusted(0, 1, 0, 0))
    for sample, label in legend.items:
        for part in (sample, label):
            assert not part.sceneBoundingRect().intersects(data_rect.adjusted(0, 1, 0, 0))


@pytest.mark.parametrize("zoom", [False, True])
def test_the_converged_label_is_inside_the_plot_and_off_the_legend(window, qtbot, zoom):
    s = window.session
    for _ in range(30):
        s.step_iteration()
        if s.history[-1].converged:
            break
    assert s.history[-1].converged
    view = window.loglik
    _tall(view, qtbot)
    if zoom:
        window.actions_by_key["climb"].trigger()
    _settle(window, qtbot)
    text = view.converged_text
    assert text.isVisible()
    vb = view.getPlotItem().vb
    data_rect = vb.sceneBoundingRect()
    star = vb.mapViewToScene(
        QtCore.QPointF(
            len(s.history) - 1, view.shown_y(np.array([s.history[-1].log_likelihood]))[0]
        )
    )

    def text_rect() -> QtCore.QRectF:
        text.updateTransform(force=True)  # placed at its next paint otherwise
        return text.mapRectToScene(text.boundingRect())

    # Whole (not clipped at the top or bottom of the plot) ...
    qtbot.waitUntil(lambda: data_rect.contains(text_rect()), timeout=3000)
    # ... off the legend, and left of the star and the cursor line through it.
    assert not text_rect().intersects(view.getPlotItem().legend.sceneBoundingRect())
    assert text_rect().right() < star.x()


def test_gap_to_best_floors_the_best_a_decade_below_the_smallest_gap():
    ll = np.array([-10.0, -5.0, -4.0, -3.999, -3.999])
    gap = gap_to_best(ll)
    np.testing.assert_allclose(gap[:3], [6.001, 1.001, 0.001])
    assert gap[3] == gap[4] == pytest.approx(1e-4)
    assert np.all(np.isfinite(np.log10(gap)))
    # A non-finite log-likelihood has an infinite gap; none finite: all infinite.
    assert np.isinf(gap_to_best(np.array([-np.inf, -1.0, -0.5]))[0])
    assert np.isinf(gap_to_best(np.array([np.nan, np.nan]))).all()
    # One value, or all level: the floor (1e-9 of their size) for each.
    assert gap_to_best(np.array([-200.0, -200.0])) == pytest.approx([2e-7, 2e-7])


def test_zoom_to_the_climb_spreads_a_long_slow_climb_over_the_axis(window, qtbot):
    s = window.session
    s.update_settings(n_components=4, tol=0.0)
    while len(s.history) < 141:
        s.step()
    _settle(window, qtbot)
    view = window.loglik
    vb = view.getPlotItem().vb
    ll = np.array([snap.log_likelihood for snap in s.history])
    tail = slice(len(ll) // 10, None)  # the last 90 % of the half-steps

    def tail_share() -> float:
        y = view.shown_y(ll)[tail]
        low, high = vb.viewRange()[1]
        return (float(np.max(y)) - float(np.min(y))) / (high - low)

    # On the log-likelihood the climb after the first steps is flat.
    in_view = lambda: vb.viewRange()[1][0] <= ll.min() and vb.viewRange()[1][1] >= ll.max()  # noqa: E731
    qtbot.waitUntil(in_view, timeout=2000)
    assert tail_share() < 0.2
    window.actions_by_key["climb"].trigger()  # View > zoom to the climb (Z)
    _settle(window, qtbot)
    # On the log of the gap it fills at least half of the axis, and every
    # snapshot is in view.
    assert tail_share() >= 0.5
    y = view.shown_y(ll)
    low, high = vb.viewRange()[1]
    assert low <= y.min() and y.max() <= high
    assert "log" in view.getPlotItem().getAxis("left").labelText
    # Off again: the log-likelihood itself.
    window.actions_by_key["climb"].trigger()
    _settle(window, qtbot)
    assert view.getPlotItem().getAxis("left").labelText == "log-likelihood"
    qtbot.waitUntil(lambda: vb.viewRange()[1][0] <= ll.min(), timeout=2000)


def test_a_short_plot_is_a_strip_without_legend_and_titles(window, qtbot):
    """Too short for a legend row and axis titles: the curve gets the room."""
    s = window.session
    for _ in range(5):
        s.step_iteration()
    view = window.loglik
    item = view.getPlotItem()
    titles = lambda: [item.getAxis(n).label.isVisible() for n in ("left", "bottom")]  # noqa: E731
    _tall(view, qtbot, 120)
    _settle(window, qtbot)
    assert view.compact and not item.legend.isVisible() and titles() == [False, False]
    assert "log-likelihood" in view.toolTip()
    strip_height = item.vb.sceneBoundingRect().height()
    # A restyle sets the axis titles again; the strip keeps them hidden.
    window.classroom.set_theme("dark")
    assert titles() == [False, False]
    _tall(view, qtbot, 320)
    _settle(window, qtbot)
    assert not view.compact and item.legend.isVisible() and titles() == [True, True]
    assert view.toolTip() == ""
    # The strip's curve had more of its 120 px than a full plot's would have.
    assert strip_height > 120 - 320 + item.vb.sceneBoundingRect().height()
    # Tall but narrower than its legend's row: a strip again.
    view.setFixedSize(200, 320)
    qtbot.waitUntil(lambda: view.width() == 200)
    assert view.compact and not item.legend.isVisible()
