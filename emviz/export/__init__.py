"""Exports: the view as PNG or SVG, a run as an animated GIF or MP4, the mixture as
JSON, the responsibilities as CSV.

- :mod:`emviz.export.writers`: the files that need no Qt (GIF through Pillow,
  MP4 through imageio-ffmpeg, JSON, CSV); importing this package imports only it.
- :mod:`emviz.export.capture`: Qt pictures of the scatter plot (frames, PNG, vector SVG).
- :mod:`emviz.export.menu`: the window's File > Export menu (:func:`install`).
- :mod:`emviz.export.command`: ``emviz export``, headless (:func:`main_export`).

The Qt names below are loaded on first use, so that the writers work where
Qt is not installed.
"""

from __future__ import annotations

from emviz.export.writers import (
    DEFAULT_FRAME_MS,
    DEFAULT_SIZE,
    EXPORT_SUFFIXES,
    LAST_FRAME_MS,
    MP4_UNAVAILABLE,
    ExportCancelled,
    encode_gif,
    export_csv,
    export_json,
    ffmpeg_path,
    frame_delays,
    mixture_record,
    responsibilities,
    write_gif,
    write_mp4,
)

__all__ = [
    "DEFAULT_FRAME_MS",
    "DEFAULT_SIZE",
    "EXPORT_SUFFIXES",
    "LAST_FRAME_MS",
    "MP4_UNAVAILABLE",
    "ExportActions",
    "ExportCancelled",
    "capture_frames",
    "encode_gif",
    "export_csv",
    "export_json",
    "export_png",
    "export_svg",
    "ffmpeg_path",
    "frame_delays",
    "install",
    "mixture_record",
    "qimage_to_rgb",
    "responsibilities",
    "write_gif",
    "write_mp4",
]

_CAPTURE = ("capture_frames", "export_png", "export_svg", "qimage_to_rgb")
_MENU = ("ExportActions", "install")


def __getattr__(name: str):
    # The command (emviz.export.command) is not loaded from here: it imports the
    # main window, whose features import this package.
    if name in _CAPTURE:
        from emviz.export import capture

        return getattr(capture, name)
    if name in _MENU:
        from emviz.export import menu

        return getattr(menu, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
