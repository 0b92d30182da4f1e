"""The demo runtime: the reference daemons in a throw-away state root.

``palyra-tui demo`` shows every screen working with nothing but palyra-tui
installed.  The daemons bind free ports (port 0); palyra-tui reads the bound
addresses from their logs, as it would with palyrad.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from palyra_tui.config import Config, parse_config
from palyra_tui.supervisor.binaries import OVERRIDE_ENV


def sim_command(daemon: str, *args: str) -> list[str]:
    """The command line of one reference daemon."""
    return [sys.executable, "-m", "palyra_tui", "sim", daemon, *args]


def demo_config(state_root: Path | None = None, base: Config | None = None) -> Config:
    """A config that runs the reference gateway, browserd and node host.

    browserd's engine is ``simulated``: the reference browserd launches no browser,
    and the demo's checks must not ask for a Chromium it never needs.

    ``base`` (the operator's ``--config``) supplies the settings that are not
    about services or where state lives: the log budgets (``log_lines``,
    ``log_mib``, ``log_total_mib``).
    """
    root = state_root if state_root is not None else Path(tempfile.mkdtemp(prefix="palyra-demo-"))
    return parse_config(demo_document(root, base), None, {})


def demo_document(root: Path, base: Config | None = None) -> dict[str, object]:
    """The demo's config as a TOML document (a table of plain values)."""
    ports = ("--port", "0", "--grpc-port", "0")
    document: dict[str, object] = {
        "state_root": str(root),
        "runtime": {
            "admin_port": 0,
            "grpc_port": 0,
            "quic_port": 0,
            "browserd_port": 0,
            "browserd_grpc_port": 0,
            "browser_engine": "simulated",
        },
        "services": {
            "gateway": {"command": sim_command("gateway", *ports), "health_interval": 0.5},
            "browserd": {"command": sim_command("browserd", *ports), "health_interval": 1.0},
            "node_host": {"command": sim_command("node", "run", "--json")},
        },
    }
    if base is not None:
        document["log_lines"] = base.log_lines
        document["log_mib"] = base.log_mib
        document["log_total_mib"] = base.log_total_mib
    return document


def demo_environ(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for the demo's daemons: no binary overrides leak in."""
    env = dict(os.environ if environ is None else environ)
    for name in OVERRIDE_ENV.values():
        env.pop(name, None)
    return env
