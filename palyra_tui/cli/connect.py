"""How a headless command reaches the runtime host of its state root.

A read takes one call: the handshake says who the host is, one more call
returns the report or the view, and the connection closes.  A command that must
follow what happens next attaches as a UI does (:func:`attached`), so it sees
every change from the moment it attached.

``status`` must start fast, so this module loads the chat and approval models
(with the whole view) only when a command asks for them.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from palyra_tui.config import Config
from palyra_tui.host.client import HostClient
from palyra_tui.host.protocol import ClientInfo, HostInfo
from palyra_tui.host.report import STATUS, StatusReport, StatusRequest

if TYPE_CHECKING:
    from palyra_tui.host.remote import SocketRuntime
    from palyra_tui.state.runtime_api import RuntimeView


@dataclass(frozen=True, slots=True)
class HostStatus:
    """Who the host is, and its status report when it was asked."""

    host: HostInfo
    report: StatusReport


@dataclass(frozen=True, slots=True)
class HostView:
    """Who the host is, and its whole view when it was asked."""

    host: HostInfo
    view: RuntimeView


def client_for(config: Config, name: str) -> HostClient:
    """A client of the host of ``config``'s state root, named ``palyra-tui <name>``."""
    info = ClientInfo.current(f"palyra-tui {name}")
    return HostClient.for_state_root(config.state_root, client=info)


async def read_status(config: Config, name: str) -> HostStatus:
    """The host's status report now; raises HostNotRunning when no host runs."""
    client = client_for(config, name)
    try:
        host = await client.connect()
        report = await client.call(STATUS, StatusRequest(), StatusReport)
    finally:
        await client.close()
    return HostStatus(host, report)


async def read_view(config: Config, name: str) -> HostView:
    """The host's whole view now; raises HostNotRunning when no host runs."""
    from palyra_tui.host import wire
    from palyra_tui.state.runtime_api import RuntimeView

    client = client_for(config, name)
    try:
        host = await client.connect()
        view = await client.call(wire.VIEW, wire.Empty(), RuntimeView)
    finally:
        await client.close()
    return HostView(host, view)


@contextlib.asynccontextmanager
async def attached(config: Config, name: str) -> AsyncIterator[SocketRuntime]:
    """The runtime, followed from now on as a UI follows it; detached on leaving."""
    from palyra_tui.host.remote import SocketRuntime

    runtime = SocketRuntime(client_for(config, name))
    try:
        await runtime.open()
        yield runtime
    finally:
        await runtime.close()
