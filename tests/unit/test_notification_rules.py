"""Which runtime events become notifications, and which do not."""

from __future__ import annotations

from palyra_tui.state import notification_rules as rules
from palyra_tui.state.persisted import NotificationKind
from palyra_tui.state.snapshot import ConnectionState

NOW = 1_700_000_000.0


def test_the_way_up_is_not_news_and_a_change_after_it_is() -> None:
    seen = rules.Noticed()
    for state in (ConnectionState.OFFLINE, ConnectionState.RECONNECTING, ConnectionState.CONNECTED):
        notes, seen = rules.connection_changed((), seen, state, NOW)
        assert notes == ()
    notes, seen = rules.connection_changed(notes, seen, ConnectionState.RECONNECTING, NOW)
    assert notes[-1].title == "Gateway connection changed"
    assert notes[-1].detail == "The connection moved from connected to reconnecting."
    notes, seen = rules.connection_changed(notes, seen, ConnectionState.CONNECTED, NOW)
    assert notes[-1].kind is NotificationKind.CONNECTION
    assert notes[-1].title == "Gateway reconnected" and len(notes) == 2
    notes, _ = rules.connection_changed(notes, seen, ConnectionState.CONNECTED, NOW)
    assert len(notes) == 2


def test_only_a_rise_in_waiting_approvals_is_news() -> None:
    notes, seen = rules.approvals_changed((), rules.Noticed(), 0, NOW, connected=False)
    assert seen.approvals is None, "no baseline before the gateway answered"
    notes, seen = rules.approvals_changed((), seen, 2, NOW)
    assert notes == (), "approvals waiting at start were told of before it"
    notes, seen = rules.approvals_changed(notes, seen, 0, NOW)
    notes, seen = rules.approvals_changed(notes, seen, 1, NOW)
    assert notes[-1].detail == "1 approval now needs review."
    notes, seen = rules.approvals_changed(notes, seen, 0, NOW)
    notes, seen = rules.approvals_changed(notes, seen, 0, NOW)
    assert len(notes) == 1
    notes, seen = rules.approvals_changed(notes, seen, 3, NOW)
    assert notes[-1].detail == "3 approvals now need review." and len(notes) == 2


def test_runs_and_drafts_are_news_and_the_newest_40_are_kept() -> None:
    notes = rules.drafts_kept((), ["the gateway is not running"], NOW)
    assert notes[-1].kind is NotificationKind.DRAFT
    for index in range(45):
        notes = rules.run_finished(notes, f"run {index} completed", NOW)
    assert len(notes) == 40 and notes[-1].detail == "run 44 completed"
    assert all(note.kind is NotificationKind.RUN for note in notes)
