"""The numeric core of emviz: EM for 2D Gaussian mixtures, with no Qt.

Import it from a script or notebook::

    from emviz.core import fit, load_dataset
    data = load_dataset("old_faithful")
    result = fit(data.X, 2, seed=0)

and, to see why the M-step climbs and what each half-step did::

    from emviz.core import bound_slice, iterate_em, narrate
    snaps = list(iterate_em(data.X, result.mixture, max_iter=1))  # start, E, M
    sl = bound_slice(data.X, snaps[1].mixture, snaps[2].mixture, snaps[2].resp)
    print(narrate(snaps[1], snaps[2], "detailed"))
"""

from emviz.core.basin import BasinMap, basin_map, moved_start
from emviz.core.batched import BatchedRun, batched_em
from emviz.core.bound import BoundTerms, bound_terms
from emviz.core.bound_slice import BoundSlice, bound_slice, mixture_at
from emviz.core.data import MISSING_MODES, Data, MissingData, PreparedData, prepare
from emviz.core.datasets import (
    DATASETS,
    PRESETS,
    GeneratedData,
    load_dataset,
    make_preset,
    sample_mixture,
)
from emviz.core.em import FitResult, aic, bic, fit, iterate_em
from emviz.core.errors import DataFileError, EmvizError
from emviz.core.geometry import ellipse_axes, ellipse_points, ellipses_points
from emviz.core.init import INIT_METHODS, initialize
from emviz.core.io import LoadCancelled, LoadedPoints, load_points, numeric_columns
from emviz.core.matching import ParameterErrors, match_components, parameter_errors, same_solution
from emviz.core.mixture import COV_TYPES, Mixture
from emviz.core.narration import LEVELS, NarrationFacts, narrate, narration_numbers
from emviz.core.restarts import LocalMaximum, RestartRun, RestartsResult, run_restarts
from emviz.core.snapshot import Snapshot
from emviz.core.steps import e_step, log_likelihood, m_step

__all__ = [
    "COV_TYPES",
    "DATASETS",
    "PRESETS",
    "BasinMap",
    "BatchedRun",
    "BoundSlice",
    "BoundTerms",
    "LEVELS",
    "NarrationFacts",
    "basin_map",
    "batched_em",
    "bound_slice",
    "moved_start",
    "mixture_at",
    "narrate",
    "narration_numbers",
    "GeneratedData",
    "LocalMaximum",
    "ParameterErrors",
    "RestartRun",
    "RestartsResult",
    "match_components",
    "parameter_errors",
    "run_restarts",
    "same_solution",
    "LoadCancelled",
    "LoadedPoints",
    "bound_terms",
    "load_dataset",
    "load_points",
    "make_preset",
    "numeric_columns",
    "sample_mixture",
    "INIT_METHODS",
    "MISSING_MODES",
    "Data",
    "MissingData",
    "DataFileError",
    "EmvizError",
    "FitResult",
    "Mixture",
    "PreparedData",
    "Snapshot",
    "aic",
    "bic",
    "e_step",
    "ellipse_axes",
    "ellipse_points",
    "ellipses_points",
    "fit",
    "initialize",
    "iterate_em",
    "log_likelihood",
    "m_step",
    "prepare",
]
