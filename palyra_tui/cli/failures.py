"""How a headless command fails: one exit code from the shared table, one sentence.

A person reads one line on stderr; with ``--json`` a script reads one JSON
object there instead, ``{"error": <sentence>, "code": <exit code>}``.  Never a
traceback: ``python -X dev -m palyra_tui …`` shows one for an unexpected error.
"""

from __future__ import annotations

import contextlib
import json
import sys
from typing import TextIO

from palyra_tui.cli.exits import EXIT_CONFLICT, EXIT_ERROR, EXIT_GATEWAY, code_of, say
from palyra_tui.errors import PalyraError
from palyra_tui.text import visible


class CommandFailed(PalyraError):
    """A command could not do what was asked; ``code`` is its exit code."""

    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.code = code


def exit_code(error: BaseException) -> int:
    """The exit code ``error`` stands for (the table in ``cli/exits.py``)."""
    if isinstance(error, CommandFailed):
        return error.code
    # Loaded here, not at the top: ``status`` must start without the chat models.
    from palyra_tui.client.errors import ClientError
    from palyra_tui.state.runtime_api import AlreadyDecided

    if isinstance(error, AlreadyDecided):
        return EXIT_CONFLICT
    if isinstance(error, ClientError):
        # The gateway did not answer, or could not do it; through the host, which kind
        # of gateway error it was does not survive (its sentence does).
        return EXIT_GATEWAY
    return code_of(error)


def expected(error: BaseException) -> bool:
    """True for an error that says what went wrong (anything else is a bug)."""
    from palyra_tui.state.runtime_api import DecisionError

    return isinstance(error, PalyraError | DecisionError)


def sentence(error: BaseException) -> str:
    """What a person reads for ``error``."""
    if isinstance(error, KeyboardInterrupt):
        return "interrupted"
    if expected(error):
        return str(error)
    return f"unexpected error ({type(error).__name__}): {error}"


def fail(error: BaseException, *, as_json: bool, stream: TextIO | None = None) -> int:
    """Tell of ``error`` on stderr; returns its exit code."""
    code = exit_code(error)
    complain(sentence(error), code, as_json=as_json, stream=stream)
    return code


def complain(text: str, code: int, *, as_json: bool, stream: TextIO | None = None) -> None:
    """One sentence on stderr, or ``{"error", "code"}`` for ``--json``."""
    out = stream or sys.stderr
    if not as_json:
        say(text, out)
        return
    line = " ".join(visible(text).splitlines())
    with contextlib.suppress(OSError, ValueError):
        print(json.dumps({"error": line, "code": code}), file=out, flush=True)
