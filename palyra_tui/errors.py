"""Errors that cross layer boundaries, each with a sentence an operator can act on.

PalyraError
├── ConfigError          a config file or value is wrong (names the file and the key)
├── BinaryNotFound       a daemon binary could not be resolved
├── InstanceLocked       another supervisor owns the state root
├── StateRootUnusable    the state root is a file, not writable, or its disk is full
├── SecretStoreError     the tokens cannot be read or kept (keyring, secret file)
├── SupervisorError      an operation on the supervisor failed (unknown service, stopped)
├── CodecError           a message does not match the type it should decode to
└── HostError            the runtime host's socket cannot be served or used
    ├── HostNotRunning         nothing listens on the host's socket
    │   └── HostConnectFailed  the connect failed otherwise (a full backlog): retried once
    ├── HostAlreadyRunning     a live host already serves the socket (a new one refuses)
    ├── HostUnsafeDirectory    the socket's directory is not private to this user
    ├── HostPathTooLong        no socket path fits the 107 bytes a Unix socket allows
    ├── HostPermissionDenied   the socket belongs to, or refuses, this user
    ├── HostTimeout            the host did not answer within the call's deadline
    ├── HostVersionMismatch    the host speaks another protocol version
    ├── HostDisconnected       the host went away during a call or stream
    ├── HostProtocolError      a message the other side cannot read, or an unknown method
    └── HostRemoteError        the host's handler failed; the message is its sentence
"""

from __future__ import annotations


class PalyraError(Exception):
    """Base of every error palyra-tui reports to a person."""


class ConfigError(PalyraError):
    """The configuration cannot be used; the message names the file and the key."""


class BinaryNotFound(PalyraError):
    """A service binary could not be located."""


class InstanceLocked(PalyraError):
    """Another palyra-tui supervisor already runs for the same state root."""


class StateRootUnusable(PalyraError):
    """The state root cannot hold palyra-tui's directory (a file, read-only, full)."""


class SecretStoreError(PalyraError):
    """The admin and browser tokens cannot be read or kept: the keyring does not answer,
    or the secret file is not private or not readable."""


class SupervisorError(PalyraError):
    """An operation asked of the supervisor cannot be carried out."""


class CodecError(PalyraError):
    """Bytes that do not decode to the expected type; names the field path that failed."""

    def __init__(self, message: str, *, path: str = "", reason: str = "") -> None:
        super().__init__(message)
        self.path = path
        self.reason = reason


class HostError(PalyraError):
    """The runtime host's socket cannot be served or used."""


class HostNotRunning(HostError):
    """No runtime host listens for this state root."""


class HostConnectFailed(HostNotRunning):
    """Connecting to the host's socket failed for a reason other than nobody listening
    (a full backlog, say): worth a second try while the socket is there."""


class HostAlreadyRunning(HostError):
    """A live runtime host already serves this socket; a second one refuses to start."""


class HostUnsafeDirectory(HostError):
    """The socket's directory belongs to another user or is open to others."""


class HostPathTooLong(HostError):
    """No candidate socket path fits in ``sockaddr_un.sun_path``."""


class HostPermissionDenied(HostError):
    """The socket belongs to another user, or the system refused to connect to it."""


class HostTimeout(HostError):
    """The runtime host did not answer within the call's deadline."""


class HostVersionMismatch(HostError):
    """The runtime host and this palyra-tui speak different protocol versions."""

    def __init__(self, message: str, *, host_version: int, client_version: int) -> None:
        super().__init__(message)
        self.host_version = host_version
        self.client_version = client_version


class HostDisconnected(HostError):
    """The runtime host closed the connection (it stopped or restarted) during a call."""


class HostProtocolError(HostError):
    """A message one side cannot read, or a method the host does not know."""


class HostRemoteError(HostError):
    """The host's handler failed; the message is the sentence it raised."""

    def __init__(self, message: str, *, remote_type: str = "") -> None:
        super().__init__(message)
        self.remote_type = remote_type
