"""Tests of emviz.core.datasets and emviz.core.resources."""

from __future__ import annotations

import csv
import importlib.resources
from pathlib import Path

import numpy as np
import pytest

from emviz.core import resources
from emviz.core.datasets import (
    DATASETS,
    PRESETS,
    GeneratedData,
    load_dataset,
    make_preset,
    sample_mixture,
)
from emviz.core.errors import EmvizError
from emviz.core.mixture import Mixture
from emviz.core.resources import resource_path, resources_dir

CHECKOUT_RESOURCES = Path(__file__).resolve().parents[2] / "resources"


def read_csv_columns(path: Path, names: tuple[str, str]) -> tuple[np.ndarray, int]:
    """Independent reading with the csv module: complete rows of two columns, and NA count."""
    with path.open(newline="", encoding="utf-8") as f:
        records = list(csv.DictReader(f))
    complete = [r for r in records if "NA" not in (r[names[0]], r[names[1]])]
    values = np.array([[float(r[names[0]]), float(r[names[1]])] for r in complete])
    return values, len(records) - len(complete)


# ----------------------------------------------------------------------------------------------
# Resources and bundled data sets


def test_resources_dir_in_a_source_checkout() -> None:
    assert resources_dir() == CHECKOUT_RESOURCES
    assert resource_path("datasets", "iris.csv") == CHECKOUT_RESOURCES / "datasets" / "iris.csv"
    with pytest.raises(EmvizError, match=r"missing resource 'datasets/nope\.csv'"):
        resource_path("datasets", "nope.csv")


def test_resources_dir_prefers_the_installed_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "emviz"
    (package / "_resources" / "datasets").mkdir(parents=True)
    real_files = importlib.resources.files

    def files(name: str):
        return package if name == "emviz" else real_files(name)

    monkeypatch.setattr(importlib.resources, "files", files)
    assert resources.resources_dir() == package / "_resources"


def test_sources_file_covers_every_bundled_file() -> None:
    folder = resources_dir() / "datasets"
    sources = (folder / "SOURCES.md").read_text(encoding="utf-8")
    csv_files = sorted(p.name for p in folder.glob("*.csv"))
    assert csv_files == ["iris.csv", "old_faithful.csv", "old_faithful_holes.csv", "penguins.csv"]
    for name in csv_files:
        assert f"## {name}" in sources
    for cited in ("Härdle", "faithful", "Fisher", "Anderson", "Gorman", "palmerpenguins", "CC0"):
        assert cited in sources


def test_dataset_names() -> None:
    assert set(DATASETS) == {"old_faithful", "iris", "penguins", "old_faithful_holes"}
    assert all(isinstance(d, str) and d for d in DATASETS.values())


@pytest.mark.parametrize(
    ("name", "columns", "n_rows"),
    [
        ("old_faithful", ("eruptions_min", "waiting_min"), 272),
        ("iris", ("petal_length_cm", "petal_width_cm"), 150),
        ("penguins", ("bill_length_mm", "bill_depth_mm"), 344),
    ],
)
def test_bundled_dataset_matches_its_file(name: str, columns: tuple[str, str], n_rows: int) -> None:
    loaded = load_dataset(name)
    expected, n_na = read_csv_columns(resources_dir() / "datasets" / f"{name}.csv", columns)
    assert loaded.columns == columns
    assert loaded.X.shape == (n_rows - n_na, 2)
    assert loaded.n_dropped == n_na
    np.testing.assert_array_equal(loaded.X, expected)


def test_penguins_drop_the_two_incomplete_birds() -> None:
    loaded = load_dataset("penguins")
    assert loaded.n_dropped == 2
    assert loaded.X.shape == (342, 2)
    assert not np.isnan(loaded.X).any()


def test_unknown_dataset_lists_the_names() -> None:
    with pytest.raises(
        EmvizError, match=r"unknown data set 'faithful'.*old_faithful, iris, penguins"
    ):
        load_dataset("faithful")


# ----------------------------------------------------------------------------------------------
# Sampling from a mixture


def three_components() -> Mixture:
    return Mixture(
        weights=np.array([0.5, 0.3, 0.2]),
        means=np.array([[0.0, 0.0], [5.0, 1.0], [-2.0, 6.0]]),
        covariances=np.array(
            [[[1.0, 0.0], [0.0, 1.0]], [[2.0, 1.2], [1.2, 1.5]], [[0.3, -0.1], [-0.1, 0.6]]]
        ),
    )


def test_sample_shapes_types_and_reproducibility() -> None:
    mixture = three_components()
    X, labels = sample_mixture(mixture, 1000, seed=7)
    assert X.shape == (1000, 2)
    assert X.dtype == np.float64
    assert labels.shape == (1000,)
    assert labels.dtype == np.int64
    assert set(np.unique(labels)) == {0, 1, 2}
    assert not X.flags.writeable
    assert not labels.flags.writeable
    X2, labels2 = sample_mixture(mixture, 1000, seed=7)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(labels, labels2)
    X3, _ = sample_mixture(mixture, 1000, seed=8)
    assert not np.array_equal(X, X3)
    X4, _ = sample_mixture(mixture, 1000, seed=np.random.default_rng(7))
    np.testing.assert_array_equal(X, X4)


def test_sample_statistics_match_the_truth() -> None:
    mixture = three_components()
    n = 200_000
    X, labels = sample_mixture(mixture, n, seed=12345)
    # Each check allows 5 standard errors: a false failure has probability
    # below 1e-6 per check, and with the fixed seed the test is deterministic.
    z = 5.0
    counts = np.bincount(labels, minlength=3)
    w = mixture.weights
    np.testing.assert_array_less(np.abs(counts / n - w), z * np.sqrt(w * (1 - w) / n))
    for k in range(3):
        nk = counts[k]
        Xk = X[labels == k]
        cov = mixture.covariances[k]
        # Standard error of a sample mean: sqrt(variance / n_k).
        se_mean = np.sqrt(np.diag(cov) / nk)
        np.testing.assert_array_less(np.abs(np.mean(Xk, axis=0) - mixture.means[k]), z * se_mean)
        # For Gaussian data var(S_ij) = (S_ii S_jj + S_ij^2) / n_k.
        se_cov = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov**2) / nk)
        np.testing.assert_array_less(np.abs(np.cov(Xk, rowvar=False) - cov), z * se_cov)
    # The overall mean is the weighted mean of the component means.
    total_cov = np.cov(X, rowvar=False)
    se_total = np.sqrt(np.diag(total_cov) / n)
    overall = w @ mixture.means
    np.testing.assert_array_less(np.abs(X.mean(axis=0) - overall), z * se_total)


def test_single_component_sample_is_gaussian_with_that_covariance() -> None:
    mixture = Mixture(
        np.array([1.0]), np.array([[3.0, -1.0]]), np.array([[[4.0, 1.9], [1.9, 1.0]]])
    )
    X, labels = sample_mixture(mixture, 100_000, seed=3)
    assert np.all(labels == 0)
    # Correlation 0.95: Mahalanobis distances should then be chi-square with 2
    # degrees of freedom, whose mean is 2 and variance 4.
    d = X - mixture.means[0]
    m2 = np.einsum("ni,ij,nj->n", d, np.linalg.inv(mixture.covariances[0]), d)
    assert abs(m2.mean() - 2.0) < 5 * np.sqrt(4.0 / len(m2))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((0,), "n_samples must be at least 1"),
        ((-5,), "n_samples must be at least 1"),
        ((2.5,), "n_samples must be an integer"),
        ((True,), "n_samples must be an integer"),
        ((10, "abc"), "seed must be"),
        ((10, -1), "seed must be"),
    ],
)
def test_sample_bad_arguments(args: tuple, message: str) -> None:
    with pytest.raises(EmvizError, match=message):
        sample_mixture(three_components(), *args)


def test_sample_needs_a_mixture() -> None:
    with pytest.raises(EmvizError, match="mixture must be a Mixture"):
        sample_mixture({"weights": [1.0]}, 10)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------------
# Presets


EXPECTED_PRESETS = {
    "well_separated",
    "overlapping",
    "elongated",
    "unequal_weights",
    "nested",
    "moons",
    "ring",
    "multi_optima",
}
VARIABLE_K = ["well_separated", "overlapping", "elongated", "unequal_weights"]


def test_preset_names() -> None:
    assert set(PRESETS) == EXPECTED_PRESETS
    assert all(isinstance(d, str) and d for d in PRESETS.values())


@pytest.mark.parametrize("name", sorted(EXPECTED_PRESETS))
def test_preset_shape_and_reproducibility(name: str) -> None:
    data = make_preset(name, n_samples=321, seed=5)
    assert isinstance(data, GeneratedData)
    assert data.name == name
    assert data.X.shape == (321, 2)
    assert data.X.dtype == np.float64
    assert data.labels.shape == (321,)
    assert np.all(np.isfinite(data.X))
    assert not data.X.flags.writeable
    again = make_preset(name, n_samples=321, seed=5)
    np.testing.assert_array_equal(data.X, again.X)
    np.testing.assert_array_equal(data.labels, again.labels)
    other = make_preset(name, n_samples=321, seed=6)
    assert not np.array_equal(data.X, other.X)
    if name in ("moons", "ring"):
        assert data.truth is None
        assert set(np.unique(data.labels)) == {0, 1}
    else:
        assert isinstance(data.truth, Mixture)
        assert data.labels.min() >= 0
        assert data.labels.max() < data.truth.n_components


def test_default_sample_size() -> None:
    assert make_preset("moons", seed=0).X.shape == (500, 2)


@pytest.mark.parametrize("name", VARIABLE_K)
@pytest.mark.parametrize("k", [1, 2, 3, 7, 10])
def test_requested_number_of_components(name: str, k: int) -> None:
    data = make_preset(name, n_samples=2000, seed=1, n_components=k)
    assert data.truth is not None
    assert data.truth.n_components == k
    assert data.X.shape == (2000, 2)
    assert set(np.unique(data.labels)) <= set(range(k))
    # The layout is deterministic: only the sample depends on the seed.
    other = make_preset(name, n_samples=10, seed=99, n_components=k)
    assert data.truth.allclose(other.truth)


def test_well_separated_clusters_do_not_touch() -> None:
    truth = make_preset("well_separated", seed=0, n_components=10).truth
    assert truth is not None
    gaps = np.linalg.norm(truth.means[:, None] - truth.means[None], axis=-1)
    largest_sd = np.sqrt(np.linalg.eigvalsh(truth.covariances).max())
    assert gaps[~np.eye(10, dtype=bool)].min() >= 6 * largest_sd


def test_overlapping_clusters_overlap() -> None:
    truth = make_preset("overlapping", seed=0, n_components=3).truth
    assert truth is not None
    gaps = np.linalg.norm(truth.means[:, None] - truth.means[None], axis=-1)
    assert gaps[~np.eye(3, dtype=bool)].max() < 3 * np.sqrt(truth.covariances[0, 0, 0])


def test_elongated_components_are_long_and_differently_rotated() -> None:
    truth = make_preset("elongated", seed=0, n_components=4).truth
    assert truth is not None
    evals, evecs = np.linalg.eigh(truth.covariances)
    assert np.all(evals[:, 1] / evals[:, 0] >= 10)
    major = evecs[:, :, 1]
    # Axis directions (up to sign) pairwise at least 30 degrees apart, none axis-aligned.
    cosines = np.abs(major @ major.T)[~np.eye(4, dtype=bool)]
    assert cosines.max() < np.cos(np.radians(30))
    assert np.all(np.abs(truth.covariances[:, 0, 1]) > 0.1)


def test_unequal_weights() -> None:
    truth = make_preset("unequal_weights", seed=0, n_components=4).truth
    assert truth is not None
    assert truth.weights.max() / truth.weights.min() == pytest.approx(10.0)
    assert len(set(np.round(truth.weights, 12))) == 4


def test_nested_has_a_tight_cluster_inside_a_broad_one() -> None:
    truth = make_preset("nested", seed=0).truth
    assert truth is not None
    assert truth.n_components == 2
    det = np.linalg.det(truth.covariances)
    broad, tight = int(np.argmax(det)), int(np.argmin(det))
    assert det[broad] / det[tight] > 100
    broad_sd = np.sqrt(np.linalg.eigvalsh(truth.covariances[broad]).min())
    assert np.linalg.norm(truth.means[broad] - truth.means[tight]) < broad_sd


def em_log_likelihood(X: np.ndarray, means: np.ndarray, n_iter: int = 300) -> float:
    """A minimal full-covariance EM, independent of emviz.core.em, run from given means."""
    n, k = X.shape[0], means.shape[0]
    weights = np.full(k, 1.0 / k)
    covs = np.repeat(np.cov(X, rowvar=False)[None], k, axis=0)
    for _ in range(n_iter):
        d = X[:, None, :] - means[None]
        inv = np.linalg.inv(covs)
        maha = np.einsum("nki,kij,nkj->nk", d, inv, d)
        log_p = np.log(weights) - 0.5 * maha - 0.5 * np.log(np.linalg.det(covs)) - np.log(2 * np.pi)
        top = log_p.max(axis=1, keepdims=True)
        log_norm = top[:, 0] + np.log(np.exp(log_p - top).sum(axis=1))
        resp = np.exp(log_p - log_norm[:, None])
        nk = resp.sum(axis=0)
        weights = nk / n
        means = resp.T @ X / nk[:, None]
        d = X[:, None, :] - means[None]
        covs = np.einsum("nk,nki,nkj->kij", resp, d, d) / nk[:, None, None] + 1e-6 * np.eye(2)
    return float(log_norm.sum())


def test_multi_optima_has_several_local_maxima_for_three_components() -> None:
    data = make_preset("multi_optima", n_samples=600, seed=0)
    assert data.truth is not None
    assert data.truth.n_components == 5
    rng = np.random.default_rng(0)
    finals = []
    for _ in range(12):
        start = data.X[rng.choice(len(data.X), size=3, replace=False)]
        finals.append(em_log_likelihood(data.X, start))
    # Distinct end points, separated by far more than convergence noise.
    distinct = np.unique(np.round(finals, 0))
    assert len(distinct) >= 2
    assert distinct.max() - distinct.min() > 10


@pytest.mark.parametrize("name", ["moons", "ring"])
def test_non_gaussian_presets_have_two_sizeable_groups(name: str) -> None:
    data = make_preset(name, n_samples=3000, seed=0)
    counts = np.bincount(data.labels)
    assert counts.min() > 0.25 * len(data.labels)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "spiral"}, "unknown preset 'spiral'; choose one of well_separated"),
        ({"name": "moons", "n_samples": 0}, "n_samples must be at least 1"),
        ({"name": "moons", "n_samples": 1.5}, "n_samples must be an integer"),
        ({"name": "overlapping", "n_components": 0}, "between 1 and 10; got 0"),
        ({"name": "overlapping", "n_components": 11}, "between 1 and 10; got 11"),
        ({"name": "overlapping", "n_components": 2.0}, "n_components must be an integer"),
        ({"name": "nested", "n_components": 3}, "'nested' has a fixed structure with 2"),
        ({"name": "ring", "n_components": 4}, "'ring' has a fixed structure"),
        ({"name": "ring", "seed": "x"}, "seed must be"),
    ],
)
def test_preset_bad_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(EmvizError, match=message):
        make_preset(**kwargs)


def test_fixed_presets_accept_their_own_k() -> None:
    assert make_preset("multi_optima", seed=0, n_components=5).truth.n_components == 5


def test_old_faithful_holes_is_old_faithful_with_documented_holes():
    from emviz.core.missing import remove_at_random

    holes = load_dataset("old_faithful_holes")
    full = load_dataset("old_faithful")
    assert holes.X.shape == full.X.shape == (272, 2)
    expected = remove_at_random(full.X, 0.3, seed=2026)
    np.testing.assert_array_equal(np.isnan(holes.X), np.isnan(expected))
    observed = ~np.isnan(holes.X)
    np.testing.assert_array_equal(holes.X[observed], full.X[observed])
    assert np.isnan(holes.X).any(axis=1).sum() == 82
    assert not np.isnan(holes.X).all(axis=1).any()
