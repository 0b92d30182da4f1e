"""Telling a service manager how the runtime host is doing: the ``sd_notify`` protocol.

Under systemd (``Type=notify``), ``$NOTIFY_SOCKET`` names a datagram socket:
a path, or an abstract name written with a leading ``@``.  The host sends
``READY=1`` once the enabled services have started (each runs, or is down with
its reason) and ``STOPPING=1`` when it begins to stop them.  Only the standard
library is needed.  The variable is taken out of the environment first, so the
supervised services do not inherit it and speak to systemd in the host's name.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import MutableMapping

from palyra_tui.host.settle import until_started
from palyra_tui.supervisor.api import SupervisorApi

log = logging.getLogger(__name__)

VARIABLE = "NOTIFY_SOCKET"


class Notifier:
    """Sends state lines to the service manager's socket, when there is one."""

    def __init__(self, address: str) -> None:
        self.address = address
        self._ready: asyncio.Task[None] | None = None

    @classmethod
    def take(cls, environ: MutableMapping[str, str] | None = None) -> Notifier | None:
        """The notifier of this process's service manager (removing ``$NOTIFY_SOCKET``
        from ``environ``), or None when none listens."""
        env = os.environ if environ is None else environ
        address = env.pop(VARIABLE, "")
        if not address.startswith(("/", "@")):
            return None
        return cls(address)

    def send(self, state: str) -> bool:
        """Send one datagram of ``KEY=VALUE`` lines; False when it could not be sent."""
        target = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.connect(target)
                sock.sendall(state.encode())
        except OSError as error:
            log.warning("could not tell the service manager %s: %s", state.split("=")[0], error)
            return False
        return True

    def ready_once_started(self, supervisor: SupervisorApi) -> None:
        """Send ``READY=1`` once no service is starting any more (on the running loop)."""

        async def ready() -> None:
            await until_started(supervisor)
            self.send("READY=1\nSTATUS=serving the runtime")

        self._ready = asyncio.get_running_loop().create_task(ready())

    def stopping(self) -> None:
        """Send ``STOPPING=1``: the host stops every service now."""
        ready, self._ready = self._ready, None
        if ready is not None and not ready.done():
            ready.cancel()
        with contextlib.suppress(Exception):
            self.send("STOPPING=1\nSTATUS=stopping the services")
