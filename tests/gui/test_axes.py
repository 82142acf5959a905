"""Tick labels of the value axes: short for large log-likelihoods, never clipped."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore, QtGui

from emviz.core import Mixture
from emviz.core.snapshot import Snapshot
from emviz.ui.views.axes import compact_tick_strings
from emviz.ui.views.loglik_view import LoglikView


@pytest.mark.parametrize(
    ("values", "spacing", "expected"),
    [
        # pyqtgraph writes these "-1.8e+06", "-1.71526e+06": wider than a margin.
        ([-1.8e6, -1.7e6], 1e5, ["-1.8e6", "-1.7e6"]),
        ([-1715260.0, -1715250.0], 10.0, ["-1.71526e6", "-1.71525e6"]),
        ([-2.5e-5, 5e-5], 2.5e-5, ["-2.5e-5", "5.0e-5"]),
        # Plain decimals below 1e5, with the places the spacing needs.
        ([-1130.0, -1120.0], 10.0, ["-1130", "-1120"]),
        ([-1130.5, -1130.0], 0.5, ["-1130.5", "-1130.0"]),
        ([99990.0, 99995.0], 5.0, ["99990", "99995"]),
        ([0.0, 0.25], 0.25, ["0", "0.25"]),
    ],
)
def test_compact_tick_strings(values, spacing, expected):
    assert compact_tick_strings(values, spacing) == expected


@pytest.mark.parametrize("centre", [-2e6, -1130.0, 3.7e8, -4.2e-4])
@pytest.mark.parametrize("spacing", [1e-3, 0.2, 0.25, 10.0, 5e4])
def test_neighbouring_ticks_get_different_labels(centre, spacing):
    values = [centre + i * spacing for i in range(-3, 4)]
    labels = compact_tick_strings(values, spacing)
    assert len(set(labels)) == len(labels)
    for value, label in zip(values, labels):
        assert float(label) == pytest.approx(value, abs=spacing / 2)


class _History(QtCore.QObject):
    """What LoglikView reads of a Session: a history of snapshots, three signals, no changes."""

    history_changed = QtCore.Signal()
    snapshot_changed = QtCore.Signal()
    run_state_changed = QtCore.Signal()

    def __init__(self, lls):
        super().__init__()
        mixture = Mixture(
            weights=np.array([1.0]), means=np.zeros((1, 2)), covariances=np.eye(2)[None]
        )
        phases = ["init"] + ["E", "M"] * len(lls)
        self.history = [
            Snapshot((i + 1) // 2, phases[i], mixture, None, ll) for i, ll in enumerate(lls)
        ]
        self.index = len(self.history) - 1
        self.running = False

    def objective_changes(self) -> dict[int, str]:
        return {}  # one objective throughout


def _shown_labels(view):
    axis = view.getPlotItem().getAxis("left")
    low, high = view.getPlotItem().vb.viewRange()[1]
    levels = axis.tickValues(low, high, axis.geometry().height())
    values = [v for _spacing, ticks in levels[:1] for v in ticks if low <= v <= high]
    spacing = levels[0][0]
    return axis, axis.tickStrings(values, 1.0, spacing)


@pytest.mark.parametrize(
    "lls",
    [
        [-1.99683e6],  # one snapshot of a large data set
        [-1.99683e6, -1.99683e6, -1.83e6, -1.83e6, -1.7153e6, -1.71526e6, -1.71526e6],
        [-1540.0, -1540.0, -1142.0, -1142.0, -1130.0],  # Old Faithful: the usual width
    ],
)
def test_loglik_axis_labels_are_distinct_and_fit_the_margin(qtbot, lls):
    view = LoglikView(_History(lls))
    qtbot.addWidget(view)
    view.resize(760, 260)  # room for the legend row: the axis title shows
    view.show()
    qtbot.waitExposed(view)
    view.flush()
    axis, labels = _shown_labels(view)
    assert len(labels) >= 2 and len(set(labels)) == len(labels)
    font = axis.style["tickFont"] or QtGui.QFont()
    widest = max(QtGui.QFontMetrics(font).horizontalAdvance(s) for s in labels)
    # Room for the widest label, the gap and the rotated title (to a pixel's
    # rounding): the axis grows to give it (it was fixed at 96 pixels, and
    # labels of -1.71526e+06 ran into the title).
    room = widest + axis.style["tickTextOffset"][0] + axis.label.boundingRect().height() * 0.8
    qtbot.waitUntil(lambda: axis.width() >= room - 1, timeout=2000)
    assert axis.width() >= 96
