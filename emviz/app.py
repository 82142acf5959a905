"""The application: QApplication set-up and the main window, loaded.

The command line (:mod:`emviz.cli`) parses the arguments and calls these
functions; so does the headless ``emviz export``, which needs the same window
without showing it. Nothing here parses arguments.
"""

from __future__ import annotations

from emviz.core.settings import APPLICATION, ORGANIZATION

__all__ = [
    "DEFAULT_DATASET",
    "app_icon",
    "application",
    "configure_application",
    "open_start",
    "run_window",
    "wait_for_opening",
]

#: What emviz opens on when no file is given (or the file cannot be opened).
DEFAULT_DATASET = "old_faithful"


def open_start(window, file: str | None = None, dataset: str | None = None) -> bool:
    """Open what the window starts on: ``file``, else ``dataset``, else the default data set.

    A file that cannot be opened is reported in the window (its error box,
    and ``window.errors``) and the default data set is opened instead, so the
    window always starts with data.  A long session replay or a large data
    file goes on in the background (:func:`wait_for_opening` waits for it);
    if it fails or is cancelled, the default data set is opened then.

    Returns
    -------
    bool
        Whether ``file`` (or ``dataset``) was opened or is being opened.
    """
    session = window.session
    loaded = False
    if file and str(file).lower().endswith(".emviz"):
        from emviz.ui.files.session_io import open_session

        loaded = open_session(window, file)
    elif file:
        loaded = window.open_file(file)
    elif dataset:
        loaded = session.load_dataset(dataset)
    if not loaded:
        session.load_dataset(DEFAULT_DATASET)
        return False

    def fall_back(outcome: str) -> None:
        if outcome not in ("opened", "loaded") and session.X is None:
            session.load_dataset(DEFAULT_DATASET)

    for job in _background_jobs(window):
        job.finished.connect(fall_back)
    return True


def _background_jobs(window) -> list:
    """The openings still running in the background: a session replay, a large data file."""
    from emviz.ui.files.session_io import session_opener

    # A large data file loads on a worker thread (emviz.ui.files.loading.AsyncLoad).
    jobs = [session_opener(window), getattr(window, "_async_load", None)]
    return [job for job in jobs if job is not None and job.running]


def wait_for_opening(window, timeout_ms: int = 600_000) -> None:
    """Run the event loop until a file opened in the background is loaded (or failed)."""
    from PySide6 import QtCore

    pending = _background_jobs(window)
    if not pending:
        return
    loop = QtCore.QEventLoop()
    for job in pending:
        job.finished.connect(loop.quit)
    QtCore.QTimer.singleShot(timeout_ms, loop.quit)
    clock = QtCore.QElapsedTimer()
    clock.start()
    # Both jobs signal "finished" on the GUI thread, so none is missed between
    # the test and exec().
    while any(job.running for job in pending) and clock.elapsed() < timeout_ms:
        loop.exec()


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


def run_window(window) -> int:
    """Show ``window`` and run the event loop until it closes; the exit status."""
    from PySide6 import QtWidgets

    app = QtWidgets.QApplication.instance()
    icon = app_icon()
    if icon is not None:
        window.setWindowIcon(icon)
    window.show()
    return app.exec()


def application():
    """The QApplication, made and configured (:func:`configure_application`) on first use."""
    from PySide6 import QtWidgets

    app = QtWidgets.QApplication.instance()
    if app is None:
        app = QtWidgets.QApplication(["emviz"])
        configure_application(app)
    return app
