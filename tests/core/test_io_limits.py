"""Inputs that once crashed or hung the loaders: each ends in a DataFileError naming the file.

Quoted fields past the csv module's limit, .npy headers that lie about their
size or stop mid-way, devices, FIFOs, standard input, files over the size
limit, and cells too long to show; plus the block-by-block decoding that keeps
the memory of a large text file near its size.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from emviz.core import io as emviz_io
from emviz.core import readers
from emviz.core.errors import DataFileError
from emviz.core.io import MAX_FILE_BYTES, load_points, numeric_columns, read_file_bytes


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def npy_with_header(header: dict, data: bytes = b"") -> bytes:
    f = io.BytesIO()
    np.lib.format.write_array_header_1_0(f, header)
    return f.getvalue() + data


# ----------------------------------------------------------------------------------------------
# Text


def test_a_quoted_field_over_the_csv_limit_names_its_line(tmp_path):
    big = "x" * 200_000  # the csv module refuses fields over 128 KiB
    path = write(tmp_path, "long.csv", f'a,b\n1,2\n"{big}",3\n4,5\n')
    with pytest.raises(DataFileError) as info:
        load_points(path)
    message = str(info.value)
    assert message.startswith(f"{path}, line 3: a field longer than")
    assert len(message) < 300
    with pytest.raises(DataFileError, match="line 3"):
        numeric_columns(path)


def test_an_unclosed_quote_running_past_the_csv_limit_names_its_line(tmp_path):
    rows = "\n".join(f"{i},{i}" for i in range(30_000))  # 300 kB run on inside the quote
    path = write(tmp_path, "quote.csv", f'a,b\n1,2\n"3,4\n{rows}\n')
    with pytest.raises(DataFileError, match=r"line 3: this row has 1 field where the header"):
        load_points(path)


def test_a_huge_cell_is_cut_in_the_message(tmp_path):
    path = write(tmp_path, "cell.csv", "a,b\n1,2\n3," + "z" * 1_000_000 + "\n")
    with pytest.raises(DataFileError, match=r"line 3, column b: 'zzz") as info:
        load_points(path)
    assert len(str(info.value)) < 300 and "(1000000 characters)" in str(info.value)


def test_a_line_of_too_many_fields_is_not_a_table(tmp_path):
    path = write(tmp_path, "wide.csv", ",".join(["1"] * 20_000) + "\n")
    with pytest.raises(DataFileError, match=r"line 1: a line has more than 10000 fields"):
        load_points(path)


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
def test_block_boundaries_change_nothing(tmp_path, monkeypatch, newline, encoding):
    """Files decoded in blocks of a few bytes read the same as in one piece."""
    rng = np.random.default_rng(0)
    X = np.round(rng.normal(size=(300, 2)), 6)
    lines = ["# comment", "größe;wert", *(f"{x:.6f};{y:.6f}".replace(".", ",") for x, y in X)]
    path = write(tmp_path, "blocks.csv", newline.join(lines).encode(encoding))
    whole = load_points(path)
    monkeypatch.setattr(readers, "_BLOCK_BYTES", 7)
    monkeypatch.setattr(readers, "_CHUNK_LINES", 13)
    pieces = load_points(path)
    np.testing.assert_array_equal(pieces.X, X)
    np.testing.assert_array_equal(whole.X, X)
    assert pieces.columns == whole.columns == ("größe", "wert")


def test_errors_are_found_at_their_line_in_any_chunk(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "_BLOCK_BYTES", 50)
    monkeypatch.setattr(readers, "_CHUNK_LINES", 10)
    lines = [f"{i},{i}" for i in range(100)]
    lines[77] = "77,abc"
    lines[88] = "88,inf"
    path = write(tmp_path, "late.csv", "\n".join(lines))
    with pytest.raises(DataFileError, match=r"line 78, column 2: 'abc' is not a number"):
        load_points(path)
    lines[95] = "95"
    with pytest.raises(DataFileError, match=r"line 96: this row has 1 field"):
        load_points(write(tmp_path, "ragged.csv", "\n".join(lines)))


# ----------------------------------------------------------------------------------------------
# .npy


def test_an_npy_header_claiming_a_terabyte_is_refused_before_allocating(tmp_path):
    raw = npy_with_header({"descr": "<f8", "fortran_order": False, "shape": (10**12, 2)}, bytes(64))
    path = write(tmp_path, "liar.npy", raw)
    assert path.stat().st_size == 192
    with pytest.raises(DataFileError) as info:
        load_points(path)
    message = str(info.value)
    assert message.startswith(f"{path}: not a valid .npy array file: the header announces")
    assert "(1000000000000, 2)" in message and "16 TB" in message and "truncated" in message


@pytest.mark.parametrize(
    "cut", [20, 30, 45, 57], ids=["in-descr", "in-order", "in-shape", "before-close"]
)
def test_an_npy_header_cut_mid_dict_is_refused(tmp_path, cut):
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }"
    raw = b"\x93NUMPY\x01\x00" + len(header[:cut]).to_bytes(2, "little") + header[:cut].encode()
    path = write(tmp_path, "cut.npy", raw)
    with pytest.raises(DataFileError, match=r"not a valid \.npy array file: its header"):
        load_points(path)


@pytest.mark.parametrize(
    "header, message",
    [
        ({"descr": "<f8", "fortran_order": False, "shape": (3,)}, "expected a 2D array"),
        ({"descr": "<c16", "fortran_order": False, "shape": (3, 2)}, "not real numbers"),
        ({"descr": "|O", "fortran_order": False, "shape": (3, 2)}, "Python objects"),
        ({"descr": "<f8", "fortran_order": False, "shape": (3, 20_000)}, "announces"),
    ],
)
def test_npy_headers_are_checked_before_the_data(tmp_path, header, message):
    path = write(tmp_path, "h.npy", npy_with_header(header, bytes(48)))
    with pytest.raises(DataFileError, match=message):
        load_points(path)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", ["<f8", ">f4", "<i2", "|u1", "?"])
def test_npy_orders_and_dtypes_read_as_saved(tmp_path, order, dtype):
    rng = np.random.default_rng(1)
    saved = np.asarray(rng.integers(0, 2, size=(7, 3)), dtype=dtype, order=order)
    path = tmp_path / "a.npy"
    np.save(path, saved)
    np.testing.assert_array_equal(load_points(path, (2, 0)).X, saved[:, [2, 0]].astype(float))


# ----------------------------------------------------------------------------------------------
# What is not a regular file


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_devices_are_refused_without_being_read(device):
    if not os.path.exists(device):
        pytest.skip(f"no {device}")
    with pytest.raises(DataFileError) as info:
        load_points(device)
    assert str(info.value).startswith(f"{device}: this is a character device, not a regular")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_with_no_writer_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    outcome: list[object] = []

    def load() -> None:
        try:
            load_points(fifo)
        except DataFileError as exc:
            outcome.append(exc)

    reader = threading.Thread(target=load, daemon=True)
    reader.start()
    reader.join(10)
    if reader.is_alive():  # unblock the reader so that the test run ends
        with open(fifo, "wb"):
            pass
        pytest.fail("reading a FIFO with no writer blocked")
    assert "named pipe (FIFO), not a regular file" in str(outcome[0])


def test_a_file_over_the_size_limit_is_refused_before_reading(tmp_path):
    path = tmp_path / "huge.csv"
    with open(path, "wb") as f:  # sparse: no disk used
        f.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(DataFileError) as info:
        load_points(path)
    assert (
        str(info.value)
        == f"{path}: the file is too large (1 GiB): emviz reads files of up to 1 GiB"
    )


def test_the_size_limit_is_the_module_constant(tmp_path, monkeypatch):
    path = write(tmp_path, "a.csv", "x,y\n1,2\n3,4\n")
    monkeypatch.setattr(emviz_io, "MAX_FILE_BYTES", 10)
    with pytest.raises(DataFileError, match="too large"):
        load_points(path)
    assert read_file_bytes(path, limit=100) == path.read_bytes()


STDIN_SCRIPT = """
import sys
from emviz.core.errors import DataFileError
from emviz.core.io import load_points, numeric_columns
try:
    print(numeric_columns("/dev/stdin"))
    print(load_points("/dev/stdin", ("b", "c")).X.tolist())
except DataFileError as exc:
    print("refused:", exc)
"""


def test_standard_input_is_read_once_for_the_preview_and_the_load():
    out = subprocess.run(
        [sys.executable, "-c", STDIN_SCRIPT],
        input="a,b,c\n1,2,3\n4,5,6\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["('a', 'b', 'c')", "[[2.0, 3.0], [5.0, 6.0]]"]


@pytest.mark.skipif(sys.platform == "win32", reason="no pty")
def test_standard_input_from_a_terminal_is_refused():
    import pty

    primary, secondary = pty.openpty()
    try:
        out = subprocess.run(
            [sys.executable, "-c", STDIN_SCRIPT],
            stdin=secondary,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        os.close(primary)
        os.close(secondary)
    assert out.stdout.startswith("refused: /dev/stdin: standard input is a terminal")


def test_a_very_long_header_cell_is_cut_to_a_usable_name(tmp_path):
    from emviz.core.columns import MAX_NAME_CHARS

    path = write(tmp_path, "names.csv", "a," + "b" * 50_000 + "\n1,2\n3,4\n")
    result = load_points(path)
    assert result.columns[0] == "a"
    assert len(result.columns[1]) == MAX_NAME_CHARS and result.columns[1].endswith("…")
    assert load_points(path, (0, result.columns[1])).X.shape == (2, 2)
