"""Runs in the EM process (emviz.runs.em_process) against the same runs on a thread.

The process exists so that drawing cannot slow EM down; nothing a user sees
may differ: the same snapshots, bit for bit, the same Stop, Pause and
Resume, and a clear message if the process dies.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from emviz.core.em import iterate_em
from emviz.runs.em_process import (
    _FILLED,
    _FREE,
    EMProcess,
    _Ring,
    close_retired_rings,
    ring_slots,
)
from emviz.session import PROCESS_MIN_POINTS, Session


def _points(n: int = 8000, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [5.0, 1.0], [2.0, 6.0]])
    labels = rng.integers(0, 3, n)
    return centres[labels] + rng.normal(size=(n, 2)) * np.array([1.0, 0.6])


@pytest.fixture
def make_session(qtbot):
    sessions = []

    def make(X, use_process=True, **settings) -> Session:
        s = Session()
        s.use_process = use_process
        s.load_points(X, name="test")
        settings.setdefault("tol", 1e-15)  # runs go to max_iter unless a test asks
        s.update_settings(n_components=3, **settings)
        s.set_delay(0.0)
        sessions.append(s)
        return s

    yield make
    for s in sessions:
        s.shutdown()


def _run_to_end(qtbot, s: Session, timeout: int = 20000) -> str:
    with qtbot.waitSignal(s.run_finished, timeout=timeout) as blocker:
        assert s.run()
    return blocker.args[0]


def _trace(s: Session) -> list[tuple]:
    return [
        (h.iteration, h.phase, h.log_likelihood, h.expected_complete, h.entropy, h.converged)
        for h in s.history
    ]


def test_a_large_run_goes_to_the_process_and_matches_a_thread_bit_for_bit(qtbot, make_session):
    X = _points()
    assert len(X) >= PROCESS_MIN_POINTS
    in_process = make_session(X, max_iter=15)
    on_thread = make_session(X, max_iter=15, use_process=False)
    assert _run_to_end(qtbot, in_process) == "max_iter"
    assert in_process.em_process is not None and in_process.em_process.alive
    assert _run_to_end(qtbot, on_thread) == "max_iter"
    assert on_thread.em_process is None
    assert _trace(in_process) == _trace(on_thread)
    assert len(in_process.history) == 31
    last_p, last_t = in_process.history[-1].mixture, on_thread.history[-1].mixture
    np.testing.assert_array_equal(last_p.means, last_t.means)
    np.testing.assert_array_equal(last_p.covariances, last_t.covariances)
    np.testing.assert_array_equal(in_process.current.resp, on_thread.current.resp)
    assert not in_process.current.resp.flags.writeable


def test_small_data_run_on_a_thread(qtbot, make_session):
    s = make_session(_points(500), tol=1e-6)
    assert _run_to_end(qtbot, s) == "converged"
    assert s.em_process is None


def test_loading_a_large_data_set_starts_the_process_and_sends_it_the_points(qtbot, make_session):
    s = make_session(_points())
    proc = s.em_process
    assert proc is not None
    token = s._runs.process_runner.token
    qtbot.waitUntil(lambda: proc.loaded_token == token, timeout=10000)


def test_stop_ends_a_paced_run_in_the_process_at_once(qtbot, make_session):
    s = make_session(_points(), max_iter=400)
    s.set_delay(0.05)
    with qtbot.waitSignal(s.history_changed, timeout=10000):
        s.run()
    with qtbot.waitSignal(s.run_finished, timeout=1000) as blocker:
        s.stop()
    assert blocker.args == ["stopped"]
    kept = len(s.history)
    assert kept < 400
    # Snapshots still on their way from the cancelled run are not appended.
    qtbot.waitUntil(lambda: not s.em_process._run_rings, timeout=5000)
    assert len(s.history) == kept and not s.running


def test_pause_and_resume_in_the_process_continue_em_exactly(qtbot, make_session):
    X = _points()
    s = make_session(X, max_iter=12)
    s.set_delay(0.02)
    with qtbot.waitSignal(s.history_changed, timeout=10000):
        s.run()
    qtbot.waitUntil(lambda: len(s.history) >= 5, timeout=10000)
    s.pause()
    assert s.paused and not s.running
    s.set_delay(0.0)
    with qtbot.waitSignal(s.run_finished, timeout=20000) as blocker:
        s.run()
    assert blocker.args == ["max_iter"]
    reference = make_session(X, max_iter=12, use_process=False)
    assert _run_to_end(qtbot, reference) == "max_iter"
    assert _trace(s) == _trace(reference)


def test_a_busy_window_gets_parameters_and_recomputes_the_responsibilities(qtbot, make_session):
    """While the window holds every slot of the ring, the child sends snapshots
    without responsibilities rather than wait; those shown are recomputed."""
    X = _points()
    s = make_session(X, max_iter=6)
    ring = s.em_process._ring_for(3, s.n_samples)  # the ring the run will use
    for slot in range(ring.n_slots):  # as if the window never let go of them
        ring.flags[slot] = _FILLED
    try:
        assert _run_to_end(qtbot, s) == "max_iter"
    finally:
        for slot in range(ring.n_slots):
            ring.flags[slot] = _FREE
    assert s.em_process._ring is ring
    reference = make_session(X, max_iter=6, use_process=False)
    assert _run_to_end(qtbot, reference) == "max_iter"
    assert _trace(s) == _trace(reference)
    for index in (len(s.history) - 1, 3):
        s.set_index(index)
        reference.set_index(index)
        np.testing.assert_array_equal(s.current.resp, reference.current.resp)


def test_new_points_replace_the_ones_the_process_holds(qtbot, make_session):
    s = make_session(_points(seed=1), max_iter=5)
    assert _run_to_end(qtbot, s) == "max_iter"
    X2 = _points(seed=2) * 3.0 + 10.0
    s.load_points(X2, name="other")
    assert _run_to_end(qtbot, s) == "max_iter"
    reference = make_session(X2, max_iter=5, use_process=False)
    assert _run_to_end(qtbot, reference) == "max_iter"
    assert _trace(s) == _trace(reference)


def test_a_process_that_dies_mid_run_is_reported_and_the_next_run_starts_a_new_one(
    qtbot, make_session
):
    s = make_session(_points(), max_iter=400)
    s.set_delay(0.05)
    errors = []
    s.error.connect(errors.append)
    with qtbot.waitSignal(s.history_changed, timeout=10000):
        s.run()
    kept_before = len(s.history)
    with qtbot.waitSignal(s.run_finished, timeout=10000) as blocker:
        s.em_process._process.kill()
    assert blocker.args == ["error"]
    assert errors == ["EM stopped: the EM process ended unexpectedly"]
    assert not s.running and len(s.history) >= kept_before  # the work so far is kept
    s.set_delay(0.0)
    s.update_settings(max_iter=len(s.history) // 2 + 3)
    assert _run_to_end(qtbot, s) in ("max_iter", "converged")
    assert s.em_process is not None and s.em_process.alive


def test_shutdown_ends_the_process_and_frees_its_shared_memory(qtbot, make_session):
    s = make_session(_points(), max_iter=300)
    s.set_delay(0.01)
    with qtbot.waitSignal(s.history_changed, timeout=10000):
        s.run()
    proc = s.em_process
    names = [ring.name for ring in proc._run_rings.values()]
    assert names
    s.shutdown()
    assert not proc._process.is_alive()
    assert s.em_process is None and s._runs.process_runner._relay_thread is None
    if os.path.isdir("/dev/shm"):
        assert not any(_shm_exists(name) for name in names)


def _shm_exists(name: str) -> bool:
    return os.path.exists(f"/dev/shm/{name.lstrip('/')}")


def test_a_ring_slot_goes_back_to_the_child_only_when_nothing_views_it():
    """The ring's protocol, both sides in this process."""
    parent = _Ring(2, (3, 5))
    child = _Ring(2, (3, 5), parent.name)
    try:
        first = child.take()
        child.slot(first)[...] = 1.0
        shown = parent.view(first).T  # what the window shows, shape (n_samples, K)
        assert shown.shape == (5, 3) and not shown.flags.writeable
        second = child.take()
        assert second not in (-1, first)
        assert child.take() == -1  # the window holds one slot, the child has filled the other
        row = shown[2]  # a view keeps the slot as much as the array itself
        del shown
        assert child.take() == -1
        del row
        assert child.take() == first
        # A filled slot the window drops without viewing goes back at once.
        parent.free(second)
        assert child.take() == second
    finally:
        child.close()
        parent.retire()


def test_a_retired_ring_is_unlinked_at_once_and_unmapped_when_nothing_views_it():
    parent = _Ring(2, (2, 4))
    child = _Ring(2, (2, 4), parent.name)
    slot = child.take()
    child.slot(slot)[...] = 7.0
    child.close()
    held = parent.view(slot)
    parent.retire()
    if os.path.isdir("/dev/shm"):
        assert not _shm_exists(parent.name)
    close_retired_rings()
    assert not parent.closed  # the window still shows it: the memory stays mapped
    np.testing.assert_array_equal(held, 7.0)
    del held
    close_retired_rings()
    assert parent.closed


def test_the_ring_is_reused_while_n_and_k_stay_and_never_overwrites_what_is_shown(
    qtbot, make_session
):
    s = make_session(_points(), max_iter=4)
    s.set_delay(0.01)  # the window keeps up: every posterior comes through the ring
    assert _run_to_end(qtbot, s) == "max_iter"
    proc = s.em_process
    ring = proc._ring
    assert ring is not None and ring.n_slots == ring_slots(s.n_samples, 3)
    held = s.current.resp  # kept across the next runs
    assert isinstance(held.base.base, memoryview)  # a view of the ring, not recomputed
    kept = held.copy()
    s.reinitialize()  # another start: other responsibilities, same n and K
    assert _run_to_end(qtbot, s) == "max_iter"
    assert proc._ring is ring
    s.reinitialize()
    assert _run_to_end(qtbot, s) == "max_iter"
    assert proc._ring is ring
    np.testing.assert_array_equal(held, kept)
    assert not np.array_equal(s.current.resp, kept)
    # Another K: a new ring; the old one's name goes at once, its memory when
    # nothing views it any more.
    s.update_settings(n_components=2)
    assert _run_to_end(qtbot, s) == "max_iter"
    assert proc._ring is not ring and proc._ring.shape == (2, s.n_samples)
    if os.path.isdir("/dev/shm"):
        assert not _shm_exists(ring.name)
    assert not ring.closed
    np.testing.assert_array_equal(held, kept)
    del held
    close_retired_rings()
    assert ring.closed


def test_the_process_handle_runs_iterate_em_without_qt():
    """EMProcess on its own (what the relay thread does, inline)."""
    X = _points()
    from emviz.core.init import initialize

    start = initialize(X, 3, seed=0)
    proc = EMProcess()
    try:
        token = proc.load(X)
        kwargs = dict(cov_type="full", reg_covar=1e-6, tol=1e-6, max_iter=4, bound=True)
        proc.run(1, token, start, kwargs, len(X), 3)
        got = []
        while True:
            msg = proc.receive()
            if msg[0] == "snapshots":
                assert msg[1] == 1
                got.extend(msg[2])
            elif msg[0] == "finished":
                assert msg[1:] == (1, "max_iter")
                break
            else:
                assert msg[0] == "loaded" and msg[2] is None
        want = list(iterate_em(X, start, **kwargs))
        assert [g.log_likelihood for g in got] == [w.log_likelihood for w in want]
        # Responsibilities come with every snapshot whose ring slot was free
        # (always the first E); the others are left for the window to recompute.
        assert got[1].resp is not None
        for g, w in zip(got[1:], want[1:], strict=True):
            if g.resp is not None:
                np.testing.assert_array_equal(g.resp, w.resp)
        assert got[2].resp is got[1].resp  # an M snapshot shares its E snapshot's posterior
        # The mixtures arrive read-only, as every Mixture is.
        assert not got[-1].mixture.means.flags.writeable
    finally:
        proc.close()
        proc.release()


def test_during_a_run_a_step_sent_without_responsibilities_shows_the_newest_received(
    make_session, monkeypatch
):
    """A snapshot the EM process sent without its posterior (no ring slot free)
    is shown, while the run lasts, with the newest posterior received: computing
    it on the GUI thread took 150 ms and 80 MB at 1e6 points and K = 10.  At
    rest it is computed."""
    from emviz.core import iterate_em

    X = _points()
    s = make_session(X, use_process=False)
    snaps = list(iterate_em(X, s.history[0].mixture, tol=0.0, max_iter=3))
    s.running = True  # as a run in the EM process delivers them
    s._append(snaps[1])  # E, with its posterior
    s._append(snaps[2].without_resp())  # M, sent without
    s._append(snaps[3].without_resp())  # E, sent without

    def no_posterior(_mixture):
        raise AssertionError("a posterior computed during a run")

    monkeypatch.setattr(s, "_posterior", no_posterior)
    assert s.current.resp is snaps[1].resp
    monkeypatch.undo()
    s._end_run()  # as the session ends every run
    np.testing.assert_allclose(s.current.resp, snaps[3].resp, rtol=1e-12, atol=1e-300)
    s.set_index(2)
    np.testing.assert_allclose(s.current.resp, snaps[2].resp, rtol=1e-12, atol=1e-300)


def _child_cpu_seconds(proc: EMProcess) -> float:
    """CPU time the EM process has used so far (all its threads), from /proc."""
    with open(f"/proc/{proc._process.pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="reads CPU time from /proc")
def test_run_stop_clicks_leave_the_process_no_backlog_of_cancelled_steps(qtbot, make_session):
    """Every Run sends the process a run; every Stop cancels it.  Runs cancelled
    while they waited in the pipe are dropped unstarted, not computed to their
    first E-step: after a burst of clicks the next run starts at once."""
    s = make_session(_points(200_000), max_iter=400)
    proc = s.em_process
    token = s._runs.process_runner.token
    qtbot.waitUntil(lambda: proc.loaded_token == token, timeout=30000)

    def first_snapshot(timeout_ms: int) -> tuple[float, float]:
        """Run until the first snapshot arrives, then Stop and wait for the process
        to finish with the run; returns (seconds to the first snapshot, the
        process's CPU seconds for all of it)."""
        cpu, start = _child_cpu_seconds(proc), time.perf_counter()
        kept = len(s.history)
        with qtbot.waitSignal(s.history_changed, timeout=timeout_ms):
            s.run()
        wall = time.perf_counter() - start
        assert len(s.history) > kept
        s.stop()
        qtbot.waitUntil(lambda: not proc._run_rings, timeout=30000)
        return wall, _child_cpu_seconds(proc) - cpu

    one_wall, one_cpu = first_snapshot(30000)
    for _ in range(50):
        s.run()
        s.stop()
    # Before the fix the process computed the first E-step of each of the 50
    # cancelled runs (at 2e5 points: several times the bound, in time and CPU).
    wall, cpu = first_snapshot(int(1000 * (1.0 + 5 * one_wall)))
    assert cpu < 5 * one_cpu + 0.1, (cpu, one_cpu)
