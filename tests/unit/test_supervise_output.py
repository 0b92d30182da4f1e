"""The records ``supervise`` prints, and the writer's account of what reached the consumer."""

from __future__ import annotations

import json
import os
from collections import deque
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from palyra_tui.cli.output import JsonLinesWriter
from palyra_tui.cli.records import RecordKind, log_lines, state_line
from palyra_tui.models import LogLevel, LogLine, LogStream, ServiceEvent, ServiceState
from palyra_tui.supervisor.logbuffer import gap_record


def line(seq: int, text: str = "hello", **extra: Any) -> LogLine:
    return LogLine(
        seq=seq,
        ts=1795243866.5 + seq / 1000,
        service="svc",
        stream=LogStream.STDOUT,
        message=text,
        **extra,
    )


@pytest.mark.parametrize(
    "record",
    [
        line(1),
        line(2, 'quotes " and \\ backslash\ttab'),
        line(3, "non-ASCII é ⟂ 🙂 and \u200b"),
        line(4, "", fields=(("k", "v"), ("n", "1"))),
        line(5, "msg", level=LogLevel.WARN, target="palyra::gateway", truncated=True),
        LogLine(7, 0.1, "svc", LogStream.SUPERVISOR, "note", level=LogLevel.INFO),
    ],
)
def test_log_records_parse_to_what_json_dumps_gives(record: LogLine) -> None:
    expected: dict[str, object] = {
        "event": "log",
        "ts": round(record.ts, 3),
        "service": record.service,
        "stream": record.stream.value,
        "line": record.text,
    }
    if record.level is not None:
        expected["level"] = record.level.name
    if record.target:
        expected["target"] = record.target
    if record.truncated:
        expected["truncated"] = True
    (text,) = log_lines([record])
    assert json.loads(text) == json.loads(json.dumps(expected))
    assert list(json.loads(text)) == list(expected), "the keys keep their order"
    assert text.startswith(f'{{"event":"log","ts":{record.ts:.3f},') and text.endswith("}\n")
    assert text.isascii() and text.count("\n") == 1


def test_a_line_standing_for_lost_ones_is_a_gap_record_naming_service_and_kind() -> None:
    (text,) = log_lines([gap_record("gateway", 41, 1795243866.25, 40)])
    assert json.loads(text) == {
        "event": "gap",
        "ts": 1795243866.25,
        "service": "gateway",
        "kind": "log",
        "dropped": 40,
    }


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    read_end, write_end = os.pipe()
    yield read_end, write_end
    for fd in (read_end, write_end):
        try:
            os.close(fd)
        except OSError:
            continue


def read_all(fd: int) -> bytes:
    os.set_blocking(fd, False)
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 1 << 16)
        except BlockingIOError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


class Batches:
    """A log source handing out the given batches, one a call."""

    def __init__(self, *batches: Sequence[LogLine]) -> None:
        self._batches = deque(batches)

    def __call__(self) -> Sequence[LogLine]:
        return self._batches.popleft() if self._batches else ()


def test_records_a_stalled_consumer_never_took_are_counted_exactly(
    pipe: tuple[int, int],
) -> None:
    read_end, write_end = pipe
    logs = Batches(
        [line(seq) for seq in range(1, 5001)],
        [gap_record("svc", 6000, 9.0, 995), *(line(seq) for seq in range(6001, 6100))],
    )
    writer = JsonLinesWriter(write_end, logs)
    event = ServiceEvent(ts=1.0, service="svc", state=ServiceState.RUNNING, pid=7)
    writer.put(RecordKind.STATE, state_line(event), event.ts)
    writer.put(RecordKind.SIGNAL, '{"event":"signal","signal":"SIGUSR1","action":"ignored"}\n')
    writer.poke()
    report = writer.close(0.2)
    got = read_all(read_end)
    whole = got[: got.rfind(b"\n") + 1].splitlines()
    assert 0 < len(whole) < 1 + 5000 + 1 + 99 + 1
    assert report.written == len(whole)
    assert report.written + report.unwritten.total == 1 + 5000 + 1 + 99 + 1
    assert report.unwritten.gap_lines == report.dropped_lines == 995
    assert report.unwritten.signal == 1 and report.unwritten.gap == 1
    assert report.unwritten.state + report.unwritten.log == 5100 - len(whole)
    assert report.cause == "stdout did not take them within 0.2 s"
    assert report.lost


def test_a_closed_stdout_counts_everything_and_says_so(pipe: tuple[int, int]) -> None:
    read_end, write_end = pipe
    os.close(read_end)
    writer = JsonLinesWriter(write_end, Batches([line(seq) for seq in range(1, 11)]))
    report = writer.close(5.0)
    assert (report.written, report.unwritten.log, report.cause) == (0, 10, "stdout was closed")


def test_everything_written_is_no_loss(pipe: tuple[int, int]) -> None:
    read_end, write_end = pipe
    writer = JsonLinesWriter(write_end, Batches([line(seq) for seq in range(1, 101)]))
    report = writer.close(5.0)
    assert len(read_all(read_end).splitlines()) == 100
    assert (report.written, report.unwritten.total, report.lost) == (100, 0, False)


def test_timed_records_go_among_the_lines_by_time(pipe: tuple[int, int]) -> None:
    read_end, write_end = pipe
    lines = [line(seq) for seq in range(1, 11)]
    writer = JsonLinesWriter(write_end, Batches(lines))
    event = ServiceEvent(ts=lines[4].ts + 0.0001, service="svc", state=ServiceState.RUNNING, pid=7)
    writer.put(RecordKind.STATE, state_line(event), event.ts)
    writer.put(RecordKind.SIGNAL, '{"event":"signal","signal":"SIGUSR1","action":"ignored"}\n')
    writer.poke()
    writer.close(5.0)
    events = [json.loads(text)["event"] for text in read_all(read_end).splitlines()]
    assert events == ["log"] * 5 + ["state"] + ["log"] * 5 + ["signal"]
