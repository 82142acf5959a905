"""The light and dark themes: plot colours, the Qt palette and the component colours.

In the dark theme the palette entries that would vanish on a dark background
(black, wine) are swapped for light ones, so the colour-blind-safe palette
stays readable.
"""

from __future__ import annotations

from PySide6 import QtGui, QtWidgets

from emviz.ui.views import palette as _palette

__all__ = ["THEMES", "apply_global_theme", "dark_qpalette"]

#: (plot background, plot foreground, Qt palette) of each theme.
THEMES = {
    "light": {"bg": "#FFFFFF", "fg": "#000000", "muted": "#555555", "warning": "#B00000"},
    "dark": {"bg": "#15181D", "fg": "#EDEDED", "muted": "#B8B8B8", "warning": "#FF7B72"},
}
#: Palette entries replaced in the dark theme: black becomes near-white, Tol's
#: wine (too dark on black) becomes Tol's purple.  The others keep their hue.
_DARK_SWAPS = {6: (235, 235, 235), 8: (0xAA, 0x44, 0x99)}
_LIGHT_PALETTE = _palette.PALETTE.copy()
#: The application's own (palette, style name), kept when the dark theme first replaces them.
_light_app: tuple[QtGui.QPalette, str] | None = None


def apply_global_theme(name: str) -> None:
    """The application's Qt palette and the component colours, for theme ``name``."""
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
    global _light_app
    app = QtWidgets.QApplication.instance()
    if app is None:
        return
    if _light_app is None:
        _light_app = (QtGui.QPalette(app.palette()), app.style().name())
    if name == "dark":
        app.setStyle("Fusion")
        app.setPalette(dark_qpalette())
    else:
        app.setStyle(_light_app[1])
        app.setPalette(_light_app[0])


def dark_qpalette() -> QtGui.QPalette:
    """The Qt palette of the dark theme (widgets, text, disabled text)."""
    R = QtGui.QPalette.ColorRole
    G = QtGui.QPalette.ColorGroup
    p = QtGui.QPalette()
    colours = {
        R.Window: "#23272E",
        R.WindowText: "#EDEDED",
        R.Base: "#15181D",
        R.AlternateBase: "#23272E",
        R.ToolTipBase: "#2F343C",
        R.ToolTipText: "#EDEDED",
        R.PlaceholderText: "#8A8F98",
        R.Text: "#EDEDED",
        R.Button: "#2F343C",
        R.ButtonText: "#EDEDED",
        R.BrightText: "#FF7B72",
        R.Light: "#3A4049",
        R.Midlight: "#323740",
        R.Mid: "#262A31",
        R.Dark: "#0F1115",
        R.Shadow: "#000000",
        R.Highlight: "#3D8FD6",
        R.HighlightedText: "#FFFFFF",
        R.Link: "#6CB6FF",
        R.LinkVisited: "#B392F0",
    }
    for role, colour in colours.items():
        p.setColor(role, QtGui.QColor(colour))
    for role in (R.WindowText, R.Text, R.ButtonText):
        p.setColor(G.Disabled, role, QtGui.QColor("#7A7F88"))
    return p
