"""EM with missing coordinates in the window: the toggle, the counts, the filled-in points."""

from __future__ import annotations

import numpy as np

from emviz.core import load_dataset
from emviz.core.steps import e_step


def conditional_positions(X, mixture, resp):
    """Expected positions of incomplete rows, from the textbook formula.

    For a row missing y: E[y | x] = sum_k r_k (mu_ky + S_kxy / S_kxx (x - mu_kx));
    likewise for a row missing x.
    """
    out = np.array(X, copy=True)
    for n in np.flatnonzero(np.isnan(X).any(axis=1)):
        m = int(np.isnan(X[n, 1]))  # the missing coordinate
        o = 1 - m
        cond = [
            mu[m] + S[m, o] / S[o, o] * (X[n, o] - mu[o])
            for mu, S in zip(mixture.means, mixture.covariances)
        ]
        out[n, m] = float(np.dot(resp[n], cond))
    return out


def test_treat_missing_uses_the_incomplete_rows(window, qtbot):
    s = window.session
    action = window.actions_by_key["treat_missing"]
    assert not action.isEnabled()  # Old Faithful has no holes
    s.load_dataset("old_faithful_holes")
    assert action.isEnabled() and not action.isChecked()
    assert s.n_samples == 190 and s.n_incomplete_raw == 82
    assert "82 incomplete rows left out" in window.status_text()
    assert "82 rows with a missing coordinate left out" in window.param_caption.text()

    action.trigger()  # as the menu item does
    assert s.treat_missing and s.n_samples == 272 and s.n_incomplete == 82
    assert "82 incomplete: EM fills them in" in window.status_text()
    assert "of which 82 have a missing coordinate" in window.param_caption.text()
    overlay = window.missing_overlay

    raw = load_dataset("old_faithful_holes").X
    previous = None
    for _ in range(3):
        s.step_e()
        window.flush()
        snap = s.current
        resp, _ = e_step(s.X, snap.mixture, missing="marginalize")
        expected = conditional_positions(s.X, snap.mixture, resp)
        rows = np.concatenate(
            [np.flatnonzero(np.isnan(s.X[:, 0])), np.flatnonzero(np.isnan(s.X[:, 1]))]
        )
        np.testing.assert_allclose(overlay.positions, expected[rows], rtol=1e-9)
        assert np.all(overlay.spread > 0)
        if previous is not None:
            assert not np.allclose(previous, overlay.positions)  # the points move
        previous = overlay.positions.copy()
        s.step_m()
    np.testing.assert_array_equal(np.isnan(s.X), np.isnan(raw))

    lls = [snap.log_likelihood for snap in s.history]
    assert all(b >= a - 1e-9 * abs(a) for a, b in zip(lls, lls[1:]))

    action.trigger()
    assert not s.treat_missing and s.n_samples == 190 and len(s.history) == 1
    window.flush()
    assert len(overlay.positions) == 0


def test_a_run_with_missing_values_converges(fast, qtbot):
    s = fast.session
    s.load_dataset("old_faithful_holes")
    s.set_treat_missing(True)
    with qtbot.waitSignal(s.run_finished, timeout=20000) as blocker:
        s.run()
    assert blocker.args == ["converged"]
    assert s.history[-1].converged
    fast.flush()
    assert fast.missing_overlay.positions.shape == (82, 2)


def test_the_lower_bound_view_says_why_it_is_empty(window):
    s = window.session
    s.load_dataset("old_faithful_holes")
    s.set_treat_missing(True)
    s.step()
    view = window.inside_em.bound_view if hasattr(window.inside_em, "bound_view") else None
    if view is None:
        from emviz.ui.inside_em.bound_view import BoundView

        view = window.findChild(BoundView)
    window.flush()
    assert "Treat missing values with EM" in view.readout.text()


def test_rows_skipped_on_loading_are_counted_in_the_caption(window, tmp_path):
    # Penguins has two rows with neither bill length nor bill depth: left
    # out on loading, and the caption says so (it used to say only "342").
    from emviz.core.resources import resource_path

    s = window.session
    s.load_dataset("penguins")
    assert s.n_samples == 342 and s.n_skipped == 2
    assert "2 rows of the file had neither value and were skipped" in window.param_caption.text()
    s.load_file(resource_path("datasets", "penguins.csv"), ("bill_length_mm", "bill_depth_mm"))
    assert s.n_skipped == 2
    assert "had neither value" in window.param_caption.text()
    s.load_dataset("old_faithful")
    assert s.n_skipped == 0 and "skipped" not in window.param_caption.text()


def test_the_treat_missing_toggle_says_why_it_is_disabled(window):
    action = window.actions_by_key["treat_missing"]
    assert not action.isEnabled()
    assert "no point has a missing coordinate" in action.toolTip()
    window.session.load_dataset("old_faithful_holes")
    assert action.isEnabled() and "disabled" not in action.toolTip()


def test_data_at_extreme_scales_are_refused_with_a_message(window, tmp_path):
    # 1e100 used to load and then stop pyqtgraph ("Cannot set range [nan,
    # nan]"); 1e-200 "converged" to weights [0.5, 0.5] without a word.
    s = window.session
    errors = []
    s.error.connect(errors.append)
    for name, treat in (("old_faithful", False), ("old_faithful_holes", True)):
        s.load_dataset(name)
        assert s.set_treat_missing(treat) or not treat
        before = (s.X, s.history[0])
        raw = load_dataset(name).X
        for scale, why in ((1e100, "rescale"), (1e-200, "rescale"), (1e300, "rescale")):
            path = tmp_path / f"scaled_{scale:g}.csv"
            np.savetxt(path, raw * scale, delimiter=",", header="a,b", comments="")
            assert not s.load_file(path, ("a", "b"))
            assert why in errors[-1]
            assert s.X is before[0] and s.history[0] is before[1]  # nothing changed
            window.flush()
        offset = tmp_path / "offset.csv"
        np.savetxt(offset, raw + 1e15, delimiter=",", header="a,b", comments="", fmt="%.17g")
        assert not s.load_file(offset, ("a", "b"))
        assert "subtract an offset" in errors[-1]
        assert s.step_iteration() and np.isfinite(s.current.log_likelihood)


def test_data_no_fit_can_use_is_reported_with_the_file_and_column(window, tmp_path):
    path = tmp_path / "tiny.csv"
    path.write_text("width,height\n" + "".join(f"{i}e-320,{i}e-320\n" for i in range(1, 9)))
    errors = []
    window.session.error.connect(errors.append)
    assert not window.session.load_file(path, ("width", "height"))
    assert errors[-1].startswith("tiny.csv: the points spread over only")
    path.write_text("width,height\n1e308,1\n-1e308,2\n3,4\n")
    assert not window.session.load_file(path, ("width", "height"))
    assert errors[-1].startswith("tiny.csv: column 'width' has values as large as 1e+308")


def test_axis_scales_are_chosen_from_the_observed_values(window):
    # With NaN cells the span was NaN and the status bar said the ranges
    # "differ inf-fold"; Old Faithful's observed ranges differ 15-fold.
    messages = []
    window.statusBar().messageChanged.connect(messages.append)
    window.session.load_dataset("old_faithful_holes")
    window.session.set_treat_missing(True)
    assert any("differ 15-fold" in m for m in messages), messages
    assert not any("inf-fold" in m for m in messages)
