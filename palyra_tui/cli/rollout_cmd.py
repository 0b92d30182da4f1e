"""``palyra-tui rollout``: print the rollout flags, or set some of them.

The flags live in the state file, which the runtime host owns; both forms go
through the host, so every UI attached to it sees a change at once and the
host writes it.  ``rollout set`` checks every ``NAME=VALUE`` before it
connects: an unknown name or a bad value is one sentence (exit 2) and nothing
changes.
"""

from __future__ import annotations

import sys

from palyra_tui.cli.connect import client_for
from palyra_tui.cli.exits import EXIT_OK, EXIT_USAGE
from palyra_tui.cli.failures import CommandFailed
from palyra_tui.cli.formats import dump
from palyra_tui.config import Config
from palyra_tui.host import wire
from palyra_tui.state.persisted import RolloutFlags
from palyra_tui.state.runtime_api import RuntimeView
from palyra_tui.state.settings import BadAssignment, parse_assignments, rollout_items


async def run_rollout(config: Config, assignments: tuple[str, ...] | None, *, as_json: bool) -> int:
    """Print the flags (``assignments`` None), or set them first; the flags as they are
    after the change are printed either way."""
    update = None
    if assignments is not None:
        try:
            update = parse_assignments(assignments)
        except BadAssignment as bad:
            raise CommandFailed(str(bad), EXIT_USAGE) from None
    client = client_for(config, "rollout")
    try:
        await client.connect()
        if update is None:
            flags = (await client.call(wire.VIEW, wire.Empty(), RuntimeView)).rollout
        else:
            flags = await client.call(wire.UPDATE_ROLLOUT, update, RolloutFlags)
    finally:
        await client.close()
    sys.stdout.write(render(flags, as_json=as_json))
    sys.stdout.flush()
    return EXIT_OK


def render(flags: RolloutFlags, *, as_json: bool) -> str:
    """The flags as one JSON object, or one ``name  value`` line each."""
    items = rollout_items(flags)
    if as_json:
        return dump(dict(items))
    width = max(len(name) for name, _ in items)
    lines = [f"{name:<{width}}  {_shown(value)}" for name, value in items]
    return "\n".join(lines) + "\n"


def _shown(value: bool | str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value
