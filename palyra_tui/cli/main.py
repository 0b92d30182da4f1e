"""Command-line entry point: argument parsing and error reporting.

No traceback reaches a person: known errors print one sentence and exit with a
code that says what kind of failure it was (the table is in ``cli/exits.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from palyra_tui import __version__
from palyra_tui.cli.exits import EXIT_ERROR, EXIT_OK, report
from palyra_tui.config import load_config
from palyra_tui.errors import PalyraError

CONFIG_HELP = "config file (default: $PALYRA_TUI_CONFIG or $XDG_CONFIG_HOME/palyra/tui.toml)"


def build_parser() -> argparse.ArgumentParser:
    """The ``palyra-tui`` argument parser.

    ``--config`` works before and after the command.  A command's own
    ``--config`` defaults to "not given", so one given before the command is
    not reset by the command's parser.
    """
    parser = argparse.ArgumentParser(
        prog="palyra-tui",
        usage="palyra-tui [-h] [--version] [--config CONFIG] [COMMAND ...]",
        description="Terminal control center for the Palyra agent gateway. "
        "Without a command, palyra-tui opens the control center over the configured services.",
        epilog="Try 'palyra-tui demo' to see the control center without Palyra installed.",
    )
    parser.add_argument("--version", action="version", version=f"palyra-tui {__version__}")
    parser.add_argument("--config", type=Path, help=CONFIG_HELP)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser(
        "demo",
        prog="palyra-tui demo",
        help="open the control center over the reference daemons in a temporary state root",
        description="Start the reference gateway, browserd and node host (not Palyra) in a "
        "temporary state root and open the control center over them.",
    )
    _command_config(
        demo,
        "a config file whose other settings (such as log_lines) the demo uses; "
        "its services and state root are replaced by the demo's",
    )
    supervise = commands.add_parser(
        "supervise",
        prog="palyra-tui supervise",
        help="run the supervisor without a UI, printing JSON lines",
        description="Start the configured services and supervise them in the foreground. "
        "Prints one JSON object per state change; SIGINT or SIGTERM stops them cleanly.",
    )
    _command_config(supervise, CONFIG_HELP)
    supervise.add_argument("--logs", action="store_true", help="also print every log line")
    host = commands.add_parser(
        "host",
        prog="palyra-tui host",
        help="run the runtime host in the foreground (palyra-tui starts one detached)",
        description="Own the services, the gateway link, chat runs, approvals and drafts of "
        "the state root, and serve them on a private local socket to every palyra-tui that "
        "attaches. SIGTERM or SIGINT stops everything; SIGHUP is ignored.",
    )
    _command_config(host, CONFIG_HELP)
    host.add_argument(
        "--foreground",
        action="store_true",
        help="run under a service manager: with $NOTIFY_SOCKET (systemd Type=notify), say "
        "READY=1 once the services have started and STOPPING=1 when they stop",
    )
    down = commands.add_parser(
        "down",
        prog="palyra-tui down",
        help="stop the runtime host and every service it runs",
        description="Stop every service (the gateway last), then the runtime host. Exits 0 "
        "once nothing is left, 4 when no host runs.",
    )
    _command_config(down, CONFIG_HELP)
    from palyra_tui.cli.commands import add_commands

    add_commands(commands, CONFIG_HELP)
    sim = commands.add_parser(
        "sim",
        prog="palyra-tui sim",
        help="run a reference daemon (gateway, browserd or node) for tests and the demo",
        description="Reference daemons that keep palyrad's contract. They are not Palyra.",
    )
    sim.add_argument("daemon", choices=["gateway", "browserd", "node"])
    sim.add_argument("daemon_args", nargs=argparse.REMAINDER, help="the daemon's own flags")
    return parser


def _command_config(command: argparse.ArgumentParser, help_text: str) -> None:
    command.add_argument("--config", type=Path, default=argparse.SUPPRESS, help=help_text)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``palyra-tui``; returns the process exit code."""
    os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")
    from palyra_tui.cli.parsing import parse

    parser = build_parser()
    args = parse(parser, list(sys.argv[1:] if argv is None else argv))
    if args.command is None:
        parser.print_help()
        return EXIT_OK
    if args.command == "sim":
        return _run_sim(args.daemon, args.daemon_args)
    from palyra_tui.cli.commands import NAMES, run_command

    if args.command in NAMES:
        return run_command(args)
    try:
        config = load_config(args.config)
        if args.command == "supervise":
            from palyra_tui.cli.supervise import run_supervise

            return asyncio.run(run_supervise(config, logs=args.logs))
        if args.command in ("host", "down"):
            from palyra_tui.cli.host import run_down, run_host

            if args.command == "host":
                return run_host(config, foreground=args.foreground)
            return run_down(config)
    except (PalyraError, KeyboardInterrupt) as exc:
        return report(exc)
    parser.error(f"unknown command {args.command!r}")
    return EXIT_ERROR


def _run_sim(daemon: str, daemon_args: list[str]) -> int:
    if daemon == "gateway":
        from palyra_tui.sim.gateway import main as gateway_main

        return gateway_main(daemon_args)
    if daemon == "browserd":
        from palyra_tui.sim.browserd import main as browserd_main

        return browserd_main(daemon_args)
    from palyra_tui.sim.node import main as node_main

    return node_main(daemon_args)
