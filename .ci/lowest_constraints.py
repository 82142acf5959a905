"""Print a pip constraints file pinning every runtime dependency to the lowest version
pyproject.toml declares (``pkg>=X`` becomes ``pkg==X``), for the CI job that checks
those bounds are true. Environment markers are kept, so each Python gets its own pin."""

import re
import sys
from pathlib import Path

import tomllib

project = tomllib.loads(Path(sys.argv[1] if len(sys.argv) > 1 else "pyproject.toml").read_text())
for requirement in project["project"]["dependencies"]:
    spec, _, marker = requirement.partition(";")
    match = re.match(r"\s*([A-Za-z0-9_.\-\[\]]+)\s*>=\s*([^,\s]+)", spec)
    if match is None:
        sys.exit(f"no lower bound in {requirement!r}")
    name = re.sub(r"\[.*\]", "", match.group(1))
    print(f"{name}=={match.group(2)}" + (f"; {marker.strip()}" if marker else ""))
