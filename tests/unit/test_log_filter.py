"""The log view's rules without a terminal: levels, queries, filters, trimming and gap markers."""

from __future__ import annotations

import re

import pytest

from palyra_tui.models import LogLevel, LogLine, LogStream
from palyra_tui.models.logs import line_bytes
from palyra_tui.state.log_filter import (
    MAX_LINES,
    TRIM_SLACK,
    Backlog,
    LogFilter,
    compile_query,
    effective_level,
    matches,
)


def line(
    seq: int,
    message: str = "",
    *,
    service: str = "svc",
    stream: LogStream = LogStream.STDOUT,
    level: LogLevel | None = LogLevel.INFO,
    target: str | None = None,
    fields: tuple[tuple[str, str], ...] = (),
    dropped: int = 0,
) -> LogLine:
    return LogLine(
        seq,
        1000.0 + seq,
        service,
        stream,
        message or f"line {seq}",
        level,
        target,
        fields,
        dropped=dropped,
    )


@pytest.mark.parametrize(
    ("stream", "level", "expected"),
    [
        (LogStream.STDOUT, LogLevel.DEBUG, LogLevel.DEBUG),
        (LogStream.STDERR, LogLevel.ERROR, LogLevel.ERROR),
        (LogStream.STDERR, None, LogLevel.WARN),
        (LogStream.STDOUT, None, LogLevel.INFO),
        (LogStream.SUPERVISOR, None, LogLevel.INFO),
    ],
)
def test_effective_level_counts_unleveled_stderr_as_warn(
    stream: LogStream, level: LogLevel | None, expected: LogLevel
) -> None:
    assert effective_level(line(1, stream=stream, level=level)) is expected


def test_a_plain_query_is_literal_and_ignores_case() -> None:
    pattern = compile_query("a.b")
    assert pattern is not None
    assert pattern.search("xx A.B yy")
    assert not pattern.search("axb")


def test_a_re_query_is_a_regex_and_ignores_case() -> None:
    pattern = compile_query("re:a.b")
    assert pattern is not None
    assert pattern.search("AXB")
    assert compile_query("") is None
    with pytest.raises(re.error):
        compile_query("re:(")


def test_matches_looks_at_text_fields_service_and_target_only() -> None:
    subject = line(
        1, "hello", service="gateway", target="palyra::grpc", fields=(("peer", "10.0.0.1"),)
    )
    for needle in ("hello", "10.0.0.1", "peer=", "gateway", "grpc"):
        pattern = compile_query(needle)
        assert pattern is not None and matches(subject, pattern), needle
    info = compile_query("INFO")
    assert info is not None and not matches(subject, info), "the level is not text"


def test_the_filter_checks_service_stream_level_and_an_inverted_query() -> None:
    warn_on_stderr = line(1, "panic at x", stream=LogStream.STDERR, level=None)
    info = line(2, "all good", service="other")
    assert LogFilter(min_level=LogLevel.WARN).accepts(warn_on_stderr, None)
    assert not LogFilter(min_level=LogLevel.WARN).accepts(info, None)
    assert not LogFilter(min_level=LogLevel.ERROR).accepts(warn_on_stderr, None)
    assert LogFilter(stream=LogStream.STDERR).accepts(warn_on_stderr, None)
    assert not LogFilter(stream=LogStream.STDERR).accepts(info, None)
    assert LogFilter(service="other").accepts(info, None)
    assert not LogFilter(service="other").accepts(warn_on_stderr, None)
    shown = LogFilter(query="panic")
    hidden = LogFilter(query="!panic")
    assert shown.accepts(warn_on_stderr, shown.matcher())
    assert not shown.accepts(info, shown.matcher())
    assert not hidden.accepts(warn_on_stderr, hidden.matcher())
    assert hidden.accepts(info, hidden.matcher())


def test_a_gap_marker_passes_every_filter_but_another_service() -> None:
    gap = line(5, "lost", stream=LogStream.SUPERVISOR, level=None, dropped=4)
    strict = LogFilter(
        query="nothing like it",
        min_level=LogLevel.ERROR,
        stream=LogStream.STDERR,
    )
    assert strict.accepts(gap, strict.matcher())
    assert LogFilter(service="svc").accepts(gap, None)
    assert not LogFilter(service="other").accepts(gap, None)


def test_a_bad_regex_in_the_filter_raises_for_the_screen_to_report() -> None:
    with pytest.raises(re.error):
        LogFilter(query="!re:[").matcher()
    assert LogFilter(query="!").matcher() is None


def test_the_backlog_trims_only_past_its_slack_and_marks_each_service() -> None:
    backlog = Backlog(hint="; see more")
    backlog.lines = [line(seq, service="quiet") for seq in range(1, 4)]
    backlog.lines += [line(seq, service="noisy") for seq in range(4, MAX_LINES + TRIM_SLACK)]
    assert len(backlog.lines) == MAX_LINES + TRIM_SLACK - 1
    backlog.lines.append(line(MAX_LINES + TRIM_SLACK, service="noisy"))
    assert backlog.trim() == [], "exactly the slack over is kept"
    backlog.lines.append(line(MAX_LINES + TRIM_SLACK + 1, service="noisy"))
    gone = backlog.trim()
    assert len(backlog.lines) == MAX_LINES
    assert len(gone) == TRIM_SLACK + 1
    assert [ln.seq for ln in gone[:4]] == [1, 2, 3, 4], "the oldest lines go first"
    assert backlog.lines[0].seq == gone[-1].seq + 1
    quiet, noisy = backlog.markers
    assert (quiet.service, quiet.dropped, quiet.seq) == ("quiet", 3, 3)
    assert (noisy.service, noisy.dropped) == ("noisy", len(gone) - 3)
    assert noisy.seq == gone[-1].seq, "a marker stands where its service's last loss was"
    for marker in backlog.markers:
        assert marker.is_gap
        assert marker.stream is LogStream.SUPERVISOR and marker.level is LogLevel.WARN
        assert marker.message.endswith("dropped from this view; see more")
    assert quiet.message.startswith("⟂ 3 earlier lines")


def test_forgetting_adds_up_per_service_and_counts_what_a_gap_stood_for() -> None:
    backlog = Backlog()
    backlog.forget([line(9, service="b")])
    assert [m.message for m in backlog.markers] == ["⟂ 1 earlier line dropped from this view"]
    backlog.forget([line(2, service="a", dropped=1_499), line(3, service="a")])
    backlog.forget([line(10, service="b")])
    assert [(m.service, m.dropped) for m in backlog.markers] == [("a", 1_500), ("b", 2)]
    assert backlog.markers[0].message == "⟂ 1,500 earlier lines dropped from this view"


def test_the_backlog_also_keeps_within_its_byte_budget() -> None:
    budget = 1024 * 1024
    backlog = Backlog(max_bytes=budget)
    for seq in range(1, 401):
        backlog.lines.append(line(seq, "w" * 16_000, service="wide" if seq % 4 else "other"))
        backlog.trim()
        assert backlog.bytes_held <= budget
        assert backlog.bytes_held == sum(line_bytes(kept) for kept in backlog.lines)
    seqs = [kept.seq for kept in backlog.lines]
    assert seqs == list(range(401 - len(seqs), 401)), "the oldest lines go first"
    assert len(seqs) < 1024 * 1024 // 16_000
    assert sum(marker.dropped for marker in backlog.markers) == 400 - len(seqs)
