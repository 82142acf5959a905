"""Data to run EM on: bundled classic data sets, samples from a known mixture, presets.

The presets are chosen to show what EM does well and where it struggles:
clear clusters, overlap, elongated and rotated clusters, unequal weights, a
cluster inside another, data that are not Gaussian at all (where the model
is wrong) and data with several local maxima of the likelihood.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from emviz.core.errors import EmvizError
from emviz.core.io import LoadedPoints, load_points
from emviz.core.mixture import Mixture
from emviz.core.resources import resource_path
from emviz.core.settings import MAX_COMPONENTS

__all__ = [
    "DATASETS",
    "PRESETS",
    "GeneratedData",
    "load_dataset",
    "make_preset",
    "sample_mixture",
    "suggested_columns",
]

SeedLike = int | np.random.Generator | None


# ----------------------------------------------------------------------------------------------
# Bundled data sets


@dataclass(frozen=True)
class _Bundled:
    file: str
    columns: tuple[str, str]
    description: str
    missing: str = "drop"


_BUNDLED: dict[str, _Bundled] = {
    "old_faithful": _Bundled(
        "old_faithful.csv",
        ("eruptions_min", "waiting_min"),
        "Old Faithful geyser: eruption time against waiting time (minutes), 272 eruptions",
    ),
    "iris": _Bundled(
        "iris.csv",
        ("petal_length_cm", "petal_width_cm"),
        "Fisher's iris: petal length against petal width (cm), 150 flowers of 3 species",
    ),
    "penguins": _Bundled(
        "penguins.csv",
        ("bill_length_mm", "bill_depth_mm"),
        "Palmer penguins: bill length against bill depth (mm), 3 species; "
        "rows with a missing value are dropped",
    ),
    "old_faithful_holes": _Bundled(
        "old_faithful_holes.csv",
        ("eruptions_min", "waiting_min"),
        "Old Faithful with holes: 30 % of the eruptions lost one of their two values "
        "at random (the complete data are Old Faithful)",
        missing="keep",
    ),
}

#: Bundled data set name -> one-line description.
DATASETS: MappingProxyType[str, str] = MappingProxyType(
    {name: b.description for name, b in _BUNDLED.items()}
)


def suggested_columns(file_name: str) -> tuple[str, str] | None:
    """The two columns a bundled data set is meant to be viewed by, from its file's name.

    ``"iris.csv"`` gives petal length and width: its first two columns,
    the sepal's, hardly separate the species.  None for any other name.
    """
    for bundled in _BUNDLED.values():
        if bundled.file == file_name:
            return bundled.columns
    return None


def load_dataset(name: str) -> LoadedPoints:
    """Load one of the bundled data sets, with the columns that :data:`DATASETS` describes.

    Parameters
    ----------
    name : str
        A key of :data:`DATASETS`.

    Returns
    -------
    LoadedPoints
        ``X`` has shape (n_samples, 2); ``n_dropped`` counts rows dropped
        for missing values.  For "old_faithful_holes" the rows with one
        missing coordinate are kept, with NaN there (for EM with
        ``missing="marginalize"``).

    Raises
    ------
    EmvizError
        If ``name`` is not a bundled data set or its file is missing.
    """
    spec = _BUNDLED.get(name) if isinstance(name, str) else None
    if spec is None:
        raise EmvizError(f"unknown data set {name!r}; choose one of {', '.join(_BUNDLED)}")
    return load_points(resource_path("datasets", spec.file), spec.columns, missing=spec.missing)


# ----------------------------------------------------------------------------------------------
# Sampling from a known mixture


def _check_n_samples(n_samples: object) -> int:
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)):
        raise EmvizError(f"n_samples must be an integer; got {n_samples!r}")
    if n_samples < 1:
        raise EmvizError(f"n_samples must be at least 1; got {n_samples}")
    return int(n_samples)


def _rng(seed: SeedLike) -> np.random.Generator:
    if isinstance(seed, bool):
        raise EmvizError(f"seed must be an integer or None; got {seed!r}")
    try:
        return np.random.default_rng(seed)
    except (TypeError, ValueError) as exc:
        raise EmvizError(f"seed must be a non-negative integer or None; got {seed!r}") from exc


def _read_only(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def sample_mixture(
    mixture: Mixture, n_samples: int, seed: SeedLike = None
) -> tuple[np.ndarray, np.ndarray]:
    """Draw points from a Gaussian mixture, with the component each came from.

    Parameters
    ----------
    mixture : Mixture
        The true mixture.
    n_samples : int
        Number of points, at least 1.
    seed : int, numpy.random.Generator or None
        Seed for :func:`numpy.random.default_rng`; the same seed gives the same
        sample. None draws fresh entropy.

    Returns
    -------
    X : array of shape (n_samples, 2)
        The points, read-only float64.
    labels : array of shape (n_samples,)
        Index of the component of each point, read-only int64.

    Raises
    ------
    EmvizError
        If ``mixture`` is not a Mixture or ``n_samples``/``seed`` are invalid.
    """
    if not isinstance(mixture, Mixture):
        raise EmvizError(f"mixture must be a Mixture; got {type(mixture).__name__}")
    n = _check_n_samples(n_samples)
    rng = _rng(seed)
    labels = rng.choice(mixture.n_components, size=n, p=mixture.weights).astype(np.int64)
    # x = mean + L z with L L^T = covariance: z standard normal gives the right law.
    chol = np.linalg.cholesky(mixture.covariances)
    z = rng.standard_normal((n, 2))
    X = mixture.means[labels] + np.einsum("nij,nj->ni", chol[labels], z)
    return _read_only(X), _read_only(labels)


# ----------------------------------------------------------------------------------------------
# Presets


@dataclass(frozen=True, eq=False)
class GeneratedData:
    """Points made by a preset.

    Attributes
    ----------
    X : array of shape (n_samples, 2)
        The points, read-only float64.
    labels : array of shape (n_samples,)
        The true group of each point (component index, or arc/ring index for
        the non-Gaussian presets), read-only int64.
    truth : Mixture or None
        The mixture the points were drawn from; None for the presets that
        are not a Gaussian mixture ("moons", "ring").
    name : str
        The preset's name.
    """

    X: np.ndarray
    labels: np.ndarray
    truth: Mixture | None
    name: str


#: Preset name -> one-line description.
PRESETS: MappingProxyType[str, str] = MappingProxyType(
    {
        "well_separated": "Round clusters far apart: EM finds them from almost any start",
        "overlapping": "Round clusters that overlap: soft responsibilities matter",
        "elongated": "Long thin clusters at different angles: needs full covariances",
        "unequal_weights": "Clusters of very different sizes (largest 10 times the smallest)",
        "nested": "A tight cluster inside a broad one, sharing nearly the same centre",
        "moons": "Two interleaved half-moons: not Gaussian, so the model is wrong",
        "ring": "A ring around a central blob: not Gaussian, so the model is wrong",
        "multi_optima": "Five separated clusters: with K=3, different starts end "
        "at different local maxima",
    }
)

# Presets whose number of components the caller may choose, and the fixed K of the others.
_VARIABLE_K = ("well_separated", "overlapping", "elongated", "unequal_weights")
_DEFAULT_K = {"well_separated": 3, "overlapping": 3, "elongated": 3, "unequal_weights": 3}
_FIXED_K = {"nested": 2, "multi_optima": 5, "moons": 2, "ring": 2}
_MAX_K = MAX_COMPONENTS


def _circle(k: int, chord: float) -> np.ndarray:
    """K points on a circle, neighbours ``chord`` apart, the first at the top.

    Returns an array of shape (k, 2); one point sits at the origin.
    """
    if k == 1:
        return np.zeros((1, 2))
    radius = chord / (2.0 * math.sin(math.pi / k))
    theta = math.pi / 2 + 2.0 * math.pi * np.arange(k) / k
    return radius * np.column_stack([np.cos(theta), np.sin(theta)])


def _rotated(sd_major: float, sd_minor: float, angle: np.ndarray) -> np.ndarray:
    """Covariances of shape (len(angle), 2, 2) with given axes, major axis at ``angle``."""
    c, s = np.cos(angle), np.sin(angle)
    rot = np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)
    return rot @ np.diag([sd_major**2, sd_minor**2]) @ np.swapaxes(rot, -1, -2)


def _isotropic(k: int, sd: float) -> np.ndarray:
    return np.repeat((sd**2 * np.eye(2))[None], k, axis=0)


def _truth(name: str, k: int) -> Mixture:
    """The true mixture of a Gaussian preset with k components."""
    equal = np.full(k, 1.0 / k)
    if name == "well_separated":
        # Neighbouring means 8 standard deviations apart: the clusters never touch.
        return Mixture(equal, _circle(k, 8.0), _isotropic(k, 1.0))
    if name == "overlapping":
        # 2.2 standard deviations apart: the densities merge into one ridge.
        return Mixture(equal, _circle(k, 2.2), _isotropic(k, 1.0))
    if name == "elongated":
        # Axes 3 : 0.4, orientations spread over half a turn so no two are parallel.
        angles = math.pi / 6 + math.pi * np.arange(k) / k
        return Mixture(equal, _circle(k, 7.0), _rotated(3.0, 0.4, angles))
    if name == "unequal_weights":
        # Geometric weights from 1 down to 1/10.
        ratio = 0.1 ** (1.0 / (k - 1)) if k > 1 else 1.0
        w = ratio ** np.arange(k)
        return Mixture(w / w.sum(), _circle(k, 5.0), _isotropic(k, 1.0))
    if name == "nested":
        means = np.array([[0.0, 0.0], [0.6, 0.4]])
        covs = np.array([np.diag([9.0, 6.0]), 0.09 * np.eye(2)])
        return Mixture(np.array([0.7, 0.3]), means, covs)
    if name == "multi_optima":
        # Uneven gaps between the clusters give several distinct ways to merge
        # five clusters into three, each a local maximum of the likelihood.
        means = np.array([[-7.0, 0.0], [-3.5, 3.0], [0.0, -1.0], [4.0, 2.5], [7.5, -3.0]])
        return Mixture(np.full(5, 0.2), means, _isotropic(5, 0.7))
    raise AssertionError(name)


def _moons(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles of radius 2 with Gaussian noise, as in scikit-learn."""
    labels = rng.permutation(np.arange(n) % 2).astype(np.int64)
    t = rng.uniform(0.0, math.pi, n)
    upper = np.column_stack([np.cos(t), np.sin(t)])
    lower = np.column_stack([1.0 - np.cos(t), 0.5 - np.sin(t)])
    X = 2.0 * np.where(labels[:, None] == 0, upper, lower) + rng.normal(0.0, 0.2, (n, 2))
    return X, labels


def _ring(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A ring of radius 5 (label 0, two thirds of the points) around a blob (label 1)."""
    labels = (rng.uniform(size=n) < 1.0 / 3.0).astype(np.int64)
    t = rng.uniform(0.0, 2.0 * math.pi, n)
    r = 5.0 + rng.normal(0.0, 0.3, n)
    ring = np.column_stack([r * np.cos(t), r * np.sin(t)])
    blob = rng.normal(0.0, 0.8, (n, 2))
    return np.where(labels[:, None] == 0, ring, blob), labels


def make_preset(
    name: str,
    n_samples: int = 500,
    seed: SeedLike = None,
    n_components: int | None = None,
) -> GeneratedData:
    """Make the points of a preset.

    Parameters
    ----------
    name : str
        A key of :data:`PRESETS`.
    n_samples : int
        Number of points, at least 1.
    seed : int, numpy.random.Generator or None
        Seed for :func:`numpy.random.default_rng`; the same arguments and seed
        give the same points.
    n_components : int, optional
        The true number of components, 1 to 10, for "well_separated",
        "overlapping", "elongated" and "unequal_weights" (default 3), laid out
        on a circle. The other presets have a fixed structure: None or their
        own K (nested 2, multi_optima 5, moons 2, ring 2) is accepted.

    Returns
    -------
    GeneratedData

    Raises
    ------
    EmvizError
        For an unknown name, a bad ``n_samples``, ``seed`` or ``n_components``.
    """
    if not isinstance(name, str) or name not in PRESETS:
        raise EmvizError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    n = _check_n_samples(n_samples)
    if n_components is not None and (
        isinstance(n_components, bool) or not isinstance(n_components, (int, np.integer))
    ):
        raise EmvizError(f"n_components must be an integer or None; got {n_components!r}")
    if name in _VARIABLE_K:
        k = _DEFAULT_K[name] if n_components is None else int(n_components)
        if not 1 <= k <= _MAX_K:
            raise EmvizError(f"n_components must be between 1 and {_MAX_K}; got {k}")
    else:
        k = _FIXED_K[name]
        if n_components is not None and int(n_components) != k:
            raise EmvizError(
                f"preset {name!r} has a fixed structure with {k} groups; "
                f"n_components cannot be {n_components} (choose one of "
                f"{', '.join(_VARIABLE_K)} to set the number of components)"
            )
    rng = _rng(seed)
    if name == "moons":
        X, labels = _moons(n, rng)
        return GeneratedData(_read_only(X), _read_only(labels), None, name)
    if name == "ring":
        X, labels = _ring(n, rng)
        return GeneratedData(_read_only(X), _read_only(labels), None, name)
    truth = _truth(name, k)
    X, labels = sample_mixture(truth, n, rng)
    return GeneratedData(X, labels, truth, name)
