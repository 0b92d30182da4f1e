"""``palyra-tui profile list|use|token``: the catalog's profiles, the active one, tokens.

With a runtime host running, both ask it: it knows the active profile, and a
switch stops its local services (and does not start them again).  With none,
``list`` reads the catalog and the state file as the next start would, and
``use`` writes the state file under the state root's instance lock, so no
runtime starts meanwhile.  A refused switch (a blank or unknown name, a strict
profile without ``--confirm NAME``) is a usage error, exit 2.  ``token`` keeps
a remote profile's admin token in the secret store; it is read from stdin,
never from the command line, and never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from palyra_tui.cli.connect import client_for, read_view
from palyra_tui.cli.exits import EXIT_OK, EXIT_USAGE
from palyra_tui.cli.failures import CommandFailed
from palyra_tui.cli.formats import clean, dump, table
from palyra_tui.config import Config
from palyra_tui.errors import HostNotRunning
from palyra_tui.state.profiles import ProfileInfo, ProfileRefused

MAX_TOKEN_LINE = 8192
"""Characters of stdin read for a token (the store takes at most 4096 bytes)."""


def add_profile_command(commands: Any, config_help: str) -> None:
    """Add ``profile`` and its actions to ``palyra-tui``'s subparsers."""
    profile = commands.add_parser(
        "profile",
        prog="palyra-tui profile",
        help="list the catalog's profiles, switch to another, keep a remote one's token",
        description="The Palyra profiles of the catalog ($PALYRA_CLI_PROFILES_PATH, else "
        "<state_root>/cli/profiles.toml) and the one the runtime serves.",
    )
    actions = profile.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser(
        "list",
        prog="palyra-tui profile list",
        help="list the profiles, the active one marked",
        description="List every profile of the catalog (the built-in 'local' first) with its "
        "label, mode, environment, risk level and whether it is strict; '*' marks the active "
        "one. Without a runtime host, the one the next start would open on.",
    )
    _options(listing, config_help)
    use = actions.add_parser(
        "use",
        prog="palyra-tui profile use",
        help="switch to another profile (the local services stop and stay stopped)",
        description="Make NAME the active profile. The runtime host stops its local services "
        "and does not start them again; drafts, notifications, onboarding and the place on "
        "show become NAME's. A strict profile needs --confirm NAME. Without a runtime host, "
        "the next start opens on NAME. Exits 2 when the switch is refused.",
    )
    use.add_argument("name", metavar="NAME")
    use.add_argument(
        "--confirm",
        default="",
        metavar="NAME",
        help="the profile's name again: a strict profile is switched to only with it",
    )
    _options(use, config_help)
    token = actions.add_parser(
        "token",
        prog="palyra-tui profile token",
        help="keep a remote profile's admin token in the secret store (read from stdin)",
        description="Read the admin token of the remote profile NAME from stdin (typed "
        "without echo on a terminal, else the first line) and keep it in the state root's "
        "secret store, under a key of its own. It never goes to the state file, the command "
        "line or a log. A runtime host takes it up at its next start or switch to NAME; one "
        "that serves NAME now, with palyra-tui profile use NAME.",
    )
    token.add_argument("name", metavar="NAME")
    _options(token, config_help)


def _options(command: argparse.ArgumentParser, config_help: str) -> None:
    command.add_argument("--config", type=Path, default=argparse.SUPPRESS, help=config_help)
    command.add_argument("--json", action="store_true", help="print JSON (errors too, on stderr)")


async def run_profile(config: Config, args: argparse.Namespace) -> int:
    """Run ``profile list`` or ``profile use``."""
    if args.action == "list":
        return await _list(config, as_json=args.json)
    if args.action == "token":
        return await _token(config, args.name, as_json=args.json)
    return await _use(config, args.name, args.confirm, as_json=args.json)


async def _list(config: Config, *, as_json: bool) -> int:
    from palyra_tui.state.profile_book import profiles_at_rest

    try:
        view = (await read_view(config, "profile list")).view
        active, profiles, running = view.profile, view.profiles, True
    except HostNotRunning:
        at_rest = await asyncio.to_thread(profiles_at_rest, config.state_root, config.state_dir)
        active, profiles, running = at_rest.profile, at_rest.profiles, False
    if as_json:
        document = {
            "active": active.name,
            "runtime_running": running,
            "profiles": [_document(p, p.name == active.name) for p in profiles],
        }
        sys.stdout.write(dump(document))
        return EXIT_OK
    rows: list[tuple[str, ...]] = [
        (
            "*" if p.name == active.name else "",
            clean(p.name),
            clean(p.label),
            p.mode.value,
            clean(p.environment),
            p.risk_level.value,
            "strict" if p.strict else "",
        )
        for p in profiles
    ]
    header = ("", "NAME", "LABEL", "MODE", "ENVIRONMENT", "RISK", "")
    lines = table(header, rows)
    if not running:
        lines.append("(no runtime host is running: '*' is the profile the next start opens on)")
    sys.stdout.write("\n".join(lines) + "\n")
    return EXIT_OK


def _document(info: ProfileInfo, active: bool) -> dict[str, object]:
    return {
        "name": info.name,
        "label": info.label,
        "mode": info.mode.value,
        "environment": info.environment,
        "risk_level": info.risk_level.value,
        "color": info.color,
        "strict": info.strict,
        "active": active,
    }


async def _use(config: Config, name: str, confirmation: str, *, as_json: bool) -> int:
    from palyra_tui.host.remote import SocketRuntime
    from palyra_tui.state.profile_book import switch_at_rest

    client = client_for(config, "profile use")
    try:
        try:
            await client.connect()
        except HostNotRunning:
            said = await asyncio.to_thread(
                switch_at_rest, config.state_root, config.state_dir, name, confirmation
            )
        else:
            said = await SocketRuntime(client).switch_profile(name, confirmation)
    except ProfileRefused as refused:
        raise CommandFailed(str(refused), EXIT_USAGE) from None
    finally:
        await client.close()
    if as_json:
        sys.stdout.write(dump({"message": said}))
    else:
        sys.stdout.write(clean(said) + "\n")
    return EXIT_OK


async def _token(config: Config, name: str, *, as_json: bool) -> int:
    from palyra_tui.config.profiles import load_catalog
    from palyra_tui.secrets import SecretStore

    catalog = await asyncio.to_thread(load_catalog, config.state_root)
    profile = catalog.get(name.strip())
    if profile is None:
        raise CommandFailed(f"the profile {clean(name)!r} is not available", EXIT_USAGE)
    if profile.builtin:
        raise CommandFailed(
            f"the built-in profile {profile.name!r} uses the state root's own admin token",
            EXIT_USAGE,
        )
    token = await asyncio.to_thread(_read_token, profile.name)
    store = SecretStore.for_config(config)
    await asyncio.to_thread(store.keep_profile_token, profile.name, token)
    said = (
        f"kept the admin token of the profile {profile.name!r} in the secret store; a runtime "
        f"host serving it now takes it up with palyra-tui profile use {profile.name}"
    )
    sys.stdout.write(dump({"message": said}) if as_json else said + "\n")
    return EXIT_OK


def _read_token(name: str) -> str:
    """The token from stdin: typed without echo on a terminal, else its first line."""
    if sys.stdin is None:
        raise CommandFailed("no admin token: stdin is closed", EXIT_USAGE)
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass(f"admin token of the profile {name}: ").strip()
    line = sys.stdin.readline(MAX_TOKEN_LINE)
    return line.rstrip("\r\n").strip()
