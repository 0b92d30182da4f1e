"""The parts of the host protocol that never change shape: names, versions, handshake.

``PROTOCOL_VERSION`` counts incompatible changes of the API the host serves.
Every call carries the client's version in its metadata, and the server
refuses a call from another version, so a client that reconnects to a host
restarted with a newer palyra-tui gets one clear sentence instead of messages
it misreads.  The handshake itself is answered whatever the version, and its
two messages may only gain fields with defaults: they are how each side
learns the other's version.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from palyra_tui import __version__

PROTOCOL_VERSION = 1
SERVICE = "palyra_tui.host.v1.Runtime"
HANDSHAKE = "Handshake"
VERSION_KEY = "palyra-tui-protocol"
ERROR_TYPE_KEY = "palyra-tui-error"


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """Who is attaching: shown by the host, and in its log."""

    name: str
    version: str = __version__
    pid: int = 0

    @classmethod
    def current(cls, name: str = "palyra-tui") -> ClientInfo:
        """This process."""
        return cls(name=name, pid=os.getpid())


@dataclass(frozen=True, slots=True)
class HandshakeRequest:
    """The client's protocol version and who it is."""

    protocol: int
    client: ClientInfo


@dataclass(frozen=True, slots=True)
class HostInfo:
    """The handshake's answer: the host's version, process, state root and start time."""

    protocol: int
    host_pid: int
    state_root: str
    started_at: float
    version: str = ""


def method_path(name: str) -> str:
    """The gRPC path of a method of the runtime service."""
    return f"/{SERVICE}/{name}"


def version_mismatch_sentence(host: int, client: int) -> str:
    """What an operator reads when the two sides speak different versions."""
    return (
        f"the runtime host speaks protocol {host}, this palyra-tui speaks {client}: "
        "restart the host with `palyra-tui down`, then start palyra-tui again"
    )
