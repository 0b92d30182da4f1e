"""Exit codes, and the one sentence palyra-tui prints when it cannot go on.

A person sees one line on stderr, never a traceback; a script sees the code.
Every command shares the table (docs/cli.md has it with the commands):

0    ok: done, healthy, or a clean stop
1    a failure, or unhealthy: the state root cannot be used (a file, read-only,
     full disk), the tokens cannot be read or kept (secret store), a service did
     not reach its state, the runtime is degraded or down (``status``), a
     preflight check is blocked (``doctor``), or an unexpected error
2    usage or configuration error (the sentence names the file and the key, or
     the argument)
3    another palyra-tui already supervises this state root
4    no runtime host runs for this state root
5    the gateway cannot be reached, did not answer, or refused the call
6    conflict: already decided, already stopped, already running
130  interrupted (Ctrl-C) before start-up finished; ``supervise`` exits with
     128 + the signal number when another stop signal arrives that early
"""

from __future__ import annotations

import contextlib
import sys
from typing import TextIO

from palyra_tui.errors import ConfigError, HostNotRunning, InstanceLocked, PalyraError
from palyra_tui.text import visible

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CONFIG = 2
EXIT_USAGE = 2
EXIT_LOCKED = 3
EXIT_NO_HOST = 4
EXIT_GATEWAY = 5
EXIT_CONFLICT = 6
EXIT_INTERRUPTED = 130
INTERRUPTED = "interrupted; nothing it started is left running"


def say(text: str, stream: TextIO | None = None) -> None:
    """Print ``palyra-tui: <text>`` as one line, control characters made visible."""
    line = " ".join(visible(text).splitlines())
    with contextlib.suppress(OSError, ValueError):
        print(f"palyra-tui: {line}", file=stream or sys.stderr, flush=True)


def report(error: BaseException, stream: TextIO | None = None) -> int:
    """Print one sentence for ``error``; returns the exit code it stands for."""
    if isinstance(error, KeyboardInterrupt):
        say(INTERRUPTED, stream)
    elif isinstance(error, PalyraError):
        say(str(error), stream)
    else:
        say(f"unexpected error ({type(error).__name__}): {error}", stream)
    return code_of(error)


def code_of(error: BaseException) -> int:
    """The exit code of the table above that ``error`` stands for."""
    if isinstance(error, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(error, ConfigError):
        return EXIT_CONFIG
    if isinstance(error, InstanceLocked):
        return EXIT_LOCKED
    if isinstance(error, HostNotRunning):
        return EXIT_NO_HOST
    return EXIT_ERROR
