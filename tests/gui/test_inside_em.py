"""Inside EM: lower bound, formulas, paths, density, model choice (pytest-qt, offscreen)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore, QtWidgets
from PySide6.QtCore import Qt

from emviz.core.bound import bound_terms
from emviz.core.em import aic, bic, iterate_em
from emviz.core.restarts import run_restarts
from emviz.core.steps import e_step, m_step
from emviz.ui.inside_em import install
from emviz.ui.inside_em.density import mixture_density

RTOL = 1e-9


@pytest.fixture
def win(qtbot, _dangling_qthreads):
    """The main window (Old Faithful, K = 2) with Inside EM installed and its docks shown."""
    from emviz.cli import create_main_window

    window = create_main_window([])
    qtbot.addWidget(window)
    inside = getattr(window, "inside_em", None) or install(window)
    window.show()
    qtbot.waitExposed(window)
    inside.show_docks()
    # The window widens for the panels' content (on this 800-pixel screen,
    # past its edge): let it, before a test measures a plot.
    qtbot.waitUntil(lambda: window.width() >= window.minimumSizeHint().width())
    window.flush()
    yield window
    window.close()
    window.session.shutdown()


def ie(window):
    return window.inside_em


def run_to_end(qtbot, window, max_iter=None):
    s = window.session
    s.set_delay(0.0)
    if max_iter is not None:
        s.update_settings(max_iter=max_iter)
    with qtbot.waitSignal(s.run_finished, timeout=20000):
        s.run()
    window.flush()


def q_of(session, i):
    """The responsibilities q of snapshot i (the posterior for "init")."""
    q = session.resp_at(i)
    if q is None:
        q = e_step(session.X, session.history[i].mixture)[0]
    return q


# ---------------------------------------------------------------- install


def test_install_adds_docks_menu_overlays_and_views(win):
    inside = ie(win)
    assert set(inside.docks) == {"bound", "slice", "formulas", "model"}
    menu = win.menuBar().findChild(QtWidgets.QMenu, "insideEmMenu")
    assert menu is not None
    texts = [a.text() for a in menu.actions()]
    for dock in inside.docks.values():
        assert dock.toggleViewAction() in menu.actions()
        assert dock.features() & QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetClosable
    assert any("paths" in t for t in texts) and any("heat map" in t for t in texts)
    for view in (inside.bound_view, inside.slice_view, inside.formulas_view, inside.model_choice):
        assert view in win.extra_views
    # Closable and restorable from the menu.
    dock = inside.docks["bound"]
    dock.close()
    assert not dock.isVisible()
    dock.toggleViewAction().trigger()
    assert dock.isVisible()


# ---------------------------------------------------------------- the lower bound


@pytest.mark.parametrize("seed,k,cov_type", [(0, 2, "full"), (3, 3, "full"), (1, 3, "diag")])
def test_bound_view_identity_over_runs(qtbot, win, seed, k, cov_type):
    """For every snapshot: log p = L + KL (as plotted), each term equal to the core's."""
    s = win.session
    s.update_settings(n_components=k, cov_type=cov_type, seed=seed, init="random")
    run_to_end(qtbot, win, max_iter=40)
    data = ie(win).bound_view.plotted()
    n = len(s.history)
    assert n > 5
    np.testing.assert_array_equal(data["x"], np.arange(n))
    logp, bound, kl = data["logp"], data["bound"], data["kl"]
    np.testing.assert_allclose(bound + kl, logp, rtol=RTOL, atol=0)
    scale = np.abs(logp)
    for i, snap in enumerate(s.history):
        terms = bound_terms(s.X, snap.mixture, q_of(s, i))
        assert abs(logp[i] - terms.log_likelihood) <= RTOL * scale[i]
        assert abs(bound[i] - terms.lower_bound) <= RTOL * scale[i]
        assert abs(kl[i] - terms.kl) <= RTOL * scale[i]
        assert abs(data["q"][i] - terms.expected_complete) <= RTOL * scale[i]
        assert abs(data["h"][i] - terms.entropy) <= RTOL * max(scale[i], 1.0)
        if snap.phase in ("E", "init"):
            # Right after an E-step q is the posterior: the gap is closed.
            assert abs(kl[i]) <= 1e-10 * scale[i]
        if snap.phase == "M":
            # The M-step never lowers the bound (q fixed, Q maximised).
            assert bound[i] >= bound[i - 1] - 1e-10 * scale[i]
            assert kl[i] >= -1e-10 * scale[i]


def test_bound_view_appends_and_rebuilds(qtbot, win):
    s = win.session
    view = ie(win).bound_view
    for _ in range(3):
        s.step_iteration()
    win.flush()
    first = view.series.arrays["logp"]
    n_before = view.series.n
    s.step_iteration()
    win.flush()
    assert view.series.n == n_before + 2
    assert view.series.arrays["logp"] is first  # appended in place, no rebuild
    # Going back and stepping rewrites the future: the series follows.
    s.set_index(2)
    s.step_e() if s.next_phase == "E" else s.step_m()
    win.flush()
    assert view.series.n == len(s.history) == 4
    np.testing.assert_array_equal(
        view.plotted()["logp"], [snap.log_likelihood for snap in s.history]
    )
    assert all(c.value() == s.index for c in view.cursors)


def test_hidden_bound_view_waits_until_it_is_shown(qtbot, win):
    s = win.session
    view = ie(win).bound_view
    dock = ie(win).docks["bound"]
    dock.hide()
    qtbot.waitUntil(lambda: not view.isVisible())
    n_before = view.series.n
    for _ in range(2):
        s.step_iteration()
    assert view.series.n == n_before  # not drawn behind the user's back
    dock.show()
    qtbot.waitUntil(view.isVisible)
    assert view.series.n == len(s.history)  # drawn on showing
    np.testing.assert_array_equal(
        view.plotted()["logp"], [snap.log_likelihood for snap in s.history]
    )
    dock.hide()
    s.step_iteration()
    win.flush()  # tests and export: everything current, shown or not
    assert view.series.n == len(s.history)


def test_bound_view_click_jumps(qtbot, win):
    s = win.session
    for _ in range(4):
        s.step_iteration()
    win.flush()
    view = ie(win).bound_view
    qtbot.waitUntil(lambda: view.top.width() > 100)
    vb = view.top.getPlotItem().vb
    scene_pt = vb.mapViewToScene(
        QtCore.QPointF(3, vb.viewRange()[1][0] * 0.5 + vb.viewRange()[1][1] * 0.5)
    )
    widget_pt = view.top.mapFromScene(scene_pt)
    qtbot.mouseClick(view.top.viewport(), Qt.MouseButton.LeftButton, pos=widget_pt)
    qtbot.waitUntil(lambda: s.index == 3)
    win.flush()
    assert "Half-step 3" in view.readout.text()


def test_bound_view_toggles_q_and_h(win):
    view = ie(win).bound_view
    assert not view.curves["q"].isVisible()
    view.show_q.setChecked(True)
    view.show_h.setChecked(True)
    assert view.curves["q"].isVisible() and view.curves["h"].isVisible()


def test_bound_view_long_history_is_fast(win):
    """A long history costs one append per new snapshot, not a rebuild."""
    import time

    s = win.session
    snaps = list(
        iterate_em(None, s.history[0].mixture, data=s.data, tol=1e-300, max_iter=1500, bound=True)
    )
    s.set_history(snaps)
    win.flush()
    view = ie(win).bound_view
    assert view.series.n == len(snaps)
    t0 = time.perf_counter()
    view.redraw()
    assert time.perf_counter() - t0 < 0.5


# ---------------------------------------------------------------- formulas


def _check_formulas(win, k):
    s = win.session
    view = ie(win).formulas_view
    view.set_component(k)
    win.flush()
    snap = s.current
    shown = view.values()
    core = m_step(s.X, snap.resp, cov_type=snap.mixture.cov_type, reg_covar=s.settings.reg_covar)
    assert core.allclose(snap.mixture, rtol=1e-12)
    # Computed by the panel from resp, equal to the core's M-step.
    np.testing.assert_allclose(view.numbers.weights, core.weights, rtol=1e-12)
    np.testing.assert_allclose(view.numbers.means, core.means, rtol=1e-12)
    np.testing.assert_allclose(view.numbers.covariances, core.covariances, rtol=1e-10)
    np.testing.assert_allclose(view.numbers.nk, snap.resp.sum(axis=0), rtol=1e-12)
    # As displayed (6 significant digits).
    rtol = 5e-6
    assert shown["N_k"] == pytest.approx(snap.resp[:, k].sum(), rel=rtol)
    assert shown["pi_k"] == pytest.approx(core.weights[k], rel=rtol)
    assert shown["mu_x"] == pytest.approx(core.means[k, 0], rel=rtol)
    assert shown["mu_y"] == pytest.approx(core.means[k, 1], rel=rtol)
    cov = core.covariances[k]
    assert shown["sigma_xx"] == pytest.approx(cov[0, 0], rel=rtol)
    assert shown["sigma_xy"] == pytest.approx(cov[0, 1], rel=rtol, abs=1e-12)
    assert shown["sigma_yy"] == pytest.approx(cov[1, 1], rel=rtol)
    return shown


@pytest.mark.parametrize("cov_type", ["full", "tied", "diag", "spherical"])
def test_formulas_equal_core_m_step(win, cov_type):
    s = win.session
    s.update_settings(cov_type=cov_type, n_components=3)
    s.step_iteration()
    s.step_iteration()
    assert s.current.phase == "M"
    for k in range(3):
        _check_formulas(win, k)
    text = ie(win).formulas_view.browser.toPlainText()
    assert "N" in text and "π" in text and "μ" in text and "Σ" in text


def test_formulas_for_an_e_snapshot_show_the_next_m_step(win):
    s = win.session
    s.step_iteration()
    s.step_e()
    win.flush()
    view = ie(win).formulas_view
    shown = view.values()
    nxt = m_step(s.X, s.current.resp, reg_covar=s.settings.reg_covar)
    assert shown["mu_x"] == pytest.approx(nxt.means[0, 0], rel=5e-6)
    s.step_m()
    _check_formulas(win, 0)


def test_formulas_e_step_for_the_selected_point(win):
    s = win.session
    s.step_iteration()
    view = ie(win).formulas_view
    win.flush()
    assert "Click a point" in view.browser.toPlainText()
    resp = s.current.resp
    i = int(np.argmin(np.abs(resp[:, 0] - 0.5)))  # a point both components share
    s.select(i)
    view.set_component(1)
    win.flush()
    shown = view.values()
    assert shown["r_nk"] == pytest.approx(resp[i, 1], rel=5e-6)
    for j in range(2):
        assert shown[f"r_{j}"] == pytest.approx(resp[i, j], rel=5e-6)
    total = shown["dens_0"] + shown["dens_1"]
    assert shown["dens_sum"] == pytest.approx(total, rel=1e-5)
    assert shown["dens_0"] / shown["dens_sum"] == pytest.approx(resp[i, 0], rel=1e-5)


def test_formula_numbers_parse_back():
    from emviz.ui.inside_em.formulas_view import fmt, parse_number

    for v in (0.0, 1.0, -3.25, 12345.678, 1.23456e-7, -9.87e12, 0.5):
        text = fmt(v).replace("<sup>", "").replace("</sup>", "")
        assert parse_number(text) == pytest.approx(v, rel=1e-5)


# ---------------------------------------------------------------- paths


def test_trails_follow_the_means(win):
    s = win.session
    for _ in range(5):
        s.step_iteration()
    trails = ie(win).trails
    ie(win).actions["trails"].setChecked(True)
    win.flush()
    path = trails.path()
    assert path.shape == (6, 2, 2)
    expected = [snap.mixture.means for snap in s.history if snap.phase != "E"]
    np.testing.assert_allclose(path, expected)
    # The union of the band curves is the whole path of component 0, newest opaque.
    pts = []
    for curve in trails.curves[0]:
        if curve.isVisible():
            x, y = curve.getData()
            pts.extend(zip(x, y, strict=True))
    assert set(map(tuple, path[:, 0])) == set(pts)
    assert trails.curves[0][0].opts["pen"].color().alpha() == 255
    # Older snapshot: the trail stops there.
    s.set_index(4)
    win.flush()
    assert trails.path().shape[0] == 3
    ie(win).actions["past_ellipses"].setChecked(True)
    assert trails.ellipses[0].isVisible()
    ie(win).actions["trails"].setChecked(False)
    assert not any(c.isVisible() for row in trails.curves for c in row)


# ---------------------------------------------------------------- density


def test_density_integrates_to_one_over_a_wide_window(qtbot, win):
    s = win.session
    for _ in range(5):
        s.step_iteration()
    density = ie(win).density
    ie(win).actions["heatmap"].setChecked(True)
    ie(win).actions["contours"].setChecked(True)
    X = s.X
    lo, hi = X.min(axis=0), X.max(axis=0)
    span = hi - lo
    vb = win.scatter.getPlotItem().vb
    vb.setRange(
        xRange=(lo[0] - span[0], hi[0] + span[0]),
        yRange=(lo[1] - span[1], hi[1] + span[1]),
        padding=0,
    )
    # The window (wider than this 800-pixel screen with three panels open)
    # has its final size before the grid is measured.
    qtbot.waitUntil(lambda: win.width() >= win.minimumSizeHint().width())
    win.flush()
    img = density.image
    assert img.isVisible() and img.zValue() < 0  # under the points
    values = np.asarray(img.image, dtype=float)
    rect = img.mapRectToParent(img.boundingRect())
    pixel_area = rect.width() / values.shape[0] * rect.height() / values.shape[1]
    total = float(values.sum() * pixel_area)
    assert total == pytest.approx(1.0, abs=0.01)  # Riemann sum over ~3x the data's range
    # Pixel (i, j) is the density at its centre.
    x0, y0, dx, dy = density.grid
    i, j = values.shape[0] // 3, values.shape[1] // 2
    at = mixture_density(
        s.current.mixture, np.array([x0 + (i + 0.5) * dx]), np.array([y0 + (j + 0.5) * dy])
    )
    assert values[i, j] == pytest.approx(at[0, 0], rel=1e-12)
    assert any(iso.isVisible() for iso in density.isocurves)
    # Follows the snapshot shown.
    s.set_index(0)
    win.flush()
    # (A grid of another size, if the window was resized meanwhile, differs too.)
    after = np.asarray(img.image)
    assert after.shape != values.shape or not np.allclose(after, values)


# ---------------------------------------------------------------- model choice


def test_model_choice_bic_aic_equal_core_and_load(qtbot, win):
    s = win.session
    view = ie(win).model_choice
    view.k_max = 4
    view.runs_spin.setValue(2)
    with qtbot.waitSignal(view.computation_finished, timeout=60000) as blocker:
        qtbot.mouseClick(view.compute_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [False]
    qtbot.waitUntil(lambda: not view.live_threads, timeout=5000)
    plotted = view.plotted()
    np.testing.assert_array_equal(plotted["k"], [1, 2, 3, 4])
    st = s.settings
    for idx, k in enumerate(range(1, 5)):
        r = view.results[k]
        assert plotted["bic"][idx] == pytest.approx(bic(s.X, r.mixture), rel=1e-12)
        assert plotted["aic"][idx] == pytest.approx(aic(s.X, r.mixture), rel=1e-12)
        # The best of the same restarts, computed by the core.
        core = run_restarts(
            s.X,
            k,
            2,
            cov_type=st.cov_type,
            seed=view.seed,
            reg_covar=st.reg_covar,
            tol=st.tol,
            max_iter=st.max_iter,
        )
        best = core.runs[core.best_run]
        assert r.mixture.allclose(best.mixture, rtol=1e-12)
    chosen = view.chosen_k
    assert chosen == int(plotted["k"][np.argmin(plotted["bic"])])
    x, y = view.chosen_item.getData()
    assert list(x) == [chosen]
    # Clicking a K loads its best fit, history and all.
    qtbot.waitUntil(lambda: view.plot.width() > 100)
    vb = view.plot.getPlotItem().vb
    ymid = sum(vb.viewRange()[1]) / 2
    pt = view.plot.mapFromScene(vb.mapViewToScene(QtCore.QPointF(3, ymid)))
    with qtbot.waitSignal(s.history_changed, timeout=5000):
        qtbot.mouseClick(view.plot.viewport(), Qt.MouseButton.LeftButton, pos=pt)
    assert s.settings.n_components == 3
    assert s.history[0].phase == "init"
    assert s.history[0].mixture.allclose(view.results[3].start, rtol=0)
    assert s.history[-1].mixture.allclose(view.results[3].mixture, rtol=1e-12)
    assert not np.isnan(s.history[-1].expected_complete)  # the bound view can draw it


def test_model_choice_cancel(qtbot, win):
    view = ie(win).model_choice
    view.runs_spin.setValue(20)
    with qtbot.waitSignal(view.computation_finished, timeout=10000) as blocker:
        view.compute()
        assert view.running
        qtbot.mouseClick(view.cancel_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [True]
    qtbot.waitUntil(lambda: not view.live_threads, timeout=10000)
    assert view.compute_button.isEnabled()


def test_closing_the_window_mid_computation_stops_the_worker(qtbot, win):
    view = ie(win).model_choice
    view.runs_spin.setValue(20)
    view.compute()
    thread = view.thread
    assert thread is not None and thread.isRunning()
    win.close()
    assert thread.isFinished()
    assert not view.live_threads


# ---------------------------------------------------------------- missing values


def _missing_values_mode(win):
    s = win.session
    s.load_dataset("old_faithful_holes")
    assert s.set_treat_missing(True) and s.n_incomplete > 0
    return s


def test_formulas_in_missing_values_mode_equal_the_core_m_step(win):
    s = _missing_values_mode(win)
    view = ie(win).formulas_view
    s.step_iteration()
    s.step_iteration()
    assert s.current.phase == "M"
    snap = s.current
    used_by = s.history[s.index - 1].mixture  # the mixture resp came from
    core = m_step(
        s.X,
        snap.resp,
        cov_type=snap.mixture.cov_type,
        reg_covar=s.settings.reg_covar,
        missing="marginalize",
        mixture=used_by,
    )
    assert core.allclose(snap.mixture, rtol=1e-12)
    for k in range(snap.mixture.n_components):
        view.set_component(k)
        win.flush()
        np.testing.assert_allclose(view.numbers.weights, core.weights, rtol=1e-12)
        np.testing.assert_allclose(view.numbers.means, core.means, rtol=1e-10)
        np.testing.assert_allclose(view.numbers.covariances, core.covariances, rtol=1e-9)
        assert view.values()["mu_x"] == pytest.approx(core.means[k, 0], rel=5e-6)
    assert "expected position" in view.browser.toPlainText()
    # An E snapshot shows the next M-step, and a clicked point its E-step.
    s.step_e()
    i = win.scatter.nearest_point(*s.X[0])
    assert not np.isnan(s.X[i]).any()
    s.select(i)
    view.set_component(1)
    win.flush()
    resp = s.current.resp
    shown = view.values()
    assert shown["r_nk"] == pytest.approx(resp[i, 1], rel=5e-6)
