"""Parsing the command line so that ``--json`` usage errors are JSON too.

argparse prints its usage and the error on stderr and exits 2.  When the
command line asks for ``--json``, the error becomes ``{"error", "code": 2}``
instead, like every other error of that command.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
from collections.abc import Sequence

EXIT_USAGE = 2


def parse(parser: argparse.ArgumentParser, args: Sequence[str]) -> argparse.Namespace:
    """``parser.parse_args(args)``; with ``--json`` among them, a usage error is JSON."""
    if "--json" not in args:
        return parser.parse_args(args)
    captured = io.StringIO()
    try:
        with contextlib.redirect_stderr(captured):
            return parser.parse_args(args)
    except SystemExit as exited:
        if exited.code in (0, None):
            raise
        lines = [line for line in captured.getvalue().splitlines() if line.strip()]
        message = lines[-1] if lines else "invalid arguments"
        with contextlib.suppress(OSError, ValueError):
            print(json.dumps({"error": message, "code": EXIT_USAGE}), file=sys.stderr, flush=True)
        raise SystemExit(EXIT_USAGE) from None
