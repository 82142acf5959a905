"""Command line and application start-up.

``emviz`` with no argument opens on Old Faithful with K = 2 initialised;
``emviz FILE`` opens a data file or a ``.emviz`` session; see ``emviz --help``.
Two more forms are handled before Qt starts: ``emviz export ...`` renders a run
headless (see ``emviz export --help``), and ``emviz --install-desktop`` /
``--uninstall-desktop`` add emviz to (or remove it from) the application menu.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
from collections.abc import Sequence
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
    APPLICATION,
    COV_TYPES,
    INIT_METHODS,
    MAX_COMPONENTS,
    ORGANIZATION,
    parse_k,
    parse_seed,
)

__all__ = ["build_parser", "configure_application", "create_main_window", "main"]

DEFAULT_DATASET = "old_faithful"


def build_parser() -> argparse.ArgumentParser:
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
        "are used; with more you are asked which), or a saved .emviz session",
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
    return parser


def _strip_program(argv: Sequence[str]) -> list[str]:
    """Accept sys.argv-style lists (program name first) as well as bare arguments."""
    argv = list(argv)
    if argv:
        first = Path(argv[0]).name
        if first in ("emviz", "emviz.exe", "__main__.py", "emviz-script.py") or first.endswith(
            "app.py"
        ):
            return argv[1:]
    return argv


def build_window(k: int, cov_type: str, init: str, seed: int):
    """An empty main window whose session starts with these settings (no data yet).

    A QApplication must exist.  Used by :func:`create_main_window` and by the
    headless ``emviz export``.
    """
    from emviz.session import Session
    from emviz.ui.main_window import MainWindow
    from emviz.ui.style import configure_pyqtgraph

    configure_pyqtgraph()
    session = Session()
    session.update_settings(n_components=k, cov_type=cov_type, init=init, seed=seed)
    window = MainWindow(session)
    session.setParent(window)
    return window


def create_main_window(argv: Sequence[str] | None = None):
    """Build the main window (a QApplication must exist), loaded and initialised.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments, with or without the program name first;
        default ``sys.argv``.

    Returns
    -------
    MainWindow
        Not shown; its ``session`` holds the data and the history.
    """
    args = build_parser().parse_args(_strip_program(sys.argv if argv is None else argv))
    window = build_window(args.k, args.cov_type, args.init, args.seed)
    session = window.session
    loaded = False
    if args.file and str(args.file).lower().endswith(".emviz"):
        from emviz.ui.session_io import open_session

        loaded = open_session(window, args.file)
    elif args.file:
        loaded = window.open_file(args.file)
    elif args.dataset:
        loaded = session.load_dataset(args.dataset)
    if not loaded:
        session.load_dataset(DEFAULT_DATASET)
    return window


def configure_application(app, persistent: bool = True) -> None:
    """Names, desktop file and icon of the QApplication.

    With ``persistent`` the organisation name is set, which turns on the
    remembered settings (see :func:`emviz.ui.classroom.settings_store`); the
    headless export leaves it unset, so it neither reads nor writes them.
    """
    app.setApplicationName(APPLICATION)
    if persistent:
        app.setOrganizationName(ORGANIZATION)
    app.setApplicationDisplayName("emviz")
    # Wayland and X11 docks match the window to emviz.desktop (and its icon).
    app.setDesktopFileName(APPLICATION)
    icon = app_icon()
    if icon is not None:
        app.setWindowIcon(icon)


def app_icon():
    """The SVG icon as a QIcon, or None if it cannot be found."""
    from PySide6 import QtGui

    from emviz.core.errors import EmvizError
    from emviz.core.resources import resource_path

    try:
        path = resource_path("emviz.svg")
    except EmvizError:
        return None
    icon = QtGui.QIcon(str(path))
    return None if icon.isNull() else icon


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``emviz`` command."""
    # A frozen app (PyInstaller) starts its EM process by running itself:
    # this turns that run into the process instead of a second window.
    multiprocessing.freeze_support()
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["export"]:
        from emviz.export import main_export

        return main_export(argv[1:])
    if any(a in ("--install-desktop", "--uninstall-desktop") for a in argv):
        from emviz.desktop import main_desktop  # standard library only: no Qt

        return main_desktop(argv)
    build_parser().parse_args(argv)  # --help and usage errors before Qt starts
    from PySide6 import QtWidgets

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(["emviz"])
    configure_application(app)
    window = create_main_window(argv)
    icon = app_icon()
    if icon is not None:
        window.setWindowIcon(icon)
    app.aboutToQuit.connect(window.session.shutdown)
    window.show()
    return app.exec()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
