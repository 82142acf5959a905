"""Tables and bars: the parameters of each component, and one point's responsibilities."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtGui, QtWidgets
from PySide6.QtCore import Qt

from emviz.runs.pacing import RedrawThrottle
from emviz.session import Session
from emviz.ui.views.axes import compact_exponent
from emviz.ui.views.palette import PALETTE, qcolor
from emviz.ui.views.style import style_plot

__all__ = ["COLUMNS", "ParamTable", "RespView"]

COLUMNS = ("k", "weight", "mean x", "mean y", "var x", "cov xy", "var y")
#: Short headers shown (Greek, so the table fits beside the plot).
HEADERS = ("k", "π", "μx", "μy", "σ²x", "σxy", "σ²y")


def _fmt(v: float) -> str:
    """Three significant digits in at most about seven characters.

    Python's "g" writes 0.000623 in full, which a table column cut to
    "0.0006…"; below 0.01 and from 1e5 up the exponent form is shorter
    ("6.23e-4", "1.72e6").
    """
    text = f"{v:.3g}"
    if math.isfinite(v) and v != 0 and (abs(v) < 0.01 or "e" in text):
        return compact_exponent(f"{v:.2e}")
    return text


def _text_colour(k: int) -> QtGui.QColor:
    r, g, b = PALETTE[k % len(PALETTE)]
    light = 0.299 * r + 0.587 * g + 0.114 * b > 150
    return QtGui.QColor("black" if light else "white")


class ParamTable(QtWidgets.QTableWidget):
    """One row per component: weight, mean and covariance of the snapshot shown."""

    def __init__(self, session: Session, parent=None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setObjectName("paramTable")
        self.session = session
        self.setHorizontalHeaderLabels(list(HEADERS))
        for c, name in enumerate(COLUMNS):
            self.horizontalHeaderItem(c).setToolTip(name)
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        self._layout = "equal"
        self._throttle = RedrawThrottle(self.redraw, parent=self, busy=lambda: session.running)
        session.snapshot_changed.connect(self._throttle.request)
        session.run_state_changed.connect(self._throttle.flush)
        self.redraw()

    def flush(self) -> None:
        self._throttle.flush()

    def values(self) -> np.ndarray:
        """The numbers shown, array of shape (K, 6), as parsed back from the cells."""
        return np.array(
            [[float(self.item(r, c).text()) for c in range(1, 7)] for r in range(self.rowCount())]
        )

    def redraw(self) -> None:
        snap = self.session.current
        if snap is None:
            self.setRowCount(0)
            return
        m = snap.mixture
        k_now = m.n_components
        self.setRowCount(k_now)
        for k in range(k_now):
            cov = m.covariances[k]
            row = (m.weights[k], *m.means[k], cov[0, 0], cov[0, 1], cov[1, 1])
            swatch = self._cell(k, 0, str(k + 1))
            swatch.setBackground(qcolor(k))
            swatch.setForeground(_text_colour(k))
            font = swatch.font()
            font.setBold(True)
            swatch.setFont(font)
            swatch.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            for c, v in enumerate(row, start=1):
                cell = self._cell(k, c, _fmt(float(v)))
                cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                cell.setToolTip(f"{COLUMNS[c]} of component {k + 1}: {float(v):.10g}")
        self._fit_columns()

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._fit_columns()

    def _fit_columns(self) -> None:
        """Column widths that never cut a number.

        Equal widths when the widest number fits in an equal share; else
        each column its numbers' width plus an equal share of what is left;
        else just its numbers' width, and the table scrolls sideways.  (With a
        panel docked beside the plots, equal shares were 38 pixels and every
        number read "0.…".)
        """
        header = self.horizontalHeader()
        n = self.columnCount()
        # A few pixels beyond the hint: a number exactly as wide as its
        # column's hint touches the cell's edge.
        hints = [max(self.sizeHintForColumn(c), header.sectionSizeHint(c)) + 4 for c in range(n)]
        room = self.viewport().width() - hints[0]
        values = hints[1:]
        modes = QtWidgets.QHeaderView.ResizeMode
        if max(values) * len(values) <= room:
            layout = "equal"
        elif sum(values) <= room:
            layout = "fit"
        else:
            layout = "scroll"
        if layout != self._layout:
            self._layout = layout
            mode = {"equal": modes.Stretch, "fit": modes.Fixed, "scroll": modes.Fixed}
            for c in range(1, n):
                header.setSectionResizeMode(c, mode[layout])
        if layout != "equal":
            spare = max(room - sum(values), 0) // len(values)
            for c, width in enumerate(values, start=1):
                if header.sectionSize(c) != width + spare:
                    header.resizeSection(c, width + spare)

    def _cell(self, r: int, c: int, text: str) -> QtWidgets.QTableWidgetItem:
        item = self.item(r, c)
        if item is None:
            item = QtWidgets.QTableWidgetItem()
            self.setItem(r, c, item)
        item.setText(text)
        return item


class RespView(pg.PlotWidget):
    """Bars of the responsibilities of the point clicked, one per component."""

    def __init__(self, session: Session, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("respPlot")
        self.session = session
        item = self.getPlotItem()
        item.setMenuEnabled(False)
        item.setMouseEnabled(x=False, y=False)
        item.hideButtons()
        style_plot(self, "component", "responsibility")
        item.getAxis("left").setWidth(56)
        item.setYRange(0, 1.0, padding=0.02)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.7)
        self.addItem(self.bars)
        self.title = QtWidgets.QLabel()
        self.title.setObjectName("respLabel")
        self.title.setWordWrap(True)
        self._throttle = RedrawThrottle(self.redraw, parent=self, busy=lambda: session.running)
        session.snapshot_changed.connect(self._throttle.request)
        session.run_state_changed.connect(self._throttle.flush)
        session.selection_changed.connect(self._throttle.request)
        self.redraw()

    def flush(self) -> None:
        self._throttle.flush()

    def values(self) -> np.ndarray | None:
        """Heights of the bars shown, or None."""
        h = self.bars.opts.get("height")
        return None if h is None or not len(h) else np.asarray(h, dtype=float)

    def redraw(self) -> None:
        s = self.session
        snap = s.current
        i = s.selected
        k_now = 0 if snap is None else snap.mixture.n_components
        ticks = [[(k + 1, str(k + 1)) for k in range(k_now)]]
        self.getPlotItem().getAxis("bottom").setTicks(ticks)
        self.getPlotItem().setXRange(0.4, max(k_now, 1) + 0.6, padding=0)
        if i is None or snap is None:
            self.bars.setOpts(x=[], height=[], brushes=[])
            self.title.setText("Click a point to see its responsibilities.")
            return
        x, y = s.X[i]
        where = f"Point {i + 1} at ({x:.4g}, {y:.4g})"
        if snap.resp is None:
            self.bars.setOpts(x=[], height=[], brushes=[])
            self.title.setText(f"{where}: not assigned yet (do an E-step).")
            return
        # A copy: the bars keep it, and responsibilities from the EM process
        # view its ring, whose slot would stay taken while anything views it.
        r = np.array(snap.resp[i], dtype=float)
        self.bars.setOpts(
            x=np.arange(1, k_now + 1),
            height=r,
            width=0.7,
            brushes=[pg.mkBrush(qcolor(k)) for k in range(k_now)],
            pens=[pg.mkPen("k", width=1) for _ in range(k_now)],
        )
        parts = ", ".join(f"{k + 1}: {v:.2f}" for k, v in enumerate(r))
        self.title.setText(f"{where}\nresponsibilities {parts}")
