"""Run the real supervisor over services that flood wide lines; print one JSON object.

Run as ``python -m tests.bench.log_flood SERVICES LINES WIDTH LOG_MIB LOG_TOTAL_MIB`` from
the repository root, in a process of its own so that its peak resident memory is the
supervisor's alone.  While the services write, the store's accounted bytes are sampled;
the result holds the peak of both.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import tempfile
import time

from palyra_tui.config import parse_config
from palyra_tui.supervisor import Supervisor
from palyra_tui.supervisor.logbuffer import MIB
from tests.conftest import child


def peak_rss() -> int:
    """Peak resident memory of this process so far, in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main(services: int, lines: int, width: int, log_mib: int, log_total_mib: int) -> None:
    names = [f"flood{index}" for index in range(services)]
    with tempfile.TemporaryDirectory(prefix="palyra-bench-") as root:
        table: dict[str, object] = {"gateway": {"enabled": False}, "browserd": {"enabled": False}}
        for name in names:
            table[name] = {"command": child("flood-wide", str(lines), str(width))}
        document = {
            "state_root": root,
            "log_mib": log_mib,
            "log_total_mib": log_total_mib,
            "services": table,
        }
        config = parse_config(document, None, {})
        baseline = peak_rss()
        supervisor = Supervisor(config).open()
        started = time.monotonic()
        peak_held = 0
        try:
            asyncio.run(supervisor.start_all())
            deadline = started + 600
            while time.monotonic() < deadline:
                peak_held = max(peak_held, supervisor.store.bytes_held())
                if all(
                    any(line.text == "done" for line in supervisor.tail(name, 1)) for name in names
                ):
                    break
                time.sleep(0.02)
            elapsed = time.monotonic() - started
            counters = [supervisor.store.counters(name) for name in names]
            held = supervisor.store.bytes_held()
        finally:
            supervisor.close()
    print(
        json.dumps(
            {
                "services": services,
                "line_bytes": width,
                "lines_per_service": lines,
                "seconds": round(elapsed, 1),
                "read_mib": round(sum(c.bytes_read for c in counters) / MIB, 1),
                "retained_lines": sum(c.retained for c in counters),
                "budget_mib": log_total_mib,
                "store_mib_peak": round(max(peak_held, held) / MIB, 1),
                "rss_mib_before": round(baseline / MIB, 1),
                "rss_mib_peak": round(peak_rss() / MIB, 1),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:6]))
