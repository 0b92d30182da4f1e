"""Make untrusted text safe to put on an operator's terminal.

Every string that comes from a daemon, a log, a tool call or the gateway passes
through :func:`sanitize` before it is stored or shown.  Textual passes OSC 52
(clipboard writes), OSC 8, CSI sequences and C1 controls straight to the
terminal, so nothing of that kind may survive here:

* whole escape sequences are removed: CSI (7-bit and C1), OSC/DCS/SOS/PM/APC up
  to their terminator or the end of the line, and two-byte ``ESC x``;
* C0 controls other than tab and newline, DEL and C1 (U+0080–U+009F) are dropped;
* bidi overrides and isolates (Trojan Source) are dropped;
* U+2028/U+2029 become a space, so a line stays one line.
"""

from __future__ import annotations

import re

_SUSPECT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

_STRIP = re.compile(
    "\x1b\\[[0-?]*[ -/]*[@-~]?"  # CSI (a cut-off one, too)
    "|\x9b[0-?]*[ -/]*[@-~]?"  # C1 CSI
    "|(?:\x1b[\\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\\\|\x9c)?"  # strings
    "|\x1b[ -/]*[0-~]?"  # two-byte and nF escapes, or a lone ESC
    "|[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
)

_LINE_BREAKS = str.maketrans({"\u2028": " ", "\u2029": " "})


def sanitize(text: str) -> str:
    """Return ``text`` without terminal control sequences or spoofing characters.

    Newlines and tabs are kept, so a block of several lines can be cleaned in one
    call; callers that render a single line treat a newline as a line break.
    """
    if _SUSPECT.search(text) is None:
        return text
    return _STRIP.sub("", text).translate(_LINE_BREAKS)


def sanitize_line(text: str) -> str:
    """Like :func:`sanitize`, for text that must stay on one line.

    Newlines become the visible mark ``⏎`` and tabs become spaces.
    """
    cleaned = sanitize(text)
    if "\n" in cleaned or "\t" in cleaned:
        cleaned = cleaned.replace("\n", "⏎").replace("\t", " ")
    return cleaned


def decode(data: bytes) -> str:
    """Decode bytes from a process: UTF-8, invalid sequences as U+FFFD."""
    return data.decode("utf-8", errors="replace")
