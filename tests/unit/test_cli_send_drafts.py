"""``palyra-tui send`` and offline drafts: it discards the draft its message made, never one
the operator had of the same text (the runtime keeps one draft per session and text)."""

from __future__ import annotations

from dataclasses import replace

from palyra_tui.cli.chat_cmd import _chat, _Watch
from palyra_tui.state.chat_view import ChatView
from palyra_tui.state.drafts import OfflineDraft

MINE = OfflineDraft("D1", "s1", "hello", "gateway down", 100.0)
OTHER = OfflineDraft("D2", "s2", "hello", "gateway down", 100.0)


def test_a_new_draft_of_our_text_is_ours_to_discard() -> None:
    watch = _Watch(drafts=frozenset({OTHER}), runs=frozenset())
    made = OfflineDraft("D3", "s1", "hello", "the gateway is not running", 200.0)
    _chat(watch, ChatView(drafts=(OTHER, made)), "s1", "hello")
    assert watch.failed and watch.draft == "D3" and watch.reason == "the gateway is not running"


def test_an_existing_draft_updated_by_our_failure_stays() -> None:
    watch = _Watch(drafts=frozenset({MINE, OTHER}), runs=frozenset())
    updated = replace(MINE, reason="still down", created_at=200.0)
    _chat(watch, ChatView(drafts=(OTHER, updated)), "s1", "hello")
    assert watch.failed and watch.draft == "" and watch.reason == "still down"


def test_drafts_that_did_not_change_are_not_a_failure() -> None:
    watch = _Watch(drafts=frozenset({MINE, OTHER}), runs=frozenset())
    _chat(watch, ChatView(drafts=(MINE, OTHER)), "s1", "hello")
    assert not watch.failed and watch.draft == ""
