"""Tests of emviz.desktop: the launcher, icon and MIME type installed for the current user."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from emviz import desktop
from emviz.cli import main_desktop
from emviz.core.mixture import Mixture
from emviz.core.resources import resource_path
from emviz.core.session_file import save_session
from emviz.desktop import install_desktop, uninstall_desktop

MIME_NS = "{http://www.freedesktop.org/standards/shared-mime-info}"


def read_entry(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return dict(parser["Desktop Entry"])


def unescape_exec(value: str) -> list[str]:
    """The arguments of an Exec value, read as the Desktop Entry Specification says.

    First the escapes of string values (``\\\\`` is a backslash), then the
    Exec key's own quoting: arguments are separated by spaces; inside double
    quotes a backslash escapes ``"``, `````, ``$`` and ``\\``.
    """
    value = value.replace("\\\\", "\\")
    args: list[str] = []
    current: list[str] = []
    quoted = in_word = False
    i = 0
    while i < len(value):
        c = value[i]
        if quoted:
            if c == "\\" and i + 1 < len(value) and value[i + 1] in '"`$\\':
                current.append(value[i + 1])
                i += 1
            elif c == '"':
                quoted = False
            else:
                current.append(c)
        elif c == '"':
            quoted = in_word = True
        elif c == " ":
            if in_word:
                args.append("".join(current))
            current, in_word = [], False
        else:
            current.append(c)
            in_word = True
        i += 1
    assert not quoted, f"unbalanced quotes in {value!r}"
    if in_word:
        args.append("".join(current))
    return args


def expected_files(prefix: Path) -> list[Path]:
    return [
        prefix / "applications" / "emviz.desktop",
        prefix / "icons" / "hicolor" / "scalable" / "apps" / "emviz.svg",
        prefix / "mime" / "packages" / "emviz.xml",
    ]


def emviz_files(prefix: Path) -> list[Path]:
    """Files named after emviz, other than the MIME database that update-mime-database makes."""
    generated = prefix / "mime" / "application"
    return sorted(
        p
        for p in prefix.rglob("*")
        if p.is_file() and "emviz" in p.name and not p.is_relative_to(generated)
    )


@pytest.fixture
def fake_python(tmp_path, monkeypatch):
    """A sys.executable in a folder of our own, so the script lookup is under control."""
    bindir = tmp_path / "my env" / "bin"
    bindir.mkdir(parents=True)
    python = bindir / "python"
    python.write_text("#!/bin/sh\n")
    python.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(python))
    return bindir


def test_install_creates_the_three_files(tmp_path):
    prefix = tmp_path / "share"
    written = install_desktop(prefix)
    assert written == expected_files(prefix)
    assert all(p.is_file() for p in written)

    entry = read_entry(written[0])
    assert entry["Type"] == "Application"
    assert entry["Name"] == "emviz"
    assert entry["Icon"] == "emviz"
    assert entry["Terminal"] == "false"
    assert entry["MimeType"] == "application/x-emviz-session;text/csv;"
    assert entry["Exec"].endswith(" %f")
    assert unescape_exec(entry["Exec"])[:-1] == desktop.exec_command()
    assert "@EXEC@" not in written[0].read_text(encoding="utf-8")

    assert written[1].read_bytes() == resource_path("emviz.svg").read_bytes()
    assert ET.parse(written[1]).getroot().tag == "{http://www.w3.org/2000/svg}svg"


def test_exec_uses_the_emviz_script_next_to_python(fake_python, tmp_path):
    script = fake_python / "emviz"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    assert desktop.exec_command() == [str(script)]
    entry = read_entry(install_desktop(tmp_path / "share", refresh=False)[0])
    # The folder has a space: the argument is quoted as the specification says.
    assert entry["Exec"] == f'"{script}" %f'
    assert unescape_exec(entry["Exec"]) == [str(script), "%f"]


def test_exec_falls_back_to_python_dash_m(fake_python, tmp_path):
    python = fake_python / "python"
    (fake_python / "emviz").write_text("not executable")  # no x bit: not a script to run
    assert desktop.exec_command() == [str(python), "-m", "emviz"]
    entry = read_entry(install_desktop(tmp_path / "share", refresh=False)[0])
    assert unescape_exec(entry["Exec"]) == [str(python), "-m", "emviz", "%f"]


@pytest.mark.parametrize(
    "arg",
    ["/usr/bin/emviz", "/home/a b/emviz", '/odd/"q"/emviz', "/odd/$HOME/emviz", "/x/back\\slash"],
)
def test_exec_quoting_round_trips(arg):
    quoted = desktop._escape_value(desktop._quote_exec_arg(arg))
    assert unescape_exec(quoted) == [arg]


def test_percent_in_a_path_is_doubled():
    assert desktop._quote_exec_arg("/opt/100%/emviz") == "/opt/100%%/emviz"


def test_mime_package_parses_and_matches_session_files(tmp_path):
    mime = install_desktop(tmp_path / "share", refresh=False)[2]
    root = ET.parse(mime).getroot()
    assert root.tag == MIME_NS + "mime-info"
    (mime_type,) = root.findall(MIME_NS + "mime-type")
    assert mime_type.get("type") == "application/x-emviz-session"
    assert mime_type.find(MIME_NS + "glob").get("pattern") == "*.emviz"
    assert mime_type.find(MIME_NS + "sub-class-of").get("type") == "application/json"
    match = mime_type.find(f"{MIME_NS}magic/{MIME_NS}match")
    # The magic must find what save_session writes near the top of every file.
    session = save_session(
        tmp_path / "s.emviz",
        np.zeros((3, 2)),
        _settings(),
        Mixture([1.0], [[0, 0]], [np.eye(2)]),
        0,
    )
    start, end = (int(v) for v in match.get("offset").split(":"))
    head = session.read_bytes()[start : end + len(match.get("value"))]
    assert match.get("value").encode() in head


def _settings() -> dict:
    return {
        "n_components": 1,
        "cov_type": "full",
        "init": "kmeans++",
        "seed": 0,
        "reg_covar": 1e-6,
        "tol": 1e-6,
        "max_iter": 10,
    }


@pytest.mark.skipif(shutil.which("update-mime-database") is None, reason="no shared-mime-info")
def test_shared_mime_info_accepts_the_package(tmp_path):
    prefix = tmp_path / "share"
    install_desktop(prefix)  # runs update-mime-database on prefix/mime
    globs = (prefix / "mime" / "globs2").read_text()
    assert "application/x-emviz-session:*.emviz" in globs
    uninstall_desktop(prefix)
    assert "emviz" not in (prefix / "mime" / "globs2").read_text()
    assert not list(prefix.rglob("*emviz*"))  # the database forgot the type too


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="no desktop-file-utils")
def test_desktop_file_validates(tmp_path):
    path = install_desktop(tmp_path / "share", refresh=False)[0]
    result = subprocess.run(
        ["desktop-file-validate", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error" not in result.stdout


def test_uninstall_removes_exactly_what_install_created(tmp_path):
    prefix = tmp_path / "share"
    mine = prefix / "applications" / "other.desktop"
    mine.parent.mkdir(parents=True)
    mine.write_text("[Desktop Entry]\nName=other\n")
    written = install_desktop(prefix)
    assert emviz_files(prefix) == sorted(written)
    removed = uninstall_desktop(prefix)
    assert removed == written
    assert not any(p.exists() for p in written)
    assert emviz_files(prefix) == []
    assert mine.read_text() == "[Desktop Entry]\nName=other\n"


def test_install_and_uninstall_are_idempotent(tmp_path):
    prefix = tmp_path / "share"
    first = install_desktop(prefix)
    contents = [p.read_bytes() for p in first]
    second = install_desktop(prefix)
    assert second == first
    assert [p.read_bytes() for p in second] == contents
    assert emviz_files(prefix) == sorted(first)  # no temporary files left behind
    assert uninstall_desktop(prefix) == first
    assert uninstall_desktop(prefix) == []
    assert uninstall_desktop(tmp_path / "never-installed") == []


def test_xdg_data_home_is_honoured(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert desktop.desktop_paths()["desktop"] == tmp_path / "xdg/applications/emviz.desktop"
    written = install_desktop(refresh=False)
    assert written == expected_files(tmp_path / "xdg")
    # A relative XDG_DATA_HOME is invalid (XDG Base Directory spec): the default applies.
    monkeypatch.setenv("XDG_DATA_HOME", "relative/share")
    assert desktop.desktop_paths()["icon"].is_relative_to(tmp_path / "home/.local/share")
    monkeypatch.delenv("XDG_DATA_HOME")
    assert desktop.desktop_paths()["mime"] == tmp_path / "home/.local/share/mime/packages/emviz.xml"


def test_failing_database_tools_are_ignored(tmp_path, monkeypatch):
    monkeypatch.setattr(desktop.shutil, "which", lambda name: "/bin/false")
    assert len(install_desktop(tmp_path / "share")) == 3
    monkeypatch.setattr(desktop.shutil, "which", lambda name: str(tmp_path / "missing-tool"))
    assert len(uninstall_desktop(tmp_path / "share")) == 3


def test_command_line(tmp_path, capsys):
    prefix = tmp_path / "share"
    assert main_desktop(["--install-desktop", "--prefix", str(prefix)]) == 0
    out = capsys.readouterr().out
    assert f"installed {prefix / 'applications' / 'emviz.desktop'}" in out
    assert main_desktop(["--uninstall-desktop", "--prefix", str(prefix)]) == 0
    assert "removed" in capsys.readouterr().out
    assert main_desktop(["--uninstall-desktop", "--prefix", str(prefix)]) == 0
    assert "nothing to remove" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main_desktop([])
    with pytest.raises(SystemExit):
        main_desktop(["--install-desktop", "--uninstall-desktop"])


def test_unwritable_prefix_is_an_error_not_a_traceback(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main_desktop(["--install-desktop", "--prefix", str(blocker)]) == 1
    assert "emviz:" in capsys.readouterr().err


def test_desktop_module_imports_no_qt():
    code = "import sys, emviz.desktop; print(any(m.startswith('PySide6') for m in sys.modules))"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == "False"
