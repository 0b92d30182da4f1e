"""``palyra-tui dashboard``: a one-time link that opens the web dashboard, signed in.

The link goes to stdout and nowhere else (a script can hand it to a browser);
what a person needs besides it goes to stderr: how long it works, and, in an
SSH session, the ``ssh -L`` line that makes it reach the gateway from the
laptop.  The link works once, for 60 seconds, in a browser that reaches the
gateway's ``127.0.0.1``.
"""

from __future__ import annotations

import asyncio
import math
import os
import sys
from collections.abc import Mapping
from urllib.parse import urlsplit

from palyra_tui.cli.connect import client_for
from palyra_tui.cli.exits import EXIT_OK, EXIT_USAGE, say
from palyra_tui.cli.failures import CommandFailed
from palyra_tui.cli.formats import dump, seconds
from palyra_tui.config import Config
from palyra_tui.host.remote import SocketRuntime
from palyra_tui.models.clock import Clock, SystemClock
from palyra_tui.models.handoff import HandoffScope, check_openable
from palyra_tui.state.ssh_tunnel import ssh_session, tunnel_command


def scope_of(section: str, session: str, approval: str, run: str) -> HandoffScope:
    """The scope the options name; CommandFailed (exit 2) when one it needs is missing."""
    if section == "chat":
        if not session:
            raise CommandFailed("--scope chat needs --session ID", EXIT_USAGE)
        return HandoffScope.chat(session)
    if section == "run":
        if not (session and run):
            raise CommandFailed("--scope run needs --session ID and --run ID", EXIT_USAGE)
        return HandoffScope.run(session, run)
    if section == "approvals":
        return HandoffScope.approval(approval) if approval else HandoffScope.approvals()
    return HandoffScope.overview()


async def run_dashboard(
    config: Config,
    scope: HandoffScope,
    *,
    as_json: bool,
    environ: Mapping[str, str] | None = None,
    clock: Clock | None = None,
) -> int:
    """Ask the host for a handoff and print it."""
    client = client_for(config, "dashboard")
    try:
        await client.connect()
        handoff = await SocketRuntime(client).dashboard_handoff(scope)
    finally:
        await client.close()
    url = check_openable(handoff.url)
    left = math.ceil(handoff.remaining((clock or SystemClock()).time()))
    session = await asyncio.to_thread(ssh_session, os.environ if environ is None else environ)
    port = urlsplit(url).port
    tunnel = None
    if handoff.one_time and session is not None and port:
        tunnel = tunnel_command(session, port)
    if as_json:
        sys.stdout.write(
            dump(
                {
                    "url": url,
                    "expires_at": seconds(handoff.expires_at) if handoff.one_time else None,
                    "expires_in": left if handoff.one_time else None,
                    "redirect_path": handoff.redirect_path,
                    "scope": scope.section.value,
                    "tunnel": tunnel,
                }
            )
        )
        sys.stdout.flush()
        return EXIT_OK
    sys.stdout.write(url + "\n")
    sys.stdout.flush()
    if not handoff.one_time:
        say("the remote profile's dashboard: no sign-in token, it asks you to sign in")
        return EXIT_OK
    say(f"the link works once, within {left} s, in a browser that reaches this gateway")
    if tunnel is not None:
        say(f"over SSH: run on your laptop `{tunnel}`, then open the link there")
    return EXIT_OK
