"""Session files that once escaped the reader's checks, bounded free text, and the
progress and cancellation of loading and replaying."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from emviz.core.errors import DataFileError, EmvizError, LoadCancelled
from emviz.core.init import initialize
from emviz.core.session_file import (
    MAX_NAME_CHARS,
    MAX_NOTE_CHARS,
    MAX_SESSION_BYTES,
    load_session,
    replay,
    save_session,
    session_text,
)
from tests.core.test_session_file import SETTINGS, assert_same_history, blobs, write_doc


@pytest.fixture
def doc() -> dict:
    X = blobs(n=60)
    return json.loads(session_text(X, SETTINGS, initialize(X, 3, seed=4), 6, source="blobs"))


def refused(tmp_path: Path, doc: object, message: str) -> str:
    path = write_doc(tmp_path, doc)
    with pytest.raises(DataFileError) as info:
        load_session(path)
    text = str(info.value)
    assert text.startswith(f"{path}: ") and message in text, text
    assert len(text) < 400
    return text


def test_an_integer_too_large_for_a_float_in_the_points(tmp_path, doc):
    doc["data"]["points"][1] = [10**400, 2]
    refused(tmp_path, doc, "data.points[1] holds a number too large for a float")


def test_an_integer_too_large_for_a_float_in_the_start(tmp_path, doc):
    doc["start"]["means"][0][0] = 10**400
    refused(tmp_path, doc, "start holds a number too large for a float")


def test_an_integer_too_large_for_a_float_in_the_settings(tmp_path, doc):
    doc["settings"]["reg_covar"] = 10**400
    refused(tmp_path, doc, "settings.reg_covar must be a non-negative finite number")


def test_an_integer_of_more_digits_than_python_reads(tmp_path, doc):
    path = write_doc(tmp_path, doc)
    path.write_text(path.read_text().replace('"n_half_steps": 6', '"n_half_steps": ' + "7" * 5000))
    with pytest.raises(DataFileError, match="the file is corrupt"):
        load_session(path)


@pytest.mark.parametrize(
    "where, limit",
    [(("note",), MAX_NOTE_CHARS), (("data", "source"), MAX_NAME_CHARS)],
    ids=["note", "source"],
)
def test_free_text_is_bounded_on_reading(tmp_path, doc, where, limit):
    target = doc
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = "n" * limit
    assert load_session(write_doc(tmp_path, doc))  # at the limit: read
    target[where[-1]] = "n" * (limit + 1)
    refused(tmp_path, doc, f"{'.'.join(where)} is too long ({limit + 1} characters; at most")


def test_column_names_are_bounded(tmp_path, doc):
    doc["data"]["columns"] = ["x", "y" * (MAX_NAME_CHARS + 1)]
    refused(tmp_path, doc, "data.columns[1] is too long")


def test_what_cannot_be_read_cannot_be_written(tmp_path):
    X = blobs(n=30)
    start = initialize(X, 3, seed=4)
    with pytest.raises(EmvizError, match="note is too long"):
        save_session(tmp_path / "s.emviz", X, SETTINGS, start, 0, note="n" * (MAX_NOTE_CHARS + 1))
    with pytest.raises(EmvizError, match="settings.n_components must be at most 10; got 11"):
        save_session(tmp_path / "s.emviz", X, dict(SETTINGS, n_components=11), start, 0)
    assert not list(tmp_path.iterdir())


def test_devices_and_oversized_files_are_refused(tmp_path):
    if os.path.exists("/dev/zero"):
        with pytest.raises(DataFileError, match="cannot read the file: this is a character device"):
            load_session("/dev/zero")
    big = tmp_path / "big.emviz"
    with open(big, "wb") as f:  # sparse: no disk used
        f.truncate(MAX_SESSION_BYTES + 1)
    with pytest.raises(DataFileError, match="cannot read the file: the file is too large"):
        load_session(big)


# ----------------------------------------------------------------------------------------------
# Progress and cancellation


def test_load_session_reports_its_stages_and_can_stop(tmp_path, doc):
    path = write_doc(tmp_path, doc)
    seen: list[tuple[int, int]] = []
    assert load_session(path, progress=lambda d, t: seen.append((d, t))).n_half_steps == 6
    assert seen == [(1, 3), (2, 3), (3, 3)]
    seen.clear()
    with pytest.raises(LoadCancelled):
        load_session(path, progress=lambda d, t: seen.append((d, t)), should_stop=lambda: seen)
    assert seen == [(1, 3)]  # stopped after reading, before parsing


def test_replay_reports_progress_and_stops_when_asked(tmp_path):
    X = blobs(n=90)
    settings = dict(SETTINGS, tol=0.0)  # never converges: a long history
    path = save_session(tmp_path / "long.emviz", X, settings, initialize(X, 3, seed=4), 1000)
    sf = load_session(path)
    seen: list[tuple[int, int]] = []
    history = replay(sf, progress=lambda d, t: seen.append((d, t)))
    assert len(history) == 1001
    assert_same_history(history, replay(sf))
    assert seen[-1] == (1001, 1001) and all(t == 1001 for _, t in seen)
    assert [d for d, _ in seen] == sorted({d for d, _ in seen})
    assert 100 <= len(seen) <= 250  # about 200, whatever the length

    asked: list[int] = []

    def stop_after_50() -> bool:
        asked.append(1)
        return len(asked) > 50

    with pytest.raises(LoadCancelled, match="cancelled"):
        replay(sf, should_stop=stop_after_50)
    assert len(asked) == 51  # asked before each snapshot: stopped at once
    np.testing.assert_array_equal(sf.X, X * 1)  # nothing of the file changed
