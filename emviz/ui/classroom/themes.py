"""The light and dark themes: plot colours, the Qt palette and the component colours.

Both themes use Qt's Fusion style (it looks the same on every platform and
follows the palette completely) with a calm palette of their own: soft grey
window backgrounds, white or near-black plots, one blue accent.  In the dark
theme the component colours that would vanish on a dark background (black,
wine) are swapped for light ones, so the colour-blind-safe palette stays
readable.

:func:`apply_global_theme` changes what is the application's (its palette,
style and font, pyqtgraph's default colours, the component colours);
:func:`restore_application` puts back what was there before the first change.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6 import QtGui, QtWidgets

from emviz.ui.views import palette as _palette

__all__ = [
    "THEMES",
    "apply_global_theme",
    "dark_qpalette",
    "light_qpalette",
    "restore_application",
    "set_application_font",
]

#: The colours of each theme.
#:
#: bg, fg : plot background and foreground (axes, text, outlines of the means)
#: muted : secondary lines (the log-likelihood curve)
#: warning : the status bar's warnings
#: grid : the faint grid of the plots, as (r, g, b, alpha)
#: legend_bg, legend_border : the background and frame of a plot legend
#: icon, icon_disabled, accent : the toolbar icons, greyed icons, the active icon
THEMES = {
    "light": {
        "bg": "#FFFFFF",
        "fg": "#1F2328",
        "muted": "#57606A",
        "warning": "#B00000",
        "grid": (31, 35, 40, 28),
        "legend_bg": (255, 255, 255, 225),
        "legend_border": "#D0D7DE",
        "icon": "#3B4450",
        "icon_disabled": "#B4BAC2",
        "accent": "#1F6FB8",
    },
    "dark": {
        "bg": "#15181D",
        "fg": "#EDEDED",
        "muted": "#B8B8B8",
        "warning": "#FF7B72",
        "grid": (237, 237, 237, 30),
        "legend_bg": (35, 39, 46, 225),
        "legend_border": "#3A4049",
        "icon": "#D8DEE6",
        "icon_disabled": "#5A616B",
        "accent": "#6CB6FF",
    },
}
#: Palette entries replaced in the dark theme: black becomes near-white, Tol's
#: wine (too dark on black) becomes Tol's purple.  The others keep their hue.
_DARK_SWAPS = {6: (235, 235, 235), 8: (0xAA, 0x44, 0x99)}
_LIGHT_PALETTE = _palette.PALETTE.copy()
#: The application's own (palette, style name, font, pyqtgraph colours), kept
#: when a theme first replaces them.
_original_app: tuple[QtGui.QPalette, str, QtGui.QFont, tuple] | None = None


def apply_global_theme(name: str) -> None:
    """The application's Qt palette and style, pyqtgraph's colours and the component colours."""
    from emviz.ui.views import scatter_view
    from emviz.ui.views.points import quantize

    colours = _LIGHT_PALETTE.copy()
    if name == "dark":
        for k, rgb in _DARK_SWAPS.items():
            colours[k] = rgb
    # The palette array is shared by every view (blend, hard, qcolor) and is
    # changed in place so that they all follow.
    _palette.PALETTE[:] = colours
    scatter_view._HARD_CODES[:] = quantize(_palette.PALETTE)
    app = QtWidgets.QApplication.instance()
    if app is None:
        return
    _remember_application(app)
    # Plots made from now on (a feature's plot built later) start in the theme.
    pg.setConfigOptions(background=THEMES[name]["bg"], foreground=THEMES[name]["fg"])
    if app.style().name().lower() != "fusion":
        app.setStyle("Fusion")
    app.setPalette(dark_qpalette() if name == "dark" else light_qpalette())


def set_application_font(point_size: int) -> None:
    """The application's font size: popups, dialogs and tooltips follow the window's type."""
    app = QtWidgets.QApplication.instance()
    if app is None:
        return
    _remember_application(app)
    font = app.font()
    if font.pointSize() != point_size:
        font.setPointSize(point_size)
        app.setFont(font)


def restore_application() -> None:
    """The application's palette, style, font and pyqtgraph colours as before the first theme."""
    global _original_app
    _palette.PALETTE[:] = _LIGHT_PALETTE
    from emviz.ui.views import scatter_view
    from emviz.ui.views.points import quantize

    scatter_view._HARD_CODES[:] = quantize(_palette.PALETTE)
    app = QtWidgets.QApplication.instance()
    if app is None or _original_app is None:
        return
    palette, style, font, (background, foreground) = _original_app
    _original_app = None
    if app.style().name().lower() != style.lower():
        app.setStyle(style)
    app.setPalette(palette)
    app.setFont(font)
    pg.setConfigOptions(background=background, foreground=foreground)


def _remember_application(app) -> None:
    global _original_app
    if _original_app is None:
        _original_app = (
            QtGui.QPalette(app.palette()),
            app.style().name(),
            QtGui.QFont(app.font()),
            (pg.getConfigOption("background"), pg.getConfigOption("foreground")),
        )


def _qpalette(colours: dict, disabled: str) -> QtGui.QPalette:
    R = QtGui.QPalette.ColorRole
    G = QtGui.QPalette.ColorGroup
    p = QtGui.QPalette()
    for role, colour in colours.items():
        p.setColor(getattr(R, role), QtGui.QColor(colour))
    for role in (R.WindowText, R.Text, R.ButtonText):
        p.setColor(G.Disabled, role, QtGui.QColor(disabled))
    return p


def light_qpalette() -> QtGui.QPalette:
    """The Qt palette of the light theme: soft grey window, white fields, a blue accent."""
    colours = {
        "Window": "#F3F4F6",
        "WindowText": "#1F2328",
        "Base": "#FFFFFF",
        "AlternateBase": "#F6F8FA",
        "ToolTipBase": "#FFFFFF",
        "ToolTipText": "#1F2328",
        "PlaceholderText": "#8C959F",
        "Text": "#1F2328",
        "Button": "#EAEDF1",
        "ButtonText": "#1F2328",
        "BrightText": "#B00000",
        "Light": "#FFFFFF",
        "Midlight": "#F0F2F5",
        "Mid": "#C9CED6",
        "Dark": "#A0A7B1",
        "Shadow": "#6E7781",
        "Highlight": "#1F6FB8",
        "HighlightedText": "#FFFFFF",
        "Link": "#0969DA",
        "LinkVisited": "#8250DF",
    }
    return _qpalette(colours, "#8C959F")


def dark_qpalette() -> QtGui.QPalette:
    """The Qt palette of the dark theme (widgets, text, disabled text)."""
    colours = {
        "Window": "#23272E",
        "WindowText": "#EDEDED",
        "Base": "#15181D",
        "AlternateBase": "#23272E",
        "ToolTipBase": "#2F343C",
        "ToolTipText": "#EDEDED",
        "PlaceholderText": "#8A8F98",
        "Text": "#EDEDED",
        "Button": "#2F343C",
        "ButtonText": "#EDEDED",
        "BrightText": "#FF7B72",
        "Light": "#3A4049",
        "Midlight": "#323740",
        "Mid": "#262A31",
        "Dark": "#0F1115",
        "Shadow": "#000000",
        "Highlight": "#3D8FD6",
        "HighlightedText": "#FFFFFF",
        "Link": "#6CB6FF",
        "LinkVisited": "#B392F0",
    }
    return _qpalette(colours, "#7A7F88")
