"""Command-line entry point: argument parsing and error reporting.

No traceback reaches a person: known errors print one sentence and exit with a
code that says what kind of failure it was.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from palyra_tui import __version__
from palyra_tui.config import load_config
from palyra_tui.errors import ConfigError, InstanceLocked, PalyraError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CONFIG = 2
EXIT_LOCKED = 3


def build_parser() -> argparse.ArgumentParser:
    """The ``palyra-tui`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="palyra-tui",
        description="Terminal control center for the Palyra agent gateway.",
    )
    parser.add_argument("--version", action="version", version=f"palyra-tui {__version__}")
    parser.add_argument(
        "--config",
        type=Path,
        help="config file (default: $PALYRA_TUI_CONFIG or $XDG_CONFIG_HOME/palyra/tui.toml)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    supervise = commands.add_parser(
        "supervise",
        help="run the supervisor without a UI, printing JSON lines",
        description="Start the configured services and supervise them in the foreground. "
        "Prints one JSON object per state change; SIGINT or SIGTERM stops them cleanly.",
    )
    supervise.add_argument("--logs", action="store_true", help="also print every log line")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``palyra-tui``; returns the process exit code."""
    os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_OK
    try:
        config = load_config(args.config)
        if args.command == "supervise":
            from palyra_tui.cli.supervise import run_supervise

            return asyncio.run(run_supervise(config, logs=args.logs))
    except ConfigError as exc:
        print(f"palyra-tui: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except InstanceLocked as exc:
        print(f"palyra-tui: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except PalyraError as exc:
        print(f"palyra-tui: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    parser.error(f"unknown command {args.command!r}")
    return EXIT_ERROR
