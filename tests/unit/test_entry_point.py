"""The console-script entry point: whatever escapes becomes one sentence and an exit code."""

from __future__ import annotations

import pytest

import palyra_tui.__main__ as entry


def test_an_unexpected_error_is_one_sentence_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(_args: list[str], **_: object) -> int:
        raise RuntimeError("something\nbroke \x1b[2J")

    monkeypatch.setattr(entry, "_main", broken)
    with pytest.raises(SystemExit) as exited:
        entry.main(["supervise"])
    assert exited.value.code == 1
    captured = capsys.readouterr()
    assert captured.err == (
        "palyra-tui: unexpected error (RuntimeError): something broke \\u001b[2J\n"
    )
