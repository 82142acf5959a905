"""Thousands of seeded random actions over every enabled control of the window.

Every enabled menu action, button, slider, spin box, combo box, text field and
plot click is fair game, in both missing-values modes, with modal dialogs
answered automatically (file dialogs pick a bundled data file, a file in a
temporary folder, or cancel). The test fails on any exception a slot or a
virtual method raises (pytest-qt collects them), on any warning (warnings are
errors), and if the log-likelihood of a history ever decreases from one
half-step to the next: EM's own guarantee, at fixed settings.

Each mode takes three runs of 500 actions, each from a fresh window and its
own seed, so that no test comes near pytest's faulthandler timeout (whose
traceback dump of a busy thread can itself crash the interpreter).
``EMVIZ_RANDOM_ACTIONS`` sets the number of actions per run (default 500);
``EMVIZ_RANDOM_SEED`` the base seed.
"""

from __future__ import annotations

import math
import os
import random

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import Qt

from emviz.core.resources import resources_dir

N_ACTIONS = int(os.environ.get("EMVIZ_RANDOM_ACTIONS", "500"))
SEED = int(os.environ.get("EMVIZ_RANDOM_SEED", "20261203"))

#: Actions never taken: they end the test's window or write outside tmp_path.
_SKIP_TEXT = ("quit", "exit", "install", "uninstall", "about qt")

#: Text typed into free text fields: numbers in and out of range, and junk.
_TEXTS = ("1e-6", "0", "1e-3", "-1", "nan", "1e308", "abc", "", "0.5", "1e-12")


def _histories_climb(session, boundaries: dict[int, object]) -> str | None:
    """None if the log-likelihood never decreases within a run of the session's history.

    A run starts at each "init" snapshot: the first, and every edit of the
    mixture (Lab > Collapse > re-seed, the start editor) appended after it.
    ``boundaries`` holds (by id) the snapshots shown when a setting changed
    (reg_covar, tol, max_iter apply from the next step on): EM's guarantee
    holds at fixed settings, so the first M-step after such a snapshot (the
    first with the new covariance floor) is not compared.
    """
    snaps = list(session.history)
    changed = False  # a setting changed since the last M-step
    for i in range(1, len(snaps)):
        changed = changed or id(snaps[i - 1]) in boundaries
        if snaps[i].phase == "init":
            changed = False
            continue  # an edit (a re-seeded component, say) starts a new run
        if snaps[i].phase == "M" and changed:
            changed = False
            continue  # the first M-step under new settings (a new floor, say)
        a, b = snaps[i - 1].log_likelihood, snaps[i].log_likelihood
        if not (math.isfinite(a) and math.isfinite(b)):
            return f"non-finite log-likelihood at half-step {i}: {a} -> {b}"
        if b < a - 1e-9 * max(1.0, abs(a)):
            return f"log-likelihood fell at half-step {i}: {a!r} -> {b!r}"
    return None


class _Monkey:
    def __init__(self, window, qtbot, tmp_path, rng: random.Random) -> None:
        self.window = window
        self.qtbot = qtbot
        self.tmp_path = tmp_path
        self.rng = rng
        datasets = resources_dir() / "datasets"
        self.open_choices = [
            str(datasets / "penguins.csv"),
            str(datasets / "old_faithful_holes.csv"),
            str(datasets / "old_faithful.csv"),
            "",
        ]
        self.count: dict[str, int] = {}
        self.recent: list[str] = []  # the last actions, for a failure's message

    # -- dialogs answered at random ---------------------------------------------------------

    def open_name(self, *args, **kwargs):
        saved = sorted(str(p) for p in self.tmp_path.glob("*.emviz"))
        path = self.rng.choice(self.open_choices + saved)
        return path, ""

    def save_name(self, parent=None, caption="", directory="", filter_="", *args, **kwargs):
        suffixes = [s.strip("*) ") for s in str(filter_).replace("(", " ").split() if "*." in s]
        suffix = self.rng.choice(suffixes) if suffixes else ".out"
        if self.rng.random() < 0.1:
            return "", ""
        return str(self.tmp_path / f"saved{self.rng.randrange(5)}{suffix}"), ""

    def answer(self, dialog) -> int:
        if self.rng.random() < 0.5:
            dialog.accept()
            return int(QtWidgets.QDialog.DialogCode.Accepted.value)
        dialog.reject()
        return int(QtWidgets.QDialog.DialogCode.Rejected.value)

    # -- the controls -----------------------------------------------------------------------

    def _visible(self, w: QtWidgets.QWidget) -> bool:
        return w.isVisible() and w.isEnabled() and w.window() is self.window

    def reachable_actions(self) -> list[QtGui.QAction]:
        """The actions a user reaches: the menu bar's (walked down), the window's
        shortcuts and the tool bars' (pyqtgraph's own plot context menus are
        left out: their actions need the menu's right-click context)."""
        found: dict[int, QtGui.QAction] = {}

        def walk(actions) -> None:
            for action in actions:
                if id(action) in found:
                    continue
                found[id(action)] = action
                if action.menu() is not None:
                    walk(action.menu().actions())

        walk(self.window.menuBar().actions())
        walk(self.window.actions())
        for bar in self.window.findChildren(QtWidgets.QToolBar):
            walk(bar.actions())
        return list(found.values())

    def candidates(self) -> list[tuple[str, object]]:
        win = self.window
        out: list[tuple[str, object]] = []
        for action in self.reachable_actions():
            text = action.text().replace("&", "").lower()
            if (
                action.isEnabled()
                and not action.isSeparator()
                and text
                and not any(s in text for s in _SKIP_TEXT)
                and action.menu() is None
            ):
                out.append(("action", action))
        for w in win.findChildren(QtWidgets.QAbstractButton):
            if self._visible(w):
                out.append(("button", w))
        for w in win.findChildren(QtWidgets.QSlider):
            if self._visible(w):
                out.append(("slider", w))
        for w in win.findChildren(QtWidgets.QAbstractSpinBox):
            if self._visible(w) and not w.isReadOnly():
                out.append(("spin", w))
        for w in win.findChildren(QtWidgets.QComboBox):
            if self._visible(w) and w.count() > 0:
                out.append(("combo", w))
        for w in win.findChildren(QtWidgets.QLineEdit):
            if (
                self._visible(w)
                and not w.isReadOnly()
                and not isinstance(w.parent(), QtWidgets.QAbstractSpinBox | QtWidgets.QComboBox)
            ):
                out.append(("text", w))
        for w in win.findChildren(QtWidgets.QGraphicsView):
            if self._visible(w) and w.width() > 20 and w.height() > 20:
                out.append(("plot", w))
        return out

    def act(self) -> None:
        kind, target = self.rng.choice(self.candidates())
        label = target.text() if hasattr(target, "text") else ""
        self.recent = [*self.recent[-7:], f"{kind} {target.objectName()} {label!r}"]
        self.count[kind] = self.count.get(kind, 0) + 1
        rng = self.rng
        if kind == "action":
            target.trigger()
        elif kind == "button":
            target.click()
        elif kind == "slider":
            target.setValue(rng.randint(target.minimum(), target.maximum()))
        elif kind == "spin":
            low, high = target.minimum(), target.maximum()
            if isinstance(target, QtWidgets.QSpinBox):
                # Mostly small values (a run of 2000 restarts is slow, not wrong).
                value = rng.choice([low, min(high, low + rng.randrange(6)), rng.randint(low, high)])
                target.setValue(value)
            elif isinstance(target, QtWidgets.QDoubleSpinBox):
                target.setValue(rng.uniform(low, high))
            else:
                target.stepBy(rng.choice([-1, 1]))
        elif kind == "combo":
            target.setCurrentIndex(rng.randrange(target.count()))
        elif kind == "text":
            target.setText(rng.choice(_TEXTS))
            target.editingFinished.emit()
            target.returnPressed.emit()
        elif kind == "plot":
            view = target.viewport()
            pos = QtCore.QPoint(rng.randrange(view.width()), rng.randrange(view.height()))
            modifier = rng.choice(
                [
                    Qt.KeyboardModifier.NoModifier,
                    Qt.KeyboardModifier.ShiftModifier,
                    Qt.KeyboardModifier.ControlModifier,
                ]
            )
            button = rng.choice([Qt.MouseButton.LeftButton, Qt.MouseButton.LeftButton])
            if rng.random() < 0.7:
                self.qtbot.mouseClick(view, button, modifier, pos)
            else:
                end = QtCore.QPoint(rng.randrange(view.width()), rng.randrange(view.height()))
                self.qtbot.mousePress(view, button, modifier, pos)
                self.qtbot.mouseMove(view, end)
                self.qtbot.mouseRelease(view, button, modifier, end)
        QtWidgets.QApplication.processEvents()
        self.close_boxes()

    def close_boxes(self) -> None:
        # Error boxes are opened with open() (never blocking): dismiss them now
        # and then, as a user would.  They are the window's children: found
        # by type in C++, not among every top-level widget, whose wrappers
        # PySide6 6.7 may keep for widgets Qt has already deleted (a
        # segmentation fault in this loop).
        if self.rng.random() < 0.3:
            for box in self.window.findChildren(QtWidgets.QMessageBox):
                if box.isVisible():
                    box.done(0)


@pytest.mark.parametrize("part", [0, 1, 2])
@pytest.mark.parametrize("treat_missing", [False, True], ids=["complete", "missing"])
def test_random_actions_raise_nothing_and_never_lower_the_likelihood(
    window, qtbot, monkeypatch, tmp_path, treat_missing, part
):
    rng = random.Random(SEED + 10 * part + treat_missing)
    monkey = _Monkey(window, qtbot, tmp_path, rng)
    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName", monkey.open_name)
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", monkey.save_name)
    for cls in (QtWidgets.QDialog, QtWidgets.QMessageBox, QtWidgets.QProgressDialog):
        monkeypatch.setattr(cls, "exec", lambda dialog, *args: monkey.answer(dialog))
    session = window.session
    assert session.load_file(resources_dir() / "datasets" / "old_faithful_holes.csv")
    session.set_treat_missing(treat_missing)
    assert (session.n_incomplete > 0) == treat_missing
    boundaries: dict[int, object] = {}  # the snapshots are kept, so their ids stay unique
    for i in range(N_ACTIONS):
        before = session.settings
        monkey.act()
        if session.settings != before and session.history:
            shown = session.history[session.index]
            boundaries[id(shown)] = shown
        problem = _histories_climb(session, boundaries)
        assert problem is None, f"after action {i} ({monkey.recent}): {problem}"
    session.stop()
    qtbot.waitUntil(lambda: not session.running, timeout=10000)
    # Every kind of control was exercised.
    assert {"action", "button", "spin", "combo", "plot"} <= set(monkey.count), monkey.count
    assert np.isfinite(session.current.log_likelihood)
