"""RedrawThrottle: at once at rest; during a run, one view per turn of the event loop."""

from PySide6.QtCore import QObject, QTimer

from emviz.runs.pacing import RedrawThrottle


def test_at_rest_a_request_redraws_at_once():
    drawn = []
    t = RedrawThrottle(lambda: drawn.append(1), busy=lambda: False)
    t.request()
    assert drawn == [1] and not t.pending


def test_during_a_run_views_redraw_one_per_turn_of_the_event_loop(qtbot):
    order = []

    def draw_a():
        order.append("a")
        # Something else the event loop has to do (a paint, a click).
        QTimer.singleShot(0, lambda: order.append("other"))

    a = RedrawThrottle(draw_a, busy=lambda: True)
    b = RedrawThrottle(lambda: order.append("b"), busy=lambda: True)
    a.request()
    b.request()
    a.request()  # asked twice in one frame: drawn once
    assert order == [] and a.pending and b.pending
    qtbot.waitUntil(lambda: "b" in order)
    assert order == ["a", "other", "b"]
    assert not a.pending and not b.pending


def test_flush_draws_a_waiting_view_now_and_only_once(qtbot):
    drawn = []
    t = RedrawThrottle(lambda: drawn.append(1), busy=lambda: True)
    t.request()
    t.flush()
    assert drawn == [1] and not t.pending
    qtbot.wait(20)  # the turn it waited for comes and goes: nothing more is drawn
    assert drawn == [1]


def test_a_view_closed_while_waiting_is_skipped(qtbot):
    drawn = []
    owner = QObject()
    gone = RedrawThrottle(lambda: drawn.append("gone"), parent=owner, busy=lambda: True)
    kept = RedrawThrottle(lambda: drawn.append("kept"), busy=lambda: True)
    gone.request()
    kept.request()
    owner.deleteLater()
    qtbot.waitUntil(lambda: "kept" in drawn)
    assert drawn == ["kept"]
