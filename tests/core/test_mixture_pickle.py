"""A Mixture survives pickling (the EM process sends them) unchanged and read-only."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from emviz.core.mixture import Mixture


@pytest.mark.parametrize("cov_type", ["full", "tied", "diag", "spherical"])
def test_a_pickled_mixture_comes_back_bit_for_bit_and_read_only(cov_type):
    rng = np.random.default_rng(7)
    w = rng.dirichlet(np.ones(4))
    m = rng.normal(size=(4, 2)) * 1e3
    if cov_type == "full":
        a = rng.normal(size=(4, 2, 2))
        c = a @ a.transpose(0, 2, 1) + 0.1 * np.eye(2)
    elif cov_type == "tied":
        c = np.repeat([[[2.0, 0.3], [0.3, 1.0]]], 4, axis=0)
    elif cov_type == "diag":
        c = np.array([np.diag(d) for d in rng.uniform(0.1, 3, (4, 2))])
    else:
        c = np.array([v * np.eye(2) for v in rng.uniform(0.1, 3, 4)])
    mix = Mixture(w, m, c, cov_type)
    back = pickle.loads(pickle.dumps(mix))
    assert back.cov_type == cov_type
    for name in ("weights", "means", "covariances"):
        got, want = getattr(back, name), getattr(mix, name)
        assert got.tobytes() == want.tobytes()
        assert not got.flags.writeable
