"""File > Export through the window (pytest-qt, offscreen): MP4 written and read back, SVG
with missing values."""

from __future__ import annotations

import numpy as np
import pytest

from emviz.export.writers import MP4_UNAVAILABLE
from emviz.ui.main_window import build_window


@pytest.fixture
def win(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("EMVIZ_SETTINGS", str(tmp_path / "settings" / "emviz.ini"))
    window = build_window(2, "full", "kmeans++", 0)
    qtbot.addWidget(window)
    assert window.session.load_dataset("old_faithful")
    window.show()
    qtbot.waitExposed(window)
    yield window
    window.session.shutdown()
    window.close()


def test_mp4_of_part_of_the_history(win, tmp_path):
    pytest.importorskip("imageio_ffmpeg")
    from tests.test_export_writers import read_mp4

    s = win.session
    for _ in range(5):
        s.step()
    s.set_index(2)
    action = win.exporter.actions["mp4"]
    assert action.isEnabled() and action.toolTip() != MP4_UNAVAILABLE
    path = tmp_path / "run.mp4"
    assert win.exporter.mp4(str(path), steps=(1, 4, 80))
    frames, (w, h) = read_mp4(path)
    assert w >= win.scatter.width() and h > win.scatter.height()  # a caption band on top
    assert len(frames) == 3 * 2 + 62  # four frames: 80 ms is 2 at 25 a second, the last 2.5 s
    assert s.index == 2  # the snapshot shown is put back
    assert not win.errors
    assert "Exported" in win.statusBar().currentMessage()


def test_svg_in_missing_values_mode_draws_no_point_at_nan(win, tmp_path):
    import xml.etree.ElementTree as ET

    import numpy as np

    X = np.random.default_rng(0).normal(size=(50, 2))
    X[3, 0] = np.nan
    s = win.session
    s.set_treat_missing(True)
    s.load_points(X, "gaps.csv", ("a", "b"))
    assert s.n_samples == 50
    assert win.exporter.svg(str(tmp_path / "v.svg"))
    text = (tmp_path / "v.svg").read_text()
    assert "nan" not in text.lower()
    circles = ET.parse(tmp_path / "v.svg").getroot().iter("{http://www.w3.org/2000/svg}circle")
    assert len(list(circles)) == 49  # the point with a missing x is not drawn, as in the window


def test_mp4_item_without_the_video_extra_says_what_to_install(qtbot, monkeypatch, tmp_path):
    from emviz.export import menu

    monkeypatch.setattr(menu, "ffmpeg_path", lambda: None)
    monkeypatch.setenv("EMVIZ_SETTINGS", str(tmp_path / "emviz.ini"))
    window = build_window(2, "full", "kmeans++", 0)
    qtbot.addWidget(window)
    try:
        action = window.exporter.actions["mp4"]
        assert not action.isEnabled()
        assert action.toolTip() == MP4_UNAVAILABLE and "emviz[video]" in action.text()
        assert not window.exporter.mp4(str(tmp_path / "run.mp4"), steps=(0, 0, 100))
        assert window.errors[-1] == MP4_UNAVAILABLE
        assert not (tmp_path / "run.mp4").exists()
    finally:
        window.session.shutdown()
        window.close()


def test_a_caption_fits_a_narrow_frame(win):
    # At 400 px wide the caption was cut at both ends ("teration 14 · M-step ·
    # log-likelihood -974.666 ✓ converge"): its font followed the height only.
    from emviz.export.capture import caption_text, grab_view, qimage_to_rgb

    win.session.step_iteration()
    caption = caption_text(win.session, win.session.index) + "  ✓ converged"
    rgb = qimage_to_rgb(grab_view(win, (400, 700), caption))
    band = rgb[: rgb.shape[0] - 700]
    background = band[0, 0]
    edges = np.concatenate([band[:, :3], band[:, -3:]], axis=1)
    assert (edges == background).all()  # no text at either edge
    assert (band != background).any(axis=2).sum() > 200  # and the text is there


def test_exports_leave_out_the_start_editors_handles(win, tmp_path):
    import xml.etree.ElementTree as ET

    from PySide6 import QtGui

    from emviz.ui.views.screen_aids import is_screen_aid

    editor = win.lab.editor
    win.flush()
    assert editor.active  # the handles are on the plot, before the first step
    k = win.session.current.mixture.n_components
    handles = [item for c in range(k) for item in (editor.mean_items[c], *editor.axis_items[c])]
    assert all(h.isVisible() and is_screen_aid(h) for h in handles)
    # SVG: no ring of a start mean (a circle larger than a point) and no square
    # handle: the circles are the points, all of one size.
    assert win.exporter.svg(str(tmp_path / "start.svg"))
    ns = "{http://www.w3.org/2000/svg}"
    circles = list(ET.parse(tmp_path / "start.svg").getroot().iter(f"{ns}circle"))
    assert len(circles) == win.session.n_samples
    assert len({round(float(c.get("r")), 1) for c in circles}) == 1
    assert all(h.isVisible() for h in handles)  # back on screen after the capture
    # PNG: the picture of the plot with the handles hidden, not as shown.
    png = tmp_path / "start.png"
    assert win.exporter.png(str(png))
    assert all(h.isVisible() for h in handles)
    view = win.scatter
    fmt = QtGui.QImage.Format.Format_RGB32
    shown = view.grab().toImage().convertToFormat(fmt)
    for h in handles:
        h.setVisible(False)
    bare = view.grab().toImage().convertToFormat(fmt)
    for h in handles:
        h.setVisible(True)
    exported = QtGui.QImage(str(png)).convertToFormat(fmt)
    assert exported != shown
    assert exported == bare
