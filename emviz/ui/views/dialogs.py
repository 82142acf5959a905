"""Small dialogs: pick two columns of a file, generate points from a preset."""

from __future__ import annotations

from PySide6 import QtWidgets

from emviz.core.datasets import PRESETS
from emviz.core.settings import MAX_COMPONENTS, SEED_MAX
from emviz.ui.views.seed_edit import SeedEdit

__all__ = ["ColumnDialog", "GenerateDialog"]

#: Presets whose true number of components is fixed (make_preset rejects another K).
FIXED_K = {"nested": 2, "multi_optima": 5, "moons": 2, "ring": 2}


class ColumnDialog(QtWidgets.QDialog):
    """Choose the two numeric columns of a file to plot as x and y."""

    def __init__(self, path: str, names: tuple[str, ...], parent=None) -> None:
        super().__init__(parent)
        from emviz.core.datasets import suggested_columns

        self.setWindowTitle("Choose two columns")
        layout = QtWidgets.QFormLayout(self)
        layout.addRow(QtWidgets.QLabel(f"{path} has {len(names)} numeric columns."))
        self.x_combo = QtWidgets.QComboBox(objectName="xColumnCombo")
        self.y_combo = QtWidgets.QComboBox(objectName="yColumnCombo")
        self.x_combo.addItems(list(names))
        self.y_combo.addItems(list(names))
        self.y_combo.setCurrentIndex(1)
        # A bundled data set's own file opens on the columns it is meant for.
        suggested = suggested_columns(path)
        if suggested is not None and all(c in names for c in suggested):
            self.x_combo.setCurrentText(suggested[0])
            self.y_combo.setCurrentText(suggested[1])
        layout.addRow("x:", self.x_combo)
        layout.addRow("y:", self.y_combo)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addRow(buttons)

    def columns(self) -> tuple[str, str]:
        return self.x_combo.currentText(), self.y_combo.currentText()


class GenerateDialog(QtWidgets.QDialog):
    """Preset, number of points, seed and the true mixture's K."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Generate data")
        layout = QtWidgets.QFormLayout(self)
        self.preset_combo = QtWidgets.QComboBox(objectName="presetCombo")
        for name, description in PRESETS.items():
            self.preset_combo.addItem(name.replace("_", " "), name)
            self.preset_combo.setItemData(
                self.preset_combo.count() - 1,
                description,
                role=3,  # Qt.ToolTipRole
            )
        self.description = QtWidgets.QLabel(wordWrap=True)
        self.n_spin = QtWidgets.QSpinBox(objectName="nPointsSpinBox")
        self.n_spin.setRange(3, 100_000)
        self.n_spin.setValue(500)
        self.n_spin.setSingleStep(100)
        self.seed_spin = SeedEdit(objectName="dataSeedSpinBox")
        self.seed_spin.setRange(0, SEED_MAX)
        self.k_spin = QtWidgets.QSpinBox(objectName="trueKSpinBox")
        self.k_spin.setRange(1, MAX_COMPONENTS)
        self.k_spin.setValue(3)
        layout.addRow("Preset:", self.preset_combo)
        layout.addRow(self.description)
        layout.addRow("Points:", self.n_spin)
        layout.addRow("Seed:", self.seed_spin)
        layout.addRow("True K:", self.k_spin)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addRow(buttons)
        self.preset_combo.currentIndexChanged.connect(self._on_preset)
        self._on_preset()

    def _on_preset(self) -> None:
        name = self.preset_combo.currentData()
        self.description.setText(PRESETS[name])
        fixed = FIXED_K.get(name)
        self.k_spin.setEnabled(fixed is None)
        if fixed is not None:
            self.k_spin.setValue(fixed)
            self.k_spin.setToolTip(f"The {name} preset always has {fixed} groups")
        else:
            self.k_spin.setToolTip("Number of components of the mixture the points are drawn from")

    def values(self) -> dict:
        name = self.preset_combo.currentData()
        return {
            "preset": name,
            "n_samples": self.n_spin.value(),
            "seed": self.seed_spin.value(),
            "n_components": None if name in FIXED_K else self.k_spin.value(),
        }
