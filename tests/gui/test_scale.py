"""Rendering that scales (raster above RASTER_MIN points in view) and loading off the GUI thread."""

from __future__ import annotations

import threading

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6 import QtCore

from emviz.ui.files import loading
from emviz.ui.views import points
from emviz.ui.views.palette import PALETTE
from emviz.ui.views.points import PointCloudItem


def _two_clusters(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n points in two tight clusters at (0, 0) and (10, 0), and soft responsibilities."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    X = np.column_stack([labels * 10.0, np.zeros(n)]) + rng.normal(scale=0.6, size=(n, 2))
    resp = np.where(labels[:, None] == 0, [0.7, 0.3], [0.2, 0.8])
    return X, resp


def _pixel(widget: pg.PlotWidget, image, x: float, y: float) -> np.ndarray:
    """RGB of the grabbed ``image`` of ``widget`` at data coordinates (x, y)."""
    vb = widget.getPlotItem().vb
    pos = widget.mapFromScene(vb.mapViewToScene(QtCore.QPointF(x, y)))
    pos += widget.viewport().pos()
    c = image.toImage().pixelColor(pos.x(), pos.y())
    return np.array([c.red(), c.green(), c.blue()], float)


def _render(qtbot, X, resp, raster_min, monkeypatch):
    monkeypatch.setattr(points, "RASTER_MIN", raster_min)
    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    widget.resize(500, 400)
    item = PointCloudItem(5)
    item.setDiameter(5, outline=False)
    widget.addItem(item)
    item.setPoints(X)
    item.setColours(resp)
    widget.getPlotItem().vb.setRange(xRange=(-3, 13), yRange=(-5, 5), padding=0)
    widget.show()
    qtbot.waitExposed(widget)
    image = widget.grab()
    return widget, item, image


def test_raster_shows_the_colours_of_the_points(qtbot, monkeypatch):
    X, resp = _two_clusters(6000)
    expected = {0: resp[X[:, 0] < 5][0] @ PALETTE[:2], 1: resp[X[:, 0] >= 5][0] @ PALETTE[:2]}
    drawn = {}
    for raster_min in (0, 10**9):
        widget, item, image = _render(qtbot, X, resp, raster_min, monkeypatch)
        assert item.mode == ("raster" if raster_min == 0 else "points")
        for k, (x, y) in enumerate([(0.0, 0.0), (10.0, 0.0)]):
            drawn[raster_min, k] = _pixel(widget, image, x, y)
    for k in (0, 1):
        # Quantised palette (steps of 17) for the points, the exact mean for the raster.
        np.testing.assert_allclose(drawn[0, k], expected[k], atol=10)
        np.testing.assert_allclose(drawn[10**9, k], expected[k], atol=10)
        np.testing.assert_allclose(drawn[0, k], drawn[10**9, k], atol=12)
    # Hard assignment: the most responsible component's colour, both ways.
    item.setColours(resp, hard=True)
    item.flush()
    np.testing.assert_allclose(_pixel(widget, widget.grab(), 10.0, 0.0), PALETTE[1], atol=10)


def test_new_colours_reuse_the_view(qtbot, monkeypatch):
    """During a run the view is still: a new snapshot recolours the pixels, nothing more."""
    X, resp = _two_clusters(30_000)
    widget, item, image = _render(qtbot, X, resp, points.RASTER_MIN, monkeypatch)
    assert item.mode == "raster" and item.n_in_view == len(X)
    view = item._view
    before = _pixel(widget, image, 0.0, 0.0)
    # The window system may still move or resize the widget (a new view, rightly);
    # new colours alone must never build one.
    made = []
    make_view = item._make_view
    monkeypatch.setattr(item, "_make_view", lambda key, *a: made.append(key) or make_view(key, *a))
    item.setColours(resp[:, ::-1].copy())
    assert item._view is view
    # New colours are rasterised in slices between events, off the paint:
    # the paint right after still shows the last raster.
    np.testing.assert_allclose(_pixel(widget, widget.grab(), 0.0, 0.0), before, atol=1)
    qtbot.waitUntil(lambda: item._job is None and item._image_stamp[0] == item._colour_version)
    after = _pixel(widget, widget.grab(), 0.0, 0.0)
    assert view.key not in made
    np.testing.assert_allclose(after, [0.3, 0.7] @ PALETTE[:2], atol=10)
    assert np.abs(after - before).max() > 40
    # Not assigned yet: grey.
    item.setColours(None)
    item.flush()
    np.testing.assert_allclose(_pixel(widget, widget.grab(), 0.0, 0.0), [150, 150, 150], atol=4)
    assert len(item.codes()) == len(X)


def test_zooming_in_switches_to_points(qtbot, window):
    s = window.session
    X, _ = _two_clusters(50_000, seed=1)
    s.load_points(X)
    s.step_e()
    window.flush()
    scatter = window.scatter
    scatter.grab()
    assert scatter.points.mode == "raster" and scatter.points.n_in_view == len(X)
    vb = scatter.getPlotItem().vb
    vb.setRange(xRange=(-0.3, 0.3), yRange=(-0.3, 0.3), padding=0)
    # The re-rasterisation waits for the view to settle (a timer, not a sleep).
    qtbot.waitUntil(lambda: scatter.points.mode == "points", timeout=3000)
    assert 0 < scatter.points.n_in_view < points.RASTER_MIN
    # Zoomed in, a point under the cursor shows its own colour.
    i = int(np.argmin(np.hypot(X[:, 0], X[:, 1])))
    codes = scatter.points.codes()
    assert codes.shape == (len(X),)
    assert codes[i] == points.quantize((s.current.resp[i] @ PALETTE[:2])[None])[0]
    scatter.fit_view()
    scatter.flush()
    scatter.grab()
    assert scatter.points.mode == "raster"


def test_raster_during_a_run(qtbot, fast):
    s = fast.session
    X, _ = _two_clusters(40_000, seed=2)
    s.load_points(X)
    s.update_settings(max_iter=4)
    with qtbot.waitSignal(s.run_finished, timeout=20000):
        fast.actions_by_key["run"].trigger()
    fast.flush()
    fast.scatter.grab()
    assert fast.scatter.points.mode == "raster"
    np.testing.assert_array_equal(
        fast.scatter.points.codes(), points.quantize(s.current.resp @ PALETTE[:2])
    )


# ---------------------------------------------------------------------------- loading


def _finished(qtbot, load, timeout=10000) -> str:
    if load.outcome is None:
        with qtbot.waitSignal(load.finished, timeout=timeout):
            pass
    return load.outcome


def test_async_load(qtbot, window, tmp_path):
    path = tmp_path / "many.csv"
    rng = np.random.default_rng(3)
    X = rng.normal(size=(3000, 2))
    np.savetxt(path, X, delimiter=",", header="u,v", comments="", fmt="%.6f")
    load = loading.load_file_async(window, path)
    assert _finished(qtbot, load) == "loaded"
    s = window.session
    assert s.n_samples == 3000 and s.data_name == "many.csv" and s.columns == ("u", "v")
    np.testing.assert_allclose(s.X, X, atol=1e-6)
    assert not load.thread.isRunning() and window.errors == []


def test_async_load_of_a_bad_file_keeps_the_data(qtbot, window, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("a,b\n1,2\n3,4\n5,x7\n8,9\n")
    s = window.session
    X0, name0, n_hist = s.X, s.data_name, len(s.history)
    load = loading.load_file_async(window, path)
    assert _finished(qtbot, load) == "failed"
    assert len(window.errors) == 1
    assert "line 4" in window.errors[0] and "column b" in window.errors[0]
    assert s.X is X0 and s.data_name == name0 and len(s.history) == n_hist


def test_cancel_keeps_the_data(qtbot, window, tmp_path, monkeypatch):
    path = tmp_path / "pts.csv"
    path.write_text("a,b\n" + "\n".join(f"{i},{i % 7}" for i in range(500)))
    gate = threading.Event()
    real = loading.load_points

    def held(path, columns=None, progress=None, **kw):
        def report(fraction):
            gate.wait(10)  # the worker holds here until the test has pressed Cancel
            return progress(fraction)

        return real(path, columns, progress=report, **kw)

    monkeypatch.setattr(loading, "load_points", held)
    s = window.session
    X0, name0 = s.X, s.data_name
    load = loading.load_file_async(window, path)
    load.dialog.canceled.emit()  # what the Cancel button does
    gate.set()
    assert _finished(qtbot, load) == "cancelled"
    assert s.X is X0 and s.data_name == name0 and window.errors == []
    assert not load.thread.isRunning()


def test_closing_the_window_stops_the_load(qtbot, window, tmp_path, monkeypatch):
    path = tmp_path / "pts.csv"
    path.write_text("a,b\n" + "\n".join(f"{i},{i % 7}" for i in range(500)))
    started = threading.Event()
    real = loading.load_points

    def slow(path, columns=None, progress=None, **kw):
        def report(fraction):
            started.set()
            return progress(fraction)

        return real(path, columns, progress=report, **kw)

    monkeypatch.setattr(loading, "load_points", slow)
    X0 = window.session.X
    load = loading.load_file_async(window, path)
    assert started.wait(10)
    window.close()
    assert load.outcome == "cancelled" and not load.thread.isRunning()
    assert window.session.X is X0


def test_ellipses_wait_for_the_raster(qtbot, window):
    """A large cloud's new colours and its new ellipses appear in the same paint."""
    s = window.session
    X, _ = _two_clusters(60_000, seed=4)
    s.load_points(X)
    s.step_e()
    window.flush()
    window.scatter.grab()
    scatter = window.scatter
    curve = scatter.ellipse_curves[1][0]
    x_before = curve.getData()[0].copy()
    s.step_m()  # new ellipses, and the responsibilities the M-step used: a raster job
    scatter.redraw()
    assert scatter.points.busy
    np.testing.assert_array_equal(curve.getData()[0], x_before)
    qtbot.waitUntil(lambda: not scatter.points.busy, timeout=5000)
    assert not np.allclose(curve.getData()[0], x_before)
    assert_ellipses_match(window)


def assert_ellipses_match(window) -> None:
    from emviz.core.geometry import ellipse_points

    mix = window.session.current.mixture
    for k in range(mix.n_components):
        x, y = window.scatter.ellipse_curves[1][k].getData()
        expected = ellipse_points(mix.means[k], mix.covariances[k], 1, n_points=120)
        np.testing.assert_allclose(x, expected[:, 0])


@pytest.mark.parametrize("raster_min", [0, 10**9])
def test_points_with_a_missing_coordinate_are_left_out(qtbot, monkeypatch, raster_min):
    """Rows with NaN (missing values kept for EM) are not drawn, both ways (NaN
    positions once crashed the painter)."""
    X, resp = _two_clusters(3000)
    X[::7, 0] = np.nan
    X[::11, 1] = np.nan
    widget, item, image = _render(qtbot, X, resp, raster_min, monkeypatch)
    assert item.n_in_view == np.isfinite(X).all(axis=1).sum()
    assert item.dataBounds(0) == (np.nanmin(X[:, 0]), np.nanmax(X[:, 0]))
    np.testing.assert_allclose(_pixel(widget, image, 10.0, 0.0), [0.2, 0.8] @ PALETTE[:2], atol=10)


def test_open_file_loads_a_large_file_on_a_worker(window, qtbot, tmp_path, monkeypatch):
    from emviz.ui import main_window

    monkeypatch.setattr(main_window, "ASYNC_LOAD_BYTES", 10)
    path = tmp_path / "big.csv"
    rows = "\n".join(f"{i % 7},{(i * 3) % 11}" for i in range(500))
    path.write_text("a,b\n" + rows + "\nNA,4\n")
    assert window.open_file(str(path))
    with qtbot.waitSignal(window._async_load.finished, timeout=10000) as blocker:
        pass
    assert blocker.args == ["loaded"]
    s = window.session
    assert s.n_samples == 500 and s.n_incomplete_raw == 1
    assert s.data_name == "big.csv"


def _above_top_pixels(window, k: int, offsets_px) -> list[np.ndarray]:
    """RGB just outside component ``k``'s 1-sd ellipse, above its topmost point
    (away from the mean's marker)."""
    scatter = window.scatter
    image = scatter.grab()
    x, y = scatter.ellipse_curves[1][k].getData()
    i = int(np.argmax(y))
    vb = scatter.getPlotItem().vb
    px_per_unit = vb.height() / (vb.viewRange()[1][1] - vb.viewRange()[1][0])
    return [_pixel(scatter, image, x[i], y[i] + d / px_per_unit) for d in offsets_px]


@pytest.mark.parametrize("n", [2000, 8000])
def test_ellipses_get_a_dark_casing_on_dense_clouds(qtbot, window, n):
    """Drawn in its points' colour over a dense cloud of them, a bare ellipse
    vanished; above DENSE_POINTS points each gets a dark casing beneath it."""
    from emviz.ui.views.scatter_view import DENSE_POINTS

    s = window.session
    X, _ = _two_clusters(n, seed=2)
    X[:, 1] *= 6.0  # tall clusters: the tops of the 1-sd ellipses lie inside them
    s.load_points(X)
    s.step_iteration()
    window.flush()
    dense = n > DENSE_POINTS
    for n_std, curves in window.scatter.ellipse_curves.items():
        pen = curves[0].opts["pen"]
        casing = curves[0].opts["shadowPen"]
        if not dense or n_std == 3:  # the 3-sd outline lies in the sparse edge
            assert casing is None
            continue
        assert casing.widthF() >= pen.widthF() + 2
        if pen.style() != QtCore.Qt.PenStyle.SolidLine:
            # Its dashes lie under the line's: the same lengths in pixels.
            scaled = [d * casing.widthF() for d in casing.dashPattern()]
            np.testing.assert_allclose(scaled, [d * pen.widthF() for d in pen.dashPattern()])
    if dense:
        # Just outside the solid 1-sd line, inside the cloud, the casing is
        # darker than the cloud a few pixels further out (without it, the
        # line's edge is as light as the cloud). The casing's band is sampled
        # at three depths and the darkest taken: where the band starts within
        # a pixel depends on the plot's size (a toolbar above it moved it by
        # half a pixel).
        for k in range(2):
            *band, cloud = (
                float(rgb.sum()) for rgb in _above_top_pixels(window, k, (2.0, 2.5, 3.0, 7.0))
            )
            assert min(band) < 0.75 * cloud
