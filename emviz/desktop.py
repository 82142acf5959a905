"""Install emviz in the desktop's application menu for the current user.

``emviz --install-desktop`` writes three files below ``$XDG_DATA_HOME``
(``~/.local/share`` by default), following the freedesktop.org specifications:

- ``applications/emviz.desktop``: the launcher (Desktop Entry Specification),
  which opens ``.emviz`` sessions and CSV files given to it (``%f``);
- ``icons/hicolor/scalable/apps/emviz.svg``: the icon (Icon Theme Specification);
- ``mime/packages/emviz.xml``: the MIME type ``application/x-emviz-session``
  for ``*.emviz`` files (Shared MIME-info Database).

It then refreshes the desktop and MIME databases with
``update-desktop-database`` and ``update-mime-database`` where those exist.
``emviz --uninstall-desktop`` removes the same three files and refreshes again.

The command line of both is :func:`emviz.cli.main_desktop`. This module uses
the standard library only (no Qt), so it also works where no
display is available.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "APP_ID",
    "MIME_TYPE",
    "desktop_paths",
    "exec_command",
    "install_desktop",
    "uninstall_desktop",
]

#: Name of the .desktop file and of the icon (``QGuiApplication.setDesktopFileName``).
APP_ID = "emviz"
#: MIME type of ``.emviz`` session files.
MIME_TYPE = "application/x-emviz-session"

MIME_XML = f"""\
<?xml version="1.0" encoding="UTF-8"?>
<!-- emviz session files; installed and removed by emviz's desktop installer. -->
<mime-info xmlns="http://www.freedesktop.org/standards/shared-mime-info">
  <mime-type type="{MIME_TYPE}">
    <comment>emviz session</comment>
    <comment xml:lang="de">emviz-Sitzung</comment>
    <comment xml:lang="fr">session emviz</comment>
    <sub-class-of type="application/json"/>
    <generic-icon name="{APP_ID}"/>
    <icon name="{APP_ID}"/>
    <glob pattern="*.emviz"/>
    <magic priority="60">
      <match type="string" value="&quot;format&quot;: &quot;emviz-session&quot;" offset="0:64"/>
    </magic>
  </mime-type>
</mime-info>
"""

_TOOL_TIMEOUT_S = 30


def _data_home(prefix: str | os.PathLike[str] | None) -> Path:
    """``prefix``, else ``$XDG_DATA_HOME`` if set and absolute, else ``~/.local/share``."""
    if prefix is not None:
        return Path(prefix)
    env = os.environ.get("XDG_DATA_HOME", "")
    # The XDG Base Directory spec: a relative path is invalid and is ignored.
    if env and os.path.isabs(env):
        return Path(env)
    return Path.home() / ".local" / "share"


def desktop_paths(prefix: str | os.PathLike[str] | None = None) -> dict[str, Path]:
    """Where the launcher, the icon and the MIME package go.

    Parameters
    ----------
    prefix : path-like, optional
        Used instead of ``$XDG_DATA_HOME`` (for tests and staged installs).

    Returns
    -------
    dict
        ``{"desktop": ..., "icon": ..., "mime": ...}``.
    """
    home = _data_home(prefix)
    return {
        "desktop": home / "applications" / f"{APP_ID}.desktop",
        "icon": home / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg",
        "mime": home / "mime" / "packages" / f"{APP_ID}.xml",
    }


def _quote_exec_arg(arg: str) -> str:
    """Quote one argument of an ``Exec`` key (Desktop Entry Specification, "The Exec key").

    Arguments with reserved characters are put in double quotes, inside which
    ``"``, `````, ``$`` and ``\\`` are escaped with a backslash; ``%`` is
    doubled.  The caller still applies the string-value escaping of the file
    format (see :func:`_escape_value`).
    """
    arg = arg.replace("%", "%%")
    reserved = set(" \t\n\"'\\><~|&;$*?#()`")
    if arg and not any(c in reserved for c in arg):
        return arg
    escaped = "".join("\\" + c if c in '"`$\\' else c for c in arg)
    return f'"{escaped}"'


def _escape_value(value: str) -> str:
    """Escape a string value of a desktop entry key (backslash, newline, tab)."""
    return (
        value.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")
    )


def exec_command() -> list[str]:
    """The command that starts this emviz: its ``emviz`` script, else ``python -m emviz``.

    The script is looked for next to ``sys.executable`` (the ``bin`` folder of
    the virtual environment or installation emviz runs from), so the launcher
    starts the same emviz as the one that installed it.
    """
    python = Path(sys.executable)
    script = python.parent / APP_ID
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script.absolute())]
    return [str(python.absolute()), "-m", "emviz"]


def desktop_entry(command: Sequence[str] | None = None) -> str:
    """The text of ``emviz.desktop``: the template in resources with ``Exec`` filled in.

    Parameters
    ----------
    command : list of str, optional
        The program and its arguments; default :func:`exec_command`.
    """
    from emviz.core.resources import resource_path

    cmd = list(exec_command() if command is None else command)
    exec_line = " ".join(_quote_exec_arg(a) for a in cmd) + " %f"
    template = resource_path(f"{APP_ID}.desktop").read_text(encoding="utf-8")
    placeholder = "\nExec=@EXEC@\n"
    if placeholder not in template:
        raise RuntimeError(f"the {APP_ID}.desktop template has no line Exec=@EXEC@")
    return template.replace(placeholder, f"\nExec={_escape_value(exec_line)}\n")


def _write(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` atomically, creating its folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(content)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _refresh(home: Path) -> None:
    """Run update-desktop-database and update-mime-database if present; ignore failures."""
    for tool, folder in (
        ("update-desktop-database", home / "applications"),
        ("update-mime-database", home / "mime"),
    ):
        exe = shutil.which(tool)
        if exe is None or not folder.is_dir():
            continue
        try:
            subprocess.run(
                [exe, str(folder)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=_TOOL_TIMEOUT_S,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            pass


def install_desktop(
    prefix: str | os.PathLike[str] | None = None, *, refresh: bool = True
) -> list[Path]:
    """Install the launcher, the icon and the MIME type for the current user.

    Running it again overwrites the same three files (for example with the
    ``Exec`` line of another virtual environment).

    Parameters
    ----------
    prefix : path-like, optional
        Install below this folder instead of ``$XDG_DATA_HOME``.
    refresh : bool, default True
        Run ``update-desktop-database`` and ``update-mime-database`` afterwards
        (if they are installed; their failure is ignored).

    Returns
    -------
    list of Path
        The files written: the .desktop file, the icon, the MIME package.
    """
    from emviz.core.resources import resource_path

    paths = desktop_paths(prefix)
    contents = {
        "desktop": desktop_entry().encode("utf-8"),
        "icon": resource_path(f"{APP_ID}.svg").read_bytes(),
        "mime": MIME_XML.encode("utf-8"),
    }
    written = []
    for key in ("desktop", "icon", "mime"):
        _write(paths[key], contents[key])
        written.append(paths[key])
    if refresh:
        _refresh(_data_home(prefix))
    return written


def uninstall_desktop(
    prefix: str | os.PathLike[str] | None = None, *, refresh: bool = True
) -> list[Path]:
    """Remove the files :func:`install_desktop` writes (and only those).

    Folders are left in place: they are the shared XDG folders.  Removing
    what is not there is not an error.

    Returns
    -------
    list of Path
        The files removed.
    """
    paths = desktop_paths(prefix)
    removed = []
    for key in ("desktop", "icon", "mime"):
        try:
            paths[key].unlink()
        except FileNotFoundError:
            continue
        removed.append(paths[key])
    if refresh and removed:
        _refresh(_data_home(prefix))
    return removed
