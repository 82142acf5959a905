"""Tests of emviz.core.session_file: save, load, replay exactly, refuse bad files clearly."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import stat
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emviz.core import session_file as sf
from emviz.core.em import iterate_em
from emviz.core.errors import DataFileError, EmvizError
from emviz.core.init import initialize
from emviz.core.mixture import Mixture
from emviz.core.session_file import load_session, replay, save_session
from emviz.core.snapshot import Snapshot

SETTINGS = {
    "n_components": 3,
    "cov_type": "full",
    "init": "kmeans++",
    "seed": 4,
    "reg_covar": 1e-6,
    "tol": 1e-6,
    "max_iter": 500,
}


def blobs(seed: int = 0, n: int = 150) -> np.ndarray:
    """Three blobs far from the origin, with floats that need all 17 digits."""
    rng = np.random.default_rng(seed)
    centers = np.array([[0.0, 0.0], [4.0, 1.0], [1.0, 5.0]])
    X = centers[rng.integers(3, size=n)] + rng.normal(scale=0.8, size=(n, 2))
    return X * np.pi + 1e6


def history(X: np.ndarray, start: Mixture, s: dict, n_half_steps: int) -> list[Snapshot]:
    """The snapshots a user gets by running, then stepping on past convergence."""
    kwargs = dict(cov_type=s["cov_type"], reg_covar=s["reg_covar"], tol=s["tol"])
    out = list(iterate_em(X, start, max_iter=s["max_iter"], **kwargs))
    while len(out) < n_half_steps + 1:
        out.append(next(iterate_em(X, out[-1], max_iter=1, **kwargs)))
    return out[: n_half_steps + 1]


def assert_same_history(a: list[Snapshot], b: list[Snapshot]) -> None:
    assert len(a) == len(b)
    for i, (x, y) in enumerate(zip(a, b)):
        where = f"snapshot {i}"
        assert (x.iteration, x.phase, x.converged, x.collapsing) == (
            y.iteration,
            y.phase,
            y.converged,
            y.collapsing,
        ), where
        # Exact equality, bit for bit: no tolerance anywhere.
        assert x.log_likelihood == y.log_likelihood, where
        assert x.mixture.cov_type == y.mixture.cov_type, where
        for name in ("weights", "means", "covariances"):
            assert np.array_equal(getattr(x.mixture, name), getattr(y.mixture, name)), where
        if x.resp is None:
            assert y.resp is None, where
        else:
            assert np.array_equal(x.resp, y.resp), where


def write_doc(tmp_path: Path, doc: object, name: str = "s.emviz") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return path


@pytest.fixture
def saved(tmp_path: Path) -> tuple[Path, dict]:
    """A valid session file and its parsed JSON."""
    X = blobs()
    start = initialize(X, 3, seed=4)
    path = save_session(tmp_path / "s.emviz", X, SETTINGS, start, 6, source="blobs")
    return path, json.loads(path.read_text(encoding="utf-8"))


# ----------------------------------------------------------------------------------------------
# Round trip


@pytest.mark.parametrize("cov_type", ["full", "tied", "diag", "spherical"])
def test_reopened_session_replays_the_same_history(tmp_path, cov_type):
    X = blobs(1)
    s = dict(SETTINGS, cov_type=cov_type, init="random_resp", seed=7)
    start = initialize(X, 3, method="random_resp", cov_type=cov_type, seed=7)
    original = history(X, start, s, n_half_steps=41)
    path = save_session(tmp_path / "run.emviz", X, s, start, len(original) - 1)

    loaded = load_session(path)
    assert np.array_equal(loaded.X, X)
    assert loaded.settings == s
    assert_same_history(original, replay(loaded, keep_resp=True))


def test_history_stepped_past_convergence_replays(tmp_path):
    X = blobs(2)
    s = dict(SETTINGS, tol=1e-3)
    start = initialize(X, 3, seed=4)
    converged = list(iterate_em(X, start, tol=1e-3))
    assert converged[-1].converged
    n = len(converged) + 6  # the user pressed Step six more times
    original = history(X, start, s, n)
    path = save_session(tmp_path / "s.emviz", X, s, start, n)
    assert_same_history(original, replay(load_session(path), keep_resp=True))


def test_history_stopped_early_replays_its_prefix(tmp_path):
    X = blobs(3)
    start = initialize(X, 3, seed=1)
    original = history(X, start, SETTINGS, 5)  # init E M E M E: stopped after an E-step
    path = save_session(tmp_path / "s.emviz", X, SETTINGS, start, 5)
    replayed = replay(load_session(path))
    assert [s.phase for s in replayed] == ["init", "E", "M", "E", "M", "E"]
    assert all(s.resp is None for s in replayed)
    assert_same_history([s.without_resp() for s in original], replayed)


def test_replay_of_zero_half_steps_is_the_start(tmp_path):
    X = blobs()
    start = initialize(X, 3, seed=0)
    path = save_session(tmp_path / "s.emviz", X, SETTINGS, start, 0)
    (snap,) = replay(load_session(path))
    assert snap.phase == "init"
    assert np.array_equal(snap.mixture.means, start.means)


def test_weights_are_kept_bit_for_bit(tmp_path):
    # Weights whose float sum is not exactly 1: dividing them by their sum
    # again would change last bits, and the replay would drift.
    rng = np.random.default_rng(0)
    for _ in range(1000):
        w = rng.random(5)
        w = w / w.sum()
        if w.sum() != 1.0:
            break
    start = Mixture(w, rng.normal(size=(5, 2)), np.tile(np.eye(2), (5, 1, 1)))
    assert start.weights.sum() != 1.0
    assert np.array_equal(start.weights, w)
    X = rng.normal(size=(40, 2))
    s = dict(SETTINGS, n_components=5)
    path = save_session(tmp_path / "s.emviz", X, s, start, 4)
    loaded = load_session(path)
    assert np.array_equal(loaded.start.weights, start.weights)
    assert not loaded.start.weights.flags.writeable
    assert_same_history(history(X, start, s, 4), replay(loaded, keep_resp=True))


finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(finite, finite), min_size=1, max_size=20))
def test_every_finite_float_round_trips(tmp_path_factory, points):
    X = np.array(points, dtype=np.float64)
    start = Mixture([1.0], [[0.0, 0.0]], [np.eye(2)])
    path = tmp_path_factory.mktemp("rt") / "s.emviz"
    save_session(path, X, dict(SETTINGS, n_components=1), start, 0)
    back = load_session(path).X
    # Compare the bits: -0.0, subnormals and 1.7976931348623157e308 included.
    assert back.tobytes() == X.tobytes()


def test_settings_may_be_a_dataclass_and_metadata_round_trips(tmp_path):
    @dataclasses.dataclass(frozen=True)
    class Settings:
        n_components: int = 2
        cov_type: str = "diag"
        init: str = "kmeans"
        seed: int | None = None
        reg_covar: float = 0.0
        tol: float = 1e-4
        max_iter: int = 50
        delay: float = 0.2  # not a session setting: ignored

    X = blobs()
    start = initialize(X, 2, cov_type="diag", method="kmeans", seed=3)
    path = save_session(
        tmp_path / "s.emviz",
        X,
        Settings(),
        start,
        7,
        current=3,
        columns=("eruptions (min)", "waiting (min)"),
        source='Old Faithful — a "geyser"',
        note="Lecture 4, slide 12\nsecond line",
    )
    loaded = load_session(path)
    assert loaded.settings_dict() == {
        "n_components": 2,
        "cov_type": "diag",
        "init": "kmeans",
        "seed": None,
        "reg_covar": 0.0,
        "tol": 1e-4,
        "max_iter": 50,
    }
    assert loaded.em_kwargs() == {"cov_type": "diag", "reg_covar": 0.0, "tol": 1e-4}
    assert (loaded.n_half_steps, loaded.current) == (7, 3)
    assert loaded.columns == ("eruptions (min)", "waiting (min)")
    assert loaded.source == 'Old Faithful — a "geyser"'
    assert loaded.note == "Lecture 4, slide 12\nsecond line"
    assert loaded.version == 1
    assert loaded.path == str(path)
    assert not loaded.X.flags.writeable


def test_the_file_is_readable_json_one_point_a_line(saved):
    path, doc = saved
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    # The MIME magic of emviz.desktop looks for this within the first 64 bytes.
    assert '"format": "emviz-session"' in text[:64]
    assert lines[0] == "{" and lines[-1] == "}"
    assert doc["version"] == 1
    assert doc["n_half_steps"] == 6
    first = lines.index('    "points": [') + 1
    n = len(doc["data"]["points"])
    assert all(
        re.fullmatch(r" +\[[-+.\de]+, [-+.\de]+\],?", line) for line in lines[first : first + n]
    )
    assert lines[first + n].strip() == "]"
    assert set(doc) >= {"format", "version", "data", "settings", "start", "n_half_steps"}
    assert doc["start"] == initialize(blobs(), 3, seed=4).to_dict()


# ----------------------------------------------------------------------------------------------
# Bad files: a DataFileError that says what is wrong


def test_corrupt_file_gives_line_and_column(tmp_path, saved):
    path, _ = saved
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[5] = lines[5].replace(":", " =", 1)
    bad = tmp_path / "corrupt.emviz"
    bad.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(DataFileError, match="corrupt: not valid JSON") as info:
        load_session(bad)
    assert info.value.line == 6
    assert info.value.column is not None
    assert info.value.path == str(bad)
    assert "line 6" in str(info.value)


def test_truncated_file_says_so(tmp_path, saved):
    path, _ = saved
    data = path.read_bytes()
    bad = tmp_path / "truncated.emviz"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataFileError, match="ends too early .*truncated") as info:
        load_session(bad)
    assert info.value.line is not None and info.value.line > 10


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"  \n", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "not UTF-8 text"),
        (b"[1, 2, 3]", "not an object"),
        (b'"emviz-session"', "not an object"),
        (b'{"version": 1}', 'not an emviz session file \\(no "format"'),
        (b'{"format": "emviz-mixture", "version": 1}', "'emviz-mixture', not 'emviz-session'"),
        (b'{"format": "emviz-session"}', 'invalid "version": None'),
        (b'{"format": "emviz-session", "version": "1"}', "invalid \"version\": '1'"),
        (b'{"format": "emviz-session", "version": 0}', 'invalid "version": 0'),
    ],
)
def test_not_a_session(tmp_path, content, message):
    path = tmp_path / "x.emviz"
    path.write_bytes(content)
    with pytest.raises(DataFileError, match=message):
        load_session(path)


def test_a_mixture_json_is_not_a_session(tmp_path):
    path = write_doc(tmp_path, Mixture([1.0], [[0, 0]], [np.eye(2)]).to_dict())
    with pytest.raises(DataFileError, match="not an emviz session file"):
        load_session(path)


def test_future_version_is_refused_with_the_versions(tmp_path, saved):
    _, doc = saved
    path = write_doc(tmp_path, dict(doc, version=2, something_new={"x": 1}))
    with pytest.raises(DataFileError) as info:
        load_session(path)
    assert (
        "this file was written by a newer emviz (format version 2); "
        "this emviz reads version 1" in str(info.value)
    )


def test_unknown_fields_of_version_1_are_ignored(tmp_path, saved):
    _, doc = saved
    path = write_doc(tmp_path, dict(doc, comment="hand-written", extra=[1, 2]))
    assert load_session(path).n_half_steps == 6


def test_missing_file(tmp_path):
    with pytest.raises(DataFileError, match="cannot read the file"):
        load_session(tmp_path / "nope.emviz")


def _drop(doc: dict, dotted: str) -> dict:
    doc = json.loads(json.dumps(doc))
    *parents, last = dotted.split(".")
    obj = doc
    for p in parents:
        obj = obj[p]
    del obj[last]
    return doc


def _set(doc: dict, dotted: str, value: object) -> dict:
    doc = json.loads(json.dumps(doc))
    *parents, last = dotted.split(".")
    obj = doc
    for p in parents:
        obj = obj[p]
    obj[last] = value
    return doc


@pytest.mark.parametrize(
    "field",
    [
        "data",
        "data.points",
        "settings",
        "settings.n_components",
        "settings.cov_type",
        "settings.init",
        "settings.seed",
        "settings.reg_covar",
        "settings.tol",
        "settings.max_iter",
        "start",
        "start.weights",
        "start.means",
        "start.covariances",
        "n_half_steps",
    ],
)
def test_missing_field_is_named(tmp_path, saved, field):
    _, doc = saved
    path = write_doc(tmp_path, _drop(doc, field))
    with pytest.raises(DataFileError, match=f"invalid session file: {field} is missing"):
        load_session(path)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("data", [1, 2], "data must be an object; got a list"),
        ("data.points", {"x": 1}, "data.points must be a list of \\[x, y\\]"),
        ("data.points", [[1.0, 2.0], [3.0]], "data.points\\[1\\] must be \\[x, y\\]"),
        ("data.points", [[1.0, "2"]], "data.points\\[0\\] must be \\[x, y\\] with two numbers"),
        ("data.points", [[1.0, True]], "data.points\\[0\\] must be \\[x, y\\]"),
        ("data.points", [], "data.points has no points"),
        ("data.columns", ["x"], "data.columns must be a list of two strings"),
        ("data.source", 3, "data.source must be a string; got an integer"),
        ("settings", "full", "settings must be an object; got a string"),
        ("settings.n_components", "3", "settings.n_components must be an integer; got a string"),
        ("settings.n_components", 2, "start has 3 components but settings.n_components is 2"),
        ("settings.n_components", 0, "settings.n_components must be at least 1"),
        ("settings.cov_type", "round", "settings.cov_type must be one of full, tied"),
        ("settings.init", None, "settings.init must be a string; got null"),
        ("settings.seed", 1.5, "settings.seed must be an integer or null; got a number"),
        ("settings.reg_covar", -1.0, "settings.reg_covar must be a non-negative finite number"),
        ("settings.tol", "1e-6", "settings.tol must be a number; got a string"),
        ("settings.max_iter", 0, "settings.max_iter must be at least 1"),
        ("settings.max_iter", True, "settings.max_iter must be an integer; got true/false"),
        ("start", [], "start must be an object; got a list"),
        ("start.weights", [0.5, 0.5, 0.5], "start is not a valid mixture: weights must sum to 1"),
        ("start.weights", [-0.5, 1.0, 0.5], "start is not a valid mixture: .*non-negative"),
        ("start.means", [[0, 0]], "start is not a valid mixture: means must have shape"),
        ("start.means", "abc", "start is not a valid mixture"),
        (
            "start.covariances",
            [[[1, 0], [0, -1]]] * 3,
            "start is not a valid mixture: covariance of component 0 is not positive definite",
        ),
        ("start.cov_type", 5, "start.cov_type must be a string"),
        ("n_half_steps", -1, "n_half_steps must be between 0 and"),
        ("n_half_steps", 10**9, "n_half_steps must be between 0 and 100000"),
        ("n_half_steps", 2.0, "n_half_steps must be an integer; got a number"),
        ("current", 7, "current must be between 0 and n_half_steps \\(6\\); got 7"),
        ("note", ["a"], "note must be a string; got a list"),
    ],
)
def test_ill_typed_field_is_named(tmp_path, saved, field, value, message):
    _, doc = saved
    path = write_doc(tmp_path, _set(doc, field, value))
    with pytest.raises(DataFileError, match="invalid session file: " + message):
        load_session(path)


@pytest.mark.parametrize(
    ("literal", "what"), [("NaN", "NaN"), ("Infinity", "infinity"), ("1e999", "infinity")]
)
def test_non_finite_points_are_refused(tmp_path, saved, literal, what):
    path, _ = saved
    text = path.read_text(encoding="utf-8")
    points_at = text.index('"points": [')
    first = text.index("[", points_at + 11)
    comma = text.index(",", first)
    bad = tmp_path / "nan.emviz"
    bad.write_text(text[: first + 1] + literal + text[comma:], encoding="utf-8")
    with pytest.raises(
        DataFileError, match=f"invalid session file: data.points contains {what} at row 0, column 0"
    ):
        load_session(bad)


def test_too_many_components_for_the_points(tmp_path, saved):
    _, doc = saved
    doc = _set(doc, "data.points", [[0.0, 1.0], [2.0, 3.0]])
    with pytest.raises(DataFileError, match="n_components \\(3\\) exceeds the number of points"):
        load_session(write_doc(tmp_path, doc))


def test_loading_never_modifies_the_file(tmp_path, saved):
    path, doc = saved
    bad = write_doc(tmp_path, dict(doc, version=9), "future.emviz")
    for p in (path, bad):
        os.utime(p, ns=(1_000_000_000, 2_000_000_000))
        before = (p.read_bytes(), p.stat().st_mtime_ns, stat.S_IMODE(p.stat().st_mode))
        try:
            replay(load_session(p))
        except DataFileError:
            pass
        assert (p.read_bytes(), p.stat().st_mtime_ns, stat.S_IMODE(p.stat().st_mode)) == before
    assert sorted(q.name for q in tmp_path.iterdir()) == ["future.emviz", "s.emviz"]


# ----------------------------------------------------------------------------------------------
# Saving: atomic, never clobbers the file it would replace


def _unchanged(path: Path, before: bytes) -> None:
    assert path.read_bytes() == before
    leftovers = [p.name for p in path.parent.iterdir() if p.name != path.name]
    assert leftovers == [], leftovers


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"X": np.array([[0.0, np.nan], [1.0, 2.0], [3.0, 4.0]])}, "X contains NaN"),
        ({"settings": dict(SETTINGS, tol=object())}, "settings.tol must be a number"),
        ({"settings": dict(SETTINGS, n_components=2)}, "start has 3 components"),
        ({"start": "not a mixture"}, "start must be a Mixture"),
        ({"X": np.zeros((2, 2))}, "n_components \\(3\\) exceeds the number of points \\(2\\)"),
        ({"n_half_steps": -3}, "n_half_steps must be between"),
        ({"source": b"bytes"}, "data.source must be a string"),
    ],
)
def test_invalid_arguments_write_nothing(saved, change, message):
    path, _ = saved
    before = path.read_bytes()
    X = blobs()
    args = {"X": X, "settings": SETTINGS, "start": initialize(X, 3, seed=0), "n_half_steps": 2}
    args.update(change)
    source = args.pop("source", "")
    with pytest.raises(EmvizError, match=message):
        save_session(path, source=source, **args)
    _unchanged(path, before)


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_failure_midway_keeps_the_existing_file(saved, monkeypatch, failing):
    path, _ = saved
    before = path.read_bytes()
    X = blobs(9)

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sf.os, failing, boom)
    with pytest.raises(OSError, match="No space left"):
        save_session(path, X, SETTINGS, initialize(X, 3, seed=0), 2)
    monkeypatch.undo()
    _unchanged(path, before)
    load_session(path)  # still the old, valid session


class _HalfWriter:
    """A file whose write stores half the text, then is interrupted."""

    def __init__(self, f):
        self.f = f

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()

    def write(self, data):
        self.f.write(data[: len(data) // 2])
        raise KeyboardInterrupt


def test_interrupted_write_keeps_the_existing_file(saved, monkeypatch):
    path, _ = saved
    before = path.read_bytes()
    X = blobs(9)
    # The module's open() is the builtin; shadow it in the module only.
    monkeypatch.setattr(sf, "open", lambda *a, **k: _HalfWriter(open(*a, **k)), raising=False)
    with pytest.raises(KeyboardInterrupt):
        save_session(path, X, SETTINGS, initialize(X, 3, seed=0), 2)
    monkeypatch.undo()
    _unchanged(path, before)


def test_saving_replaces_and_keeps_permissions(saved):
    path, _ = saved
    os.chmod(path, 0o640)
    X = blobs(5)
    save_session(path, X, SETTINGS, initialize(X, 3, seed=2), 3)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert load_session(path).n_half_steps == 3
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_new_file_gets_ordinary_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        X = blobs()
        path = save_session(tmp_path / "new.emviz", X, SETTINGS, initialize(X, 3, seed=0), 0)
    finally:
        os.umask(old)
    # Shared with students: readable by others, unlike a 0600 temporary file.
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


@pytest.mark.parametrize("cut", range(1, 60))
def test_a_file_cut_anywhere_near_its_end_says_truncated(tmp_path, cut):
    X = blobs()
    path = save_session(tmp_path / "s.emviz", X, SETTINGS, initialize(X, 3, seed=0), 2)
    text = path.read_text()
    path.write_text(text[: len(text) // 2 + cut])
    with pytest.raises(DataFileError, match="ends too early"):
        load_session(path)


def test_points_with_a_missing_coordinate_round_trip_when_treat_missing(tmp_path):
    from emviz.core.data import prepare

    X = blobs().copy()
    X[::7, 1] = np.nan
    X[3, 0] = np.nan
    data = prepare(X, missing="marginalize")
    start = initialize(data, 2, seed=0)
    s = {"n_components": 2, "cov_type": "full", "init": "kmeans++", "seed": 0}
    s.update(reg_covar=1e-6, tol=1e-6, max_iter=500)
    path = save_session(tmp_path / "m.emviz", X, s, start, 6, treat_missing=True)
    doc = json.loads(path.read_text())
    assert doc["data"]["treat_missing"] is True and doc["data"]["points"][3][0] is None
    loaded = load_session(path)
    assert loaded.treat_missing
    np.testing.assert_array_equal(np.isnan(loaded.X), np.isnan(X))
    snaps = replay(loaded)
    direct = list(iterate_em(None, start, data=data, max_iter=3, reg_covar=1e-6, tol=1e-6))
    np.testing.assert_allclose(
        [a.log_likelihood for a in snaps], [b.log_likelihood for b in direct[:7]], rtol=1e-12
    )
    # Without treat_missing a NaN is refused on writing, and null on reading.
    with pytest.raises(EmvizError, match="NaN"):
        save_session(tmp_path / "n.emviz", X, s, start, 0)
    del doc["data"]["treat_missing"]
    path.write_text(json.dumps(doc))
    with pytest.raises(DataFileError, match=r"data.points\[0\] must be \[x, y\] with two numbers"):
        load_session(path)
    doc["data"]["treat_missing"] = True
    doc["data"]["points"][5] = [None, None]
    path.write_text(json.dumps(doc))
    with pytest.raises(DataFileError, match=r"data.points\[5\] must be \[x, y\] with at least one"):
        load_session(path)
