"""Reaching a dashboard handoff from the operator's laptop when palyra-tui runs over SSH.

A handoff URL names ``127.0.0.1`` and the gateway's port on this server, so a
browser on the laptop cannot reach it.  An SSH local forward of that port, run
on the laptop, makes the very same URL reach this gateway.  ``SSH_CONNECTION``
(``client-address client-port server-address server-port``) says which address
and port of this server the operator's SSH session came in on.
"""

from __future__ import annotations

import ipaddress
import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_SSH_PORT = 22
UNKNOWN_SERVER = "<server>"
UNKNOWN_USER = "<user>"


@dataclass(frozen=True, slots=True)
class SshSession:
    """The SSH session this program runs in, seen from the server."""

    server: str
    """The server address the session came in on, as ``ssh`` takes it ("" if unknown)."""
    port: int = DEFAULT_SSH_PORT
    user: str = ""
    """The user name on this server ("" if unknown)."""


def ssh_session(environ: Mapping[str, str]) -> SshSession | None:
    """The SSH session of ``environ``, or None when it has no ``SSH_CONNECTION``.

    Blocking: without ``USER`` or ``LOGNAME`` the user name comes from the
    password database, which may be remote (call it in a thread).
    """
    raw = environ.get("SSH_CONNECTION", "").strip()
    if not raw:
        return None
    fields = raw.split()
    server, port = "", DEFAULT_SSH_PORT
    if len(fields) == 4:
        server = _address(fields[2])
        if fields[3].isdigit() and 0 < int(fields[3]) < 65536:
            port = int(fields[3])
    return SshSession(server, port, local_user(environ))


def local_user(environ: Mapping[str, str]) -> str:
    """The login name: ``USER``, ``LOGNAME``, else the password database ("" if none)."""
    for key in ("USER", "LOGNAME"):
        name = environ.get(key, "").strip()
        if name:
            return name if name.isprintable() else ""
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):
        return ""


def tunnel_command(session: SshSession, gateway_port: int) -> str:
    """The ``ssh -L`` line that, run on the laptop, forwards the laptop's
    ``gateway_port`` to this server's ``127.0.0.1:gateway_port``.

    The two ports are the same, so the handoff URL works unchanged in the
    laptop's browser.  A part that is unknown is shown as ``<user>`` or ``<server>``.
    """
    words = ["ssh", "-L", f"{gateway_port}:127.0.0.1:{gateway_port}"]
    if session.port != DEFAULT_SSH_PORT:
        words += ["-p", str(session.port)]
    server = session.server or UNKNOWN_SERVER
    if session.user and session.server:
        words.append(shlex.quote(f"{session.user}@{server}"))
    else:
        words.append(f"{shlex.quote(session.user) if session.user else UNKNOWN_USER}@{server}")
    return " ".join(words)


def _address(text: str) -> str:
    """An IP address as ``ssh`` takes it: IPv6 without brackets or zone, an IPv4-mapped
    IPv6 address as IPv4 ("" when ``text`` is no address)."""
    try:
        parsed = ipaddress.ip_address(text.split("%", 1)[0].strip("[]"))
    except ValueError:
        return ""
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    return str(parsed)
