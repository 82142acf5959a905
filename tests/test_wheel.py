"""The wheel ships emviz's resources, and an installed emviz finds them in site-packages.

The wheel is built from a copy of the source tree (so no ``build/`` folder of
the checkout can leak stale files into it, and the checkout is not touched),
then installed into a fresh virtual environment with numpy only.  Building
needs setuptools from the package registry (pip's build isolation).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

RESOURCES = [
    "emviz/_resources/datasets/old_faithful.csv",
    "emviz/_resources/datasets/iris.csv",
    "emviz/_resources/datasets/penguins.csv",
    "emviz/_resources/emviz.svg",
    "emviz/_resources/emviz.desktop",
]


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    result = subprocess.run(
        cmd, capture_output=True, text=True, env=env, timeout=300, check=False, **kwargs
    )
    assert result.returncode == 0, f"{' '.join(cmd)}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(
        ROOT,
        src,
        ignore=shutil.ignore_patterns(
            ".git",
            ".venv",
            "build",
            "dist",
            "*.egg-info",
            "__pycache__",
            ".pytest_cache",
            ".ruff_cache",
            ".hypothesis",
            "tests",
        ),
    )
    dist = tmp / "dist"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(src)])
    (whl,) = dist.glob("emviz-*.whl")
    return whl


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh virtual environment with the wheel and numpy installed."""
    env_dir = tmp_path_factory.mktemp("venv") / "env"
    # No pip inside: the pip running the tests installs into it (--python), which
    # is several seconds faster than bootstrapping pip with ensurepip.
    run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)])
    python = env_dir / "bin" / "python"
    run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q"]
        + ["--no-deps", str(wheel), "numpy"]
    )
    return env_dir


def test_wheel_contains_the_resources_and_the_entry_point(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        missing = [r for r in RESOURCES if r not in names]
        assert not missing, f"not in the wheel: {missing}"
        (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        text = zf.read(entry_points).decode()
        assert zf.read("emviz/_resources/emviz.svg") == (ROOT / "resources/emviz.svg").read_bytes()
    section = text.split("[gui_scripts]", 1)[1].split("[", 1)[0]
    assert "emviz = emviz.cli:main" in section
    assert not any(n.startswith(("tests/", "resources/")) for n in names)


def test_installed_emviz_finds_its_resources_in_site_packages(venv, tmp_path):
    code = """
import emviz, sysconfig
from pathlib import Path
from emviz.core.resources import resources_dir
from emviz.core.datasets import load_dataset
site = Path(sysconfig.get_paths()["purelib"]).resolve()
res = resources_dir().resolve()
print(Path(emviz.__file__).resolve().is_relative_to(site))
print(res.is_relative_to(site))
print(res)
names = ("old_faithful.csv", "iris.csv", "penguins.csv")
print(all((res / "datasets" / n).is_file() for n in names))
print(load_dataset("old_faithful").X.shape)
"""
    # Run from tmp_path: nothing of the checkout is importable from there.
    out = run([str(venv / "bin" / "python"), "-c", code], cwd=tmp_path).stdout.splitlines()
    assert out[0] == "True", "emviz is not imported from site-packages"
    assert out[1] == "True", f"resources found outside site-packages: {out[2]}"
    assert not Path(out[2]).is_relative_to(ROOT)
    assert out[3] == "True"
    assert out[4] == "(272, 2)"


def test_installed_desktop_launcher_runs_the_gui_script(venv, tmp_path):
    script = venv / "bin" / "emviz"
    assert script.is_file() and os.access(script, os.X_OK)
    prefix = tmp_path / "share"
    code = (
        "from emviz.desktop import install_desktop; "
        f"print(install_desktop({str(prefix)!r}, refresh=False)[0])"
    )
    out = run([str(venv / "bin" / "python"), "-c", code], cwd=tmp_path).stdout.strip()
    text = Path(out).read_text(encoding="utf-8")
    assert f"\nExec={script} %f\n" in text
