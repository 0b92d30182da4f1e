"""``palyra-tui sim node``: behaves like ``palyra node run --json``.

Prints one pretty-printed JSON document (``{"action": "run", …}``), then stays
in the foreground sending nothing more to stdout; SIGINT ends it with exit 0.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from collections.abc import Mapping, Sequence

from palyra_tui.models.ids import new_ulid


def main(argv: Sequence[str], environ: Mapping[str, str] | None = None) -> int:
    """Announce the node and wait for SIGINT."""
    env = os.environ if environ is None else environ
    parse = argparse.ArgumentParser(prog="palyra-tui sim node")
    parse.add_argument("action", nargs="?", default="run", choices=["run"])
    parse.add_argument("--json", action="store_true")
    parse.add_argument("--grpc-url")
    parse.add_argument("--device-id")
    parse.add_argument("--poll-interval-ms", type=int, default=1000)
    args = parse.parse_args(argv)
    stopped = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    grpc_port = env.get("PALYRA_GATEWAY_GRPC_PORT", "7443")
    grpc_url = args.grpc_url or f"https://127.0.0.1:{int(grpc_port or 7443) + 1}"
    device_id = args.device_id or new_ulid()
    poll = max(100, args.poll_interval_ms)
    if args.json:
        payload = {
            "action": "run",
            "device_id": device_id,
            "grpc_url": grpc_url,
            "poll_interval_ms": poll,
            "paired": True,
            "capability_count": 5,
        }
        print(json.dumps(payload, indent=2), flush=True)
    else:
        print(
            f"node.run device_id={device_id} grpc_url={grpc_url} poll_interval_ms={poll} "
            "paired=true capabilities=5",
            flush=True,
        )
    stopped.wait()
    sys.stdout.flush()
    return 0
