"""Peak memory and time of loading a large CSV with emviz.core.io.load_points.

Usage::

    python tests/benchmarks/bench_load.py [--mb 200] [--columns 3] [--keep FILE]

Writes a CSV of about ``--mb`` megabytes (random floats written with 17
significant digits, a header, ``--columns`` columns), then loads it in a fresh
Python process and prints the peak resident memory (VmHWM, Linux) during the
load, minus the memory of the process before it, as a multiple of the file's
size. ``load_points`` reads the file once, then decodes and converts it block
by block: only the two chosen columns ever exist as numbers, never the whole
file as Python strings.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CHILD = r"""
import sys, time
from emviz.core.io import load_points

def status(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) * 1024
    return 0

before = status("VmRSS:")
t0 = time.perf_counter()
result = load_points(sys.argv[1])
seconds = time.perf_counter() - t0
print(before, status("VmHWM:"), seconds, result.X.shape[0])
"""


def write_csv(path: Path, megabytes: float, n_columns: int) -> None:
    rng = np.random.default_rng(0)
    row_bytes = 20.5 * n_columns  # "%.17g" of numbers near 1e3, and a separator
    n_rows = int(megabytes * 1e6 / row_bytes)
    header = ",".join(f"c{j}" for j in range(n_columns))
    with open(path, "w") as f:
        f.write(header + "\n")
        for start in range(0, n_rows, 200_000):
            block = rng.normal(size=(min(200_000, n_rows - start), n_columns)) * 1e3
            np.savetxt(f, block, delimiter=",", fmt="%.17g")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=200.0, help="size of the CSV (default 200)")
    parser.add_argument("--columns", type=int, default=3, help="columns of the CSV (default 3)")
    parser.add_argument("--keep", type=Path, help="write the CSV here and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = args.keep or Path(folder) / "big.csv"
        if not path.exists():
            write_csv(path, args.mb, args.columns)
        size = path.stat().st_size
        t0 = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, check=True
        )
        wall = time.perf_counter() - t0
    before, peak, seconds, n_rows = out.stdout.split()
    extra = int(peak) - int(before)
    print(f"file: {size / 1e6:.0f} MB, {int(n_rows):,} rows")
    print(f"load: {float(seconds):.1f} s ({wall:.1f} s with start-up)")
    print(f"peak memory of the load: {extra / 1e6:.0f} MB = {extra / size:.2f} x the file")
    return 0


if __name__ == "__main__":
    sys.exit(main())
