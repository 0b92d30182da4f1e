"""The command line as a person types it: help text and where ``--config`` may go."""

from __future__ import annotations

from pathlib import Path

import pytest

from palyra_tui.cli.main import build_parser


def test_help_says_that_no_command_opens_the_control_center() -> None:
    text = " ".join(build_parser().format_help().split())
    assert "Without a command, palyra-tui opens the control center" in text
    assert "palyra-tui demo" in text
    assert "[COMMAND ...]" in text


@pytest.mark.parametrize(
    "argv",
    [
        ["--config", "tui.toml", "demo"],
        ["demo", "--config", "tui.toml"],
        ["--config", "other.toml", "demo", "--config", "tui.toml"],
        ["--config", "tui.toml", "supervise", "--logs"],
        ["supervise", "--config", "tui.toml", "--logs"],
        ["--config", "tui.toml"],
    ],
)
def test_config_is_accepted_before_and_after_the_command(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)
    assert args.config == Path("tui.toml")


@pytest.mark.parametrize("argv", [[], ["demo"], ["supervise"]])
def test_no_config_option_means_none(argv: list[str]) -> None:
    assert build_parser().parse_args(argv).config is None


def test_a_command_help_names_its_own_program(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["demo", "--help"])
    assert capsys.readouterr().out.startswith("usage: palyra-tui demo [-h] [--config CONFIG]")
