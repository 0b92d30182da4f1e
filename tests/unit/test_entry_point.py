"""The console-script entry point: whatever escapes becomes one sentence and an exit code."""

from __future__ import annotations

from pathlib import Path

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


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--config", "/etc/palyra/tui.toml"],
        ["--config=relative/tui.toml"],
        ["--config", "a b.toml"],
        ["--config", "-x"],
        ["--config="],
        ["--config"],
        ["--version"],
        ["status"],
        ["--config", "x.toml", "status"],
        ["status", "--config", "x.toml"],
        ["-h"],
        ["demo"],
    ],
)
def test_the_quick_way_to_the_control_center_agrees_with_the_parser(args: list[str]) -> None:
    """Only what the parser reads as "no command, maybe a config" skips the parser."""
    from palyra_tui.cli.main import build_parser

    quick = entry._opens_the_control_center(args)
    try:
        parsed = build_parser().parse_args(args)
    except SystemExit:
        assert quick is None
        return
    if parsed.command is None:
        assert quick is None or quick == (parsed.config,)
    else:
        assert quick is None


def test_the_common_starts_take_the_quick_way() -> None:
    assert entry._opens_the_control_center([]) == (None,)
    assert entry._opens_the_control_center(["--config", "t.toml"]) == (Path("t.toml"),)
    assert entry._opens_the_control_center(["--config=t.toml"]) == (Path("t.toml"),)
