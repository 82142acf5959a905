"""WebVTT captions for an exported animation: the narration of each frame's half-step.

Frame ``n`` of an animation shows history snapshot ``start + n``; its cue
holds :func:`emviz.ui.views.narration_view.narration_text` of that snapshot
and lasts as long as the frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

__all__ = ["captions_path", "narration_cues", "vtt_timestamp", "webvtt"]


def vtt_timestamp(ms: int) -> str:
    """``ms`` milliseconds as a WebVTT timestamp, "HH:MM:SS.mmm"."""
    ms = int(ms)
    if ms < 0:
        raise ValueError(f"a timestamp cannot be negative; got {ms} ms")
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def webvtt(texts: Sequence[str], delays_ms: Sequence[int]) -> str:
    """A WebVTT file with one cue per frame: ``texts[n]`` for ``delays_ms[n]`` milliseconds.

    Empty texts get no cue (the frame shows without a caption).  A cue text
    never contains a blank line or "-->", which would end or break the cue.
    """
    if len(texts) != len(delays_ms):
        raise ValueError(f"{len(texts)} captions but {len(delays_ms)} frame delays")
    lines = ["WEBVTT", ""]
    t = 0
    for n, (text, delay) in enumerate(zip(texts, delays_ms, strict=True)):
        end = t + int(delay)
        cleaned = " ".join(str(text).split()).replace("-->", "→")
        if cleaned:
            lines += [str(n + 1), f"{vtt_timestamp(t)} --> {vtt_timestamp(end)}", cleaned, ""]
        t = end
    return "\n".join(lines)


def narration_cues(session, start: int, stop: int, level: str) -> list[str]:
    """The narration of history snapshots ``start``..``stop`` (inclusive), one per frame."""
    from emviz.ui.views.narration_view import narration_text

    return [narration_text(session, level, i) for i in range(start, stop + 1)]


def captions_path(out: str | Path) -> Path:
    """Where the captions of animation ``out`` go: beside it, ``.vtt`` for its suffix."""
    return Path(out).with_suffix(".vtt")
