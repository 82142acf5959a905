"""Retake the README's screenshots from the real window on a real (virtual) X screen.

Each shot starts emviz in this process as ``emviz ARGS`` would, drives it
through the same actions a user would trigger, and grabs the screen with
Qt's own screen grab: what an X server shows, menus and all. Run one shot on
an X display of the size it names, with a fresh settings folder so that no
remembered theme or geometry leaks in::

    Xvfb :91 -screen 0 1280x720x24 &
    DISPLAY=:91 XDG_CONFIG_HOME=$(mktemp -d) python docs/screenshots/take.py presentation_light_1280

``python docs/screenshots/take.py --list`` lists the shots and their screens.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _wait(app, done: Callable[[], bool], timeout: float = 60.0) -> None:
    """Process events until ``done()`` (a script, not a test: a deadline, no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not get there in time")
        app.processEvents()
        time.sleep(0.01)


def _settle(app, seconds: float = 1.0) -> None:
    """Let transitions finish and the X server draw (a screenshot script may wait)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def _steps(window, n: int) -> None:
    for _ in range(n):
        window.session.step_iteration()
    window.flush()


def _run_to_convergence(app, window) -> None:
    s = window.session
    s.set_delay(0.0)
    s.run()
    _wait(app, lambda: not s.running)
    window.flush()


def _converged(app, window) -> None:
    _run_to_convergence(app, window)


def _presentation(app, window) -> None:
    _steps(window, 2)
    window.session.step_e()
    window.session.step_m()
    window.flush()


def _inside_em(app, window) -> None:
    _steps(window, 3)
    window.inside_em.show_docks()
    window.inside_em.show_docks("bound")


def _lower_bound(app, window) -> None:
    _run_to_convergence(app, window)
    window.inside_em.show_docks("bound")


def _formulas(app, window) -> None:
    _steps(window, 2)
    window.inside_em.show_docks("formulas")


def _missing(app, window) -> None:
    window.actions_by_key["treat_missing"].setChecked(True)
    _steps(window, 4)


def _restarts(app, window) -> None:
    lab = window.lab
    lab.show_dock("restarts")
    panel = lab.restarts
    panel.start()
    _wait(app, lambda: not panel.running, timeout=300)
    window.flush()


def _slice_after_e(app, window) -> None:
    _steps(window, 1)
    window.session.step_e()
    window.inside_em.show_docks("slice")
    window.flush()


def _slice_after_m(app, window) -> None:
    _steps(window, 2)
    window.inside_em.show_docks("slice")
    window.flush()


def _quiz_reveal(app, window) -> None:
    """A guess of the means before an M-step, revealed: the guesses stay as ghosts."""
    _steps(window, 1)
    window.session.step_e()
    quiz = window.quiz
    quiz.set_on(True)
    truth = window.session.history[window.session.index].mixture.means
    # A plausible guess: the means moved part of the way, and off a little.
    for k, (x, y) in enumerate(truth):
        quiz.set_guess_mean(k, (x + 0.25 - 0.5 * k, y - 3.0 + 6.0 * k))
    _settle(app, 0.5)
    quiz.reveal()
    window.flush()


def _quiz_presenting(app, window) -> None:
    """The quiz in presentation mode: an E-step to guess, a point picked."""
    _steps(window, 2)
    window.quiz.set_on(True)
    window.session.step_m() if window.session.next_phase == "M" else None
    window.quiz.pick_point(200)
    window.flush()


#: name: (screen width, height, emviz arguments, what to do, whole screen?)
SHOTS: dict[str, tuple[int, int, list[str], Callable, bool]] = {
    "start": (1920, 1080, [], lambda app, w: None, False),
    "converged": (1920, 1080, [], _converged, False),
    "inside_em": (1920, 1080, [], _inside_em, False),
    "lower_bound": (1920, 1080, [], _lower_bound, False),
    "formulas": (1920, 1080, [], _formulas, False),
    "missing": (1920, 1080, ["--dataset", "old_faithful_holes"], _missing, False),
    "restarts": (1920, 1080, ["--k", "3"], _restarts, False),
    "projector_1280": (1280, 720, [], _presentation, True),
    "slice_after_e": (1920, 1080, ["--k", "3"], _slice_after_e, False),
    "slice_after_m": (1920, 1080, ["--k", "3"], _slice_after_m, False),
    "quiz_reveal": (1920, 1080, [], _quiz_reveal, False),
    "quiz_presenting_1280": (1280, 720, ["--presentation"], _quiz_presenting, True),
    **{
        f"presentation_{theme}_{width}": (
            width,
            height,
            ["--presentation", "--theme", theme],
            _presentation,
            True,
        )
        for theme in ("light", "dark")
        for width, height in ((1280, 720), (1920, 1080))
    },
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] == "--list":
        for name, (width, height, args, _do, _whole) in SHOTS.items():
            print(f"{name:28s} {width}x{height}  emviz {' '.join(args)}")
        return 0
    name = argv[0]
    width, height, args, do, whole = SHOTS[name]
    from PySide6 import QtWidgets

    from emviz.cli import create_main_window

    app = QtWidgets.QApplication(["emviz"])
    screen = app.primaryScreen().geometry()
    if (screen.width(), screen.height()) != (width, height):
        have = f"{screen.width()}x{screen.height()}"
        print(f"{name} needs a {width}x{height} screen, this one is {have}")
        return 2
    window = create_main_window(["emviz", *args])
    if not window.isVisible():
        window.show()
    _wait(app, lambda: window.isVisible() and window.session.history)
    _settle(app)
    do(app, window)
    _settle(app, 1.5)
    shot = app.primaryScreen().grabWindow(0)
    if not whole:
        frame = window.frameGeometry()
        shot = shot.copy(frame)
    out = HERE / f"{name}.png"
    shot.save(str(out))
    print(f"{out}: {shot.width()}x{shot.height()}")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
