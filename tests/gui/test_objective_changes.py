"""A change of the objective mid-history (reg_covar, an edited mixture) is marked in time."""

from __future__ import annotations

import numpy as np


def test_a_reg_covar_change_is_marked_and_never_called_a_rise(window):
    s = window.session
    for _ in range(3):
        s.step_iteration()
    assert s.objective_changes() == {}
    before = len(s.history)
    assert s.update_settings(reg_covar=0.5)  # a collapse remedy, between two steps
    s.step_e()
    s.step_m()
    changes = s.objective_changes()
    assert list(changes) == [before] and "reg_covar 1e-06 → 0.5" in changes[before]
    window.flush()
    lines = window.loglik.change_lines
    assert len(lines) == 1 and lines[0].value() == before - 0.5
    # The views say the objective changed, not that EM lowered or raised it.
    s.set_index(before)
    window.flush()
    assert window.narration.text().startswith("The objective changed before this step")
    bound = window.inside_em.bound_view
    window.inside_em.actions["bound_dock"].trigger()
    bound.flush()
    assert "objective changed here" in bound.readout.text()
    assert "raised L by" not in bound.readout.text()
    s.set_index(before + 1)
    window.readout.flush()
    from emviz.ui.views.readout import readout_rows

    assert "(objective changed)" in readout_rows(s)[0]
    # Back to the first objective and stepping from before the change: the
    # change goes with the future it belonged to.
    assert s.update_settings(reg_covar=1e-6)
    s.set_index(before - 1)
    s.step()
    assert s.objective_changes() == {}
    window.flush()
    assert window.loglik.change_lines == []


def test_an_edited_mixture_mid_history_is_a_new_start_marked_there(window):
    s = window.session
    s.step_iteration()
    m = s.history[s.index].mixture
    means = np.array(m.means)
    means[0] += 0.3
    edited = type(m)(m.weights, means, m.covariances, m.cov_type)
    assert s.edit_mixture(edited)
    at = s.index
    assert s.history[at].phase == "init" and s.objective_changes() == {
        at: "a new start (the mixture was edited)"
    }
    window.flush()
    assert "new mixture" in window.narration.text()
    assert [line.value() for line in window.loglik.change_lines] == [at - 0.5]
