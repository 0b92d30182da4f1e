"""JSON log lines on stdout in palyrad's ``tracing-subscriber`` JSON layout."""

from __future__ import annotations

import json
import sys
import threading
import time
from datetime import UTC, datetime
from typing import TextIO

_LOCK = threading.Lock()


class JsonLog:
    """Writes ``{"timestamp", "level", "fields": {"message", …}, "target"}`` lines."""

    def __init__(self, target: str, out: TextIO | None = None) -> None:
        self.target = target
        self._out = out if out is not None else sys.stdout

    def info(self, message: str, **fields: object) -> None:
        """An INFO line."""
        self.emit("INFO", message, **fields)

    def warn(self, message: str, **fields: object) -> None:
        """A WARN line."""
        self.emit("WARN", message, **fields)

    def emit(self, level: str, message: str, **fields: object) -> None:
        """Write one line and flush it."""
        record = {
            "timestamp": datetime.now(UTC)
            .isoformat(timespec="microseconds")
            .replace("+00:00", "Z"),
            "level": level,
            "fields": {"message": message, **fields},
            "target": self.target,
        }
        line = json.dumps(record, separators=(",", ":")) + "\n"
        with _LOCK:
            try:
                self._out.write(line)
                self._out.flush()
            except (BrokenPipeError, ValueError):
                pass


def now_ms() -> int:
    """Unix time in milliseconds."""
    return int(time.time() * 1000)


def fatal(message: str) -> int:
    """Report a startup failure the way palyrad does: ``Error: …`` on stderr, exit code 1."""
    sys.stderr.write(f"Error: {message}\n")
    sys.stderr.flush()
    return 1
