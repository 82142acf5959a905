"""The explorer window: layout, menus and shortcuts, wiring to the session."""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import Qt

from emviz.core.datasets import DATASETS
from emviz.runs.pacing import RedrawThrottle
from emviz.runs.tasks import shutdown_tasks
from emviz.session import Session
from emviz.ui.controls import ControlPanel
from emviz.ui.dialogs import ColumnDialog, GenerateDialog
from emviz.ui.loglik_view import LoglikView
from emviz.ui.param_table import ParamTable, RespView
from emviz.ui.scatter_view import ScatterView
from emviz.ui.style import BASE_POINT_SIZE

__all__ = ["MainWindow"]

#: Files larger than this load on a worker thread with a progress dialog.
ASYNC_LOAD_BYTES = 4_000_000

#: Above this ratio of the data's two ranges, axes get separate scales on loading.
ASPECT_RATIO_LIMIT = 5.0

#: Menu titles of bundled data sets whose names do not read well title-cased.
_DATASET_TITLES = {"old_faithful_holes": "Old Faithful with holes"}

_PHASE_NAMES = {"init": "start", "E": "E-step", "M": "M-step"}
_NEXT_HINT = {
    "E": "E-step: each point takes responsibilities from the current ellipses",
    "M": "M-step: each ellipse moves to fit the points it is responsible for",
}


class MainWindow(QtWidgets.QMainWindow):
    """The main window. ``session`` is the model; the views only draw it."""

    def __init__(self, session: Session | None = None, parent=None) -> None:
        super().__init__(parent)
        self.session = session if session is not None else Session(self)
        self.errors: list[str] = []
        #: Views added by feature panels (emviz.ui.extensions); flush() flushes them too.
        self.extra_views: list = []
        self._error_box: QtWidgets.QMessageBox | None = None
        self.setWindowTitle("emviz: Expectation-Maximization, step by step")
        font = self.font()
        font.setPointSize(BASE_POINT_SIZE)
        self.setFont(font)
        self.setAcceptDrops(True)
        self._make_actions()
        self._make_menus()
        self._make_layout()
        self._make_status_bar()

        s = self.session
        s.error.connect(lambda msg: self.show_error(msg))
        s.message.connect(self._show_message)
        self._message_index = -1
        self._throttle = RedrawThrottle(self.update_state, parent=self, busy=lambda: s.running)
        s.snapshot_changed.connect(self._throttle.request)
        s.snapshot_changed.connect(self._drop_stale_message)
        s.history_changed.connect(self._throttle.request)
        s.run_state_changed.connect(self.update_state)
        s.settings_changed.connect(self.update_state)
        s.data_changed.connect(self.update_state)
        s.data_changed.connect(self._choose_aspect)
        self.scatter.add_requested.connect(lambda x, y: s.add_points([[x, y]]))
        self._choose_aspect()
        self.resize(1500, 950)
        self.update_state()
        from emviz.ui.extensions import install_all

        install_all(self)

    # ------------------------------------------------------------------ actions

    def _action(self, key, text, shortcut, tip, slot, checkable=False, checked=False):
        action = QtGui.QAction(text, self)
        action.setObjectName(f"{key}Action")
        if shortcut:
            action.setShortcut(QtGui.QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setCheckable(checkable)
        if checkable:
            action.setChecked(checked)
            action.toggled.connect(slot)
        else:
            action.triggered.connect(lambda _checked=False: slot())
        action._base_tip = tip  # the tooltip when enabled
        self._set_tip(action, tip)
        self.addAction(action)
        self.actions_by_key[key] = action
        return action

    @staticmethod
    def _set_tip(action: QtGui.QAction, tip: str) -> None:
        keys = action.shortcut().toString(QtGui.QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{tip} ({keys})" if keys else tip)

    def _make_actions(self) -> None:
        s = self.session
        self.actions_by_key: dict[str, QtGui.QAction] = {}
        a = self._action
        a("open", "&Open…", "Ctrl+O", "Open a data file (CSV, TSV, text or .npy)", self.open_file)
        a("generate", "&Generate…", "Ctrl+G", "Draw points from a known mixture", self.generate)
        a("quit", "&Quit", "Ctrl+Q", "Quit emviz", self.close)
        a("e", "&E-step", "E", "E-step: compute every point's responsibilities", s.step_e)
        a("m", "&M-step", "M", "M-step: re-estimate weights, means and covariances", s.step_m)
        a(
            "iterate",
            "&Iteration (E+M)",
            "Space",
            "One full iteration: E-step then M-step",
            s.step_iteration,
        )
        a("run", "&Run", "R", "Run EM to convergence; press again to pause", s.toggle_run)
        a("stop", "&Stop", "S", "Stop the run here", s.stop)
        a("reset", "Rese&t", "Home", "Back to the initial mixture", s.reset)
        a("reinit", "Re-&initialise", "N", "A new starting mixture (next seed)", s.reinitialize)
        a("back", "&Back", "Left", "One half-step back in the history", s.back)
        a("forward", "&Forward", "Right", "One half-step forward in the history", s.forward)
        a(
            "last",
            "&Latest",
            "End",
            "The latest step in the history",
            lambda: s.set_index(len(s.history) - 1),
        )
        sv = lambda: self.scatter  # the view exists by the time an action fires
        a(
            "sd1",
            "1 sd",
            "1",
            "Ellipses at 1 standard deviation (39 % of a component)",
            lambda on: sv().set_sd_visible(1, on),
            checkable=True,
            checked=True,
        )
        a(
            "sd2",
            "2 sd",
            "2",
            "Ellipses at 2 standard deviations (86 %)",
            lambda on: sv().set_sd_visible(2, on),
            checkable=True,
            checked=True,
        )
        a(
            "sd3",
            "3 sd",
            "3",
            "Ellipses at 3 standard deviations (99 %)",
            lambda on: sv().set_sd_visible(3, on),
            checkable=True,
            checked=True,
        )
        a(
            "hard",
            "&Hard assignment",
            "H",
            "Colour each point by its most responsible component only (soft blend when off)",
            lambda on: sv().set_hard_assignment(on),
            checkable=True,
        )
        a(
            "add",
            "&Add points mode",
            "A",
            "Clicks on the plot add points to the data",
            lambda on: sv().set_add_mode(on),
            checkable=True,
        )
        a(
            "aspect",
            "E&qual axis scales",
            "X",
            "Same scale on both axes, so ellipses keep their true shape (turned off on loading "
            "data whose two ranges differ more than 5-fold)",
            lambda on: sv().set_equal_aspect(on),
            checkable=True,
            checked=True,
        )
        a("fit", "&Fit view", "F", "Zoom to the data", lambda: sv().fit_view())
        a(
            "climb",
            "Log-likelihood: &zoom to the climb",
            "Z",
            "Fit the log-likelihood axis to the steps after the first M-step, whose jump "
            "otherwise flattens the slow climb that follows",
            lambda on: self.loglik.set_zoom_to_climb(on),
            checkable=True,
        )
        a("keys", "&Keyboard shortcuts", "F1", "List the keyboard shortcuts", self.show_keys)

    def _make_menus(self) -> None:
        act = self.actions_by_key
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(act["open"])
        file_menu.addAction(act["generate"])
        data_menu = file_menu.addMenu("&Data sets")
        data_menu.setObjectName("datasetsMenu")
        self.dataset_actions = {}
        for name, description in DATASETS.items():
            action = data_menu.addAction(_DATASET_TITLES.get(name, name.replace("_", " ").title()))
            action.setObjectName(f"dataset_{name}")
            action.setToolTip(description)
            action.setStatusTip(description)
            action.triggered.connect(lambda _c=False, n=name: self.session.load_dataset(n))
            self.dataset_actions[name] = action
        data_menu.setToolTipsVisible(True)
        file_menu.addSeparator()
        file_menu.addAction(act["quit"])
        em_menu = bar.addMenu("&EM")
        for key in ("e", "m", "iterate", None, "run", "stop", None, "reset", "reinit"):
            em_menu.addSeparator() if key is None else em_menu.addAction(act[key])
        history_menu = bar.addMenu("&History")
        for key in ("back", "forward", "reset", "last"):
            history_menu.addAction(act[key])
        view_menu = bar.addMenu("&View")
        for key in ("sd1", "sd2", "sd3", None, "hard", "add", None, "aspect", "fit", "climb"):
            view_menu.addSeparator() if key is None else view_menu.addAction(act[key])
        #: The menus by name, for feature panels to add their actions to.
        self.menus = {"file": file_menu, "em": em_menu, "history": history_menu, "view": view_menu}
        help_menu = bar.addMenu("&Help")
        self.menus["help"] = help_menu
        help_menu.addAction(act["keys"])
        for menu in (file_menu, em_menu, history_menu, view_menu):
            menu.setToolTipsVisible(True)

    def _make_layout(self) -> None:
        s = self.session
        self.scatter = ScatterView(s)
        self.loglik = LoglikView(s)
        self.param_table = ParamTable(s)
        self.resp_view = RespView(s)
        self.controls = ControlPanel(s, self.actions_by_key)

        self.history_slider = QtWidgets.QSlider(
            Qt.Orientation.Horizontal, objectName="historySlider"
        )
        self.history_slider.setToolTip("The history of half-steps: drag to replay (Left/Right)")
        self.history_slider.setPageStep(2)
        self.history_slider.valueChanged.connect(self._on_history_slider)
        self.history_label = QtWidgets.QLabel(objectName="historyLabel")
        self.history_label.setMinimumWidth(260)
        back = QtWidgets.QToolButton(objectName="backButton")
        back.setDefaultAction(self.actions_by_key["back"])
        back.setArrowType(Qt.ArrowType.LeftArrow)
        forward = QtWidgets.QToolButton(objectName="forwardButton")
        forward.setDefaultAction(self.actions_by_key["forward"])
        forward.setArrowType(Qt.ArrowType.RightArrow)
        history_row = QtWidgets.QHBoxLayout()
        history_row.addWidget(QtWidgets.QLabel("History"))
        history_row.addWidget(back)
        history_row.addWidget(self.history_slider, 1)
        history_row.addWidget(forward)
        history_row.addWidget(self.history_label)

        # The table with a caption that says what it was estimated from.
        table_box = QtWidgets.QWidget()
        table_layout = QtWidgets.QVBoxLayout(table_box)
        table_layout.setContentsMargins(0, 0, 0, 0)
        table_layout.setSpacing(2)
        table_layout.addWidget(self.param_table, 1)
        self.param_caption = QtWidgets.QLabel(objectName="paramCaption")
        self.param_caption.setWordWrap(True)
        table_layout.addWidget(self.param_caption)
        bottom = QtWidgets.QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(self.loglik)
        bottom.addWidget(table_box)
        bottom.setStretchFactor(0, 1)
        bottom.setStretchFactor(1, 1)
        bottom.setSizes([560, 520])
        left_split = QtWidgets.QSplitter(Qt.Orientation.Vertical)
        left_split.addWidget(self.scatter)
        left_split.addWidget(bottom)
        left_split.setStretchFactor(0, 3)
        left_split.setStretchFactor(1, 1)
        left_split.setSizes([640, 250])
        left = QtWidgets.QWidget()
        left_layout = QtWidgets.QVBoxLayout(left)
        left_layout.setContentsMargins(4, 4, 4, 4)
        left_layout.addWidget(left_split, 1)
        left_layout.addLayout(history_row)

        right = QtWidgets.QWidget()
        right_layout = QtWidgets.QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.controls)
        resp_box = QtWidgets.QGroupBox("Point clicked")
        resp_layout = QtWidgets.QVBoxLayout(resp_box)
        resp_layout.addWidget(self.resp_view.title)
        self.resp_view.setMinimumHeight(130)
        resp_layout.addWidget(self.resp_view, 1)
        right_layout.addWidget(resp_box, 1)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidget(right)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(400)

        splitter = QtWidgets.QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(scroll)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 0)
        splitter.setSizes([1150, 420])
        self.setCentralWidget(splitter)

    def _make_status_bar(self) -> None:
        self.status_label = QtWidgets.QLabel(objectName="statusLabel")
        self.warning_label = QtWidgets.QLabel(objectName="warningLabel")
        self.warning_label.setStyleSheet("color: #B00000; font-weight: bold;")
        bar = self.statusBar()
        bar.addPermanentWidget(self.status_label, 1)
        # The session's messages ("converged after ...", errors) show in its
        # place for a few seconds: stretched over the whole bar, it left them
        # no room and they were never seen.  (As a normal widget QStatusBar
        # would hide it itself, but not for a message shown before the
        # window is.)
        bar.messageChanged.connect(lambda text: self.status_label.setVisible(not text))
        self.statusBar().addPermanentWidget(self.warning_label)

    # ------------------------------------------------------------------ state

    def flush(self) -> None:
        """Draw pending redraws now (for tests and scripts)."""
        for view in (self.scatter, self.loglik, self.param_table, self.resp_view):
            view.flush()
        for view in self.extra_views:
            view.flush()
        self._throttle.flush()

    def update_state(self) -> None:
        """Buttons, labels, history slider and status bar from the session."""
        s = self.session
        act = self.actions_by_key
        snap = s.history[s.index] if s.history else None
        nxt = s.next_phase
        running = s.running
        has = snap is not None
        why_running = "disabled while EM runs: pause (R) or stop (S) first"

        def enable(key: str, on: bool, why: str = "") -> None:
            action = act[key]
            action.setEnabled(on)
            base = action._base_tip
            self._set_tip(action, base if on else f"{base} — {why}")

        enable(
            "e",
            has and not running and nxt == "E",
            why_running
            if running
            else "disabled: the E-step was just done; the M-step comes next"
            if has
            else "disabled: no data",
        )
        enable(
            "m",
            has and not running and nxt == "M",
            why_running
            if running
            else "disabled: the M-step needs responsibilities; do the E-step first"
            if has
            else "disabled: no data",
        )
        enable("iterate", has and not running, why_running if running else "disabled: no data")
        can_run = running or s.can_run
        if snap is not None and not can_run:
            why = (
                "disabled: converged; step on, reset or re-initialise"
                if snap.converged
                else f"disabled: max_iter ({s.settings.max_iter}) reached"
            )
        else:
            why = "disabled: no data"
        act["run"].setText("Pause" if running else ("Resume" if s.paused else "Run"))
        act["run"]._base_tip = (
            "Pause the run"
            if running
            else "Resume the run"
            if s.paused
            else "Run EM to convergence; press again to pause"
        )
        enable("run", can_run, why)
        enable("stop", running or s.paused, "disabled: EM is not running")
        enable("reset", has and s.index > 0, "disabled: already at the initial mixture")
        enable("back", has and s.index > 0, "disabled: at the first step")
        enable("forward", has and not s.at_end, "disabled: at the latest step")
        enable("last", has and not s.at_end, "disabled: at the latest step")
        enable("reinit", s.X is not None, "disabled: no data")

        if snap is None:
            self.controls.next_label.setText("No data: open or generate some (Ctrl+O, Ctrl+G)")
        elif running:
            self.controls.next_label.setText(f"Running… next step: {nxt}-step")
        elif snap.converged and s.at_end:
            self.controls.next_label.setText(f"Converged. Next step: {nxt}-step")
        else:
            self.controls.next_label.setText(f"Next step: {nxt}-step")
        self.controls.next_label.setToolTip(_NEXT_HINT.get(nxt, ""))

        slider = self.history_slider
        slider.blockSignals(True)
        slider.setRange(0, max(len(s.history) - 1, 0))
        slider.setValue(max(s.index, 0))
        slider.blockSignals(False)
        if snap is not None:
            self.history_label.setText(
                f"{s.index + 1} / {len(s.history)}: iteration {snap.iteration}, "
                f"{_PHASE_NAMES[snap.phase]}"
            )
        else:
            self.history_label.setText("")

        self.status_label.setText(self.status_text())
        self.param_caption.setText(self.param_caption_text())
        if snap is not None and snap.collapsing:
            comps = ", ".join(str(k + 1) for k in snap.collapsing)
            plural = "s" if len(snap.collapsing) > 1 else ""
            self.warning_label.setText(
                f"⚠ component{plural} {comps} collapsing (held at the reg_covar floor)"
            )
        else:
            self.warning_label.setText("")

    def status_text(self) -> str:
        s = self.session
        if not s.history:
            return f"{s.n_samples} points"
        snap = s.history[s.index]
        name = f" ({s.data_name})" if s.data_name else ""
        state = "converged" if snap.converged else ("running" if s.running else "not converged")
        if state == "not converged" and not s.can_run:
            state = f"not converged: max_iter = {s.settings.max_iter} reached"
        if s.paused:
            state = "paused"
        if s.n_incomplete:
            name += f", {s.n_incomplete} incomplete: EM fills them in"
        elif s.n_incomplete_raw:
            name += f", {s.n_incomplete_raw} incomplete rows left out"
        return (
            f"{s.n_samples} points{name}   ·   K = {snap.mixture.n_components}   ·   "
            f"iteration {snap.iteration}, {_PHASE_NAMES[snap.phase]}   ·   "
            f"log-likelihood {snap.log_likelihood:.6g}   ·   {state}"
        )

    def param_caption_text(self) -> str:
        """What the parameters were estimated from: the points, and how many are incomplete."""
        s = self.session
        if not s.history:
            return ""
        text = f"Estimated from {s.n_samples} points"
        if s.n_incomplete:
            text += (
                f", of which {s.n_incomplete} have a missing coordinate "
                "(EM uses their expected values)"
            )
        elif s.n_incomplete_raw:
            text += f" ({s.n_incomplete_raw} rows with a missing coordinate left out)"
        if s.n_skipped:
            text += f"; {s.n_skipped} rows of the file had neither value and were skipped"
        return text + "."

    def _choose_aspect(self) -> None:
        """Equal axis scales unless the two coordinates differ wildly in range."""
        X = self.session.X
        if X is None or len(X) < 2:
            return
        span = X.max(axis=0) - X.min(axis=0)
        ratio = float(span.max() / span.min()) if span.min() > 0 else float("inf")
        equal = bool(ratio <= ASPECT_RATIO_LIMIT)
        self.actions_by_key["aspect"].setChecked(equal)
        if not equal:
            self.statusBar().showMessage(
                f"The two axes have separate scales: their ranges differ {ratio:.0f}-fold "
                "(View > Equal axis scales, X)",
                8000,
            )

    def _on_history_slider(self, value: int) -> None:
        self.session.set_index(value)

    # ------------------------------------------------------------------ data

    def ask_open_path(self) -> str | None:
        """The file dialog (tests replace this method)."""
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self,
            "Open data",
            "",
            "Data files (*.csv *.tsv *.txt *.dat *.npy);;All files (*)",
        )
        return path or None

    def ask_columns(self, path: str, names: tuple[str, ...]) -> tuple[str, str] | None:
        """The two-column chooser (tests replace this method)."""
        dialog = ColumnDialog(Path(path).name, names, self)
        if dialog.exec() != QtWidgets.QDialog.DialogCode.Accepted:
            return None
        return dialog.columns()

    def ask_generate(self) -> dict | None:
        """The Generate dialog (tests replace this method)."""
        dialog = GenerateDialog(self)
        if dialog.exec() != QtWidgets.QDialog.DialogCode.Accepted:
            return None
        return dialog.values()

    def open_file(self, path: str | None = None) -> bool:
        """File > Open; with a path, open it directly (drag and drop does this)."""
        if not path:
            path = self.ask_open_path()
            if not path:
                return False
        columns = None
        if not str(path).lower().endswith(".npy"):
            from emviz.core.io import numeric_columns

            try:
                names = numeric_columns(path)
            except (OSError, ValueError) as exc:
                self.show_error(str(exc))
                return False
            if len(names) > 2:
                columns = self.ask_columns(str(path), names)
                if columns is None:
                    return False
        if _file_size(path) > ASYNC_LOAD_BYTES:
            # A large file loads on a worker thread, with progress and Cancel.
            from emviz.ui.loading import load_file_async

            self._async_load = load_file_async(self, str(path), columns)
            return True
        return self.session.load_file(path, columns)

    def generate(self) -> bool:
        values = self.ask_generate()
        if not values:
            return False
        return self.session.generate(**values)

    def show_error(self, message: str) -> None:
        """Report an error: recorded in ``errors`` and shown in a message box.

        The box is window-modal but opened with ``open()``, so it never
        blocks the caller (or a test).
        """
        self.errors.append(message)
        self.statusBar().showMessage("Error: " + message.splitlines()[0], 10000)
        box = QtWidgets.QMessageBox(
            QtWidgets.QMessageBox.Icon.Warning,
            "emviz",
            message,
            QtWidgets.QMessageBox.StandardButton.Ok,
            self,
        )
        box.setObjectName("errorBox")
        box.setInformativeText("The data and the history shown are unchanged.")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        # Keys go back to the window once the box is dismissed (without a
        # window manager nothing else gives them back).
        box.finished.connect(lambda _result: self.activateWindow())
        self._error_box = box
        box.open()

    def shortcut_rows(self) -> list[tuple[str, str, str]]:
        """(menu, keys, command) for every command of the window that has a shortcut.

        Taken from the menus as they are, so the commands the features add
        (Undo, presentation mode, saving, the Inside EM views...) are listed
        too; a command with a shortcut but in no menu comes last.
        """
        native = QtGui.QKeySequence.SequenceFormat.NativeText
        rows: list[tuple[str, str, str]] = []
        seen: set[int] = set()

        def add(menu_title: str, action: QtGui.QAction) -> None:
            keys = ", ".join(k.toString(native) for k in action.shortcuts() if not k.isEmpty())
            if keys and id(action) not in seen:
                seen.add(id(action))
                rows.append((menu_title, keys, action.text().replace("&", "").rstrip("…")))

        def walk(menu: QtWidgets.QMenu, title: str) -> None:
            for action in menu.actions():
                if action.menu() is not None:
                    walk(action.menu(), title)
                elif not action.isSeparator():
                    add(title, action)

        for top in self.menuBar().actions():
            if top.menu() is not None:
                walk(top.menu(), top.text().replace("&", ""))
        for action in self.findChildren(QtGui.QAction):
            add("Other", action)
        return rows

    def _show_message(self, message: str) -> None:
        """A session message in the status bar for six seconds."""
        self._message_index = self.session.index
        self.statusBar().showMessage(message, 6000)

    def _drop_stale_message(self) -> None:
        """Going back in the history clears a message about a later step.

        ("converged after 6 iterations" stayed up over iteration 5.)  A
        message about the snapshot shown, such as "run stopped to show
        half-step 12", stays.
        """
        s = self.session
        bar = self.statusBar()
        if bar.currentMessage() and s.index < len(s.history) - 1 and s.index != self._message_index:
            bar.clearMessage()

    def show_keys(self) -> None:
        """Help > Keyboard shortcuts: every command with a shortcut, by menu, in two columns."""
        groups: dict[str, list[str]] = {}
        for title, keys, text in self.shortcut_rows():
            groups.setdefault(title, []).append(
                f"<tr><td nowrap><b>{keys}</b></td><td nowrap>{text}</td></tr>"
            )
        # Whole menus to each column, the left one filled to about half.
        columns: list[list[str]] = [[], []]
        half = sum(len(rows) + 1 for rows in groups.values()) / 2
        filled = 0
        for title, rows in groups.items():
            column = columns[0] if filled < half else columns[1]
            column.append(f"<tr><td colspan=2><i>{title}</i></td></tr>")
            column.extend(rows)
            filled += len(rows) + 1
        cells = "".join(
            f"<td valign=top><table cellpadding=2>{''.join(rows)}</table></td>" for rows in columns
        )
        box = QtWidgets.QMessageBox(self)
        box.setObjectName("keysBox")
        box.setWindowTitle("Keyboard shortcuts")
        box.setText(f"<table cellspacing=12><tr>{cells}</tr></table>")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    # ------------------------------------------------------------------ events

    def dragEnterEvent(self, event: QtGui.QDragEnterEvent) -> None:
        if _local_file(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QtGui.QDropEvent) -> None:
        path = _local_file(event.mimeData())
        if path:
            event.acceptProposedAction()
            # After the drop returns, so that dialogs do not run inside the drag.
            QtCore.QTimer.singleShot(0, lambda: self.open_file(path))

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        self.session.shutdown()
        shutdown_tasks(self)  # every BackgroundTask of the window: loads, lab, model choice
        super().closeEvent(event)


def _file_size(path: str) -> int:
    try:
        return Path(path).stat().st_size
    except OSError:  # reported by the loader, with the file's name
        return 0


def _local_file(mime: QtCore.QMimeData) -> str | None:
    if not mime.hasUrls():
        return None
    for url in mime.urls():
        if url.isLocalFile():
            return url.toLocalFile()
    return None
