"""Remembered settings: where they are kept, and the folder of the last file.

Where settings are kept (:func:`settings_store`): the file named by the
``EMVIZ_SETTINGS`` environment variable (INI format; tests point it at a
temporary file), else the user's emviz settings, but only in the emviz
application itself (which sets the organisation name "emviz"); a window
built by a test or by ``emviz export`` remembers nothing.

The classroom feature remembers the theme, run speed and window geometry
here; every file dialog (Open, Save session, Export) starts in
:func:`last_folder` and calls :func:`remember_folder`.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6 import QtCore

from emviz.core.settings import APPLICATION, ORGANIZATION

__all__ = [
    "SETTINGS_ENV",
    "bundled_data_folder",
    "last_folder",
    "read_setting",
    "remember_folder",
    "settings_store",
    "write_setting",
]

SETTINGS_ENV = "EMVIZ_SETTINGS"


def settings_store() -> QtCore.QSettings | None:
    """The QSettings to remember things in, or None where nothing is remembered."""
    path = os.environ.get(SETTINGS_ENV, "")
    if path:
        return QtCore.QSettings(path, QtCore.QSettings.Format.IniFormat)
    app = QtCore.QCoreApplication.instance()
    if app is None or app.organizationName() != ORGANIZATION:
        return None
    return QtCore.QSettings(ORGANIZATION, APPLICATION)


def read_setting(key: str, default=None):
    """The remembered value of ``key``, or ``default``."""
    store = settings_store()
    return default if store is None else store.value(key, default)


def write_setting(key: str, value) -> None:
    """Remember ``value`` as ``key`` (nothing where nothing is remembered)."""
    store = settings_store()
    if store is not None:
        store.setValue(key, value)
        store.sync()


def last_folder(*, opening: bool = False) -> str:
    """The folder of the last file opened or saved.

    With none remembered: for an Open dialog (``opening``) the bundled data
    sets, so that a newcomer's first Open shows files that load; for a Save
    dialog the home folder (never the installed package).
    """
    folder = read_setting("last_folder", "")
    if folder and Path(str(folder)).is_dir():
        return str(folder)
    if opening:
        bundled = bundled_data_folder()
        if bundled is not None:
            return str(bundled)
    return str(Path.home())


def bundled_data_folder() -> Path | None:
    """The folder of the bundled data sets, or None in a broken installation."""
    from emviz.core.errors import EmvizError
    from emviz.core.resources import resources_dir

    try:
        folder = resources_dir() / "datasets"
    except EmvizError:
        return None
    return folder if folder.is_dir() else None


def remember_folder(path: str | os.PathLike[str]) -> None:
    """Remember the folder of ``path`` (a file) for the next file dialog.

    The bundled data sets' folder is not remembered: it is where Open starts
    anyway, and a Save dialog must not offer the installed package.
    """
    p = Path(path)
    folder = p if p.is_dir() else p.parent
    bundled = bundled_data_folder()
    if bundled is not None and folder.resolve() == bundled.resolve():
        return
    write_setting("last_folder", str(folder))
