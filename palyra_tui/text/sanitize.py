"""Make untrusted text safe to put on an operator's terminal.

Every string that comes from a daemon, a log, a tool call or the gateway passes
through :func:`sanitize` before it is stored or shown.  Textual passes OSC 52
(clipboard writes), OSC 8, CSI sequences and C1 controls straight to the
terminal, so nothing of that kind may survive here:

* whole escape sequences are removed: CSI (7-bit and C1), OSC/DCS/SOS/PM/APC up
  to their terminator or the end of the line, and two-byte ``ESC x``;
* C0 controls other than tab and newline, DEL and C1 (U+0080–U+009F) are dropped;
* bidi overrides and isolates (Trojan Source) are dropped;
* zero-width characters and bidi marks (U+200B–U+200F, U+2060, U+061C,
  U+FEFF) are shown as ``\u200b`` and the like: they can hide text or join
  words unseen;
* U+2028/U+2029 become a space, so a line stays one line.
"""

from __future__ import annotations

import re

_SUSPECT = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
    "\u200b-\u200f\u2060\u061c\ufeff]"
)

# Each pattern starts with a literal or a small class, so the regex engine can skip
# ahead quickly; a general alternation over the whole chunk is several times slower.
_ESCAPES = re.compile(
    "\x1b(?:"
    "\\[[0-?]*[ -/]*[@-~]?"  # CSI (a cut-off one, too)
    "|[\\]PX^_][^\x07\x1b\x9c\n]*(?:\x07|\x1b\\\\|\x9c)?"  # OSC, DCS, SOS, PM, APC
    "|[ -/]*[0-~]?"  # two-byte and nF escapes, or a lone ESC
    ")"
)
_C1 = re.compile("[\x80-\x9f]")
_C1_SEQUENCES = re.compile(
    "\x9b[0-?]*[ -/]*[@-~]?"  # C1 CSI
    "|[\x90\x98\x9d\x9e\x9f][^\x07\x1b\x9c\n]*(?:\x07|\x1b\\\\|\x9c)?"  # C1 strings
)
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]+")
_LINE_BREAKS = re.compile("[\u2028\u2029]")
_MARKS = re.compile("[\u200b-\u200f\u2060\u061c\ufeff]")


def sanitize(text: str) -> str:
    """Return ``text`` without terminal control sequences or spoofing characters.

    Newlines and tabs are kept, so a block of several lines can be cleaned in one
    call; callers that render a single line treat a newline as a line break.
    """
    if _SUSPECT.search(text) is None:
        return text
    if "\x1b" in text:
        text = _ESCAPES.sub("", text)
    if _C1.search(text) is not None:
        text = _C1_SEQUENCES.sub("", text)
    text = _CONTROLS.sub("", text)
    if "\u2028" in text or "\u2029" in text:
        text = _LINE_BREAKS.sub(" ", text)
    if _MARKS.search(text) is None:
        return text
    return _MARKS.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
    "\u200b-\u200f\u2060\u061c\ufeff]"
)


def visible(text: str) -> str:
    """Make every control, bidi and zero-width character visible as ``\\uXXXX``.

    For text a person must approve (a tool's input): nothing is deleted, so a
    control character cannot hide what follows it, and nothing reaches the
    terminal as a control.
    """
    if _INVISIBLE.search(text) is None:
        return text
    return _INVISIBLE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


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
