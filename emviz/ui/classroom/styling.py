"""How every plot of the window looks in a theme, at normal or presentation size.

Every restyle sets the type of the whole window (the window, its docks, menus
and toolbars, and the application's font, which popups and dialogs use) and
styles every ``pg.PlotWidget`` in the window, docks included: background,
axes, axis titles, legends (on a background of the theme), the scatter plot's
means and the log-likelihood's markers.

:class:`PlotStyler` records the line widths and marker sizes the views were
made with, the first time it styles them, and scales them from there:
presentation mode multiplies them by :data:`PRESENTATION_SCALE` and sets the
font to :data:`PRESENTATION_POINT_SIZE`; leaving it puts them back.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6 import QtGui, QtWidgets

from emviz.ui.classroom.themes import THEMES, set_application_font
from emviz.ui.views import palette as _palette
from emviz.ui.views.style import BASE_POINT_SIZE, type_size

__all__ = ["PRESENTATION_POINT_SIZE", "PRESENTATION_SCALE", "PlotStyler"]

#: Font size of the window in presentation mode, in points.
PRESENTATION_POINT_SIZE = 20
#: Line widths and marker sizes are multiplied by this in presentation mode.
PRESENTATION_SCALE = 1.8


class PlotStyler:
    """Styles the plots of ``window`` (every ``pg.PlotWidget`` in it, docks included)."""

    def __init__(self, window) -> None:
        self.window = window
        self._baseline: dict | None = None  # taken at the first restyle, before any change

    def _capture_baseline(self) -> dict:
        """Line widths and sizes as the views made them (presentation scales these).

        The left-axis widths of the plots are added as each plot is first
        restyled, so plots that a feature adds later are scaled too.
        """
        w = self.window
        base: dict = {"curves": {}, "items": {}}
        sc = w.scatter
        for n_std, curves in sc.ellipse_curves.items():
            pen = curves[0].opts["pen"]
            base["curves"][n_std] = (pen.widthF(), pen.style())
        ll = w.loglik
        base["ll_curve"] = ll.curve.opts["pen"].widthF()
        for key in ("init_item", "e_item", "m_item", "converged_item"):
            item = getattr(ll, key)
            base["items"][key] = (item.opts["size"], item.opts["pen"].widthF())
        base["means_size"] = sc.means_item.opts["size"]
        base["selected"] = (sc.selected_item.opts["size"], sc.selected_item.opts["pen"].widthF())
        base["cursor"] = ll.cursor.pen.widthF()
        base["next_font"] = w.controls.next_label.font().pointSize()
        base["left_widths"] = {}
        return base

    def _plots(self) -> list[pg.PlotWidget]:
        return self.window.findChildren(pg.PlotWidget)

    def restyle(self, theme: str, big: bool) -> None:
        """Apply ``theme`` and, if ``big``, the presentation sizes to every plot and the window."""
        w = self.window
        t = THEMES[theme]
        bg, fg, muted = t["bg"], t["fg"], t["muted"]
        scale = PRESENTATION_SCALE if big else 1.0
        if self._baseline is None:
            self._baseline = self._capture_baseline()
        base = self._baseline
        pt = PRESENTATION_POINT_SIZE if big else BASE_POINT_SIZE

        self.restyle_fonts(pt)
        nf = w.controls.next_label.font()
        nf.setPointSize(base["next_font"] + (pt - BASE_POINT_SIZE))
        w.controls.next_label.setFont(nf)
        w.warning_label.setStyleSheet(f"color: {t['warning']}; font-weight: bold;")

        tick = QtGui.QFont()
        tick.setPointSize(pt if big else BASE_POINT_SIZE)
        for plot in self._plots():
            plot.setBackground(bg)
            item = plot.getPlotItem()
            left_width = base["left_widths"].setdefault(
                id(plot), getattr(item.getAxis("left"), "fixedWidth", None)
            )
            for name in ("left", "bottom"):
                axis = item.getAxis(name)
                axis.setPen(pg.mkPen(fg, width=1.5 * scale))
                axis.setTextPen(fg)
                axis.setTickFont(tick)
                if axis.labelText:
                    axis.setLabel(
                        axis.labelText, color=fg, **{"font-size": f"{type_size('label', pt)}pt"}
                    )
            if left_width:
                # Fixed widths keep the plots aligned; large fonts need the automatic width.
                item.getAxis("left").setWidth(None if big else left_width)
            title = item.titleLabel
            if title.text:
                title.setText(title.text, color=fg)
            self._restyle_legends(plot, t, type_size("small", pt))
            fit = getattr(plot, "fit_to_size", None)  # a plot that drops its titles when short
            if fit is not None:
                fit()

        # The scatter plot: points, ellipses, means, selection ring.
        sc = w.scatter
        for n_std, curves in sc.ellipse_curves.items():
            width, style = base["curves"][n_std]
            for k, curve in enumerate(curves):
                curve.setPen(pg.mkPen(_palette.qcolor(k), width=width * scale, style=style))
        brushes = getattr(sc, "_mean_brushes", None)
        if isinstance(brushes, list):
            brushes[:] = [pg.mkBrush(_palette.qcolor(k)) for k in range(len(brushes))]
        self._restyle_means(sc, fg, scale)
        sc.means_item.setSize(int(round(base["means_size"] * (1.5 if big else 1.0))))
        size, width = base["selected"]
        sc.selected_item.setSize(size * (1.4 if big else 1.0))
        sc.selected_item.setPen(pg.mkPen(fg, width=width * scale))
        self.restyle_points(big)
        sc.redraw()

        # The log-likelihood plot.
        ll = w.loglik
        ll.curve.setPen(pg.mkPen(muted, width=base["ll_curve"] * scale))
        for key, item in (
            ("init_item", ll.init_item),
            ("e_item", ll.e_item),
            ("m_item", ll.m_item),
            ("converged_item", ll.converged_item),
        ):
            size, width = base["items"][key]
            item.setSize(size * (1.5 if big else 1.0))
            pen = QtGui.QPen(item.opts["pen"])
            if key in ("init_item", "converged_item"):
                pen.setColor(QtGui.QColor(fg))
            pen.setWidthF(width * scale)
            item.setPen(pen)
        ll.e_item.setBrush(pg.mkBrush(bg))
        cursor_pen = QtGui.QPen(ll.cursor.pen)
        cursor_pen.setWidthF(base["cursor"] * scale)
        ll.cursor.setPen(cursor_pen)
        text_font = ll.converged_text.textItem.font()
        text_font.setPointSize(pt)
        ll.converged_text.setFont(text_font)
        w.flush()

    def restyle_fonts(self, point_size: int) -> None:
        """The window's type at ``point_size``: the window, its docks, menus and toolbars.

        Windows of their own (a floating dock, the menus, which are popups)
        do not inherit the main window's font, and neither do the dialogs
        and tooltips, which take the application's: each is set.
        """
        w = self.window
        set_application_font(point_size)
        font = w.font()
        font.setPointSize(point_size)
        w.setFont(font)
        widgets = [w.menuBar()]
        widgets += w.findChildren(QtWidgets.QDockWidget)
        widgets += w.findChildren(QtWidgets.QToolBar)
        widgets += w.findChildren(QtWidgets.QMenu)
        for widget in widgets:
            widget.setFont(font)

    @staticmethod
    def _restyle_legends(plot: pg.PlotWidget, theme: dict, point_size: int) -> None:
        """Every legend of ``plot`` on a background of the theme, its text in the foreground."""
        for legend in plot.scene().items():
            if not isinstance(legend, pg.LegendItem):
                continue
            legend.setBrush(pg.mkBrush(theme["legend_bg"]))
            legend.setPen(pg.mkPen(theme["legend_border"]))
            legend.setLabelTextColor(theme["fg"])
            for _sample, label in legend.items:
                label.setText(label.text, color=theme["fg"], size=f"{point_size}pt")

    @staticmethod
    def _restyle_means(scatter, colour: str, scale: float) -> None:
        """The outline of the means (and their paths) in the theme's foreground colour."""
        scatter.set_mean_outline(colour, width=2 * scale)

    def restyle_points(self, big: bool) -> None:
        """The points' diameter for the number of points, larger if ``big``."""
        from emviz.ui.views.scatter_view import point_diameter

        n = self.window.session.n_samples
        d = point_diameter(n)
        if big:
            d = int(round(d * 1.6))
        self.window.scatter.points.setDiameter(d, outline=n <= 3000)
