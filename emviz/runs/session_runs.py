"""The run intents of the session: Run, Pause, Stop, speed, and a run's messages.

:class:`RunIntents` is mixed into :class:`emviz.session.Session` (which
defines the signals and the history it uses).  A run goes through
:class:`emviz.runs.em_runner.EMRuns`: on a thread, or in the EM process for
large data sets.  Its snapshots join the history as they come; the views
hear of them once per frame (:class:`emviz.runs.pacing.FrameClock`).

Threads without tears: Pause stops the runner (resuming starts a new run
from the snapshot shown, which continues EM exactly); every intent that
changes the state stops a run first; messages of a stopped run are dropped
by :class:`~emviz.runs.em_runner.EMRuns`; :meth:`RunIntents.shutdown`
stops everything and waits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QThread, Slot

from emviz.core.snapshot import Snapshot

if TYPE_CHECKING:
    from emviz.runs.em_process import EMProcess

__all__ = ["RunIntents"]


class RunIntents:
    """Run, Pause, Resume, Stop and the speed of a run (mixed into the Session).

    Attributes used (the Session's): ``running``, ``paused``, ``delay``,
    ``_runs`` (EMRuns), ``_frames`` (FrameClock), ``_history``, and the
    signals ``run_started``, ``run_finished``, ``run_state_changed``,
    ``message`` and ``error``.
    """

    def set_delay(self, seconds: float) -> None:
        """Pause after each half-step of a run, in seconds (takes effect at once)."""
        self.delay = max(0.0, float(seconds))
        if self.running:
            self._runs.set_delay(self.delay)

    def toggle_run(self) -> None:
        """Run, Pause or Resume (the R key and the Run button)."""
        if self.running:
            self.pause()
        else:
            self.run()

    def run(self) -> bool:
        """Run EM to convergence off the GUI thread, from the snapshot shown."""
        if self.running or not self.history:
            return False
        snap = self.history[self.index]
        if not self.can_run:
            why = "converged" if snap.converged else "max_iter reached"
            self.message.emit(f"nothing to run: {why}")
            if self.paused:
                self.paused = False
                self.run_state_changed.emit()
                self.run_finished.emit("converged" if snap.converged else "max_iter")
            return False
        self._truncate()
        start = self._start_snapshot()  # iterate_em continues after it
        kwargs = dict(max_iter=self._remaining_iterations(snap), **self._em_kwargs())
        # What the run maximises (a setting changed during it applies to the next).
        self._run_objective = self._objective()
        # Large data go to the EM process, where drawing cannot slow EM down.
        in_process = self._wants_process()
        self._runs.start(self.data, start, in_process=in_process, delay=self.delay, **kwargs)
        was_paused = self.paused
        self.running, self.paused = True, False
        if not was_paused:
            self.run_started.emit()
        self.run_state_changed.emit()
        return True

    @Slot()
    def _warm_process(self) -> None:
        """Send a large data set to the EM process as soon as it is loaded.

        The process then starts and prepares the data while the user looks
        at them, and the first Run starts at once.
        """
        if self._wants_process():
            self._runs.warm(self.data)

    @property
    def em_process(self) -> EMProcess | None:
        """The EM process, once a large data set has started it."""
        return self._runs.process

    @property
    def use_process(self) -> bool:
        """Whether large data sets run in the EM process (False: always on a thread)."""
        return self._runs.use_process

    @use_process.setter
    def use_process(self, on: bool) -> None:
        self._runs.use_process = bool(on)

    def pause(self) -> None:
        """Hold the run at the snapshot shown; :meth:`run` resumes from there.

        The runner is stopped (so nothing more arrives, and scrubbing or
        stepping while paused needs no coordination); resuming starts a new
        run from the current snapshot, which continues EM exactly.
        """
        if not self.running:
            return
        self._stop_worker()
        self.paused = True
        self.run_state_changed.emit()
        self.message.emit("paused")

    def stop(self) -> None:
        """End the run now; the state is the last snapshot received."""
        if not (self.running or self.paused):
            return
        self._stop_worker()
        self.paused = False
        self.run_state_changed.emit()
        self.run_finished.emit("stopped")

    def _stop_runs(self) -> None:
        """Any intent that changes the state ends a run first."""
        self.stop()

    def _show_progress(self) -> None:
        self._changed()

    def _stop_worker(self) -> None:
        self._runs.stop()  # what is still on its way from the run is dropped
        self._end_run()

    def _end_run(self) -> None:
        """A run is over: its last frame drawn, its stand-in posterior (and so
        the ring slot that holds it) let go."""
        self._frames.flush()
        self.running = False
        self._history.end_run()

    @Slot(object)
    def _on_snapshots(self, snaps: list[Snapshot]) -> None:
        if not self.running:
            return
        for snap in snaps:
            self._append(snap, objective=self._run_objective)
        self._frames.request()

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.error.emit(f"EM stopped: {message}")

    @Slot(str)
    def _on_run_finished(self, reason: str) -> None:
        if not self.running:
            return
        self._end_run()
        self.run_state_changed.emit()
        if reason == "converged":
            self.message.emit(f"converged after {self.history[self.index].iteration} iterations")
        elif reason == "max_iter":
            self.message.emit(f"stopped at max_iter = {self.settings.max_iter} iterations")
        self.run_finished.emit(reason)

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Stop every run and wait for the threads and the EM process (window closing)."""
        self._stop_worker()
        was = self.paused
        self.paused = False
        self._runs.shutdown(timeout_ms)
        if was:
            self.run_state_changed.emit()

    @property
    def live_threads(self) -> list[QThread]:
        return self._runs.live_threads
