"""Basin maps: EM from one start with one mean moved over a grid."""

import numpy as np
import pytest

from emviz.core import EmvizError, Mixture, iterate_em, load_dataset, make_preset
from emviz.core.basin import (
    BASIN_METHOD,
    BASIN_SEED,
    MAX_GRID,
    BasinMap,
    basin_map,
    moved_start,
)
from emviz.core.data import as_data
from emviz.core.matching import same_solution
from emviz.core.restarts import group_maxima

XS = np.linspace(-8.0, 8.0, 6)
YS = np.linspace(-4.0, 4.0, 5)


@pytest.fixture(scope="module")
def five_clusters():
    """The "multi_optima" preset: five clusters, so K = 3 has several maxima."""
    return make_preset("multi_optima", 300, 0).X


@pytest.fixture(scope="module")
def start3():
    cov = np.repeat(4.0 * np.eye(2)[None], 3, axis=0)
    means = np.array([[0.0, 0.0], [-5.0, 1.5], [5.5, 0.0]])
    return Mixture(np.full(3, 1.0 / 3.0), means, cov)


@pytest.fixture(scope="module")
def basins(five_clusters, start3):
    return basin_map(five_clusters, start3, 0, XS, YS, max_iter=300)


def _single_run(X, start, **kwargs):
    """Final snapshot and likelihood trace of one EM run, consumed as run_restarts does."""
    trace, last = [], None
    for snap in iterate_em(None, start, data=as_data(X), **kwargs):
        if snap.phase != "E":
            trace.append(snap.log_likelihood)
        last = snap
    return last, np.array(trace)


# ---------------------------------------------------------------------------
# The result


def test_result_shapes_and_records(basins, start3):
    assert isinstance(basins, BasinMap)
    assert basins.shape == (len(YS), len(XS))
    assert basins.labels.shape == (len(YS), len(XS))
    assert basins.n_cells == len(XS) * len(YS) == len(basins.runs)
    assert not basins.cancelled
    assert basins.component == 0 and basins.start is start3
    np.testing.assert_array_equal(basins.xs, XS)
    np.testing.assert_array_equal(basins.ys, YS)
    for a in (basins.labels, basins.xs, basins.ys):
        assert not a.flags.writeable
    for index, run in enumerate(basins.runs):
        i, j = divmod(index, len(XS))
        assert run.index == index == basins.cell_index(i, j)
        assert basins.run_at(i, j) is run
        assert run.seed == BASIN_SEED and run.method == BASIN_METHOD
        # The start is the base start with only mean 0 moved to the cell.
        np.testing.assert_array_equal(run.start.means[0], [XS[j], YS[i]])
        np.testing.assert_array_equal(run.start.means[1:], start3.means[1:])
        np.testing.assert_array_equal(run.start.weights, start3.weights)
        np.testing.assert_array_equal(run.start.covariances, start3.covariances)
        assert run.start.cov_type == start3.cov_type == run.mixture.cov_type
        assert len(run.log_likelihoods) == run.n_iter + 1
        assert not run.log_likelihoods.flags.writeable


def test_cells_equal_single_fits_from_the_same_start(basins, five_clusters, start3):
    data = as_data(five_clusters)
    # One cell of every maximum, plus the corners.
    cells = {(0, 0), (len(YS) - 1, len(XS) - 1), (2, 3)}
    for m in range(len(basins.maxima)):
        i, j = np.argwhere(basins.labels == m)[0]
        cells.add((int(i), int(j)))
    for i, j in sorted(cells):
        start = Mixture(
            start3.weights,
            np.array([[XS[j], YS[i]], start3.means[1], start3.means[2]]),
            start3.covariances,
        )
        last, trace = _single_run(five_clusters, start, tol=1e-8, max_iter=300, reg_covar=1e-6)
        run = basins.run_at(i, j)
        assert run.start.allclose(start, rtol=0.0)
        np.testing.assert_allclose(run.log_likelihoods, trace, rtol=1e-12)
        assert run.log_likelihood == pytest.approx(last.log_likelihood, rel=1e-12)
        assert run.mixture.allclose(last.mixture, rtol=1e-9, atol=1e-12)
        assert run.n_iter == last.iteration and run.converged == last.converged
        maximum = basins.maximum_at(i, j)
        assert maximum is basins.maxima[basins.labels[i, j]]
        assert same_solution(maximum.mixture, last.mixture, 1e-2, scale=data.scale)
        assert maximum.log_likelihood >= last.log_likelihood - 1e-9


def test_labels_index_maxima(basins):
    seen = []
    for m, maximum in enumerate(basins.maxima):
        for index in maximum.runs:
            i, j = divmod(index, len(XS))
            assert basins.labels[i, j] == m
        seen.extend(maximum.runs)
    # Every cell belongs to exactly one maximum.
    assert sorted(seen) == list(range(basins.n_cells))
    assert basins.labels.min() == 0
    assert basins.labels.max() == len(basins.maxima) - 1
    lls = [m.log_likelihood for m in basins.maxima]
    assert lls == sorted(lls, reverse=True)


def test_grouping_equals_group_maxima(basins, five_clusters):
    expected = group_maxima(basins.runs, rtol=1e-2, scale=as_data(five_clusters).scale)
    assert len(expected) == len(basins.maxima)
    for a, b in zip(expected, basins.maxima):
        assert a.runs == b.runs
        assert a.log_likelihood == b.log_likelihood
        assert a.converged == b.converged
        assert a.degenerate == b.degenerate
        assert a.mixture.allclose(b.mixture, rtol=0.0)


def test_degenerate_flags_follow_the_runs(basins):
    for maximum in basins.maxima:
        assert maximum.degenerate == basins.runs[maximum.best_run].degenerate


def test_several_basins_on_data_with_several_optima(basins):
    honest = [m for m in basins.maxima if not m.degenerate and m.converged]
    assert len(honest) >= 2
    # Both of the two best honest maxima are reached from several cells.
    assert all(m.count >= 2 for m in honest[:2])
    assert honest[0].log_likelihood > honest[1].log_likelihood + 1.0


def test_old_faithful_bad_start_has_several_basins():
    X = load_dataset("old_faithful").X
    # Two tight components: the fixed one on the upper cluster, the moved one
    # swept over the data.  From most cells EM finds the usual maximum; from
    # the corner far from both clusters the moved component shrinks onto a
    # few points.
    cov = np.repeat(np.diag([0.05, 5.0])[None], 2, axis=0)
    start = Mixture([0.5, 0.5], [[3.5, 70.0], [4.4, 80.0]], cov)
    xs, ys = np.linspace(1.6, 5.1, 7), np.linspace(43.0, 96.0, 7)
    result = basin_map(X, start, 0, xs, ys)
    assert len(result.maxima) >= 2
    best = result.maxima[0]
    assert not best.degenerate
    assert best.log_likelihood == pytest.approx(-1130.26, abs=0.01)
    assert np.count_nonzero(result.labels == 0) > result.n_cells // 2
    assert np.count_nonzero(result.labels != 0) >= 1


def test_cov_type_defaults_to_the_start_and_can_be_changed(five_clusters, start3):
    full = basin_map(five_clusters, start3, 1, [0.0], [0.0], max_iter=50)
    assert full.runs[0].mixture.cov_type == "full"
    diag = basin_map(five_clusters, start3, 1, [0.0], [0.0], cov_type="diag", max_iter=50)
    assert diag.runs[0].mixture.cov_type == "diag"
    last, _ = _single_run(five_clusters, diag.runs[0].start, cov_type="diag", max_iter=50, tol=1e-8)
    assert diag.runs[0].mixture.allclose(last.mixture)


def test_moved_start_keeps_everything_else(start3):
    moved = moved_start(start3, 2, (1.0, -2.0))
    np.testing.assert_array_equal(moved.means[2], [1.0, -2.0])
    np.testing.assert_array_equal(moved.means[:2], start3.means[:2])
    np.testing.assert_array_equal(moved.covariances, start3.covariances)
    np.testing.assert_array_equal(start3.means[2], [5.5, 0.0])  # the start is untouched


# ---------------------------------------------------------------------------
# Progress and cancellation


def test_progress_called_once_per_cell(five_clusters, start3):
    calls = []
    basin_map(
        five_clusters, start3, 0, XS[:3], YS[:2], max_iter=50, progress=lambda *a: calls.append(a)
    )
    assert calls == [(k, 6) for k in range(1, 7)]


def test_cancel_mid_map_leaves_minus_one_labels(five_clusters, start3):
    done = []

    def stop():
        return len(done) >= 4

    result = basin_map(
        five_clusters,
        start3,
        0,
        XS,
        YS,
        max_iter=300,
        progress=lambda d, t: done.append(d),
        should_stop=stop,
    )
    assert result.cancelled
    assert len(result.runs) == 4
    flat = result.labels.ravel()
    assert np.all(flat[:4] >= 0)
    assert np.all(flat[4:] == -1)
    assert result.run_at(0, 4) is None and result.maximum_at(0, 4) is None
    assert result.maximum_at(0, 3) is result.maxima[flat[3]]
    assert sorted(i for m in result.maxima for i in m.runs) == [0, 1, 2, 3]


def test_cancel_inside_a_run(five_clusters, start3):
    polls = []

    def stop():
        polls.append(None)
        return len(polls) > 3  # before the first cell, then after half-steps of it

    result = basin_map(five_clusters, start3, 0, XS, YS, should_stop=stop)
    assert result.cancelled
    assert result.runs == () and result.maxima == ()
    assert np.all(result.labels == -1)
    assert len(polls) == 4  # acted on at once


def test_cancel_before_start(five_clusters, start3):
    calls = []
    result = basin_map(
        five_clusters,
        start3,
        0,
        XS,
        YS,
        progress=lambda *a: calls.append(a),
        should_stop=lambda: True,
    )
    assert result.cancelled and calls == []
    assert np.all(result.labels == -1)


# ---------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"component": 3}, "out of range"),
        ({"component": -1}, "out of range"),
        ({"component": True}, "integer"),
        ({"component": 1.0}, "integer"),
        ({"xs": []}, "empty"),
        ({"ys": np.array([])}, "empty"),
        ({"xs": [0.0, np.nan]}, "NaN"),
        ({"ys": [0.0, np.inf]}, "NaN or infinity"),
        ({"xs": [0.0, 1.0, 1.0]}, "increasing"),
        ({"ys": [2.0, 1.0]}, "increasing"),
        ({"xs": np.arange(MAX_GRID + 1.0)}, "at most"),
        ({"xs": [[0.0, 1.0]]}, "one-dimensional"),
        ({"xs": ["a", "b"]}, "numbers"),
        ({"xs": [0.0, 1e200]}, "magnitude"),
        ({"cov_type": "round"}, "cov_type"),
        ({"reg_covar": -1.0}, "reg_covar"),
        ({"max_iter": 0}, "max_iter"),
        ({"rtol": -0.1}, "rtol"),
        ({"rtol": "x"}, "rtol"),
        ({"start": "not a mixture"}, "Mixture"),
    ],
)
def test_bad_input_raises(five_clusters, start3, kwargs, match):
    args = {"start": start3, "component": 0, "xs": XS, "ys": YS}
    args.update(kwargs)
    calls = []
    with pytest.raises(EmvizError, match=match):
        basin_map(five_clusters, progress=lambda *a: calls.append(a), **args)
    assert calls == []  # checked before any run


def test_bad_data_raises(start3):
    with pytest.raises(EmvizError):
        basin_map(np.zeros((5, 3)), start3, 0, XS, YS)
    with pytest.raises(EmvizError, match="cannot exceed"):
        basin_map(np.array([[0.0, 0.0], [1.0, 1.0]]), start3, 0, XS, YS)


def test_cell_index_out_of_grid(basins):
    with pytest.raises(EmvizError, match="outside"):
        basins.cell_index(len(YS), 0)
    with pytest.raises(EmvizError, match="outside"):
        basins.run_at(0, -1)
