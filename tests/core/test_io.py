"""Tests of emviz.core.io.load_points: formats, header and column detection, errors."""

from __future__ import annotations

import csv
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emviz.core.errors import DataFileError, EmvizError
from emviz.core.io import LoadCancelled, LoadedPoints, load_points, numeric_columns

DATA = Path("/work/shared/data")
REPO_DATA = Path(__file__).resolve().parents[2] / "resources" / "datasets"


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def penguins_path() -> Path:
    for folder in (REPO_DATA, DATA):
        if (folder / "penguins.csv").exists():
            return folder / "penguins.csv"
    pytest.skip("penguins.csv not available")


EXPECTED = np.array([[1.5, -2.0], [3.25, 4.0], [5.0, 6e-3]])


# ----------------------------------------------------------------------------------------------
# Formats


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("comma.csv", "x,y\n1.5,-2\n3.25,4\n5,6e-3\n"),
        ("tab.tsv", "x\ty\n1.5\t-2\n3.25\t4\n5\t6e-3\n"),
        ("semicolon.csv", "x;y\n1.5;-2\n3.25;4\n5;6e-3\n"),
        ("spaces.txt", "x y\n 1.5   -2\n3.25  4\n5\t6e-3\n"),
        ("crlf.csv", "x,y\r\n1.5,-2\r\n3.25,4\r\n5,6e-3\r\n"),
        ("old_mac.csv", "x,y\r1.5,-2\r3.25,4\r5,6e-3"),
        ("spaced.csv", "x, y\n1.5, -2\n3.25, 4\n5, 6e-3\n"),
        ("quoted.csv", '"x","y"\n"1.5","-2"\n"3.25","4"\n"5","6e-3"\n'),
        ("blank_lines.csv", "\nx,y\n\n1.5,-2\n3.25,4\n\n5,6e-3\n\n\n"),
        ("comments.txt", "# made by hand\nx y\n1.5 -2\n# a comment\n3.25 4\n5 6e-3\n"),
        ("pipe.txt", "x|y\n1.5|-2\n3.25|4\n5|6e-3\n"),
    ],
)
def test_text_formats_with_header(tmp_path: Path, name: str, text: str) -> None:
    result = load_points(write(tmp_path, name, text))
    assert isinstance(result, LoadedPoints)
    np.testing.assert_array_equal(result.X, EXPECTED)
    assert result.columns == ("x", "y")
    assert result.all_columns == ("x", "y")
    assert result.n_dropped == 0
    assert result.path == str(tmp_path / name)


def test_result_array_is_read_only_float64(tmp_path: Path) -> None:
    result = load_points(write(tmp_path, "a.csv", "1,2\n3,4\n"))
    assert result.X.dtype == np.float64
    assert result.X.shape == (2, 2)
    with pytest.raises(ValueError, match="read-only"):
        result.X[0, 0] = 99.0


def test_headerless_file_gets_one_based_column_names(tmp_path: Path) -> None:
    path = write(tmp_path, "plain.txt", "1 2 3\n4 5 6\n7 8 9\n")
    result = load_points(path)
    assert result.columns == ("column 1", "column 2")
    assert result.all_columns == ("column 1", "column 2", "column 3")
    np.testing.assert_array_equal(result.X, [[1, 2], [4, 5], [7, 8]])
    by_name = load_points(path, ("column 3", "column 1"))
    np.testing.assert_array_equal(by_name.X, [[3, 1], [6, 4], [9, 7]])


def test_semicolon_file_with_decimal_commas(tmp_path: Path) -> None:
    path = write(tmp_path, "excel_fr.csv", "x;y\n1,5;-2\n3,25;4\n5;0,006\n")
    result = load_points(path)
    np.testing.assert_allclose(result.X, EXPECTED)


def test_quoted_fields_with_delimiters_and_quotes_inside(tmp_path: Path) -> None:
    text = 'name,"length, cm",width\n"a, b",1,2\n"say ""hi""",3,4\nplain,5,6\n'
    result = load_points(write(tmp_path, "q.csv", text))
    assert result.columns == ("length, cm", "width")
    assert result.all_columns == ("length, cm", "width")
    np.testing.assert_array_equal(result.X, [[1, 2], [3, 4], [5, 6]])


def test_whitespace_file_with_quoted_header(tmp_path: Path) -> None:
    text = '"petal length" "petal width"\n1 2\n3 4\n'
    result = load_points(write(tmp_path, "ws.txt", text))
    assert result.columns == ("petal length", "petal width")


def test_r_write_csv_row_names_are_skipped(tmp_path: Path) -> None:
    # What R's write.csv(data.frame(a=..., b=..., c=...)) writes.
    text = '"","a","b","c"\n"1",10.5,20,30\n"2",11,21,31\n"3",12,22,32\n'
    path = write(tmp_path, "r.csv", text)
    result = load_points(path)
    assert result.columns == ("a", "b")
    assert result.all_columns == ("a", "b", "c")
    np.testing.assert_array_equal(result.X, [[10.5, 20], [11, 21], [12, 22]])
    assert numeric_columns(path) == ("a", "b", "c")
    with pytest.raises(DataFileError, match="no column with index 0"):
        load_points(path, (0, 1))


def test_pandas_index_column_is_skipped(tmp_path: Path) -> None:
    text = ",a,b\n0,1.5,2\n1,3.5,4\n2,5.5,6\n"
    result = load_points(write(tmp_path, "pd.csv", text))
    assert result.columns == ("a", "b")
    np.testing.assert_array_equal(result.X, [[1.5, 2], [3.5, 4], [5.5, 6]])


def test_r_write_table_header_without_row_name_column(tmp_path: Path) -> None:
    text = "a b\n1 10 20\n2 11 21\n3 12 22\n"
    result = load_points(write(tmp_path, "r.txt", text))
    assert result.columns == ("a", "b")
    np.testing.assert_array_equal(result.X, [[10, 20], [11, 21], [12, 22]])


def test_unnamed_first_column_of_data_is_kept(tmp_path: Path) -> None:
    # An empty header name over values that are not row names is ordinary data.
    text = ",b\n0.5,2\n-1.5,4\n0.25,6\n"
    result = load_points(write(tmp_path, "u.csv", text))
    assert result.columns == ("column 1", "b")
    np.testing.assert_array_equal(result.X, [[0.5, 2], [-1.5, 4], [0.25, 6]])


def test_utf8_bom(tmp_path: Path) -> None:
    path = write(tmp_path, "bom.csv", "\ufefftempérature,y\n1,2\n3,4\n")
    result = load_points(path)
    assert result.columns == ("température", "y")


def test_latin1_header(tmp_path: Path) -> None:
    path = write(tmp_path, "latin1.csv", "température;durée\n1;2\n3;4\n", encoding="latin-1")
    assert path.read_bytes().count(b"\xe9") == 2  # really Latin-1, not UTF-8
    result = load_points(path)
    assert result.columns == ("température", "durée")
    np.testing.assert_array_equal(result.X, [[1, 2], [3, 4]])


def test_utf16_with_bom(tmp_path: Path) -> None:
    path = write(tmp_path, "u16.csv", "\ufeffx\ty\n1\t2\n3\t4\n", encoding="utf-16-le")
    np.testing.assert_array_equal(load_points(path).X, [[1, 2], [3, 4]])


def test_npy(tmp_path: Path) -> None:
    data = np.arange(12, dtype=np.int32).reshape(4, 3)
    path = tmp_path / "a.npy"
    np.save(path, data)
    result = load_points(path)
    assert result.columns == ("column 1", "column 2")
    assert result.all_columns == ("column 1", "column 2", "column 3")
    np.testing.assert_array_equal(result.X, data[:, :2])
    assert result.X.dtype == np.float64
    np.testing.assert_array_equal(load_points(path, (2, 0)).X, data[:, [2, 0]])
    assert numeric_columns(path) == ("column 1", "column 2", "column 3")


def test_npy_missing_values_are_dropped(tmp_path: Path) -> None:
    data = np.array([[1.0, 2.0], [np.nan, 3.0], [4.0, 5.0], [6.0, 7.0]])
    np.save(tmp_path / "a.npy", data)
    result = load_points(tmp_path / "a.npy")
    assert result.n_dropped == 1
    np.testing.assert_array_equal(result.X, data[[0, 2, 3]])


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.arange(5.0), r"2D array.*shape \(5,\)"),
        (np.zeros((2, 2, 2)), r"2D array.*shape \(2, 2, 2\)"),
        (np.zeros((5, 1)), "only 1 column"),
        (np.array([["a", "b"], ["c", "d"]]), "not real numbers"),
        (np.array([[1 + 2j, 3], [4, 5]]), "not real numbers"),
    ],
)
def test_npy_wrong_shape_or_dtype(tmp_path: Path, array: np.ndarray, message: str) -> None:
    path = tmp_path / "bad.npy"
    np.save(path, array)
    with pytest.raises(DataFileError, match=message) as info:
        load_points(path)
    assert str(path) in str(info.value)


def test_npy_object_array_and_infinity(tmp_path: Path) -> None:
    path = tmp_path / "obj.npy"
    np.save(path, np.array([[1, None], [2, 3]], dtype=object), allow_pickle=True)
    with pytest.raises(DataFileError, match="Python objects"):
        load_points(path)
    path = tmp_path / "inf.npy"
    np.save(path, np.array([[1.0, 2.0], [3.0, np.inf], [4.0, 5.0]]))
    with pytest.raises(DataFileError, match=r"column 2: infinite value \(inf\) in row 2"):
        load_points(path)


def test_text_named_npy_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "fake.npy", "1,2\n3,4\n")
    with pytest.raises(DataFileError, match="NumPy file signature"):
        load_points(path)


# ----------------------------------------------------------------------------------------------
# Column choice


IRIS_LIKE = (
    "sepal_length,sepal_width,petal_length,petal_width,species\n"
    "5.1,3.5,1.4,0.2,setosa\n"
    "7.0,3.2,4.7,1.4,versicolor\n"
    "6.3,3.3,6.0,2.5,virginica\n"
)


def test_default_columns_skip_text_columns(tmp_path: Path) -> None:
    text = "species,island,a,b,c\nAdelie,Torgersen,1,2,3\nGentoo,Biscoe,4,5,6\n"
    result = load_points(write(tmp_path, "p.csv", text))
    assert result.columns == ("a", "b")
    assert result.all_columns == ("a", "b", "c")
    np.testing.assert_array_equal(result.X, [[1, 2], [4, 5]])


def test_choose_columns_by_name_and_by_index(tmp_path: Path) -> None:
    path = write(tmp_path, "iris.csv", IRIS_LIKE)
    by_name = load_points(path, ("petal_length", "petal_width"))
    by_index = load_points(path, (2, 3))
    assert by_name.columns == by_index.columns == ("petal_length", "petal_width")
    np.testing.assert_array_equal(by_name.X, [[1.4, 0.2], [4.7, 1.4], [6.0, 2.5]])
    np.testing.assert_array_equal(by_index.X, by_name.X)
    swapped = load_points(path, ["petal_width", 0])
    np.testing.assert_array_equal(swapped.X, [[0.2, 5.1], [1.4, 7.0], [2.5, 6.3]])
    assert numeric_columns(path) == ("sepal_length", "sepal_width", "petal_length", "petal_width")


def test_unknown_column_lists_available_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "iris.csv", IRIS_LIKE)
    with pytest.raises(DataFileError) as info:
        load_points(path, ("petal_length", "petal_area"))
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    assert "'petal_area'" in message
    for j, name in enumerate(["sepal_length", "sepal_width", "petal_length", "petal_width"]):
        assert f"{j}: '{name}'" in message
    assert "4: 'species', text" in message
    with pytest.raises(DataFileError, match=r"no column with index 7.*0: 'sepal_length'"):
        load_points(path, (0, 7))
    with pytest.raises(DataFileError, match="no column with index -1"):
        load_points(path, (-1, 0))


def test_text_column_chosen_explicitly_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "iris.csv", IRIS_LIKE)
    with pytest.raises(DataFileError, match="line 2, column species: 'setosa' is not a number"):
        load_points(path, ("sepal_length", "species"))


@pytest.mark.parametrize("columns", ["ab", ("a",), ("a", "b", "c"), (1.0, 2), (True, 1), 3])
def test_malformed_columns_argument(tmp_path: Path, columns: object) -> None:
    path = write(tmp_path, "a.csv", "a,b\n1,2\n3,4\n")
    with pytest.raises(EmvizError, match="column"):
        load_points(path, columns)  # type: ignore[arg-type]


def test_same_column_twice_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "a,b\n1,2\n3,4\n")
    with pytest.raises(DataFileError, match="same column"):
        load_points(path, ("a", 0))


def test_column_name_match_ignores_case_when_unambiguous(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "Width,Height\n1,2\n3,4\n")
    assert load_points(path, ("height", "WIDTH")).columns == ("Height", "Width")


# ----------------------------------------------------------------------------------------------
# Missing values


def test_every_missing_spelling_is_dropped_and_counted(tmp_path: Path) -> None:
    spellings = ["", "NA", "na", "NaN", "nan", "N/A", "n/a", "null", "NULL", "None", ".", "?"]
    lines = ["x,y", "0,0"]
    for i, token in enumerate(spellings):
        lines.append(f"{token},{i}" if i % 2 else f"{i},{token}")
    lines.append("1,1")
    result = load_points(write(tmp_path, "m.csv", "\n".join(lines) + "\n"))
    assert result.n_dropped == len(spellings)
    np.testing.assert_array_equal(result.X, [[0, 0], [1, 1]])


def test_missing_in_unchosen_column_does_not_drop(tmp_path: Path) -> None:
    text = "a,b,c\n1,2,NA\n3,4,\n5,6,7\n"
    result = load_points(write(tmp_path, "m.csv", text))
    assert result.n_dropped == 0
    assert result.X.shape == (3, 2)


def test_missing_keep_keeps_half_missing_rows(tmp_path: Path) -> None:
    text = "x,y\n1,2\nNA,3\n4,NA\nNA,NA\n5,6\n"
    path = write(tmp_path, "m.csv", text)
    kept = load_points(path, missing="keep")
    assert kept.n_dropped == 1
    np.testing.assert_array_equal(kept.X, [[1, 2], [np.nan, 3], [4, np.nan], [5, 6]])
    dropped = load_points(path)
    assert dropped.n_dropped == 3
    np.testing.assert_array_equal(dropped.X, [[1, 2], [5, 6]])
    with pytest.raises(EmvizError, match="missing must be 'drop' or 'keep'"):
        load_points(path, missing="fill")


def test_penguins_dropped_rows_match_an_independent_count() -> None:
    path = penguins_path()
    with path.open(newline="", encoding="utf-8") as f:
        records = list(csv.DictReader(f))
    na = sum(r["bill_length_mm"] == "NA" or r["bill_depth_mm"] == "NA" for r in records)
    assert na > 0
    result = load_points(path, ("bill_length_mm", "bill_depth_mm"))
    assert result.n_dropped == na
    assert result.X.shape == (len(records) - na, 2)
    complete = [r for r in records if "NA" not in (r["bill_length_mm"], r["bill_depth_mm"])]
    expected = [[float(r["bill_length_mm"]), float(r["bill_depth_mm"])] for r in complete]
    np.testing.assert_array_equal(result.X, expected)
    assert result.all_columns == (
        "bill_length_mm",
        "bill_depth_mm",
        "flipper_length_mm",
        "body_mass_g",
        "year",
    )


# ----------------------------------------------------------------------------------------------
# Errors: each names the file, and the line and column where there is one


def test_non_numeric_cell_in_penguins_copy(tmp_path: Path) -> None:
    lines = penguins_path().read_text(encoding="utf-8").splitlines()
    fields = lines[6].split(",")  # line 7 of the file
    fields[2] = "abc"
    lines[6] = ",".join(fields)
    path = write(tmp_path, "penguins.csv", "\n".join(lines) + "\n")
    with pytest.raises(DataFileError) as info:
        load_points(path, ("bill_length_mm", "bill_depth_mm"))
    error = info.value
    assert str(error) == f"{path}, line 7, column bill_length_mm: 'abc' is not a number"
    assert (error.path, error.line, error.column) == (str(path), 7, "bill_length_mm")
    # A typo must not silently move the default choice to other columns.
    with pytest.raises(DataFileError, match="line 7, column bill_length_mm: 'abc'"):
        load_points(path)


def test_non_numeric_cell_far_down_a_headerless_file(tmp_path: Path) -> None:
    lines = [f"{i},{i * 2}" for i in range(5000)]
    lines[4321] = "4321,4e"
    path = write(tmp_path, "long.csv", "\n".join(lines))
    with pytest.raises(DataFileError, match=r"line 4322, column 2: '4e' is not a number"):
        load_points(path)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.csv"
    with pytest.raises(DataFileError, match=f"^{re.escape(str(path))}: file not found$"):
        load_points(path)


def test_folder_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="folder"):
        load_points(tmp_path)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads anything")
def test_unreadable_file(tmp_path: Path) -> None:
    path = write(tmp_path, "secret.csv", "1,2\n3,4\n")
    path.chmod(0)
    try:
        with pytest.raises(DataFileError, match="permission denied"):
            load_points(path)
    finally:
        path.chmod(0o644)


@pytest.mark.parametrize("text", ["", "\n\n", "   \n"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, "empty.csv", text)
    with pytest.raises(DataFileError, match=f"^{re.escape(str(path))}: the file is empty$"):
        load_points(path)


def test_only_comments(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="only blank or comment lines"):
        load_points(write(tmp_path, "c.txt", "# nothing\n# here\n"))


@pytest.mark.parametrize("text", ["x\n1\n2\n3\n", "1\n2\n3\n"])
def test_only_one_column(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, "one.csv", text)
    with pytest.raises(DataFileError, match="only one column") as info:
        load_points(path)
    assert str(info.value).startswith(str(path))


def test_only_one_numeric_column(tmp_path: Path) -> None:
    path = write(tmp_path, "one.csv", "name,x\na,1\nb,2\n")
    with pytest.raises(DataFileError, match=r"found only one column \('x'\)"):
        load_points(path)


@pytest.mark.parametrize(
    ("cell", "line_text"), [("inf", "'inf'"), ("-inf", "'-inf'"), ("Infinity", "'Infinity'")]
)
def test_infinite_value(tmp_path: Path, cell: str, line_text: str) -> None:
    path = write(tmp_path, "inf.csv", f"x,y\n1,2\n3,{cell}\n5,6\n")
    with pytest.raises(DataFileError) as info:
        load_points(path)
    assert str(info.value) == (
        f"{path}, line 3, column y: infinite value {line_text}; coordinates must be finite"
    )


def test_ragged_row_names_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "ragged.csv", "a,b,c\n1,2,3\n4,5,6\n7,8\n9,10,11\n")
    with pytest.raises(DataFileError) as info:
        load_points(path)
    assert str(info.value) == f"{path}, line 4: this row has 2 fields where the header has 3"


def test_row_with_extra_values_is_ragged_but_trailing_delimiter_is_not(tmp_path: Path) -> None:
    path = write(tmp_path, "extra.csv", "a,b\n1,2\n3,4,5\n6,7\n")
    with pytest.raises(DataFileError, match="line 3: this row has 3 fields where the header has 2"):
        load_points(path)
    trailing = write(tmp_path, "trailing.csv", "a,b,\n1,2,\n3,4,\n")
    np.testing.assert_array_equal(load_points(trailing).X, [[1, 2], [3, 4]])


def test_unbalanced_quote_is_reported_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "q.csv", 'a,b\n1,2\n"3,4\n5,6\n')
    with pytest.raises(DataFileError, match="line 3: this row has 1 field where"):
        load_points(path)


def test_binary_file_with_nul_bytes(tmp_path: Path) -> None:
    path = tmp_path / "image.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(DataFileError, match="binary file") as info:
        load_points(path)
    # The NUL follows two newline bytes of the PNG signature.
    assert str(info.value).startswith(f"{path}, line 3: ")


def test_binary_file_without_nul_bytes(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    raw = rng.integers(1, 256, 4000, dtype=np.uint8).tobytes()
    path = tmp_path / "noise.bin"
    path.write_bytes(raw)
    with pytest.raises(DataFileError, match="binary file"):
        load_points(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x,y\n1,2\n", "only 1 usable row in columns 'x' and 'y'"),
        ("x,y\n1,2\nNA,3\n4,\n", r"only 1 usable row \(2 dropped for missing values\)"),
        ("x,y\n1,NA\nNA,2\n", r"only 0 usable rows \(2 dropped"),
    ],
)
def test_fewer_than_two_usable_rows(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, "few.csv", text)
    with pytest.raises(DataFileError, match=message) as info:
        load_points(path)
    assert str(info.value).startswith(f"{path}: ")


@pytest.mark.parametrize(
    "content",
    [
        b"\xff\xfe\x00",  # UTF-16 BOM with a truncated character
        b'"""\n,,,\n;;;',
        b"\x93NUMPY\x01\x00garbage",
        b"a,b\n" + b"\xc3" * 10,
        b"\r\r\r,\n",
        b'x,y\n1,2\n"',
        b",\n,\n,\n",
    ],
)
def test_garbage_gives_data_file_error_only(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "garbage.csv"
    path.write_bytes(content)
    with pytest.raises(DataFileError):
        load_points(path)
    # The quick preview may find columns in a file that cannot be loaded, but
    # it too fails only with DataFileError.
    try:
        names = numeric_columns(path)
    except DataFileError:
        return
    assert isinstance(names, tuple)


def test_header_without_data(tmp_path: Path) -> None:
    path = write(tmp_path, "h.csv", "\n\nx,y\n\n")
    with pytest.raises(DataFileError) as info:
        load_points(path)
    assert str(info.value) == f"{path}, line 3: the file has a header line but no data rows"


def test_file_is_not_modified(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "\ufeffx;y\r\n1,5;NA\r\n2;3\r\n4;5\r\n")
    before = path.read_bytes()
    mtime = path.stat().st_mtime_ns
    load_points(path)
    numeric_columns(path)
    assert path.read_bytes() == before
    assert path.stat().st_mtime_ns == mtime


# ----------------------------------------------------------------------------------------------
# Size, progress and cancel


def test_large_file_loads_correctly(tmp_path: Path) -> None:
    rng = np.random.default_rng(42)
    data = rng.normal(size=(100_000, 3)) * [1.0, 1e3, 1e-3]
    path = tmp_path / "big.csv"
    np.savetxt(path, data, delimiter=",", header="a,b,c", comments="", fmt="%.17g")
    result = load_points(path, ("c", "a"))
    assert result.X.shape == (100_000, 2)
    np.testing.assert_array_equal(result.X, data[:, [2, 0]])
    assert result.n_dropped == 0


def test_progress_is_reported_in_order_and_reaches_one(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    np.savetxt(path, np.ones((120_000, 2)), delimiter=",")
    seen: list[float] = []
    load_points(path, progress=lambda f: seen.append(f) or True)
    assert len(seen) >= 4
    assert seen == sorted(seen)
    assert seen[0] == 0.0
    assert seen[-1] == 1.0
    assert all(0.0 <= f <= 1.0 for f in seen)


def test_progress_returning_none_does_not_cancel(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "1,2\n3,4\n")
    assert load_points(path, progress=lambda f: None).X.shape == (2, 2)


def test_cancel(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    np.savetxt(path, np.ones((120_000, 2)), delimiter=",")
    calls: list[float] = []

    def cancel_midway(fraction: float) -> bool:
        calls.append(fraction)
        return fraction < 0.3

    with pytest.raises(LoadCancelled, match="cancelled") as info:
        load_points(path, progress=cancel_midway)
    assert isinstance(info.value, EmvizError)
    assert 0.3 <= calls[-1] < 1.0


def test_copy_of_shipped_data_keeps_loading(tmp_path: Path) -> None:
    # A copy in another folder, and a name with spaces, load the same.
    source = penguins_path()
    target = tmp_path / "my penguins.csv"
    shutil.copy(source, target)
    a = load_points(source)
    b = load_points(target)
    np.testing.assert_array_equal(a.X, b.X)
    assert b.path == str(target)


def test_os_error_while_reading_is_a_data_file_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "a.csv", "1,2\n3,4\n")

    def refuse(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(DataFileError, match=f"^{re.escape(str(path))}: permission denied"):
        load_points(path)


# ----------------------------------------------------------------------------------------------
# Whatever the bytes, the only exception is DataFileError


@settings(max_examples=300, deadline=None)
@given(
    cells=st.lists(
        st.lists(
            st.sampled_from(
                ["1", "-2.5", "3e4", "NA", "", "x", '"q"', '"', "inf", "nan", " ", "1,5", "é"]
            ),
            min_size=0,
            max_size=5,
        ),
        min_size=0,
        max_size=8,
    ),
    delimiter=st.sampled_from([",", ";", "\t", " ", "|"]),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "latin-1"]),
)
def test_tables_of_random_cells_fail_only_with_data_file_error(
    tmp_path_factory: pytest.TempPathFactory,
    cells: list[list[str]],
    delimiter: str,
    newline: str,
    encoding: str,
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "f.csv"
    path.write_bytes(newline.join(delimiter.join(r) for r in cells).encode(encoding))
    try:
        result = load_points(path)
    except DataFileError:
        return
    assert result.X.shape[0] >= 2
    assert result.X.shape[1] == 2
    assert np.all(np.isfinite(result.X))


@settings(max_examples=200, deadline=None)
@given(content=st.binary(max_size=300))
def test_random_bytes_fail_only_with_data_file_error(
    tmp_path_factory: pytest.TempPathFactory, content: bytes
) -> None:
    for name in ("f.csv", "f.npy"):
        path = tmp_path_factory.mktemp("fuzz") / name
        path.write_bytes(content)
        try:
            result = load_points(path, missing="keep")
        except DataFileError:
            continue
        assert result.X.shape[1] == 2


def test_truncated_npy_files(tmp_path: Path) -> None:
    path = tmp_path / "a.npy"
    np.save(path, np.arange(40.0).reshape(20, 2))
    full = path.read_bytes()
    for size in (6, 10, 60, 127, 128, 200, len(full) - 1):
        path.write_bytes(full[:size])
        with pytest.raises(DataFileError, match=r"not a valid \.npy"):
            load_points(path)
