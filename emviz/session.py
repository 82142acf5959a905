"""The one mutable model of the explorer window.

A :class:`Session` holds the data, the settings, the history of EM
snapshots and the run control. Views redraw from its signals and call its
intents (``step_e``, ``run``, ``load_file``...); they never talk to each
other. It can be driven with no window at all, from a test or a script.

The history of snapshots, with responsibilities recomputed on demand, is a
:class:`emviz.core.history.History`; runs go through
:class:`emviz.runs.em_runner.EMRuns` (a thread, or the EM process).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal

from emviz.core.data import Data, prepare
from emviz.core.em import iterate_em
from emviz.core.errors import EmvizError
from emviz.core.history import History
from emviz.core.init import initialize
from emviz.core.mixture import Mixture
from emviz.core.settings import MAX_COMPONENTS, SEED_MAX, Settings, check_settings
from emviz.core.snapshot import Snapshot
from emviz.runs.em_process import shared_bytes, shared_memory_room
from emviz.runs.em_runner import EMRuns
from emviz.runs.pacing import FrameClock
from emviz.runs.session_runs import RunIntents

__all__ = ["PROCESS_MIN_POINTS", "Session"]

#: Runs on at least this many points go to the EM process
#: (:mod:`emviz.runs.em_process`), where drawing cannot slow them down; smaller
#: runs finish in a blink on a thread and spare the process's start-up.
PROCESS_MIN_POINTS = 5_000


class Session(RunIntents, QObject):
    """Data, settings, history and run control.

    The intents of a run (run, pause, stop, set_delay, shutdown) and the
    handling of its messages are in :class:`emviz.runs.session_runs.RunIntents`.

    Signals
    -------
    data_changed()
        New points (the history was reset with them).
    settings_changed()
        A setting changed (also when the session adjusted one, e.g. K clamped).
    history_changed()
        Snapshots were added or dropped.
    snapshot_changed()
        The snapshot shown (``current``) changed.
    run_started(), run_finished(str)
        A run began; a run ended, with the reason ("converged", "max_iter",
        "stopped", "error"). Pausing does not finish a run.
    run_state_changed()
        running / paused flags changed.
    error(str)
        Something the user asked for failed; the message says what and where.
    selection_changed()
        The point whose responsibilities are inspected changed.
    message(str)
        Information for the status bar.
    """

    data_changed = Signal()
    settings_changed = Signal()
    history_changed = Signal()
    snapshot_changed = Signal()
    run_started = Signal()
    run_finished = Signal(str)
    run_state_changed = Signal()
    selection_changed = Signal()
    error = Signal(str)
    message = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = Settings()
        self.X: np.ndarray | None = None
        self.data: Data | None = None
        #: The points as loaded: rows with one missing coordinate hold NaN there.
        self.X_raw: np.ndarray | None = None
        #: Use rows with a missing coordinate, by EM (missing="marginalize").
        self.treat_missing = False
        self._incomplete_count: tuple[np.ndarray, int] | None = None
        self.data_name = ""
        self.columns: tuple[str, str] = ("x", "y")
        #: Rows of the loaded file left out: no value in either chosen column.
        self.n_skipped = 0
        self._history = History(self._posterior_or_none)
        self.delay = 0.2
        self.selected: int | None = None
        #: The mixture the points were drawn from (generated data), else None.
        self.truth: Mixture | None = None
        # Runs, on a thread or in the EM process for large data sets (started
        # with the first one); messages of a run stopped since are dropped.
        self.running = False
        self.paused = False
        self._runs = EMRuns(self)
        self._runs.snapshots.connect(self._on_snapshots)
        self._runs.failed.connect(self._on_failed)
        self._runs.finished.connect(self._on_run_finished)
        self._runs.error.connect(self.error)
        self._runs.note.connect(self.message)
        self.data_changed.connect(self._warm_process)
        # A run's snapshots join the history as they come; the views hear of
        # them once per frame (see FrameClock).
        self._frames = FrameClock(self._show_progress, self)

    # ------------------------------------------------------------------ state

    @property
    def n_samples(self) -> int:
        return 0 if self.data is None else self.data.n_samples

    @property
    def history(self) -> list[Snapshot]:
        """Every half-step's snapshot, without responsibilities (see :class:`History`)."""
        return self._history.snapshots

    @property
    def index(self) -> int:
        """The snapshot shown (-1 with no history)."""
        return self._history.index

    @property
    def current(self) -> Snapshot | None:
        """The snapshot shown, with its responsibilities (None for "init")."""
        snap = self._history.shown
        if snap is None or snap.phase == "init":
            return snap
        return replace(snap, resp=self.resp_at(self.index))

    def resp_at(self, index: int) -> np.ndarray | None:
        """Responsibilities of snapshot ``index``, array of shape (n_samples, K) or None.

        During a run, the newest snapshot's may be those of a step or two
        before it (see :meth:`History.append`); at rest they are always its own.
        """
        return self._history.resp_at(index)

    def _posterior_or_none(self, mixture: Mixture) -> np.ndarray | None:
        return None if self.data is None else self._posterior(mixture)

    @property
    def at_end(self) -> bool:
        return self._history.at_end

    @property
    def next_phase(self) -> str:
        snap = self.history[self.index] if self.history else None
        return "E" if snap is None else snap.next_phase

    @property
    def can_run(self) -> bool:
        """Whether Run would do anything (not converged, below max_iter)."""
        if not self.history:
            return False
        snap = self.history[self.index]
        return not snap.converged and self._remaining_iterations(snap) > 0

    def _remaining_iterations(self, snap: Snapshot) -> int:
        # An "E" snapshot's iteration is finished by the next M-step.
        return self.settings.max_iter - snap.iteration + (1 if snap.phase == "E" else 0)

    # ------------------------------------------------------------------ data

    def load_points(
        self,
        X: object,
        name: str = "",
        columns: tuple[str, str] = ("x", "y"),
        truth: Mixture | None = None,
        skipped: int = 0,
    ):
        """Use new points and re-initialise.

        ``truth`` is the mixture the points were drawn from, when known;
        ``skipped`` the number of rows of their file left out on loading
        (no value in either chosen column), kept in :attr:`n_skipped` for
        the caption and status line.

        Raises
        ------
        EmvizError
            If ``X`` is not an array of shape (n_samples, 2) of finite numbers;
            the previous data and history are then untouched.
        """
        raw = _raw_points(X)
        try:
            data, settings, mixture = self._fit_start(raw)
        except EmvizError as exc:  # say which data set, in the columns' own names
            raise EmvizError(_located(str(exc), name, columns)) from None
        self._stop_runs()
        self.X_raw = raw
        self.data_name = name
        self.columns = tuple(columns)
        self.truth = truth
        self.n_skipped = int(skipped)
        adjusted = self._use_data(data, settings, mixture)
        if adjusted:
            note = f"K lowered to {settings.n_components}: only that many points"
        elif self.n_incomplete_raw and not self.treat_missing:
            note = (
                f"{self.n_incomplete_raw} rows with a missing value are left out; "
                "EM > Treat missing values with EM uses them"
            )
        else:
            note = ""
        self._changed(data=True, selection=True, settings=adjusted, note=note)

    def _fit_start(self, raw: np.ndarray) -> tuple[Data, Settings, Mixture]:
        """The data EM runs on from ``raw``, the settings (K at most the points) and the start.

        Raises ValueError (EmvizError) if there is nothing to fit; nothing changes then.
        """
        data = self._prepare(raw)
        settings = self.settings
        if settings.n_components > data.n_samples:
            settings = replace(settings, n_components=data.n_samples)
        return data, settings, self._initial_mixture(data, settings)

    def _use_data(self, data: Data, settings: Settings, mixture: Mixture) -> bool:
        """Fit ``data`` from ``mixture`` with ``settings``; whether the settings changed."""
        self.data = data
        self.X = data.X
        changed = settings != self.settings
        self.settings = settings
        self._set_start(mixture)
        self.selected = None
        return changed

    def _changed(
        self,
        *,
        data: bool = False,
        selection: bool = False,
        settings: bool = False,
        note: str = "",
        history: bool = True,
        snapshot: bool = True,
    ) -> None:
        """Tell the views what changed, in the one order they rely on.

        Data first (views rebuild from the points), then the selection and
        the settings, a status ``note`` if any, then the history and the
        snapshot shown (views redraw from them).
        """
        if data:
            self.data_changed.emit()
        if selection:
            self.selection_changed.emit()
        if settings:
            self.settings_changed.emit()
        if note:
            self.message.emit(note)
        if history:
            self.history_changed.emit()
        if snapshot:
            self.snapshot_changed.emit()

    # ------------------------------------------------------------ missing data

    @property
    def n_incomplete_raw(self) -> int:
        """Rows of the loaded data with exactly one coordinate missing.

        Counted once per data change (the status bar asks at every redraw, and
        a scan of a million rows costs tens of milliseconds).
        """
        raw = self.X_raw
        if raw is None:
            return 0
        if self._incomplete_count is None or self._incomplete_count[0] is not raw:
            self._incomplete_count = (raw, int(np.count_nonzero(np.isnan(raw).sum(axis=1) == 1)))
        return self._incomplete_count[1]

    @property
    def n_incomplete(self) -> int:
        """Rows in the fit that have a missing coordinate (0 unless treat_missing)."""
        return self.data.n_incomplete if self.data is not None else 0

    def _prepare(self, raw: np.ndarray) -> Data:
        """The data EM runs on: all rows by EM for missing values, or the complete rows."""
        incomplete = np.isnan(raw).any(axis=1)
        if self.treat_missing and (np.isnan(raw).sum(axis=1) == 1).any():
            return prepare(raw, missing="marginalize")
        if incomplete.all():
            raise EmvizError("every row has a missing value: there is nothing to fit")
        return prepare(raw[~incomplete])

    def set_treat_missing(self, on: bool) -> bool:
        """Use rows with a missing coordinate by EM (on) or leave them out (off).

        The fit starts again (same settings) on the new set of rows.
        """
        on = bool(on)
        if on == self.treat_missing:
            return True
        old = self.treat_missing
        self.treat_missing = on
        if self.X_raw is None:
            return True
        try:
            data, settings, mixture = self._fit_start(self.X_raw)
        except ValueError as exc:
            self.treat_missing = old
            return self._report(exc)
        self._stop_runs()
        changed = self._use_data(data, settings, mixture)
        self._changed(data=True, selection=True, settings=changed)
        return True

    def _posterior(self, mixture: Mixture) -> np.ndarray:
        """Responsibilities of every point in the fit under ``mixture``."""
        return self.data.e_step(mixture)[0]

    def _report(self, exc: Exception) -> bool:
        self.error.emit(str(exc))
        return False

    def load_file(self, path: str | Path, columns=None) -> bool:
        """Load two columns of a data file; on failure emit ``error`` and keep everything."""
        from emviz.core.io import load_points

        try:
            loaded = load_points(path, columns, missing="keep")
            self.load_points(
                loaded.X, Path(loaded.path).name, loaded.columns, skipped=loaded.n_dropped
            )
        except (OSError, ValueError) as exc:  # DataFileError and EmvizError are ValueErrors
            return self._report(exc)
        if loaded.n_dropped:
            self.message.emit(f"{loaded.n_dropped} rows with missing values were skipped")
        return True

    def load_dataset(self, name: str) -> bool:
        """Load a bundled data set (see :data:`emviz.core.datasets.DATASETS`)."""
        from emviz.core.datasets import load_dataset

        try:
            loaded = load_dataset(name)
            self.load_points(loaded.X, name, loaded.columns, skipped=loaded.n_dropped)
        except (OSError, ValueError) as exc:
            return self._report(exc)
        return True

    def generate(self, preset: str, n_samples: int, seed: int, n_components: int | None) -> bool:
        """Sample points from a preset (see :data:`emviz.core.datasets.PRESETS`)."""
        from emviz.core.datasets import make_preset

        try:
            gen = make_preset(preset, n_samples, seed, n_components)
            self.load_points(gen.X, f"{preset} (seed {seed})", truth=gen.truth)
        except ValueError as exc:
            return self._report(exc)
        return True

    def add_points(self, points: object) -> bool:
        """Add points to the data; EM restarts from the mixture shown, on the new data."""
        try:
            new = np.asarray(points, dtype=np.float64).reshape(-1, 2)
            if not np.all(np.isfinite(new)):
                raise EmvizError("added points must have two finite coordinates")
            raw = new if self.X_raw is None else np.vstack([self.X_raw, new])
            data = self._prepare(raw)
        except ValueError as exc:
            return self._report(exc)
        self._stop_runs()
        mixture = self.history[self.index].mixture if self.history else None
        self.X_raw = raw
        self.data = data
        self.X = data.X
        if mixture is None:
            if data.n_samples < self.settings.n_components:
                self._history.reset()
                self._changed(data=True)
                self.message.emit(f"{data.n_samples} points: add more to fit K components")
                return True
            mixture = self._initial_mixture(data, self.settings)
        self._set_start(mixture)
        self._changed(data=True)
        return True

    def select(self, index: int | None) -> None:
        """Inspect point ``index`` (None: no point)."""
        if index is not None and not 0 <= index < self.n_samples:
            index = None
        if index != self.selected:
            self.selected = index
            self.selection_changed.emit()

    # -------------------------------------------------------------- settings

    def update_settings(self, **changes) -> bool:
        """Change settings; K, cov_type, init or seed re-initialise (keeping the data)."""
        try:
            new = self.settings.changed(**changes)
        except (TypeError, ValueError) as exc:
            return self._report(exc)
        if new == self.settings:
            return True
        reinit = self.settings.reinitialises(new)
        if reinit and self.data is not None:
            try:
                mixture = self._initial_mixture(self.data, new)
            except ValueError as exc:
                self.settings_changed.emit()  # let the controls show the old values again
                return self._report(exc)
            self._stop_runs()
            self.settings = new
            self._set_start(mixture)
            self._changed(settings=True)
        else:
            self.settings = new
            self.settings_changed.emit()
            self.run_state_changed.emit()  # can_run depends on max_iter
        return True

    def reinitialize(self) -> bool:
        """Start again from a new initialisation (the next seed; after the largest, 0)."""
        return self.update_settings(seed=(self.settings.seed + 1) % (SEED_MAX + 1))

    def _initial_mixture(self, data: Data, settings: Settings) -> Mixture:
        return initialize(
            data,
            settings.n_components,
            method=settings.init,
            cov_type=settings.cov_type,
            seed=settings.seed,
            reg_covar=settings.reg_covar,
        )

    def _set_start(self, mixture: Mixture) -> None:
        first = next(iterate_em(None, mixture, data=self.data, **self._em_kwargs()))
        self._history.reset([first], objective=self._objective())

    def _em_kwargs(self) -> dict:
        s = self.settings
        # bound: every snapshot carries Q and H for the lower-bound view (not
        # computed for EM with missing values).
        bound = self.data is None or not self.data.marginal
        return dict(cov_type=s.cov_type, reg_covar=s.reg_covar, tol=s.tol, bound=bound)

    def set_start(self, mixture: Mixture) -> bool:
        """Start EM again from ``mixture`` (a manual edit, a restart's start, a session file).

        The history is replaced by the single "init" snapshot of ``mixture``.
        The settings follow its K and covariance type.  On a mixture that
        does not fit the data, ``error`` is emitted and nothing changes.
        """
        if self.data is None:
            return self._report(EmvizError("no data to fit"))
        if not isinstance(mixture, Mixture):
            return self._report(EmvizError("not a mixture"))
        if mixture.n_components > min(MAX_COMPONENTS, self.n_samples):
            return self._report(
                EmvizError(f"{mixture.n_components} components is more than this data allows")
            )
        self._stop_runs()
        changed = self._follow(mixture)
        self._set_start(mixture)
        self._changed(settings=changed)
        return True

    def _follow(self, mixture: Mixture) -> bool:
        """Settings follow ``mixture``'s K and covariance type; whether they changed."""
        settings = replace(
            self.settings, n_components=mixture.n_components, cov_type=mixture.cov_type
        )
        changed = settings != self.settings
        self.settings = settings
        return changed

    def edit_mixture(self, mixture: Mixture) -> bool:
        """Continue from an edited copy of the mixture shown.

        Before the first step this replaces the start (see :meth:`set_start`);
        later it drops the future and appends ``mixture`` as a new starting
        point ("init" snapshot) after the one shown, so the history records
        the intervention (a component re-seeded, say) and EM goes on from it.
        """
        if not self.history or (len(self.history) == 1 and self.index == 0):
            return self.set_start(mixture)
        if mixture.n_components != self.settings.n_components:
            return self.set_start(mixture)
        self._stop_runs()
        self._truncate()
        try:
            first = next(iterate_em(None, mixture, data=self.data, **self._em_kwargs()))
        except ValueError as exc:
            return self._report(exc)
        iteration = self.history[self.index].iteration
        self._append(replace(first, iteration=iteration))
        self._changed()
        return True

    def set_history(self, snapshots: list[Snapshot], settings: Settings | None = None) -> bool:
        """Show a whole history computed elsewhere (a restart run, a session file).

        ``snapshots`` must start with an "init" snapshot on the current data;
        the last one is shown. ``settings`` (a restart run's initialisation,
        seed, tol, max_iter...), if given, are adopted with it, with no new
        start; they must pass :meth:`update_settings`'s rule and have the
        history's K and covariance type, else ``error`` and nothing changes.
        Without them the settings follow the history's K and covariance type.
        """
        if not snapshots or snapshots[0].phase != "init" or self.data is None:
            return self._report(EmvizError("a history must start with an initial mixture"))
        if settings is not None:
            try:
                settings = self._settings_of(snapshots[0].mixture, settings)
            except (TypeError, ValueError) as exc:
                return self._report(exc)
        self._stop_runs()
        if settings is None:
            changed = self._follow(snapshots[0].mixture)
        else:
            changed, self.settings = settings != self.settings, settings
        self._history.reset(snapshots, objective=self._objective())
        self._changed(settings=changed)
        if changed:
            self.run_state_changed.emit()  # can_run depends on max_iter
        return True

    def _settings_of(self, start: Mixture, settings: Settings) -> Settings:
        """``settings`` checked (the one rule) for the data and a history from ``start``."""
        if not isinstance(settings, Settings):
            raise EmvizError(f"settings must be a Settings; got {type(settings).__name__}")
        checked = check_settings(settings, n_samples=self.n_samples)
        if (checked.n_components, checked.cov_type) != (start.n_components, start.cov_type):
            raise EmvizError(
                f"the settings (K = {checked.n_components}, {checked.cov_type}) do not match "
                f"the history (K = {start.n_components}, {start.cov_type})"
            )
        return checked

    # ---------------------------------------------------------------- history

    def set_index(self, index: int) -> None:
        """Show snapshot ``index`` (clipped to the history); stops a run."""
        if not self.history:
            return
        index = int(min(max(index, 0), len(self.history) - 1))
        if index == self.index:
            return
        if self.running or self.paused:
            self.message.emit(f"run stopped to show half-step {index}")
        self._stop_runs()
        self._history.set_index(index)
        self.snapshot_changed.emit()

    def back(self) -> None:
        self.set_index(self.index - 1)

    def forward(self) -> None:
        self.set_index(self.index + 1)

    def reset(self) -> None:
        """Show the initial mixture again (the history stays until the next step)."""
        self.set_index(0)

    def _truncate(self) -> None:
        """Drop the snapshots after the one shown: stepping from the past rewrites the future."""
        if self._history.truncate():
            self.history_changed.emit()

    def _objective(self) -> dict:
        """The settings that define what EM maximises (the covariance floor's reg_covar)."""
        return {"reg_covar": self.settings.reg_covar}

    def objective_changes(self) -> dict[int, str]:
        """Where the objective changed in the history: index -> what changed.

        A reg_covar changed between two steps, or a new start in the middle
        (a component re-seeded): across it the log-likelihood may fall, and
        that is not a step of EM (see :meth:`History.changes`).
        """
        return self._history.changes()

    def _append(self, snap: Snapshot, objective: dict | None = None) -> None:
        # A run in the EM process may send a snapshot without its
        # responsibilities (no ring slot free): during the run the newest
        # posterior received stands in (computing it here, on the GUI thread,
        # took 150 ms and 80 MB at a million points and K = 10); at rest it is
        # computed when shown.
        objective = self._objective() if objective is None else objective
        self._history.append(snap, running=self.running, objective=objective)

    # ---------------------------------------------------------------- stepping

    def _start_snapshot(self) -> Snapshot:
        snap = self.history[self.index]
        if snap.phase == "E":
            snap = replace(snap, resp=self.resp_at(self.index))
        return snap

    def _half_step(self) -> Snapshot:
        gen = iterate_em(
            None, self._start_snapshot(), data=self.data, max_iter=1, **self._em_kwargs()
        )
        return next(gen)

    def step(self, phase: str | None = None) -> bool:
        """One half-step; ``phase`` ("E" or "M") must be the next one if given."""
        if not self.history:
            return False
        if phase is not None and phase != self.next_phase:
            self.message.emit(f"the next step is the {self.next_phase}-step, not the {phase}-step")
            return False
        self._stop_runs()
        self._truncate()
        try:
            snap = self._half_step()
        except ValueError as exc:
            return self._report(exc)
        self._append(snap)
        self._changed()
        return True

    def step_e(self) -> bool:
        return self.step("E")

    def step_m(self) -> bool:
        return self.step("M")

    def step_iteration(self) -> bool:
        """A full iteration: the half-steps up to and including the next M-step."""
        if not self.step():
            return False
        if self.history[self.index].phase == "E":
            return self.step("M")
        return True

    # ------------------------------------------- running (more in RunIntents)

    def _wants_process(self) -> bool:
        data = self.data
        if not (self.use_process and data is not None and not data.marginal):
            return False
        if data.n_samples < PROCESS_MIN_POINTS:
            return False
        # The ring of responsibilities and the points, in shared memory.
        return shared_memory_room(shared_bytes(data.n_samples, self.settings.n_components))


def _raw_points(X: object) -> np.ndarray:
    """Points as loaded, shape (n, 2): NaN marks a missing coordinate, inf is refused."""
    try:
        raw = np.array(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise EmvizError(f"the points must be numbers: {exc}") from None
    if raw.ndim != 2 or raw.shape[1] != 2:
        raise EmvizError(f"the points must have shape (n_samples, 2); got {raw.shape}")
    if np.isinf(raw).any():
        raise EmvizError("the points contain infinity")
    raw = raw[~np.isnan(raw).all(axis=1)]  # a row with nothing observed carries nothing
    if len(raw) < 1:
        raise EmvizError("no points")
    raw.setflags(write=False)
    return raw


def _located(message: str, name: str, columns: tuple[str, str]) -> str:
    """``message`` about the points ``X``, said of the data set ``name`` and its columns."""
    for i, column in enumerate(columns[:2]):
        message = message.replace(f"column {i} ({'xy'[i]}) of X", f"column {column!r}")
    message = message.replace("the points of X", "the points")
    return f"{name}: {message}" if name else message
