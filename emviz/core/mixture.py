"""The parameters of a 2D Gaussian mixture, as an immutable value."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emviz.core.errors import EmvizError

#: The covariance structures a mixture can have, as in scikit-learn.
COV_TYPES: tuple[str, ...] = ("full", "tied", "diag", "spherical")

# Tolerances for validating user-supplied parameters.  They are loose enough
# to accept parameters that went through a text file and tight enough to
# catch real mistakes.
_WEIGHT_SUM_TOL = 1e-8
_SYMMETRY_TOL = 1e-9


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=np.float64, copy=True)
    a.setflags(write=False)
    return a


def check_cov_type(cov_type: str) -> str:
    """Return ``cov_type`` if it is one of :data:`COV_TYPES`, else raise."""
    if cov_type not in COV_TYPES:
        raise EmvizError(f"cov_type must be one of {', '.join(COV_TYPES)}; got {cov_type!r}")
    return cov_type


@dataclass(frozen=True, eq=False)
class Mixture:
    """A mixture of K bivariate Gaussians.

    The arrays are float64 copies of what was passed and are read-only, so a
    ``Mixture`` can be shared between threads and kept in a history.

    Parameters
    ----------
    weights : array of shape (n_components,)
        Mixing proportions, non-negative, summing to one.
    means : array of shape (n_components, 2)
        Component means.
    covariances : array of shape (n_components, 2, 2)
        Component covariances, always stored as full symmetric positive
        definite 2x2 matrices whatever ``cov_type`` is.
    cov_type : {"full", "tied", "diag", "spherical"}
        The constraint the covariances satisfy: any matrix ("full"), one
        matrix shared by all components ("tied"), diagonal ("diag") or a
        multiple of the identity ("spherical").

    Raises
    ------
    EmvizError
        If shapes disagree, a value is not finite, the weights are not a
        distribution, or a covariance is not symmetric positive definite or
        does not have the structure ``cov_type`` asks for.
    """

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    cov_type: str = "full"

    def __post_init__(self) -> None:
        check_cov_type(self.cov_type)
        w = np.asarray(self.weights, dtype=np.float64)
        m = np.asarray(self.means, dtype=np.float64)
        c = np.asarray(self.covariances, dtype=np.float64)
        if w.ndim != 1 or w.shape[0] < 1:
            raise EmvizError(f"weights must have shape (n_components,); got {w.shape}")
        k = w.shape[0]
        if m.shape != (k, 2):
            raise EmvizError(f"means must have shape ({k}, 2) for {k} weights; got {m.shape}")
        if c.shape != (k, 2, 2):
            raise EmvizError(
                f"covariances must have shape ({k}, 2, 2) for {k} weights; got {c.shape}"
            )
        for name, a in (("weights", w), ("means", m), ("covariances", c)):
            if not np.all(np.isfinite(a)):
                raise EmvizError(f"{name} contain NaN or infinity")
        if np.any(w < 0):
            raise EmvizError(f"weights must be non-negative; got {w.tolist()}")
        total = w.sum()
        if abs(total - 1.0) > _WEIGHT_SUM_TOL:
            raise EmvizError(f"weights must sum to 1; they sum to {total!r}")
        # Renormalise only weights that are off by more than rounding: dividing
        # weights that already sum to 1 within a few ulps would change their
        # last bits, and a saved session must reload bit for bit.
        if abs(total - 1.0) > 4 * k * np.finfo(np.float64).eps:
            w = w / total
        scale = np.maximum(np.abs(c).max(axis=(1, 2)), np.finfo(float).tiny)
        asym = np.abs(c[:, 0, 1] - c[:, 1, 0]) / scale
        if np.any(asym > _SYMMETRY_TOL):
            bad = int(np.argmax(asym))
            raise EmvizError(f"covariance of component {bad} is not symmetric")
        # Symmetrise exactly so that later formulas can read one off-diagonal.
        off = 0.5 * (c[:, 0, 1] + c[:, 1, 0])
        c = c.copy()
        c[:, 0, 1] = off
        c[:, 1, 0] = off
        det = c[:, 0, 0] * c[:, 1, 1] - off * off
        bad_pd = (c[:, 0, 0] <= 0) | (det <= 0)
        if np.any(bad_pd):
            bad = int(np.flatnonzero(bad_pd)[0])
            raise EmvizError(
                f"covariance of component {bad} is not positive definite: {c[bad].tolist()}"
            )
        self._check_structure(c)
        object.__setattr__(self, "weights", _frozen(w))
        object.__setattr__(self, "means", _frozen(m))
        object.__setattr__(self, "covariances", _frozen(c))

    def __reduce__(self):
        # A pickled Mixture (sent by the EM process, hundreds a second) was
        # validated when it was made: unpickling only makes its arrays
        # read-only again, which plain unpickling would not.
        return (_unpickle, (self.weights, self.means, self.covariances, self.cov_type))

    def _check_structure(self, c: np.ndarray) -> None:
        scale = np.abs(c).max()
        tol = 1e-9 * scale
        if self.cov_type == "tied" and np.any(np.abs(c - c[0]) > tol):
            raise EmvizError("tied covariances must be the same for every component")
        if self.cov_type in ("diag", "spherical") and np.any(np.abs(c[:, 0, 1]) > tol):
            raise EmvizError(f"{self.cov_type} covariances must be diagonal")
        if self.cov_type == "spherical" and np.any(np.abs(c[:, 0, 0] - c[:, 1, 1]) > tol):
            raise EmvizError("spherical covariances must be multiples of the identity")

    @property
    def n_components(self) -> int:
        """Number of components K."""
        return int(self.weights.shape[0])

    def n_parameters(self) -> int:
        """Number of free parameters, for BIC and AIC.

        K - 1 weights, 2K mean coordinates, and per covariance type: 3K
        (full), 3 (tied), 2K (diag) or K (spherical).
        """
        k = self.n_components
        cov = {"full": 3 * k, "tied": 3, "diag": 2 * k, "spherical": k}[self.cov_type]
        return (k - 1) + 2 * k + cov

    def allclose(self, other: Mixture, rtol: float = 1e-9, atol: float = 0.0) -> bool:
        """Whether two mixtures have the same parameters, component by component."""
        return (
            self.cov_type == other.cov_type
            and self.n_components == other.n_components
            and np.allclose(self.weights, other.weights, rtol=rtol, atol=atol)
            and np.allclose(self.means, other.means, rtol=rtol, atol=atol)
            and np.allclose(self.covariances, other.covariances, rtol=rtol, atol=atol)
        )

    def to_dict(self) -> dict:
        """Plain lists, for JSON."""
        return {
            "cov_type": self.cov_type,
            "weights": self.weights.tolist(),
            "means": self.means.tolist(),
            "covariances": self.covariances.tolist(),
        }

    @classmethod
    def from_dict(cls, d: dict) -> Mixture:
        """Inverse of :meth:`to_dict`; raises :class:`EmvizError` on bad content."""
        try:
            return cls(
                weights=d["weights"],
                means=d["means"],
                covariances=d["covariances"],
                cov_type=d.get("cov_type", "full"),
            )
        except (KeyError, TypeError) as exc:
            raise EmvizError(f"not a mixture description: {exc}") from None


def _unpickle(
    weights: np.ndarray, means: np.ndarray, covariances: np.ndarray, cov_type: str
) -> Mixture:
    """A pickled :class:`Mixture` back, read-only, without validating it again."""
    mixture = object.__new__(Mixture)
    for name, value in (("weights", weights), ("means", means), ("covariances", covariances)):
        value.setflags(write=False)  # a fresh array that unpickling made
        object.__setattr__(mixture, name, value)
    object.__setattr__(mixture, "cov_type", cov_type)
    return mixture
