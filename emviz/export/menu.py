"""File > Export in the main window: PNG, SVG, GIF, MP4, JSON and CSV, with their dialogs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from emviz.export.capture import capture_frames, export_png, export_svg
from emviz.export.writers import (
    DEFAULT_FRAME_MS,
    MP4_UNAVAILABLE,
    ExportCancelled,
    encode_gif,
    export_csv,
    export_json,
    ffmpeg_path,
    frame_delays,
    write_mp4,
)

__all__ = ["ExportActions", "install"]


class ExportActions:
    """File > Export: the actions and their dialogs (tests replace the ``ask_*`` methods)."""

    def __init__(self, window) -> None:
        self.window = window
        file_menu = window.menus["file"]
        menu = QtWidgets.QMenu("E&xport", file_menu)
        # Before the separator and Quit, as in every desktop application.
        quit_action = window.actions_by_key["quit"]
        before = file_menu.actions()[file_menu.actions().index(quit_action) - 1]
        file_menu.insertMenu(before if before.isSeparator() else quit_action, menu)
        menu.setObjectName("exportMenu")
        menu.setToolTipsVisible(True)
        self.menu = menu
        self.actions: dict[str, QtGui.QAction] = {}
        items = (
            ("png", "View as &PNG…", "Ctrl+E", "The plot as shown, as a PNG image", self.png),
            ("svg", "View as &SVG…", "", "The plot as an SVG drawing (for slides)", self.svg),
            ("gif", "Run as animated &GIF…", "", "The history, or part of it, as a GIF", self.gif),
            ("mp4", "Run as &MP4 video…", "", "The history as an MP4 video", self.mp4),
            ("json", "Mixture as &JSON…", "", "The mixture shown, with its log-likelihood",
             self.json),
            ("csv", "&Responsibilities as CSV…", "",
             "Every point with its responsibilities r_1..r_K", self.csv),
        )  # fmt: skip
        for key, text, shortcut, tip, slot in items:
            action = QtGui.QAction(text, window)
            action.setObjectName(f"export_{key}Action")
            if shortcut:
                action.setShortcut(QtGui.QKeySequence(shortcut))
            action.setToolTip(tip)
            action.setStatusTip(tip)
            action.triggered.connect(lambda _c=False, f=slot: f())
            menu.addAction(action)
            window.addAction(action)
            self.actions[key] = action
        if ffmpeg_path() is None:
            a = self.actions["mp4"]
            a.setEnabled(False)
            a.setText("Run as MP4 video (needs emviz[video])")
            a.setToolTip(MP4_UNAVAILABLE)
            a.setStatusTip(MP4_UNAVAILABLE)

    # ---------------------------------------------------------------- dialogs

    def ask_path(self, title: str, suffix: str, filter_: str) -> str | None:
        from emviz.ui.remembered import last_folder, remember_folder

        name = (self.window.session.data_name or "emviz").replace(" ", "_")
        start = str(Path(last_folder()) / f"{Path(name).stem}{suffix}")
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self.window, title, start, filter_)
        if not path:
            return None
        if not path.lower().endswith(suffix):
            path += suffix
        remember_folder(path)
        return path

    def ask_range(self) -> tuple[int, int, int] | None:
        """(first step, last step, ms per frame), or None if cancelled."""
        s = self.window.session
        last = len(s.history) - 1
        dialog = QtWidgets.QDialog(self.window)
        dialog.setWindowTitle("Export the run")
        form = QtWidgets.QFormLayout(dialog)
        first = QtWidgets.QSpinBox(objectName="firstStepSpin")
        first.setRange(0, last)
        end = QtWidgets.QSpinBox(objectName="lastStepSpin")
        end.setRange(0, last)
        end.setValue(last)
        ms = QtWidgets.QSpinBox(objectName="frameMsSpin")
        ms.setRange(20, 10000)
        ms.setSingleStep(100)
        ms.setValue(DEFAULT_FRAME_MS)
        ms.setSuffix(" ms")
        form.addRow(QtWidgets.QLabel(f"The history has {last + 1} snapshots (0 to {last})."))
        form.addRow("From step", first)
        form.addRow("To step", end)
        form.addRow("Each frame", ms)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(dialog.accept)
        buttons.rejected.connect(dialog.reject)
        form.addRow(buttons)
        if dialog.exec() != QtWidgets.QDialog.DialogCode.Accepted:
            return None
        a, b = sorted((first.value(), end.value()))
        return a, b, ms.value()

    # ---------------------------------------------------------------- actions

    def _guard(self, what: str, func: Callable[[], object]) -> bool:
        try:
            func()
        except ExportCancelled:
            self.window.statusBar().showMessage("Export cancelled: nothing was written", 6000)
            return False
        except (OSError, ValueError, RuntimeError) as exc:
            self.window.show_error(f"Could not export {what}: {exc}")
            return False
        return True

    def _done(self, path: str) -> bool:
        self.window.statusBar().showMessage(f"Exported {path}", 8000)
        return True

    def png(self, path: str | None = None) -> bool:
        path = path or self.ask_path("Export the view as PNG", ".png", "PNG images (*.png)")
        if not path:
            return False
        return self._guard("the view", lambda: export_png(self.window, path)) and self._done(path)

    def svg(self, path: str | None = None) -> bool:
        path = path or self.ask_path("Export the view as SVG", ".svg", "SVG drawings (*.svg)")
        if not path:
            return False
        return self._guard("the view", lambda: export_svg(self.window, path)) and self._done(path)

    def json(self, path: str | None = None) -> bool:
        path = path or self.ask_path("Export the mixture", ".json", "JSON (*.json)")
        if not path:
            return False
        ok = self._guard("the mixture", lambda: export_json(self.window.session, path))
        return ok and self._done(path)

    def csv(self, path: str | None = None) -> bool:
        path = path or self.ask_path("Export the responsibilities", ".csv", "CSV (*.csv)")
        if not path:
            return False
        ok = self._guard("the responsibilities", lambda: export_csv(self.window.session, path))
        return ok and self._done(path)

    def gif(self, path: str | None = None, steps: tuple[int, int, int] | None = None) -> bool:
        return self._animation(".gif", path, steps)

    def mp4(self, path: str | None = None, steps: tuple[int, int, int] | None = None) -> bool:
        if ffmpeg_path() is None:
            self.window.show_error(MP4_UNAVAILABLE)
            return False
        return self._animation(".mp4", path, steps)

    def _animation(self, suffix: str, path, steps) -> bool:
        s = self.window.session
        if not s.history:
            self.window.show_error("Nothing to export: load data first.")
            return False
        steps = steps or self.ask_range()
        if not steps:
            return False
        what = "GIF" if suffix == ".gif" else "MP4 video"
        path = path or self.ask_path(f"Export the run as {what}", suffix, f"{what} (*{suffix})")
        if not path:
            return False
        first, last, ms = steps
        n = last - first + 1
        dialog = QtWidgets.QProgressDialog(f"Drawing {n} frames…", "Cancel", 0, 2 * n, self.window)
        dialog.setObjectName("exportProgress")
        dialog.setWindowTitle(f"Export {what}")
        dialog.setWindowModality(QtCore.Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(0)
        dialog.setValue(0)
        self.progress_dialog = dialog

        def tick(offset: int):
            def step(i: int) -> bool:
                dialog.setValue(offset + i)
                QtWidgets.QApplication.processEvents()
                return not dialog.wasCanceled()

            return step

        def run() -> None:
            frames = capture_frames(self.window, first, last, progress=tick(0))
            dialog.setLabelText(f"Writing {Path(path).name}…")
            delays = frame_delays(len(frames), ms)
            if suffix == ".gif":
                # Encoded in memory first: a cancelled export leaves no file.
                data = encode_gif(frames, delays, progress=tick(n))
                Path(path).write_bytes(data)
            else:
                write_mp4(path, frames, delays)

        try:
            ok = self._guard("the run", run)
        finally:
            dialog.reset()
            dialog.close()
        return ok and self._done(path)


def install(window) -> ExportActions:
    """File > Export submenu (PNG, SVG, GIF, MP4, JSON, CSV); the window keeps it as
    ``window.exporter``."""
    return ExportActions(window)
