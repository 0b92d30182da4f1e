"""The command palette: the actions of the pane it was opened from, by name and key."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.app import SystemCommand
from textual.screen import Screen

from palyra_tui.ui.screens.base import key_label

if TYPE_CHECKING:
    from palyra_tui.ui.app import PalyraApp


def palette_commands(
    app: PalyraApp, screen: Screen[Any], textual_commands: Iterable[SystemCommand]
) -> Iterator[SystemCommand]:
    """The pane's own commands, then every enabled, described binding of the screen, the
    app and the pane on show, each once; then Textual's own commands but its Quit, which
    exits at once (ours asks first and stops the services this program started)."""
    titles: set[str] = set()
    covered: set[str] = set()
    pane = app.pane
    if pane is not None and screen is app.main:
        for own in pane.palette_commands():
            titles.add(own.title)
            covered.add(own.covers)
            yield SystemCommand(own.title, own.help, partial(app.run_chosen, own.action, pane))
    owners = (screen, app, pane)
    for active in screen.active_bindings.values():
        binding = active.binding
        if (
            active.node not in owners
            or not binding.description
            or not active.enabled
            or binding.action == "command_palette"
            or binding.description in titles
            or (active.node is pane and binding.action in covered)
        ):
            continue
        titles.add(binding.description)
        yield SystemCommand(
            binding.description,
            f"key {key_label(binding.key)}",
            partial(app.run_chosen, binding.action, active.node),
        )
    for command in textual_commands:
        if command.title not in titles and command.title != "Quit":
            yield command
