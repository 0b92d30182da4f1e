"""Terminal notifications and titles cannot smuggle escape sequences."""

from __future__ import annotations

import pytest

from palyra_tui.ui.notify import notification_sequence, title_sequence

HOSTILE = "evil\x07\x1b]52;c;ZXZpbA==\x07\x1b\\;x"


@pytest.mark.parametrize(
    ("environ", "prefix"),
    [
        ({"TERM_PROGRAM": "iTerm.app"}, "\x1b]9;"),
        ({"TERM": "foot"}, "\x1b]777;notify;"),
        ({"TERM": "xterm-256color"}, "\a"),
    ],
)
def test_notification_sequences(environ: dict[str, str], prefix: str) -> None:
    sequence = notification_sequence("Approval needed", HOSTILE, environ)
    assert sequence.startswith(prefix)
    body = sequence[len(prefix) :]
    assert "\x1b]52" not in sequence and "\x07" not in body.rstrip("\a")
    if prefix != "\a":
        assert body.count("\x1b") == 1 and body.endswith("\x1b\\")


def test_title_sequence_is_one_clean_osc() -> None:
    sequence = title_sequence(f"Palyra · {HOSTILE}")
    assert sequence.startswith("\x1b]2;") and sequence.endswith("\x07")
    inner = sequence[4:-1]
    assert "\x1b" not in inner and "\x07" not in inner
