"""The initialisation and local-maxima lab (issue 4), driven as a user drives it."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import Qt

from emviz.core.matching import same_solution
from emviz.core.mixture import Mixture
from emviz.core.restarts import RestartRun, RestartsResult, group_maxima
from emviz.core.steps import log_likelihood
from emviz.ui.lab import install
from emviz.ui.lab.compare_view import ALGORITHMS
from emviz.ui.lab.start_editor import N_STD


@pytest.fixture
def lab_window(qtbot, _dangling_qthreads):
    from emviz.cli import create_main_window

    win = create_main_window([])
    qtbot.addWidget(win)
    lab = install(win)
    win.show()
    qtbot.waitExposed(win)
    yield win, lab
    win.close()
    win.session.shutdown()
    assert not lab.live_threads


def permuted(mix: Mixture, perm) -> Mixture:
    perm = np.asarray(perm)
    return Mixture(mix.weights[perm], mix.means[perm], mix.covariances[perm], mix.cov_type)


def view_to_widget(plot, x, y) -> QtCore.QPoint:
    vb = plot.getPlotItem().vb
    return plot.mapFromScene(vb.mapViewToScene(QtCore.QPointF(x, y)))


class FakeDrag:
    """What pyqtgraph's MouseDragEvent tells an item, for a drag in data coordinates."""

    def __init__(self, item, down, to, start=False, finish=False):
        self.item, self.down, self.to = item, down, to
        self.start, self.finish = start, finish

    def button(self):
        return Qt.MouseButton.LeftButton

    def isStart(self):
        return self.start

    def isFinish(self):
        return self.finish

    def accept(self):
        pass

    # Positions are in the item's coordinates at the time of the call, as in pyqtgraph.
    def buttonDownPos(self):
        return self.item.mapFromView(QtCore.QPointF(*self.down))

    def pos(self):
        return self.item.mapFromView(QtCore.QPointF(*self.to))


def drag(item, to, steps=4):
    """Drag ``item`` from where it is to ``to`` (data coordinates) through its drag handler."""
    p = item.pos()
    down = np.array([p.x(), p.y()])
    to = np.asarray(to, dtype=float)
    for j in range(steps + 1):
        at = down + (to - down) * j / steps
        item.mouseDragEvent(FakeDrag(item, down, at, start=j == 0, finish=j == steps))


# ----------------------------------------------------------------------------------------------
# Install


def test_install_adds_menu_docks_and_views(lab_window):
    win, lab = lab_window
    assert install(win) is lab  # idempotent
    menus = [a.text() for a in win.menuBar().actions()]
    assert menus.count("&Lab") == 1
    for key in ("restarts", "truth", "collapse", "compare"):
        dock = win.findChild(QtWidgets.QDockWidget, f"{key}Dock")
        assert dock is not None and not dock.isVisible()
    lab.actions["restarts"].trigger()
    assert lab.docks["restarts"].isVisible()
    for view in (lab.restarts, lab.truth_panel, lab.collapse, lab.compare):
        assert view in win.extra_views
    win.flush()


# ----------------------------------------------------------------------------------------------
# Restarts


def run_panel(qtbot, lab, n_runs, seed=0, timeout=60000):
    panel = lab.restarts
    panel.runs_spin.setValue(n_runs)
    panel.seed_spin.setValue(seed)
    with qtbot.waitSignal(panel.task.finished, timeout=timeout):
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not lab.live_threads, timeout=5000)
    return panel.result


def test_restarts_find_several_maxima_and_group_permutations(qtbot, lab_window):
    win, lab = lab_window
    s = win.session
    assert s.generate("multi_optima", 500, 0, None)
    s.update_settings(n_components=3)
    lab.show_dock("restarts")
    result = run_panel(qtbot, lab, 40)
    panel = lab.restarts
    assert len(result.runs) == 40 and not result.cancelled
    assert len(result.maxima) > 1
    assert panel.maxima_table.rowCount() == len(result.maxima)
    assert panel.runs_table.rowCount() == 40
    # One strip per maximum, every run once; the best run is starred.
    x, y, idx = panel.strip_positions()
    assert sorted(idx.tolist()) == list(range(40))
    assert set(np.round(x).astype(int)) == set(range(1, len(result.maxima) + 1))
    best = result.best_run
    assert panel.best_item.data["y"][0] == pytest.approx(result.runs[best].log_likelihood)
    assert "★" in panel.runs_table.item(0, 0).text()
    # Every maximum's runs are one solution: some with their labels permuted.
    any_permuted = False
    for mx in result.maxima:
        rep = result.runs[mx.best_run].mixture
        for i in mx.runs:
            mix = result.runs[i].mixture
            assert same_solution(rep, mix, scale=s.data.scale)
            order = np.argsort(rep.means[:, 0]), np.argsort(mix.means[:, 0])
            any_permuted |= not np.array_equal(*order)
    assert any_permuted
    # Distinct maxima are distinct solutions.
    reps = [m.mixture for m in result.maxima]
    for a in range(len(reps)):
        for b in range(a + 1, len(reps)):
            assert not same_solution(reps[a], reps[b], scale=s.data.scale)


def test_a_permuted_repeat_counts_once_in_the_view(qtbot, lab_window):
    win, lab = lab_window
    s = win.session
    s.update_settings(n_components=3)
    result = run_panel(qtbot, lab, 3)
    runs = list(result.runs)
    r0 = runs[0]
    twin = RestartRun(
        index=3,
        seed=r0.seed,
        method=r0.method,
        start=r0.start,
        mixture=permuted(r0.mixture, [2, 0, 1]),
        log_likelihoods=r0.log_likelihoods,
        n_iter=r0.n_iter,
        converged=r0.converged,
        collapsed=(),
    )
    runs.append(twin)
    maxima = group_maxima(runs, scale=s.data.scale)
    fake = RestartsResult(tuple(runs), maxima, 4, 0, False)
    panel = lab.restarts
    panel.set_result(fake, panel._params, panel._data)
    m0 = fake.maximum_of(0)
    assert fake.maximum_of(3) == m0
    assert len(maxima) == len(result.maxima)  # the twin made no new maximum
    assert panel.maxima_table.rowCount() == len(maxima)
    assert int(panel.maxima_table.item(m0, 2).text()) == result.maxima[m0].count + 1


def test_selecting_a_run_loads_its_whole_history(qtbot, lab_window):
    win, lab = lab_window
    s = win.session
    s.update_settings(n_components=3)
    result = run_panel(qtbot, lab, 8)
    panel = lab.restarts
    worst = int(result.order[-1])
    row = panel._row_of_run[worst]
    with qtbot.waitSignal(panel.run_loaded):
        panel.runs_table.selectRow(row)
    run = result.runs[worst]
    assert len(s.history) == 2 * run.n_iter + 1
    assert s.history[0].mixture.allclose(run.start, rtol=0)
    assert s.history[-1].mixture.allclose(run.mixture, rtol=1e-12)
    assert s.index == len(s.history) - 1
    assert s.history[-1].log_likelihood == pytest.approx(run.log_likelihood, rel=1e-12)
    # Clicking a maximum loads its best run.
    with qtbot.waitSignal(panel.run_loaded) as blocker:
        panel.maxima_table.selectRow(0)
    assert blocker.args == [result.best_run]
    assert s.history[-1].mixture.allclose(result.maxima[0].mixture, rtol=1e-12)


def test_degenerate_maxima_are_marked_and_the_best_honest_one_starred(qtbot, lab_window):
    """Iris petals, K = 4: a component on collinear petals reaches about -33 at the
    covariance floor; the panel marks that maximum degenerate and stars the best
    honest one, near -123."""
    win, lab = lab_window
    s = win.session
    assert s.load_dataset("iris")
    s.update_settings(n_components=4)
    lab.show_dock("restarts")
    panel = lab.restarts
    for m, box in panel.method_boxes.items():
        box.setChecked(m == "random_from_data")
    result = run_panel(qtbot, lab, 60)
    assert result.maxima[0].degenerate and not result.best.degenerate
    table = panel.maxima_table
    header = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    column = header.index("degenerate")
    for m, mx in enumerate(result.maxima):
        first = table.item(m, 0).text()
        assert ("yes" in table.item(m, column).text()) == mx.degenerate
        assert ("★" in first) == (mx is result.best)
        assert ("✗" in first) == mx.degenerate
    summary = panel.summary.text()
    assert f"best honest one, log-likelihood {result.best.log_likelihood:.2f}" in summary
    assert "degenerate" in summary and "without bound" in summary
    # On the strip plot the star sits on the honest best run.
    assert panel.best_item.data["y"][0] == pytest.approx(result.best.log_likelihood)


def test_restarts_run_on_a_worker_while_the_window_stays_usable(qtbot, lab_window):
    win, lab = lab_window
    s = win.session
    assert s.load_dataset("old_faithful")
    s.update_settings(n_components=3)
    panel = lab.restarts
    lab.show_dock("restarts")
    panel.runs_spin.setValue(100)
    qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    assert panel.running and not panel.run_button.isEnabled() and panel.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: panel.progress.value() >= 2, timeout=20000)
    # The main window works meanwhile: step, go back in the history, step again.
    before = panel.progress.value()
    for _ in range(3):
        assert s.step_iteration()
        win.flush()
    s.set_index(1)
    assert s.index == 1
    assert s.step_iteration()
    qtbot.waitUntil(lambda: panel.progress.value() > before + 1, timeout=20000)
    assert panel.running
    # Cancel stops within a half-step: at most the run in progress can still complete.
    at_cancel = panel.n_done
    with qtbot.waitSignal(panel.task.finished, timeout=5000):
        qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    assert panel.result.cancelled
    assert at_cancel <= len(panel.result.runs) <= at_cancel + 1
    assert len(panel.result.runs) < 100
    qtbot.waitUntil(lambda: not lab.live_threads, timeout=5000)
    assert panel.run_button.isEnabled() and not panel.cancel_button.isEnabled()
    assert panel.maxima_table.rowCount() == len(panel.result.maxima)


def test_closing_the_window_mid_run_stops_the_worker(qtbot, _dangling_qthreads):
    from emviz.cli import create_main_window

    win = create_main_window(["--k", "3"])
    qtbot.addWidget(win)
    lab = install(win)
    win.show()
    lab.restarts.runs_spin.setValue(500)
    lab.restarts.start()
    qtbot.waitUntil(lambda: lab.restarts.progress.value() >= 1, timeout=20000)
    win.close()
    assert not lab.live_threads
    win.session.shutdown()


# ----------------------------------------------------------------------------------------------
# Manual starting points


def test_dragging_a_mean_moves_exactly_that_mean(qtbot, lab_window):
    win, lab = lab_window
    s, ed = win.session, lab.editor
    win.flush()
    start = s.history[0].mixture
    item = ed.mean_items[1]
    assert item.isVisible() and not ed.mean_items[2].isVisible()
    target = start.means[1] + np.array([0.4, -6.0])
    drag(item, target)
    new = s.history[0].mixture
    assert len(s.history) == 1 and s.index == 0
    np.testing.assert_allclose(new.means[1], target, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(new.means[0], start.means[0])
    np.testing.assert_array_equal(new.covariances, start.covariances)
    # The axis handles followed the mean.
    _m, h0, _h1 = ed.handle_positions(1)
    p = ed.axis_items[1][0].pos()
    np.testing.assert_allclose([p.x(), p.y()], h0, atol=1e-9)


def test_dragging_an_axis_handle_sets_the_covariance_the_geometry_says(qtbot, lab_window):
    win, lab = lab_window
    s, ed = win.session, lab.editor
    start = s.history[0].mixture
    k = 0
    mean = start.means[k]
    _m, h0, h1 = ed.handle_positions(k)
    minor_var = (np.linalg.norm(h1 - mean) / N_STD) ** 2
    assert minor_var == pytest.approx(np.linalg.eigvalsh(start.covariances[k])[0])
    # Drag the major-axis handle to distance d along u (30 degrees).
    d = 1.7
    u = np.array([np.cos(np.pi / 6), np.sin(np.pi / 6)])
    drag(ed.axis_items[k][0], mean + d * u)
    cov = s.history[0].mixture.covariances[k]
    np.testing.assert_allclose(cov @ u, (d / N_STD) ** 2 * u, rtol=1e-9, atol=1e-12)
    v = np.array([-u[1], u[0]])
    np.testing.assert_allclose(cov @ v, minor_var * v, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(s.history[0].mixture.means, start.means)
    # Now drag the other handle: it becomes a principal axis, perpendicular to the first.
    _m, _h0, h1 = ed.handle_positions(k)
    np.testing.assert_allclose(np.linalg.norm(h1 - mean), N_STD * np.sqrt(minor_var))
    d2 = 12.0
    drag(ed.axis_items[k][1], mean + d2 * v)
    cov = s.history[0].mixture.covariances[k]
    np.testing.assert_allclose(cov @ v, (d2 / N_STD) ** 2 * v, rtol=1e-9)
    np.testing.assert_allclose(cov @ u, (d / N_STD) ** 2 * u, rtol=1e-9, atol=1e-12)
    # Stepping starts from exactly that mixture.
    edited = s.history[0].mixture
    assert s.step_iteration()
    assert s.history[0].mixture is edited
    assert s.history[1].log_likelihood == pytest.approx(log_likelihood(s.X, edited))
    win.flush()
    assert not any(item.isVisible() for item in ed.mean_items)  # no editing after a step


def test_a_real_mouse_drag_moves_a_mean(qtbot, lab_window):
    win, _lab = lab_window
    s = win.session
    plot = win.scatter
    win.flush()
    qtbot.wait(50)
    start = s.history[0].mixture
    a = start.means[0]
    b = a + np.array([0.5, 4.0])
    vp = plot.viewport()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=view_to_widget(plot, *a))
    for t in np.linspace(0.0, 1.0, 8)[1:]:
        qtbot.wait(25)  # pyqtgraph drops mouse moves closer together than its rate limit
        qtbot.mouseMove(vp, view_to_widget(plot, *(a + t * (b - a))))
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=view_to_widget(plot, *b))
    new = s.history[0].mixture.means[0]
    # Pixel rounding: within a pixel of where the mouse went.
    pw, ph = plot.getPlotItem().vb.viewPixelSize()
    assert abs(new[0] - b[0]) <= 1.5 * pw and abs(new[1] - b[1]) <= 1.5 * ph
    np.testing.assert_array_equal(s.history[0].mixture.means[1], start.means[1])


def test_shift_click_adds_and_ctrl_click_removes_a_component(qtbot, lab_window):
    win, lab = lab_window
    s, ed = win.session, lab.editor
    plot = win.scatter
    win.flush()
    qtbot.wait(50)
    start = s.history[0].mixture
    at = np.array([3.0, 60.0])
    qtbot.mouseClick(
        plot.viewport(),
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.ShiftModifier,
        view_to_widget(plot, *at),
    )
    mix = s.history[0].mixture
    assert mix.n_components == 3 and s.settings.n_components == 3
    pw, ph = plot.getPlotItem().vb.viewPixelSize()
    assert abs(mix.means[2, 0] - at[0]) <= pw and abs(mix.means[2, 1] - at[1]) <= ph
    np.testing.assert_allclose(mix.weights, [*start.weights * 2 / 3, 1 / 3])
    np.testing.assert_allclose(mix.covariances[2], 0.25 * np.cov(s.X.T, bias=True))
    win.flush()
    assert ed.mean_items[2].isVisible()
    qtbot.mouseClick(
        plot.viewport(),
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.ControlModifier,
        view_to_widget(plot, *start.means[0]),
    )
    mix = s.history[0].mixture
    assert mix.n_components == 2
    np.testing.assert_array_equal(mix.means[0], start.means[1])
    assert mix.weights.sum() == pytest.approx(1.0)


def test_editing_respects_the_covariance_type(qtbot, lab_window):
    win, lab = lab_window
    s, ed = win.session, lab.editor
    for cov_type in ("spherical", "diag", "tied"):
        s.update_settings(cov_type=cov_type)
        mean = s.history[0].mixture.means[0]
        drag(ed.axis_items[0][0], mean + np.array([1.2, 0.3]))
        mix = s.history[0].mixture
        assert mix.cov_type == cov_type  # the Mixture checked the structure
        if cov_type == "spherical":
            np.testing.assert_allclose(
                mix.covariances[0], (np.hypot(1.2, 0.3) / 2) ** 2 * np.eye(2)
            )
        if cov_type == "diag":
            assert mix.covariances[0][0, 0] == pytest.approx((1.2 / 2) ** 2)


# ----------------------------------------------------------------------------------------------
# Ground truth


def test_ground_truth_drawn_and_matched_under_permutation(qtbot, lab_window):
    win, lab = lab_window
    s = win.session
    assert s.generate("well_separated", 600, 3, 3)
    truth = s.truth
    win.flush()
    ov = lab.truth
    assert [c.isVisible() for c in ov.curves[:4]] == [True, True, True, False]
    assert ov.loglik_line.isVisible()
    assert ov.loglik_line.value() == pytest.approx(log_likelihood(s.X, truth))
    assert ov.loglik_line.label.toPlainText() == f"true mixture {ov.loglik_line.value():.1f}"
    assert ov.loglik_line in win.loglik.getPlotItem().items
    # The truth with its labels permuted, a little off: matched back to the right components.
    perm = np.array([2, 0, 1])
    fitted = Mixture(truth.weights[perm], truth.means[perm] + 0.05, truth.covariances[perm] * 1.1)
    assert s.set_start(fitted)
    lab.show_dock("truth")
    win.flush()
    np.testing.assert_array_equal(lab.truth_panel.matching(), perm)
    err = lab.truth_panel.errors
    np.testing.assert_allclose(err.means, 0.05 * np.sqrt(2), rtol=1e-9)
    np.testing.assert_allclose(err.weights, 0.0, atol=1e-12)
    table = lab.truth_panel.table
    assert [table.item(i, 1).text() for i in range(3)] == [f"T{j + 1}" for j in perm]
    # Toggle off and on.
    lab.actions["truth_overlay"].setChecked(False)
    assert not any(c.isVisible() for c in ov.curves) and not ov.loglik_line.isVisible()
    lab.actions["truth_overlay"].setChecked(True)
    assert ov.curves[0].isVisible()
    # Real data: no truth.
    assert s.load_dataset("old_faithful")
    win.flush()
    assert not ov.curves[0].isVisible() and not ov.loglik_line.isVisible()
    assert lab.truth_panel.table.rowCount() == 0


# ----------------------------------------------------------------------------------------------
# Collapse


def collapsing_data():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0.0, 1.0, (200, 2)), np.repeat([[8.0, 8.0]], 3, axis=0)])
    start = Mixture(
        np.array([0.9, 0.1]),
        np.array([[0.0, 0.0], [8.2, 7.9]]),
        np.array([np.eye(2), 0.5 * np.eye(2)]),
    )
    return X, start


def test_collapse_is_signalled_and_the_remedies_work(qtbot, lab_window):
    win, lab = lab_window
    s, cv = win.session, lab.collapse
    X, start = collapsing_data()
    s.load_points(X, "collapse")
    assert s.set_start(start)
    lab.show_dock("collapse")
    with qtbot.waitSignal(cv.collapse_detected, timeout=5000) as blocker:
        for _ in range(20):
            s.step_iteration()
            win.flush()
            if s.history[-1].collapsing:
                break
    assert 1 in blocker.args[0]
    snap = s.history[s.index]
    assert 1 in snap.collapsing
    # Highlighted: the red ellipse of component 1 and the three duplicates it holds.
    assert cv.ellipse_items[1].isVisible() and not cv.ellipse_items[0].isVisible()
    assert sorted(cv.held_points.tolist()) == [200, 201, 202]
    assert "Collapse" in win.statusBar().currentMessage()
    assert "collapsing" in cv.explanation.text()
    # log det of component 1 has dropped to the floor line.
    logdet = cv.log_dets()
    floor = s.data.floor(s.settings.reg_covar)
    assert logdet[s.index, 1] == pytest.approx(2 * np.log(floor), rel=1e-6)
    assert cv.floor_line.value() == pytest.approx(2 * np.log(floor))
    # Remedy 1: raise reg_covar with the slider; the next M-step holds the new floor.
    cv.reg_slider.setValue(cv.slider_value(1e-2))
    assert s.settings.reg_covar == pytest.approx(1e-2)
    assert len(s.history) == s.index + 1  # no re-initialisation
    s.step_iteration()
    cov = s.history[-1].mixture.covariances[1]
    new_floor = s.data.floor(1e-2)
    assert np.linalg.eigvalsh(cov).min() == pytest.approx(new_floor, rel=1e-9)
    assert cv.floor_line.value() == pytest.approx(2 * np.log(new_floor))
    # Remedy 2: re-initialise component 1 at a data point; EM goes on from there.
    n_before = len(s.history)
    cv.component_combo.setCurrentIndex(1)
    qtbot.mouseClick(cv.reinit_button, Qt.MouseButton.LeftButton)
    assert len(s.history) == n_before + 1
    edited = s.history[-1]
    assert edited.phase == "init"
    assert any(np.array_equal(edited.mixture.means[1], x) for x in X)
    np.testing.assert_allclose(edited.mixture.covariances[1], np.cov(X.T, bias=True))
    assert edited.mixture.weights[1] == pytest.approx(0.5)
    for _ in range(3):
        assert s.step_iteration()
    assert s.history[-1].iteration > edited.iteration
    assert np.isfinite(s.history[-1].log_likelihood)


# ----------------------------------------------------------------------------------------------
# Hard EM and k-means


def test_compare_paths_soft_hard_kmeans(qtbot, lab_window):
    win, lab = lab_window
    s, cv = win.session, lab.compare
    assert cv.paths is None
    with qtbot.waitSignal(cv.paths_changed):
        lab.actions["compare_on"].setChecked(True)
    assert lab.docks["compare"].isVisible()
    p = cv.paths
    start = s.history[0].mixture
    for key in ALGORITHMS:
        np.testing.assert_allclose(p.means[key][0], start.means)
        assert cv.path_items[key][0].isVisible() and not cv.path_items[key][2].isVisible()
        x, _y = cv.curves[key].getData()
        assert len(x) == len(p.log_likelihoods[key]) >= 2
    # Soft EM never lowers the likelihood; its end is the session's own run's end.
    assert np.all(np.diff(p.log_likelihoods["soft"]) >= -1e-9)
    assert cv.legend.isVisible()
    # A new start recomputes; turning off hides everything.
    with qtbot.waitSignal(cv.paths_changed):
        s.reinitialize()
    assert cv.paths.start is s.history[0].mixture
    with qtbot.waitSignal(cv.paths_changed):
        assert s.generate("overlapping", 300, 2, 3)
    assert cv.paths.means["soft"].shape[1] == s.settings.n_components
    lab.actions["compare_on"].setChecked(False)
    assert not cv.path_items["soft"][0].isVisible() and not cv.legend.isVisible()


def test_compare_on_large_data_runs_on_a_worker(qtbot, lab_window):
    win, lab = lab_window
    s, cv = win.session, lab.compare
    assert s.generate("overlapping", 8000, 1, 3)
    s.update_settings(n_components=3)
    with qtbot.waitSignal(cv.paths_changed, timeout=60000):
        cv.set_enabled(True)
        assert cv.task.running
    assert cv.paths.start is s.history[0].mixture
    qtbot.waitUntil(lambda: not lab.live_threads, timeout=5000)


def test_compare_with_a_long_max_iter_runs_on_a_worker(qtbot, lab_window):
    # With tol = 0 every path runs max_iter iterations: 3 x 100,000 on 272
    # points froze the window for minutes when computed on the GUI thread.
    win, lab = lab_window
    s, cv = win.session, lab.compare
    assert s.update_settings(tol=0.0, max_iter=100_000)
    cv.set_enabled(True)
    assert cv.task.running and cv.paths is None
    assert "worker thread" in cv.label.text()
    cv.set_enabled(False)
    qtbot.waitUntil(lambda: not lab.live_threads, timeout=10000)


# ----------------------------------------------------------------------------------------------
# Missing-values mode


def _missing_values_mode(session):
    session.load_dataset("old_faithful_holes")
    assert session.set_treat_missing(True) and session.n_incomplete > 0


def test_collapse_reseed_works_in_missing_values_mode(qtbot, lab_window):
    win, lab = lab_window
    s, cv = win.session, lab.collapse
    _missing_values_mode(s)
    lab.show_dock("collapse")
    s.step_iteration()
    errors = []
    s.error.connect(errors.append)
    for k in (0, 1):
        n_before = len(s.history)
        cv.component_combo.setCurrentIndex(k)
        qtbot.mouseClick(cv.reinit_button, Qt.MouseButton.LeftButton)
        assert errors == [] and len(s.history) == n_before + 1
        mix = s.history[-1].mixture
        assert np.all(np.isfinite(mix.means)) and np.all(np.isfinite(mix.covariances))
        assert s.step_iteration()
        assert np.isfinite(s.history[-1].log_likelihood)


def test_shift_click_adds_a_component_in_missing_values_mode(qtbot, lab_window):
    win, lab = lab_window
    s = win.session
    _missing_values_mode(s)
    plot = win.scatter
    win.flush()
    qtbot.wait(50)
    errors = []
    s.error.connect(errors.append)
    at = np.array([3.0, 60.0])
    qtbot.mouseClick(
        plot.viewport(),
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.ShiftModifier,
        view_to_widget(plot, *at),
    )
    assert errors == []
    mix = s.history[0].mixture
    assert mix.n_components == 3
    assert np.all(np.isfinite(mix.covariances[2]))
    assert np.linalg.eigvalsh(mix.covariances[2]).min() > 0
    assert s.step_iteration() and np.isfinite(s.history[-1].log_likelihood)


def test_compare_says_it_does_not_apply_in_missing_values_mode(qtbot, lab_window):
    win, lab = lab_window
    s, cv = win.session, lab.compare
    _missing_values_mode(s)
    lab.actions["compare_on"].setChecked(True)
    win.flush()
    assert cv.paths is None
    assert "does not apply with missing values" in cv.label.text()
    lab.show_dock("compare")
    assert cv.label.isVisible()


def test_ground_truth_and_restarts_in_missing_values_mode(qtbot, lab_window):
    win, lab = lab_window
    s = win.session
    _missing_values_mode(s)
    lab.show_dock("truth")
    lab.show_dock("restarts")
    win.flush()
    s.step_iteration()
    win.flush()


def test_a_huge_reg_covar_is_refused_and_reseed_keeps_working(qtbot, lab_window):
    # reg_covar = 1e308 was taken from the text field: its floor overflowed to
    # infinity, and re-seed then raised "invalid value encountered in matmul".
    win, lab = lab_window
    s = win.session
    errors = []
    s.error.connect(errors.append)
    edit = win.controls.reg_edit
    edit.setText("1e308")
    edit.editingFinished.emit()
    assert s.settings.reg_covar == 1e-6
    assert "reg_covar must be at most 1000" in errors[-1]
    assert lab.collapse.reinitialise(0)
    assert s.step_iteration() and np.isfinite(s.current.log_likelihood)


# ----------------------------------------------------------------------------------------------
# Labels that never overlap


def _overlaps(rects) -> list[tuple[int, int]]:
    return [
        (i, j)
        for i in range(len(rects))
        for j in range(i + 1, len(rects))
        if rects[i].intersects(rects[j])
    ]


def many_maxima_result(mixture: Mixture, n_maxima: int = 19) -> RestartsResult:
    """A restarts result with ``n_maxima`` maxima of nearly equal log-likelihood, 2 runs each."""
    from emviz.core.restarts import LocalMaximum

    runs, maxima = [], []
    for m in range(n_maxima):
        ll = -1000.0 - 0.001 * m  # close together: every count label sits at the same height
        members = []
        for j in range(2):
            index = 2 * m + j
            runs.append(
                RestartRun(
                    index=index,
                    seed=index,
                    method="kmeans++",
                    start=mixture,
                    mixture=mixture,
                    log_likelihoods=np.array([ll - 5.0, ll]),
                    n_iter=1,
                    converged=True,
                    collapsed=(),
                )
            )
            members.append(index)
        maxima.append(LocalMaximum(ll, mixture, tuple(members)))
    return RestartsResult(tuple(runs), tuple(maxima), len(runs), 0, False)


def test_restart_plot_labels_never_overlap_with_many_maxima(qtbot, lab_window):
    # With 19 maxima the axis labels read "#1#2#3..." and the "×n" counts overlapped.
    win, lab = lab_window
    lab.actions["restarts"].trigger()
    panel = lab.restarts
    qtbot.waitUntil(lambda: panel.plot.isVisible() and panel.plot.width() > 100)
    result = many_maxima_result(win.session.current.mixture)
    panel.set_result(result, panel._params, panel._data)
    panel.flush()
    panel.plot.grab()  # painted: every label has its size on the screen
    vb = panel.plot.getPlotItem().vb
    shown = [label for label in panel.count_labels if label.isVisible()]
    assert shown and shown[0] is panel.count_labels[0]  # the best maximum's count is shown
    rects = [label.sceneBoundingRect() for label in shown]
    assert not _overlaps(rects)
    assert all(vb.sceneBoundingRect().contains(r) for r in rects)
    # No count covers a dot.
    x, y, _ = panel.strip_positions()
    for xi, yi in zip(x, y, strict=True):
        p = vb.mapViewToScene(QtCore.QPointF(xi, yi))
        assert not any(r.contains(p) for r in rects)
    # The axis labels: every step-th maximum, at least a label's width apart.
    axis = panel.plot.getPlotItem().getAxis("bottom")
    major = axis._tickLevels[0]
    step = panel.tick_step()
    assert len(major) == len(range(0, 19, step))
    metrics = QtGui.QFontMetrics(axis.style.get("tickFont") or axis.font())
    (x0, x1), _ = vb.viewRange()
    gap = step * vb.width() / (x1 - x0)
    assert all(metrics.horizontalAdvance(text) < gap for _, text in major)


def test_collapse_labels_never_overlap_when_components_collapse_together(qtbot, lab_window):
    # Components collapsing onto nearby points had their "component k collapsing"
    # labels drawn on top of each other.
    from dataclasses import replace

    win, lab = lab_window
    s, cv = win.session, lab.collapse
    lab.show_dock("collapse")
    snap = s.history[s.index]
    centre = np.nanmean(s.X, axis=0)
    span = np.nanmax(s.X, axis=0) - np.nanmin(s.X, axis=0)
    k = 5
    means = centre + 0.02 * span * np.array([[i, (-1) ** i] for i in range(k)])
    cov = np.diag((1e-3 * span) ** 2)
    mixture = Mixture(np.full(k, 1 / k), means, np.repeat(cov[None], k, axis=0))
    cv._draw_overlay(replace(snap, mixture=mixture, collapsing=tuple(range(k))))
    win.scatter.grab()  # painted: every label has its size on the screen
    vb = win.scatter.getPlotItem().vb
    shown = [label for label in cv.ring_labels if label.isVisible()]
    assert len(shown) >= 2
    rects = [label.sceneBoundingRect() for label in shown]
    assert not _overlaps(rects)
    assert all(vb.sceneBoundingRect().contains(r) for r in rects)
    for x, y in means:  # no label on a ring's centre
        p = vb.mapViewToScene(QtCore.QPointF(x, y))
        assert not any(r.contains(p) for r in rects)
    # Zooming moves the rings apart or together in pixels: placed again, still apart.
    vb.scaleBy((0.5, 0.5))
    win.scatter.grab()
    shown = [label for label in cv.ring_labels if label.isVisible()]
    assert not _overlaps([label.sceneBoundingRect() for label in shown])
