"""The explorer window: layout, menus and shortcuts, wiring to the session, its features.

The window's own commands come from :mod:`emviz.ui.actions`. Everything else
(missing values, Inside EM, the lab, sessions, export, the classroom) is a
feature listed in :data:`FEATURES`: each adds its menus, docks and overlays
through the window's hooks (:meth:`MainWindow.add_menu`, ``add_views``,
``register_action``, ``add_file_handler``, :func:`emviz.ui.docks.add_dock`)
and is stopped by the window's one :meth:`MainWindow.shutdown`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import Qt

from emviz import export
from emviz.core.datasets import DATASETS
from emviz.runs.pacing import RedrawThrottle
from emviz.runs.tasks import shutdown_tasks
from emviz.session import Session
from emviz.ui import classroom, inside_em, lab, missing, quiz, toolbar
from emviz.ui.actions import (
    ACTIONS,
    MENU_LAYOUT,
    ActionState,
    action_states,
    build_actions,
    next_step_text,
    run_label,
    set_tip,
)
from emviz.ui.docks import stack_right_docks
from emviz.ui.files import session_io
from emviz.ui.layout import AdaptiveLabel, build_layout, fit_to_screen, fits_screen
from emviz.ui.remembered import last_folder, remember_folder
from emviz.ui.views.dialogs import ColumnDialog, GenerateDialog
from emviz.ui.views.style import BASE_POINT_SIZE, configure_pyqtgraph

__all__ = ["FEATURES", "MainWindow"]

#: The window's features, as (name, install). Every window installs them in
#: this order, though none depends on it. ``install(window)`` adds the
#: feature's menus, docks and overlays through the window's hooks and returns
#: the feature, which the window keeps as ``window.<name>``. A feature may
#: have ``all_installed()``, called once every feature is in (the classroom
#: then styles every plot in the remembered theme), and ``shutdown()``,
#: called once by :meth:`MainWindow.shutdown`.
FEATURES: tuple[tuple[str, Callable[[MainWindow], object]], ...] = (
    ("missing_overlay", missing.install),
    ("inside_em", inside_em.install),
    ("lab", lab.install),
    ("session_io", session_io.install),
    ("exporter", export.install),
    ("classroom", classroom.install),
    ("quiz", quiz.install),
    ("toolbar", toolbar.install),
)

#: What File > Open offers besides the files of the features' handlers.
DATA_PATTERNS = ("*.csv", "*.tsv", "*.txt", "*.dat", "*.npy")

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


@dataclass(frozen=True)
class FileHandler:
    """Files that a feature opens itself (File > Open, drag and drop, the command line)."""

    suffixes: tuple[str, ...]
    open: Callable[[str], bool]
    filter_name: str

    def accepts(self, path: str) -> bool:
        return str(path).lower().endswith(self.suffixes)


class MainWindow(QtWidgets.QMainWindow):
    """The main window. ``session`` is the model; the views only draw it.

    Parameters
    ----------
    session : Session, optional
        The model; a new one by default.
    features : sequence of (name, install), optional
        The features to install, :data:`FEATURES` by default (tests pass
        them in another order).
    """

    def __init__(
        self,
        session: Session | None = None,
        parent=None,
        features: tuple[tuple[str, Callable[[MainWindow], object]], ...] = FEATURES,
    ) -> None:
        super().__init__(parent)
        self.session = session if session is not None else Session(self)
        self.errors: list[str] = []
        #: Views added by the features (``add_views``); flush() flushes them too.
        self.extra_views: list = []
        #: The installed features by name (each also ``window.<name>``).
        self.features: dict[str, object] = {}
        self._file_handlers: list[FileHandler] = []
        self._shutdowns: list[Callable[[], None]] = []
        self._shut_down = False
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
        fit_to_screen(self)
        self.update_state()
        self._install(features)
        app = QtWidgets.QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # ------------------------------------------------------------------ features

    def _install(self, features) -> None:
        for name, install in features:
            feature = install(self)
            self.features[name] = feature
            setattr(self, name, feature)
            if callable(getattr(feature, "shutdown", None)):
                self.add_shutdown(feature.shutdown)
        stack_right_docks(self)
        for dock in self.findChildren(QtWidgets.QDockWidget):
            dock.visibilityChanged.connect(
                lambda visible: (
                    QtCore.QTimer.singleShot(0, self, self._narrow_side_panel) if visible else None
                )
            )
        for feature in self.features.values():
            if callable(getattr(feature, "all_installed", None)):
                feature.all_installed()

    def _narrow_side_panel(self) -> None:
        """With a panel open, the side panel at its narrowest: the room goes to the plots."""
        split = self.layout_parts.main_split
        sizes = split.sizes()
        side = self.layout_parts.side_scroll.minimumSizeHint().width()
        if len(sizes) == 2 and sizes[1] > side:
            split.setSizes([sum(sizes) - side, side])

    def add_menu(self, key: str, title: str, before: str | None = "help") -> QtWidgets.QMenu:
        """A new menu, before the menu ``before`` (Help stays last); also ``menus[key]``."""
        menu = QtWidgets.QMenu(title, self.menuBar())
        menu.setToolTipsVisible(True)
        anchor = self.menus.get(before) if before else None
        if anchor is None:
            self.menuBar().addMenu(menu)
        else:
            self.menuBar().insertMenu(anchor.menuAction(), menu)
        self.menus[key] = menu
        return menu

    def add_views(self, *views) -> None:
        """Views with ``flush()`` (and maybe ``set_theme(colour)``) the window keeps drawn."""
        self.extra_views.extend(views)

    def register_action(self, key: str, action: QtGui.QAction) -> None:
        """A feature's action, found as ``actions_by_key[key]``.

        If :func:`emviz.ui.actions.action_states` has a rule for ``key``,
        the window enables it and explains why not in its tooltip.
        """
        if key in self.actions_by_key:
            raise ValueError(f"an action {key!r} is registered already")
        self.actions_by_key[key] = action
        self._tips[key] = action.toolTip()
        self.update_state()

    def add_file_handler(
        self, suffixes: tuple[str, ...], open_fn: Callable[[str], bool], filter_name: str
    ) -> None:
        """Files ending in ``suffixes`` open with ``open_fn(path)`` instead of as data.

        ``filter_name`` (such as "emviz sessions") names them in the Open dialog.
        """
        self._file_handlers.append(
            FileHandler(tuple(x.lower() for x in suffixes), open_fn, filter_name)
        )

    def add_shutdown(self, fn: Callable[[], None]) -> None:
        """Call ``fn`` (which stops work and waits for it) when the window shuts down."""
        self._shutdowns.append(fn)

    def shutdown(self) -> None:
        """Stop the features' work and the session's run, and wait for them: once.

        Closing the window and quitting the application both call this.
        """
        if self._shut_down:
            return
        self._shut_down = True
        for fn in self._shutdowns:
            fn()
        shutdown_tasks(self)  # every BackgroundTask of the window: loads, lab, model choice
        self.session.shutdown()

    # ------------------------------------------------------------------ actions

    def _make_actions(self) -> None:
        #: The window's actions by key (see emviz.ui.actions.ACTIONS).
        self.actions_by_key: dict[str, QtGui.QAction] = build_actions(self)
        self._tips = {spec.key: spec.tip for spec in ACTIONS}

    def _make_menus(self) -> None:
        act = self.actions_by_key
        bar = self.menuBar()
        #: The menus by key ("file", "em", "history", "view", "help", and the features').
        self.menus: dict[str, QtWidgets.QMenu] = {}
        for (key, title), keys in MENU_LAYOUT.items():
            menu = bar.addMenu(title)
            menu.setToolTipsVisible(True)
            for name in keys:
                menu.addSeparator() if name is None else menu.addAction(act[name])
            self.menus[key] = menu
        file_menu = self.menus["file"]
        data_menu = QtWidgets.QMenu("&Data sets", file_menu)
        data_menu.setObjectName("datasetsMenu")
        file_menu.insertMenu(act["quit"], data_menu)
        file_menu.insertSeparator(act["quit"])
        self.dataset_actions = {}
        for name, description in DATASETS.items():
            action = data_menu.addAction(_DATASET_TITLES.get(name, name.replace("_", " ").title()))
            action.setObjectName(f"dataset_{name}")
            action.setToolTip(description)
            action.setStatusTip(description)
            action.triggered.connect(lambda _c=False, n=name: self.session.load_dataset(n))
            self.dataset_actions[name] = action
        data_menu.setToolTipsVisible(True)

    def _make_layout(self) -> None:
        #: The containers of the layout, which presentation mode rearranges.
        self.layout_parts = build_layout(self)

    def _make_status_bar(self) -> None:
        # Shorter forms of the status line where the window is narrow: in
        # presentation mode's large type the full line is wider than a
        # 1280-pixel screen, and a plain label widened the window past it.
        self.status_label = AdaptiveLabel(objectName="statusLabel")
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
        for view in (self.scatter, self.loglik, self.param_table, self.resp_view, self.readout):
            view.flush()
        for view in self.extra_views:
            view.flush()
        self._throttle.flush()

    def update_state(self) -> None:
        """Buttons, labels, history slider and status bar from the session."""
        s = self.session
        act = self.actions_by_key
        snap = s.history[s.index] if s.history else None
        state = ActionState.of(s)
        text, self._tips["run"] = run_label(state)
        act["run"].setText(text)
        for key, (enabled, why) in action_states(state).items():
            if key in act:  # a feature's action is there if the feature is
                act[key].setEnabled(enabled)
                set_tip(act[key], self._tips[key] if enabled else f"{self._tips[key]} — {why}")
        self.controls.next_label.setText(next_step_text(state))
        self.controls.next_label.setToolTip(_NEXT_HINT.get(state.next_phase, ""))

        slider = self.history_slider
        slider.blockSignals(True)
        slider.setRange(0, max(len(s.history) - 1, 0))
        slider.setValue(max(s.index, 0))
        slider.blockSignals(False)
        # Room for the text of a long history: the label keeps its width from
        # the first step to the thousandth half-step (in its font, whatever its size).
        self.history_label.reserve("999 / 999: iteration 99, M-step")
        if snap is not None:
            self.history_label.setText(
                f"{s.index + 1} / {len(s.history)}: iteration {snap.iteration}, "
                f"{_PHASE_NAMES[snap.phase]}"
            )
        else:
            self.history_label.setText("")

        self.status_label.set_variants(self.status_texts())
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
        """The status line: the data, K, the step shown, its log-likelihood, the state."""
        return self.status_texts()[0]

    def status_texts(self) -> list[str]:
        """The status line, then shorter forms of it for a narrow window."""
        s = self.session
        if not s.history:
            return [f"{s.n_samples} points"]
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
        step = f"iteration {snap.iteration}, {_PHASE_NAMES[snap.phase]}"
        medium = (
            f"K = {snap.mixture.n_components}   ·   {step}   ·   "
            f"log-likelihood {snap.log_likelihood:.6g}   ·   {state}"
        )
        return [f"{s.n_samples} points{name}   ·   {medium}", medium, f"{step}   ·   {state}"]

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
        # NaN marks a missing coordinate (missing-values mode): the ranges are
        # those of the values observed.
        span = np.nanmax(X, axis=0) - np.nanmin(X, axis=0)
        if not span.min() > 0:
            return  # a constant coordinate: either choice draws a line
        ratio = float(span.max() / span.min())
        equal = bool(ratio <= ASPECT_RATIO_LIMIT)
        self.actions_by_key["aspect"].setChecked(equal)
        if not equal:
            self.statusBar().showMessage(
                f"The two axes have separate scales: their ranges differ {ratio:.0f}-fold "
                "(View > Equal axis scales, X)",
                8000,
            )

    # ------------------------------------------------------------------ data

    def ask_open_path(self) -> str | None:
        """The file dialog, in the folder of the last file (tests replace this method)."""
        patterns = list(DATA_PATTERNS)
        filters = []
        for handler in self._file_handlers:
            own = " ".join(f"*{suffix}" for suffix in handler.suffixes)
            patterns.append(own)
            filters.append(f"{handler.filter_name} ({own})")
        everything = "Data files" + (" and sessions" if self._file_handlers else "")
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self,
            "Open data" + (" or a session" if self._file_handlers else ""),
            last_folder(opening=True),
            ";;".join([f"{everything} ({' '.join(patterns)})", *filters, "All files (*)"]),
        )
        if path:
            remember_folder(path)
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
        for handler in self._file_handlers:
            if handler.accepts(path):
                return handler.open(str(path))
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
            from emviz.ui.files.loading import load_file_async

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

    def restoreGeometry(self, geometry: QtCore.QByteArray | bytes) -> bool:  # noqa: N802
        """Restore a remembered geometry only if it still fits a screen.

        A geometry remembered on a large monitor put the window's side panel
        and history bar off a 1280x720 projector; then the window opens
        fitted to its screen instead, and this returns False.
        """
        before = (self.saveGeometry(), self.isMaximized())
        if not super().restoreGeometry(QtCore.QByteArray(geometry)):
            return False
        if self.isMaximized() or self.isFullScreen() or fits_screen(self):
            return True
        if before[1]:
            self.showMaximized()
        else:
            super().restoreGeometry(before[0])
            fit_to_screen(self)
        return False

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        """A window that grew past the edge of its screen moves back onto it.

        The window grows when its content's minimum grows (panels opened,
        the layout on the screen, presentation mode's large type and back)
        and Qt keeps its top-left corner: on a small screen its right part
        was off the screen.
        """
        super().resizeEvent(event)
        grew = (
            event.size().width() > event.oldSize().width()
            or event.size().height() > event.oldSize().height()
        )
        if grew and self.isVisible() and not (self.isMaximized() or self.isFullScreen()):
            QtCore.QTimer.singleShot(0, self, self._move_onto_screen)

    def _move_onto_screen(self) -> None:
        if self.isMaximized() or self.isFullScreen() or fits_screen(self):
            return
        screen = self.screen()
        if screen is None:
            return
        available = screen.availableGeometry()
        frame = self.frameGeometry()
        x = max(available.left(), min(frame.left(), available.right() + 1 - frame.width()))
        y = max(available.top(), min(frame.top(), available.bottom() + 1 - frame.height()))
        if (x, y) != (frame.left(), frame.top()):
            self.move(x, y)

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        self.shutdown()
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


def build_window(k: int = 2, cov_type: str = "full", init: str = "kmeans++", seed: int = 0):
    """An empty main window whose session starts with these settings (no data yet).

    A QApplication must exist.  The settings go through
    :meth:`Session.update_settings` (the one rule of :mod:`emviz.core.settings`).
    Used by :func:`emviz.cli.create_main_window` and by the headless ``emviz export``.
    """
    configure_pyqtgraph()
    session = Session()
    session.update_settings(n_components=k, cov_type=cov_type, init=init, seed=seed)
    window = MainWindow(session)
    session.setParent(window)
    return window
