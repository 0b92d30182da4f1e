"""``palyra-tui host`` and ``palyra-tui down``: run the runtime host, and stop it.

``host`` is what ``palyra-tui`` starts detached when no host runs for the state
root; a service manager can run it directly.  ``down`` stops every service in
reverse order, then the host, and exits 0 once nothing is left.
"""

from __future__ import annotations

import asyncio
import logging
import sys

from palyra_tui.cli.exits import EXIT_NO_HOST, EXIT_OK, say
from palyra_tui.config import Config

DOWN_MARGIN = 30.0
"""Seconds ``down`` waits beyond the services' own stop timeouts."""


def run_host(config: Config, foreground: bool = False) -> int:
    """Serve the runtime of ``config`` until ``down``, SIGTERM or SIGINT; in the
    ``foreground`` of a service manager, tell it when ready and when stopping."""
    from palyra_tui.cli.notify import Notifier
    from palyra_tui.host.main import HostOptions, RuntimeHost

    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    notifier = Notifier.take() if foreground else None
    host = RuntimeHost(config, HostOptions(ignore_hangup=True))

    def ready() -> None:
        assert host.server is not None
        say(f"runtime host ready on {host.server.paths.socket}", sys.stderr)
        if notifier is not None and host.supervisor is not None:
            notifier.ready_once_started(host.supervisor)

    stopping = notifier.stopping if notifier is not None else None
    asyncio.run(host.run(on_ready=ready, on_stopping=stopping))
    say(host.reason or "runtime host stopped", sys.stderr)
    return EXIT_OK


def run_down(config: Config) -> int:
    """Stop the host of ``config``'s state root and everything it runs.

    Imports only the launcher: what the host itself needs would add a tenth of a
    second or more to every ``down``."""
    from palyra_tui.host.launcher import stop_host

    timeout = DOWN_MARGIN + sum(service.stop_timeout for service in config.services)
    stopped = asyncio.run(stop_host(config, timeout))
    if stopped is None:
        say(f"no runtime host is running for {config.state_root}")
        return EXIT_NO_HOST
    say(f"stopped the runtime host (pid {stopped.host_pid}) and its services", sys.stdout)
    return EXIT_OK
