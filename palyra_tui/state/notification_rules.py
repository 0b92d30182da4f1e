"""Which runtime events become notifications: the kept list every client reads.

The rules are the desktop companion's, so an operator switching between the
two is told the same things:

- a connection change once the gateway has been connected ("Gateway reconnected"
  when it is connected again, else "Gateway connection changed"): the way up at
  start is not news;
- the number of approvals waiting rises (a drop is silent, and so is the first count
  after a start: approvals that waited before it were told of before it);
- a run finishes;
- a message is kept as an offline draft, with the reason.

Notifications only inform: nothing is approved or sent because of one.  The
list keeps the newest 40, read or not.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from palyra_tui.state.persisted import Notification, NotificationKind, add_notification
from palyra_tui.state.snapshot import ConnectionState


@dataclass(frozen=True, slots=True)
class Noticed:
    """What the rules remember between two events: the last connection state (None
    until the gateway was first connected) and approval count (None until first seen)."""

    connection: ConnectionState | None = None
    approvals: int | None = None


def connection_changed(
    notes: tuple[Notification, ...], seen: Noticed, state: ConnectionState, at: float
) -> tuple[tuple[Notification, ...], Noticed]:
    """A notification when the connection moved after it was first up."""
    before = seen.connection
    if before is None and state is not ConnectionState.CONNECTED:
        return notes, seen
    seen = Noticed(state, seen.approvals)
    if before is None or before is state:
        return notes, seen
    title = (
        "Gateway reconnected"
        if state is ConnectionState.CONNECTED
        else "Gateway connection changed"
    )
    detail = f"The connection moved from {before.value} to {state.value}."
    return add_notification(notes, NotificationKind.CONNECTION, title, detail, at), seen


def approvals_changed(
    notes: tuple[Notification, ...], seen: Noticed, count: int, at: float, connected: bool = True
) -> tuple[tuple[Notification, ...], Noticed]:
    """A notification when more approvals wait than before; counts taken before the
    gateway first answered are no baseline (the list is not known yet)."""
    if seen.approvals is None and not connected:
        return notes, seen
    rose = seen.approvals is not None and count > seen.approvals
    seen = Noticed(seen.connection, count)
    if not rose:
        return notes, seen
    plural = "approval now needs" if count == 1 else "approvals now need"
    detail = f"{count} {plural} review."
    return add_notification(notes, NotificationKind.APPROVAL, "Approvals waiting", detail, at), seen


def run_finished(
    notes: tuple[Notification, ...], summary: str, at: float
) -> tuple[Notification, ...]:
    """A notification that a run ended, with the runtime's summary of it."""
    return add_notification(notes, NotificationKind.RUN, "Run finished", summary, at)


def drafts_kept(
    notes: tuple[Notification, ...], reasons: Iterable[str], at: float
) -> tuple[Notification, ...]:
    """A notification for each message just kept as an offline draft."""
    for reason in reasons:
        detail = f"The message was kept as an offline draft: {reason}"
        notes = add_notification(
            notes, NotificationKind.DRAFT, "Message kept as a draft", detail, at
        )
    return notes
