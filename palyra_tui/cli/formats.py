"""Small formatting rules the headless commands share: times, durations, sizes, JSON.

Every string that came from a service or the gateway goes through :func:`clean`
before it is printed as text: the host sanitised it already, and this makes sure
no escape sequence reaches a terminal whatever the host sent.  JSON output needs
no such step: the encoder writes every control character as ``\\uXXXX``.
"""

from __future__ import annotations

import json
import time
from typing import Any

from palyra_tui.text import sanitize_line


def clean(text: str) -> str:
    """``text`` on one line, without control sequences."""
    return sanitize_line(text)


def dump(document: Any) -> str:
    """One JSON document on one line, with its newline."""
    return json.dumps(document, ensure_ascii=True, separators=(",", ":")) + "\n"


def seconds(value: float | None) -> float | None:
    """A time or a duration in seconds, to the millisecond."""
    return None if value is None else round(value, 3)


def duration(value: float | None) -> str:
    """``45s``, ``3m 12s``, ``2h 3m``, ``4d 2h``; ``-`` for none."""
    if value is None:
        return "-"
    whole = int(value)
    if whole < 60:
        return f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m {secs}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"


def clock_time(at: float) -> str:
    """``14:05:03`` in local time."""
    return time.strftime("%H:%M:%S", time.localtime(at))


def size(value: int | None) -> str:
    """``812 KiB``, ``41 MiB``; ``-`` for none."""
    if value is None:
        return "-"
    if value < 1024 * 1024:
        return f"{value // 1024} KiB"
    if value < 1024 * 1024 * 1024:
        return f"{value / (1024 * 1024):.0f} MiB"
    return f"{value / (1024 * 1024 * 1024):.1f} GiB"


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``1 approval``, ``2 approvals``."""
    word = singular if count == 1 else (plural_form or f"{singular}s")
    return f"{count} {word}"


def table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    """Columns padded to their widest cell; the last column is not padded."""
    widths = [len(cell) for cell in header]
    for row in rows:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]
    lines = []
    for row in (header, *rows):
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return lines
