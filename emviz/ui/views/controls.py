"""The control panel: steps, run control, speed, settings, display options."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import Qt

from emviz.core.settings import COV_TYPES, INIT_METHODS, MAX_COMPONENTS, MAX_ITER_MAX, SEED_MAX
from emviz.session import Session
from emviz.ui.views.seed_edit import SeedEdit

__all__ = ["DELAYS", "ControlPanel", "FullTextComboBox"]

#: Seconds per half-step for each position of the speed slider; the last is
#: "as fast as possible", so the slider's maximum is the fastest.
DELAYS = (2.0, 1.2, 0.8, 0.5, 0.3, 0.2, 0.12, 0.07, 0.04, 0.015, 0.0)
DEFAULT_SPEED = 5

INIT_LABELS = {
    "kmeans++": "k-means++ seeds",
    "kmeans": "k-means",
    "random_from_data": "random points",
    "random_resp": "random responsibilities",
}


class FullTextComboBox(QtWidgets.QComboBox):
    """A combo box that a layout never makes narrower than its longest item.

    (A plain one may be squeezed down to a few characters: "random_from…".)
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToContents)

    def minimumSizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt's name)
        return self.sizeHint()


def _button(action: QtGui.QAction, name: str) -> QtWidgets.QToolButton:
    button = QtWidgets.QToolButton(objectName=name)
    button.setDefaultAction(action)
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    button.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Fixed)
    button.setMinimumHeight(32)
    return button


class KeysToWindow(QtCore.QObject):
    """Lets the window's one-key shortcuts through a number field that has the focus.

    A spin box or line edit with the focus takes every printable key, so
    after a lecturer set K with its arrows, E, M, Space and R did nothing
    (Space even blanked the field).  A key that cannot be part of the
    number (``allowed`` lists those that can) now commits the number and
    leaves the field, and the shortcut fires.  So does Ctrl+Z / Ctrl+Shift+Z
    in a spin box with no typing pending: the window's Undo, not the field's.

    Parameters
    ----------
    field : QAbstractSpinBox or QLineEdit
    allowed : str
        Characters that belong to the number.
    """

    _UNDO_KEYS = (Qt.Key.Key_Z, Qt.Key.Key_Y)

    def __init__(self, field: QtWidgets.QWidget, allowed: str) -> None:
        super().__init__(field)
        self.field = field
        self.allowed = allowed
        field.installEventFilter(self)
        if isinstance(field, QtWidgets.QAbstractSpinBox):
            field.lineEdit().installEventFilter(self)

    def _pending(self) -> bool:
        """Typing in a spin box not yet committed."""
        field = self.field
        if isinstance(field, (QtWidgets.QSpinBox, SeedEdit)):
            return field.text() != field.textFromValue(field.value())
        return True

    def _passes(self, event: QtGui.QKeyEvent) -> bool:
        mods = event.modifiers() & ~Qt.KeyboardModifier.ShiftModifier
        if mods == Qt.KeyboardModifier.ControlModifier:
            return event.key() in self._UNDO_KEYS and not self._pending()
        if mods != Qt.KeyboardModifier.NoModifier:
            return False
        text = event.text()
        return len(text) == 1 and text.isprintable() and text not in self.allowed

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QtCore.QEvent.Type.ShortcutOverride and self._passes(event):
            # Commit what was typed, then leave the field; the event stays
            # unaccepted, so Qt goes on to the window's shortcut.
            field = self.field
            if isinstance(field, QtWidgets.QAbstractSpinBox):
                field.interpretText()
            field.clearFocus()
            return True
        return False


class ControlPanel(QtWidgets.QWidget):
    """Buttons (driven by the window's QActions) and settings bound to the session."""

    def __init__(self, session: Session, actions: dict[str, QtGui.QAction], parent=None) -> None:
        super().__init__(parent)
        self.session = session
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)

        self.next_label = QtWidgets.QLabel(objectName="nextStepLabel")
        font = self.next_label.font()
        font.setPointSize(font.pointSize() + 4)
        font.setBold(True)
        self.next_label.setFont(font)
        self.next_label.setWordWrap(True)
        layout.addWidget(self.next_label)

        steps = QtWidgets.QGroupBox("EM")
        steps.setObjectName("emGroup")
        steps_layout = QtWidgets.QVBoxLayout(steps)
        steps_layout.setContentsMargins(6, 4, 6, 4)
        steps_layout.setSpacing(4)
        self._button_grid = QtWidgets.QGridLayout()
        steps_layout.addLayout(self._button_grid)
        self.buttons = {
            "e": _button(actions["e"], "eStepButton"),
            "m": _button(actions["m"], "mStepButton"),
            "iterate": _button(actions["iterate"], "iterateButton"),
            "run": _button(actions["run"], "runButton"),
            "stop": _button(actions["stop"], "stopButton"),
            "reset": _button(actions["reset"], "resetButton"),
            "reinit": _button(actions["reinit"], "reinitButton"),
        }
        self.button_columns = 0
        self.set_button_columns(3)
        speed_row = QtWidgets.QHBoxLayout()
        speed_row.addWidget(QtWidgets.QLabel("Speed"))
        self.speed_slider = QtWidgets.QSlider(Qt.Orientation.Horizontal, objectName="speedSlider")
        self.speed_slider.setRange(0, len(DELAYS) - 1)
        self.speed_slider.setPageStep(1)
        self.speed_slider.setToolTip(
            "Pause after each half-step of a run: left slow enough to narrate, "
            "right as fast as possible"
        )
        speed_row.addWidget(self.speed_slider, 1)
        steps_layout.addLayout(speed_row)
        self.speed_label = QtWidgets.QLabel(objectName="speedLabel")
        self.speed_label.setWordWrap(True)
        steps_layout.addWidget(self.speed_label)
        layout.addWidget(steps)

        settings = QtWidgets.QGroupBox("Model")
        settings.setToolTip(
            "Changing K, covariance, initialisation or seed re-initialises (the data stay)"
        )
        form = QtWidgets.QGridLayout(settings)
        form.setContentsMargins(6, 4, 6, 4)
        form.setVerticalSpacing(4)
        self.k_spin = QtWidgets.QSpinBox(objectName="kSpinBox")
        self.k_spin.setRange(1, MAX_COMPONENTS)
        self.k_spin.setKeyboardTracking(False)
        self.k_spin.setToolTip(f"Number of components K of the mixture (1 to {MAX_COMPONENTS})")
        self.cov_combo = FullTextComboBox(objectName="covTypeCombo")
        self.cov_combo.addItems(list(COV_TYPES))
        self.cov_combo.setToolTip(
            "full: any ellipse; tied: one shared ellipse; diag: axis-aligned; spherical: circles"
        )
        self.init_combo = FullTextComboBox(objectName="initCombo")
        for m in INIT_METHODS:
            self.init_combo.addItem(INIT_LABELS.get(m, m), m)
        self.init_combo.setToolTip("How the starting mixture is chosen")
        # Seeds are 63-bit (a restart run's seed is shown here): no QSpinBox.
        self.seed_spin = SeedEdit(objectName="seedSpinBox")
        self.seed_spin.setRange(0, SEED_MAX)
        self.seed_spin.setKeyboardTracking(False)
        self.seed_spin.setToolTip(
            f"Seed of the initialisation (0 to {SEED_MAX}): same seed, same start"
        )
        self.reg_edit = QtWidgets.QLineEdit(objectName="regCovarEdit")
        self.reg_edit.setToolTip(
            "reg_covar: covariance eigenvalues are kept above this fraction of the data's "
            "variance, so a component cannot collapse onto one point"
        )
        self.tol_edit = QtWidgets.QLineEdit(objectName="tolEdit")
        self.tol_edit.setToolTip("Converged when an iteration gains less than tol per point")
        for edit in (self.reg_edit, self.tol_edit):
            validator = QtGui.QDoubleValidator(0.0, 1e6, 12, edit)
            validator.setNotation(QtGui.QDoubleValidator.Notation.ScientificNotation)
            edit.setValidator(validator)
        self.max_iter_spin = QtWidgets.QSpinBox(objectName="maxIterSpinBox")
        self.max_iter_spin.setRange(1, MAX_ITER_MAX)
        self.max_iter_spin.setKeyboardTracking(False)
        self.max_iter_spin.setToolTip("A run stops after this many iterations")
        # One column of label and field (two columns made the side panel too
        # wide for a panel docked beside it on a 1280-pixel screen).
        rows = (
            ("K", self.k_spin),
            ("Covariance", self.cov_combo),
            ("Initialise", self.init_combo),
            ("Seed", self.seed_spin),
            ("reg_covar", self.reg_edit),
            ("tol", self.tol_edit),
            ("max_iter", self.max_iter_spin),
        )
        for r, (text, field) in enumerate(rows):
            label = QtWidgets.QLabel(text)
            label.setBuddy(field)
            form.addWidget(label, r, 0)
            form.addWidget(field, r, 1)
        form.setColumnStretch(1, 1)
        layout.addWidget(settings)

        display = QtWidgets.QGroupBox("Show")
        vbox = QtWidgets.QGridLayout(display)
        vbox.setContentsMargins(6, 4, 6, 4)
        vbox.setVerticalSpacing(2)
        self.checks = {}
        for key in ("sd1", "sd2", "sd3", "hard", "add"):
            check = QtWidgets.QCheckBox(actions[key].text().replace("&", ""))
            check.setObjectName(f"{key}Check")
            check.setToolTip(actions[key].toolTip())
            check.setChecked(actions[key].isChecked())
            check.toggled.connect(actions[key].setChecked)
            actions[key].toggled.connect(check.setChecked)
            self.checks[key] = check
        # The three ellipse levels on one row, the toggles below.
        for i, key in enumerate(("sd1", "sd2", "sd3")):
            vbox.addWidget(self.checks[key], 0, i)
        vbox.addWidget(self.checks["hard"], 1, 0, 1, 2)
        vbox.addWidget(self.checks["add"], 1, 2, 1, 2)
        layout.addWidget(display)

        self.key_filters = [
            KeysToWindow(field, allowed)
            for field, allowed in (
                (self.k_spin, "0123456789+-"),
                (self.seed_spin, "0123456789+-"),
                (self.max_iter_spin, "0123456789+-"),
                (self.reg_edit, "0123456789.eE+-"),
                (self.tol_edit, "0123456789.eE+-"),
            )
        ]
        self.k_spin.valueChanged.connect(lambda v: session.update_settings(n_components=v))
        self.cov_combo.currentTextChanged.connect(lambda t: session.update_settings(cov_type=t))
        self.init_combo.currentIndexChanged.connect(
            lambda i: session.update_settings(init=self.init_combo.itemData(i))
        )
        self.seed_spin.valueChanged.connect(lambda v: session.update_settings(seed=v))
        self.reg_edit.editingFinished.connect(self._on_reg)
        self.tol_edit.editingFinished.connect(self._on_tol)
        self.max_iter_spin.valueChanged.connect(lambda v: session.update_settings(max_iter=v))
        self.speed_slider.valueChanged.connect(self._on_speed)
        session.settings_changed.connect(self.sync)
        session.data_changed.connect(self.sync)
        self.speed_slider.setValue(DEFAULT_SPEED)
        self._on_speed(self.speed_slider.value())
        self.sync()

    def insert_after_steps(self, widget: QtWidgets.QWidget) -> None:
        """Put ``widget`` between the EM group and the model settings.

        The window puts the point inspector there: the part of the panel
        seen without scrolling on a 720-pixel screen.
        """
        layout = self.layout()
        layout.insertWidget(
            layout.indexOf(self.findChild(QtWidgets.QGroupBox, "emGroup")) + 1, widget
        )

    #: Rows of the EM buttons (key, column span) for 3 columns (beside the
    #: plots) and for 2 (presentation mode's large type: a narrow column).
    BUTTON_ROWS = {
        3: ((("e", 1), ("m", 1), ("iterate", 1)),
            (("run", 1), ("stop", 1), ("reset", 1)),
            (("reinit", 3),)),
        2: ((("e", 1), ("m", 1)),
            (("iterate", 2),),
            (("run", 1), ("stop", 1)),
            (("reset", 1), ("reinit", 1))),
    }  # fmt: skip

    def set_button_columns(self, columns: int) -> None:
        """Lay the EM buttons out in ``columns`` columns (see :attr:`BUTTON_ROWS`)."""
        if columns == self.button_columns:
            return
        self.button_columns = columns
        grid = self._button_grid
        for button in self.buttons.values():
            grid.removeWidget(button)
        for c in range(3):
            grid.setColumnStretch(c, 1 if c < columns else 0)
        for r, row in enumerate(self.BUTTON_ROWS[columns]):
            c = 0
            for key, span in row:
                grid.addWidget(self.buttons[key], r, c, 1, span)
                c += span

    def _on_reg(self) -> None:
        self._float_setting("reg_covar", self.reg_edit)

    def _on_tol(self) -> None:
        self._float_setting("tol", self.tol_edit)

    def _float_setting(self, name: str, edit: QtWidgets.QLineEdit) -> None:
        try:
            value = float(edit.text().replace(",", "."))
        except ValueError:
            self.sync()
            return
        self.session.update_settings(**{name: value})

    def _on_speed(self, value: int) -> None:
        delay = DELAYS[value]
        self.session.set_delay(delay)
        text = "as fast as possible" if delay == 0 else f"{delay:g} s per half-step"
        self.speed_label.setText(f"Run speed: {text}")

    def sync(self) -> None:
        """Show the session's settings (without sending them back)."""
        s = self.session.settings
        widgets = (
            self.k_spin,
            self.cov_combo,
            self.init_combo,
            self.seed_spin,
            self.max_iter_spin,
        )
        for w in widgets:
            w.blockSignals(True)
        try:
            n = self.session.n_samples
            self.k_spin.setMaximum(min(MAX_COMPONENTS, n) if n else MAX_COMPONENTS)
            self.k_spin.setValue(s.n_components)
            self.cov_combo.setCurrentText(s.cov_type)
            self.init_combo.setCurrentIndex(max(0, self.init_combo.findData(s.init)))
            self.seed_spin.setValue(s.seed)
            self.max_iter_spin.setValue(s.max_iter)
        finally:
            for w in widgets:
                w.blockSignals(False)
        self.reg_edit.setText(f"{s.reg_covar:g}")
        self.tol_edit.setText(f"{s.tol:g}")
