"""The JSON lines ``palyra-tui supervise`` prints, one object per line.

State, signal and gap records are rare and go through :func:`json.dumps`.  Log
lines can arrive at hundreds of thousands a second, so they are formatted by
hand with the C string encoder, at half the cost; they parse to what
``json.dumps`` gives, and their ``ts`` always has three decimals.  Every line is
ASCII (``\\uXXXX`` escapes), so a record's length in characters is its length
in bytes.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable
from json.encoder import encode_basestring_ascii
from typing import Any

from palyra_tui.models import LogLevel, LogLine, LogStream, ServiceEvent, ServiceSnapshot


class RecordKind(enum.Enum):
    """What a record reports; a gap record names the kind of what it stands for."""

    STATE = "state"
    LOG = "log"
    SIGNAL = "signal"
    GAP = "gap"


def _dump(record: dict[str, Any]) -> str:
    return json.dumps(record, separators=(",", ":")) + "\n"


def state_line(event: ServiceEvent) -> str:
    """The record of a state change."""
    record: dict[str, Any] = {
        "event": "state",
        "ts": round(event.ts, 3),
        "service": event.service,
        "state": event.state.value,
        "pid": event.pid,
    }
    if event.reason:
        record["reason"] = event.reason
    if event.exit is not None:
        record["exit_code"] = event.exit.code
        record["signal"] = event.exit.signal_name
    if event.attempt:
        record["attempt"] = event.attempt
    if event.next_attempt_at is not None:
        record["next_attempt_at"] = round(event.next_attempt_at, 3)
    return _dump(record)


def initial_line(service: ServiceSnapshot, ts: float) -> str:
    """The record printed at start-up for a service that will not start."""
    return state_line(
        ServiceEvent(
            ts=ts, service=service.name, state=service.state, pid=service.pid, reason=service.reason
        )
    )


def signal_line(name: str) -> str:
    """The record of a signal that was noted and ignored."""
    return _dump({"event": "signal", "signal": name, "action": "ignored"})


def gap_line(service: str, kind: RecordKind, dropped: int, ts: float) -> str:
    """The record standing for ``dropped`` records of ``kind`` about ``service``."""
    return _dump(
        {
            "event": "gap",
            "ts": round(ts, 3),
            "service": service,
            "kind": kind.value,
            "dropped": dropped,
        }
    )


_SERVICES: dict[str, str] = {}
_STREAMS = {stream: f'"stream":"{stream.value}","line":' for stream in LogStream}
_LEVELS = {level: f',"level":"{level.name}"' for level in LogLevel}


def log_lines(lines: Iterable[LogLine]) -> list[str]:
    """The records of a batch of log lines; a line standing for lost ones becomes a gap."""
    services = _SERVICES
    streams = _STREAMS
    encode = encode_basestring_ascii
    out: list[str] = []
    append = out.append
    for line in lines:
        if line.dropped:
            append(gap_line(line.service, RecordKind.LOG, line.dropped, line.ts))
            continue
        service = services.get(line.service)
        if service is None:
            service = services.setdefault(line.service, f',"service":{encode(line.service)},')
        message = encode(line.text if line.fields else line.message)
        text = f'{{"event":"log","ts":{line.ts:.3f}{service}{streams[line.stream]}{message}'
        if line.level is not None:
            text += _LEVELS[line.level]
        if line.target:
            text += f',"target":{encode(line.target)}'
        if line.truncated:
            text += ',"truncated":true'
        append(text + "}\n")
    return out
