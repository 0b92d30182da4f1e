"""Terminal notifications: OSC 9 or OSC 777 where the terminal supports them, else the bell.

The text is sanitized and stripped of the characters that end an OSC string,
so a notification can never carry an escape sequence of its own.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from palyra_tui.text import sanitize_line

_OSC777_TERMINALS = ("foot", "rxvt", "urxvt")


def notification_sequence(title: str, body: str, environ: Mapping[str, str] | None = None) -> str:
    """The escape sequence that raises a desktop notification in this terminal."""
    env = os.environ if environ is None else environ
    clean_title = _osc_safe(title)
    clean_body = _osc_safe(body)
    term = env.get("TERM", "")
    program = env.get("TERM_PROGRAM", "")
    if term.startswith(_OSC777_TERMINALS) or program == "WezTerm":
        return f"\x1b]777;notify;{clean_title};{clean_body}\x1b\\"
    if program == "iTerm.app" or "WT_SESSION" in env or term == "xterm-kitty":
        return f"\x1b]9;{clean_title}: {clean_body}\x1b\\"
    return "\a"


def title_sequence(title: str) -> str:
    """OSC 2: the terminal window's title."""
    return f"\x1b]2;{_osc_safe(title)}\x07"


def _osc_safe(text: str) -> str:
    return sanitize_line(text).replace(";", ",")[:200]
