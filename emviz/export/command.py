"""``emviz export``: run EM headless (no window appears) and write a file.

``emviz export --dataset old_faithful --k 2 --steps 20 --out run.gif`` builds
the main window offscreen, takes ``--steps`` half-steps and writes the
animation (.gif, .mp4), the final view (.png, .svg), the final mixture
(.json) or the responsibilities (.csv); see ``emviz export --help``.
:func:`main_export` is what the ``emviz`` command calls for ``emviz export``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from emviz.core.settings import APPLICATION, INIT_METHODS, MAX_COMPONENTS, parse_k, parse_seed
from emviz.export.writers import (
    DEFAULT_FRAME_MS,
    DEFAULT_SIZE,
    EXPORT_SUFFIXES,
    MP4_UNAVAILABLE,
    export_csv,
    export_json,
    ffmpeg_path,
    frame_delays,
    write_gif,
    write_mp4,
)

__all__ = ["build_export_parser", "main_export"]


class _Parser(argparse.ArgumentParser):
    """Usage errors exit with status 1 and a one-line reason."""

    def error(self, message: str):  # noqa: D401
        self.print_usage(sys.stderr)
        self.exit(1, f"emviz export: error: {message}\n")


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"size must be WIDTHxHEIGHT, e.g. 800x600; got {text!r}"
        ) from None
    if not (100 <= w <= 4000 and 100 <= h <= 4000):
        raise argparse.ArgumentTypeError(f"width and height must be 100 to 4000; got {text!r}")
    return w, h


def _steps(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--steps must be an integer; got {text!r}") from None
    if not 0 <= n <= 5000:
        raise argparse.ArgumentTypeError(f"--steps must be 0 to 5000; got {n}")
    return n


def build_export_parser() -> argparse.ArgumentParser:
    from emviz.core.datasets import DATASETS
    from emviz.core.mixture import COV_TYPES

    p = _Parser(
        prog="emviz export",
        description="Run EM headless (no window appears) and write the animation of the run "
        "(.gif, .mp4), the final view (.png, .svg), the final mixture (.json) or the "
        "responsibilities (.csv).",
        epilog="Example: emviz export --dataset old_faithful --k 2 --init random_from_data "
        "--seed 3 --steps 20 --out run.gif",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--dataset", choices=sorted(DATASETS), help="a bundled data set")
    src.add_argument("--data", metavar="FILE", help="a data file (CSV, TSV, text or .npy)")
    src.add_argument(
        "--session", metavar="FILE.emviz", help="a saved session (its data, settings and start)"
    )
    p.add_argument(
        "--columns", nargs=2, metavar=("X", "Y"), help="the two columns of --data to use"
    )
    p.add_argument(
        "--k",
        type=parse_k,
        default=2,
        metavar="K",
        help=f"components, 1 to {MAX_COMPONENTS} (default 2)",
    )
    p.add_argument("--cov-type", choices=COV_TYPES, default="full", help="default full")
    p.add_argument("--init", choices=INIT_METHODS, default="kmeans++", help="default kmeans++")
    p.add_argument(
        "--seed", type=parse_seed, default=0, help="seed of the initialisation (default 0)"
    )
    p.add_argument(
        "--steps",
        type=_steps,
        default=None,
        metavar="N",
        help="half-steps to run (E, M, E, ...; default 20, or the session's own); "
        "a GIF gets N + 1 frames, fewer if EM converges first",
    )
    p.add_argument(
        "--out",
        required=True,
        metavar="FILE",
        help="output file: " + ", ".join(EXPORT_SUFFIXES) + " (chosen by the suffix)",
    )
    p.add_argument(
        "--size",
        type=_size,
        default=DEFAULT_SIZE,
        metavar="WxH",
        help="size of the plot in pixels (default 800x600; a GIF adds a caption band)",
    )
    p.add_argument(
        "--frame-ms",
        type=int,
        default=DEFAULT_FRAME_MS,
        metavar="MS",
        help=f"how long each frame shows (default {DEFAULT_FRAME_MS}; the last stays longer)",
    )
    p.add_argument("--theme", choices=("light", "dark"), default="light", help="default light")
    p.add_argument(
        "--presentation",
        action="store_true",
        help="large fonts, thick lines and big points, as in presentation mode (F11)",
    )
    p.add_argument("--no-caption", action="store_true", help="no iteration caption on GIF frames")
    p.add_argument(
        "--captions",
        nargs="?",
        const="medium",
        choices=("basic", "medium", "detailed"),
        metavar="LEVEL",
        help="with a .gif or .mp4, also write WebVTT captions narrating each half-step "
        "beside it (FILE.vtt), at LEVEL basic, medium (default) or detailed",
    )
    return p


def _fail(message: str) -> int:
    print(f"emviz export: {message}", file=sys.stderr)
    return 1


def _fit_scatter(window, size: tuple[int, int], app) -> None:
    """Resize the window until its scatter plot has ``size`` pixels (as near as it can)."""
    for _ in range(6):
        app.processEvents()
        dw = size[0] - window.scatter.width()
        dh = size[1] - window.scatter.height()
        if not dw and not dh:
            return
        window.resize(window.width() + dw, window.height() + dh)
    app.processEvents()


def main_export(argv: Sequence[str] | None = None) -> int:
    """``emviz export ...``: returns the exit status (0 written, 1 an error)."""
    args = build_export_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    out = Path(args.out)
    suffix = out.suffix.lower()
    if suffix not in EXPORT_SUFFIXES:
        return _fail(f"--out must end in one of {', '.join(EXPORT_SUFFIXES)}; got {args.out!r}")
    if not out.parent.is_dir():
        return _fail(f"the folder of --out does not exist: {out.parent}")
    if args.frame_ms < 10:
        return _fail(f"--frame-ms must be at least 10; got {args.frame_ms}")
    if suffix == ".mp4" and ffmpeg_path() is None:
        return _fail(MP4_UNAVAILABLE)
    if args.captions and suffix not in (".gif", ".mp4"):
        return _fail(f"--captions goes with a .gif or .mp4 animation; got {args.out!r}")
    if args.columns and not args.data:
        return _fail("--columns goes with --data")
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    # Validate the input before Qt starts.
    loaded = sf = None
    try:
        if args.session:
            from emviz.core.session_file import load_session

            sf = load_session(args.session)
        elif args.data:
            from emviz.core.io import load_points

            loaded = load_points(args.data, tuple(args.columns) if args.columns else None)
    except (OSError, ValueError) as exc:
        return _fail(str(exc))
    steps = args.steps
    if steps is None:
        steps = sf.n_half_steps if sf is not None else 20

    from PySide6 import QtCore, QtWidgets

    from emviz.export.capture import capture_frames, export_png, export_svg

    def quiet(mode, context, message):  # the offscreen platform's chatter is not news
        if "propagateSizeHints" not in message:
            sys.stderr.write(message + "\n")

    QtCore.qInstallMessageHandler(quiet)
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(["emviz-export"])
    # No organisation name: the export neither reads nor writes remembered settings.
    app.setApplicationName(APPLICATION)
    from emviz.ui.main_window import build_window

    window = build_window(args.k, args.cov_type, args.init, args.seed)
    session = window.session
    try:
        from emviz.ui import classroom

        if not hasattr(window, "classroom"):
            classroom.install(window)
        window.classroom.set_theme(args.theme, persist=False)
        if args.presentation:
            window.classroom.set_presentation(True, full_screen=False)
        ok = True
        if sf is not None:
            from emviz.ui.files.session_io import apply_session_file

            ok = apply_session_file(window, sf, with_history=False)
        elif loaded is not None:
            try:
                session.load_points(loaded.X, Path(loaded.path).name, loaded.columns)
            except ValueError as exc:  # points no fit can use (out of range, say)
                return _fail(str(exc))
        else:
            ok = session.load_dataset(args.dataset)
        if not ok or not session.history:
            return _fail("; ".join(window.errors) or "could not load the data")
        for _ in range(steps):
            if not session.step():
                if window.errors:
                    return _fail(window.errors[-1])
                break
        window.show()
        _fit_scatter(window, args.size, app)
        try:
            if suffix in (".gif", ".mp4"):
                frames = capture_frames(window, size=args.size, caption=not args.no_caption)
                delays = frame_delays(len(frames), args.frame_ms)
                if suffix == ".gif":
                    write_gif(out, frames, delays)
                else:
                    write_mp4(out, frames, delays)
                what = f"{len(frames)} frames"
                if args.captions:
                    from emviz.export.captions import captions_path, narration_cues, webvtt

                    cues = narration_cues(session, 0, len(frames) - 1, args.captions)
                    vtt = captions_path(out)
                    vtt.write_text(webvtt(cues, delays), encoding="utf-8")
                    what += f", captions in {vtt.name}"
            elif suffix == ".png":
                export_png(window, out, args.size)
                what = f"{args.size[0]} x {args.size[1]} view"
            elif suffix == ".svg":
                export_svg(window, out)
                what = "view"
            elif suffix == ".json":
                export_json(session, out)
                what = "mixture"
            else:
                export_csv(session, out)
                what = "responsibilities"
        except (OSError, ValueError, RuntimeError) as exc:
            return _fail(f"cannot write {out}: {exc}")
        snap = session.history[-1]
        print(
            f"wrote {out} ({what}; {len(session.history) - 1} half-steps, "
            f"iteration {snap.iteration}, log-likelihood {snap.log_likelihood:.6g})"
        )
        return 0
    finally:
        session.shutdown()
        window.close()
        window.deleteLater()
