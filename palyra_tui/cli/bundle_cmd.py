"""``palyra-tui bundle``: a support bundle for a bug report, written by the runtime host.

The host owns the logs, the state changes and the chat, so it writes the archive;
the command names where.  A relative PATH is taken from the command's working
directory (the host's is another).  The path goes to stdout alone on its line,
for a script; its size and what to do with it go to stderr.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from palyra_tui.cli.connect import client_for
from palyra_tui.cli.exits import EXIT_CONFLICT, EXIT_OK, say
from palyra_tui.cli.failures import CommandFailed
from palyra_tui.cli.formats import dump
from palyra_tui.config import Config
from palyra_tui.host.remote import SocketRuntime
from palyra_tui.models.bundle import SupportBundle
from palyra_tui.state.runtime_api import BundleExists


def requested_path(path: Path | None) -> str:
    """What the host is asked for: an absolute path, or "" for the default place."""
    if path is None:
        return ""
    return os.path.abspath(path.expanduser())


async def run_bundle(config: Config, path: Path | None, *, as_json: bool) -> int:
    """Ask the host for a bundle and print where it is; exit 6 when PATH exists."""
    client = client_for(config, "bundle")
    try:
        await client.connect()
        bundle = await SocketRuntime(client).support_bundle(requested_path(path))
    except BundleExists as exists:
        raise CommandFailed(str(exists), EXIT_CONFLICT) from None
    finally:
        await client.close()
    sys.stdout.write(render(bundle, as_json=as_json))
    sys.stdout.flush()
    if not as_json:
        say(
            f"a support bundle of {bundle.shown_size} ({len(bundle.members)} files, secrets "
            "redacted); read it before you attach it to a bug report"
        )
    return EXIT_OK


def render(bundle: SupportBundle, *, as_json: bool) -> str:
    """The path alone on its line, or ``{"path", "bytes", "members"}``."""
    if as_json:
        return dump({"path": bundle.path, "bytes": bundle.size, "members": list(bundle.members)})
    return bundle.path + "\n"
