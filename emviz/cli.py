"""The ``emviz`` command: every argument parser of the window and of the desktop files.

``emviz`` with no argument opens on Old Faithful with K = 2 initialised;
``emviz FILE`` opens a data file or a ``.emviz`` session; see ``emviz --help``.
Two more forms are handled before Qt starts: ``emviz export ...`` renders a run
headless (its parser is :func:`emviz.export.command.build_export_parser`), and
``emviz --install-desktop`` / ``--uninstall-desktop`` add emviz to (or remove
it from) the application menu.

Argument types come from :mod:`emviz.core.settings` (:func:`parse_k`,
:func:`parse_seed`): the command line refuses what the window refuses.
Before Qt is started, :func:`display_problem` checks that there is a display
to open the window on; without one, ``emviz`` says so in one line, pointing to
``emviz export`` for headless use, and exits with status 1 (:data:`NO_DISPLAY`).
Should Qt still fail to open its platform (a display that answers the check
but refuses Qt), the same line replaces Qt's abort (:func:`_guard_platform`).
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import socket
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

# One BLAS thread, set before numpy loads.  emviz's matrix products are small
# (K x 6 by 6 x 4096 in the E-step); OpenBLAS's threads gain nothing on them,
# and their spinning workers, started from both the GUI and the EM thread,
# contend with Qt for the two cores of a classroom laptop (a 0.4 ms colour
# blend was seen taking 77 ms).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from emviz.core.datasets import DATASETS  # noqa: E402
from emviz.core.settings import (  # noqa: E402
    COV_TYPES,
    INIT_METHODS,
    MAX_COMPONENTS,
    parse_k,
    parse_seed,
)

__all__ = [
    "build_desktop_parser",
    "build_parser",
    "create_main_window",
    "display_problem",
    "main",
    "main_desktop",
]

#: Exit status of a usage error.
USAGE_ERROR = 2
#: Exit status when there is no display to open the window on.
NO_DISPLAY = 1


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``emviz [FILE] [options]`` (the window)."""
    parser = argparse.ArgumentParser(
        prog="emviz",
        description="See the Expectation-Maximization algorithm fit a 2D Gaussian mixture, "
        "step by step. With no argument, opens on the Old Faithful data with K = 2.",
        epilog="Also: 'emviz export --help' (write a GIF, PNG, SVG or JSON of a run without "
        "the window); 'emviz --install-desktop' ('--uninstall-desktop') [--prefix DIR] "
        "(add emviz to, or remove it from, the application menu).",
    )
    parser.add_argument(
        "file",
        nargs="?",
        metavar="FILE",
        help="data file: CSV, TSV, whitespace-separated text or .npy (two numeric columns "
        "are used; with more you are asked which), or a saved .emviz session; "
        "/dev/stdin reads a table piped in. A file that cannot be opened is reported "
        "and the window opens on Old Faithful",
    )
    parser.add_argument(
        "--dataset", choices=sorted(DATASETS), help="open a bundled data set instead of a file"
    )
    parser.add_argument(
        "--k",
        type=parse_k,
        default=2,
        metavar="K",
        help=f"number of components, 1 to {MAX_COMPONENTS} (default 2)",
    )
    parser.add_argument(
        "--cov-type", choices=COV_TYPES, default="full", help="covariance structure (default full)"
    )
    parser.add_argument(
        "--init",
        choices=INIT_METHODS,
        default="kmeans++",
        help="initialisation method (default kmeans++)",
    )
    parser.add_argument(
        "--seed", type=parse_seed, default=0, help="seed of the initialisation (default 0)"
    )
    parser.add_argument(
        "--presentation",
        action="store_true",
        help="start in presentation mode: full screen, large type, the essential controls "
        "(F11 or Esc leaves it)",
    )
    parser.add_argument(
        "--theme",
        choices=("light", "dark"),
        help="start in this theme, for this start only: the theme remembered for the next "
        "start stays the last one chosen in View > Theme (default: that remembered theme)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="open FILE (or the data set) as the window would, without showing it or "
        "needing a display (with more than two numeric columns, the first two), then exit: "
        "status 0 if it opened, 1 if not (the reason is printed on standard error). "
        "For scripts and tests",
    )
    return parser


def build_desktop_parser() -> argparse.ArgumentParser:
    """The parser of ``emviz --install-desktop`` / ``--uninstall-desktop`` [``--prefix DIR``]."""
    parser = argparse.ArgumentParser(
        prog="emviz", description="Add emviz to (or remove it from) the application menu."
    )
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument(
        "--install-desktop",
        action="store_true",
        help="install the launcher, icon and .emviz file type for the current user",
    )
    group.add_argument(
        "--uninstall-desktop", action="store_true", help="remove what --install-desktop installed"
    )
    parser.add_argument(
        "--prefix",
        metavar="DIR",
        help="install below DIR instead of $XDG_DATA_HOME (~/.local/share)",
    )
    return parser


def main_desktop(argv: Sequence[str] | None = None) -> int:
    """``emviz --install-desktop`` or ``--uninstall-desktop`` [``--prefix DIR``].

    Prints what was done; returns the exit status (0 on success, 1 on an
    error, which is printed to standard error).  Qt is not imported.
    """
    from emviz.desktop import install_desktop, uninstall_desktop

    args = build_desktop_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        if args.install_desktop:
            paths = install_desktop(args.prefix)
            verb = "installed"
        else:
            paths = uninstall_desktop(args.prefix)
            verb = "removed"
    except (OSError, ValueError, RuntimeError) as exc:
        print(f"emviz: {exc}", file=sys.stderr)
        return 1
    if not paths:
        print("emviz: nothing to remove")
    for p in paths:
        print(f"{verb} {p}")
    return 0


def _strip_program(argv: Sequence[str]) -> list[str]:
    """Accept sys.argv-style lists (program name first) as well as bare arguments."""
    argv = list(argv)
    if argv:
        first = Path(argv[0]).name
        if first in ("emviz", "emviz.exe", "__main__.py", "emviz-script.py") or first.endswith(
            ("app.py", "cli.py")
        ):
            return argv[1:]
    return argv


def create_main_window(argv: Sequence[str] | None = None, *, interactive: bool = True):
    """Build the main window (a QApplication must exist), loaded and initialised.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments, with or without the program name first;
        default ``sys.argv``.
    interactive : bool, default True
        False (``--check``): nobody is there to answer a dialog, so a file
        with more than two numeric columns opens on its first two.

    Returns
    -------
    MainWindow
        Not shown (except full screen with ``--presentation``); in the theme of
        ``--theme`` if given; its ``session`` holds the data and the history (a long
        session may still be replaying: see :func:`emviz.app.wait_for_opening`).
    """
    from emviz.app import open_start
    from emviz.ui.main_window import build_window

    args = build_parser().parse_args(_strip_program(sys.argv if argv is None else argv))
    window = build_window(args.k, args.cov_type, args.init, args.seed)
    if not interactive:
        window.ask_columns = lambda path, names: (names[0], names[1])
    open_start(window, args.file, args.dataset)
    classroom = getattr(window, "classroom", None)
    if classroom is not None:
        if args.theme:
            classroom.set_theme(args.theme, persist=False)
        if args.presentation:
            # Full screen shows the window; a --check run is never shown.
            classroom.set_presentation(True, full_screen=interactive)
    return window


# ---------------------------------------------------------------------------------- display


def display_problem(
    environ: Mapping[str, str] | None = None, platform: str | None = None
) -> str | None:
    """Why the window cannot be shown, or None if a display looks usable.

    Checked before Qt starts, on Linux and the BSDs only: Qt's platform
    (``QT_QPA_PLATFORM``, else Wayland or X11) must have its display: a
    Wayland socket name, or an X server that accepts a connection on
    ``DISPLAY``. Platforms that need none (offscreen, minimal, vnc, eglfs,
    linuxfb) always pass.
    """
    env = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    if not platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return None
    requested = [p.split(":")[0].strip() for p in env.get("QT_QPA_PLATFORM", "").split(";")]
    requested = [p for p in requested if p] or ["wayland", "xcb"]
    for name in requested:
        if name == "xcb":
            if _x_server_answers(env.get("DISPLAY", "")):
                return None
        elif name.startswith("wayland"):
            if env.get("WAYLAND_DISPLAY"):
                return None
        else:
            return None
    display = env.get("DISPLAY", "")
    if display:
        why = f"no X server answers on DISPLAY={display}"
    elif env.get("WAYLAND_DISPLAY"):
        why = "DISPLAY is not set and the requested platform is not Wayland"
    else:
        why = "neither DISPLAY nor WAYLAND_DISPLAY is set: no X11 or Wayland session"
    return no_display_message(why)


def no_display_message(why: str) -> str:
    """The one line ``emviz`` prints when it has no display, ``why`` being the reason."""
    return (
        f"emviz needs a graphical display to open its window ({why}). For headless use, "
        "'emviz export' writes images and animations of a run (see 'emviz export --help'); "
        "or run emviz under 'xvfb-run emviz'."
    )


def _x_server_answers(display: str) -> bool:
    """Whether an X server accepts a connection on ``display`` (":0", "host:10.0", ...)."""
    host, sep, rest = display.rpartition(":")
    if not sep:
        return False
    try:
        number = int(rest.split(".")[0])
    except ValueError:
        return False
    if host in ("", "unix") or host.startswith("/"):
        # Local: a socket file, or Linux's abstract socket of the same name.
        # (A display starting with "/" is a socket path, as XQuartz's.)
        paths = [display] if host.startswith("/") else []
        paths += [f"/tmp/.X11-unix/X{number}", f"\0/tmp/.X11-unix/X{number}"]
        for path in paths:
            if path.startswith("/") and not os.path.exists(path):
                continue
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(2)
                try:
                    s.connect(path)
                    return True
                except OSError:
                    continue
        return False
    try:
        with socket.create_connection((host, 6000 + number), timeout=2):
            return True
    except OSError:
        return False


# ------------------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``emviz`` command; returns the exit status."""
    # A frozen app (PyInstaller) starts its EM process by running itself:
    # this turns that run into the process instead of a second window.
    multiprocessing.freeze_support()
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["export"]:
        from emviz.export.command import main_export

        return main_export(argv[1:])
    if any(a in ("--install-desktop", "--uninstall-desktop") for a in argv):
        return main_desktop(argv)
    args = build_parser().parse_args(argv)  # --help and usage errors before Qt starts
    if not args.check:
        problem = display_problem()
        if problem is not None:
            print(problem, file=sys.stderr)
            return NO_DISPLAY
    if args.check:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # the window is never shown
        _quiet_offscreen()
    from emviz.app import application, run_window, wait_for_opening

    with _guard_platform():
        app = application()
    window = create_main_window(argv, interactive=not args.check)
    if args.check:
        wait_for_opening(window)
    for message in window.errors:
        print(f"emviz: {message}", file=sys.stderr)
    if args.check:
        return _check_result(window, app, opened=not window.errors)
    return run_window(window)


@contextlib.contextmanager
def _guard_platform():
    """Qt's fatal "could not connect to display" turned into emviz's one line and status 1.

    The check before Qt (:func:`display_problem`) catches the usual cases
    cheaply; this catches the rest (an X server that answers but refuses Qt,
    a platform plugin that cannot load), where Qt would print its own
    messages and abort (status 134).  Messages that are not fatal pass
    through to the handler that was installed before.
    """
    from PySide6 import QtCore

    previous = None
    held: list[tuple] = []  # Qt's warnings while the platform opens, shown if it does

    def handler(mode, context, message: str) -> None:
        if mode == QtCore.QtMsgType.QtFatalMsg:
            warnings = [m for mo, _c, m in held if mo != QtCore.QtMsgType.QtDebugMsg]
            why = (warnings[-1] if warnings else message).strip().splitlines()
            why = why[0].rstrip(".") if why else "Qt could not open its platform"
            sys.stderr.write(no_display_message(f"Qt: {why}") + "\n")
            sys.stderr.flush()
            os._exit(NO_DISPLAY)
        held.append((mode, context, message))

    previous = QtCore.qInstallMessageHandler(handler)
    try:
        yield
    finally:
        QtCore.qInstallMessageHandler(previous)
        for mode, context, message in held:
            if previous is not None:
                previous(mode, context, message)
            elif mode != QtCore.QtMsgType.QtDebugMsg:
                sys.stderr.write(message + "\n")


def _quiet_offscreen() -> None:
    """Drop the offscreen platform's chatter ("does not support propagateSizeHints")."""
    from PySide6 import QtCore

    def handler(mode, context, message: str) -> None:
        if "propagateSizeHints" not in message:
            sys.stderr.write(message + "\n")

    QtCore.qInstallMessageHandler(handler)


def _check_result(window, app, opened: bool) -> int:
    """``--check``: paint the window once (as showing it would), report, close."""
    window.flush()
    window.grab()
    s = window.session
    if opened:
        print(f"emviz: opened {s.data_name}: {s.n_samples} points, K = {s.settings.n_components}")
    window.close()
    app.processEvents()
    return 0 if opened else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
