"""``palyra-tui logs`` options: durations, levels, and which lines ``-n`` keeps."""

from __future__ import annotations

import pytest

from palyra_tui.cli.failures import CommandFailed
from palyra_tui.cli.logs_cmd import _newest, parse_duration, parse_level
from palyra_tui.models import LogLevel, LogLine, LogStream


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90", 90.0),
        ("90s", 90.0),
        ("5m", 300.0),
        ("1h30m", 5400.0),
        ("2d", 172800.0),
        ("250ms", 0.25),
        ("1.5h", 5400.0),
    ],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "5 m", "m5", "1h-3m", "-4", "5x"])
def test_what_is_not_a_duration_is_a_usage_error(text: str) -> None:
    with pytest.raises(CommandFailed) as failed:
        parse_duration(text)
    assert failed.value.code == 2


def test_levels_take_the_daemons_names() -> None:
    assert parse_level("warning") is LogLevel.WARN
    assert parse_level("ERROR") is LogLevel.ERROR
    with pytest.raises(CommandFailed):
        parse_level("loud")


def _line(seq: int, dropped: int = 0) -> LogLine:
    return LogLine(seq, float(seq), "svc", LogStream.STDOUT, f"line {seq}", dropped=dropped)


def test_n_counts_lines_and_keeps_the_gaps_among_them() -> None:
    lines = [_line(1, dropped=5), _line(6), _line(7), _line(9, dropped=1), _line(10)]
    assert [line.seq for line in _newest(lines, 2)] == [7, 9, 10]
    assert [line.seq for line in _newest(lines, 3)] == [6, 7, 9, 10]
    assert [line.seq for line in _newest(lines, 10)] == [1, 6, 7, 9, 10]
    assert list(_newest(lines, 0)) == []
    assert _newest(lines, None) is lines
