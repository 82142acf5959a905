"""Where the bundled resources (icon, data sets) are.

The repository keeps them in a top-level ``resources/`` folder. An installed
wheel ships the same folder as package data under ``emviz/_resources``. This
module hides the difference.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

from emviz.core.errors import EmvizError

__all__ = ["resource_path", "resources_dir"]


def resources_dir() -> Path:
    """The folder holding emviz's resources.

    Returns
    -------
    Path
        ``emviz/_resources`` inside the installed package if it exists,
        otherwise the ``resources/`` folder of a source checkout.

    Raises
    ------
    EmvizError
        If neither exists (a broken installation).
    """
    try:
        installed = importlib.resources.files("emviz") / "_resources"
    except (ModuleNotFoundError, TypeError, ValueError):
        installed = None
    # Only a real directory will do: callers open files by path (a zipped
    # install would need importlib.resources.as_file, which emviz never is).
    if isinstance(installed, Path) and installed.is_dir():
        return installed
    checkout = Path(__file__).resolve().parents[2] / "resources"
    if checkout.is_dir():
        return checkout
    raise EmvizError(
        f"cannot find emviz's resources: neither {installed} nor {checkout} exists; reinstall emviz"
    )


def resource_path(*parts: str) -> Path:
    """Path of a file below :func:`resources_dir`, e.g. ``resource_path("datasets", "iris.csv")``.

    Raises
    ------
    EmvizError
        If the file does not exist.
    """
    path = resources_dir().joinpath(*parts)
    if not path.exists():
        raise EmvizError(f"missing resource {'/'.join(parts)!r} (looked for {path})")
    return path
