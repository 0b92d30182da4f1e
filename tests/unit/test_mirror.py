"""A client's copy of transcripts: in step by revision, whatever order changes land in."""

from __future__ import annotations

from palyra_tui.state.chat import AnswerItem, StatusItem, UserItem
from palyra_tui.state.mirror import Step, TranscriptMirror
from palyra_tui.state.runtime_api import AnswerGrew, TranscriptChanged, TranscriptView

S = "session"
ASK = UserItem("what is up?", 0.0)
DONE = StatusItem("run", "run completed")


def answer(text: str) -> AnswerItem:
    return AnswerItem("run", text)


def filled(*items: object, revision: int = 1) -> TranscriptMirror:
    mirror = TranscriptMirror()
    mirror.expect(S)
    assert mirror.fill(S, TranscriptView(revision, tuple(items)))  # type: ignore[arg-type]
    return mirror


def test_changes_in_order_are_applied_and_a_grown_answer_gains_only_its_new_text() -> None:
    mirror = filled(ASK)
    assert mirror.apply(TranscriptChanged(S, 1, (answer("Hel"),), 2, 2)) is Step.APPLIED
    assert mirror.apply(AnswerGrew(S, 1, "lo", False, 3)) is Step.APPLIED
    assert mirror.apply(AnswerGrew(S, 1, " there", True, 4)) is Step.APPLIED
    assert mirror.items(S) == (ASK, AnswerItem("run", "Hello there", final=True))
    assert mirror.revision(S) == 4


def test_a_change_already_held_is_skipped_and_a_missing_one_asks_for_a_fetch() -> None:
    mirror = filled(ASK, answer("Hi"), revision=5)
    assert mirror.apply(AnswerGrew(S, 1, "!", False, 5)) is Step.SKIPPED
    assert mirror.items(S) == (ASK, answer("Hi"))
    assert mirror.apply(AnswerGrew(S, 1, "!", False, 7)) is Step.MISSED
    assert mirror.items(S) == (ASK, answer("Hi")), "nothing is applied over a gap"


def test_changes_that_arrive_during_a_fetch_land_on_top_of_it() -> None:
    mirror = TranscriptMirror()
    mirror.expect(S)
    assert mirror.apply(AnswerGrew(S, 1, "lo", False, 3)) is Step.HELD
    assert mirror.apply(AnswerGrew(S, 1, "!", False, 4)) is Step.HELD
    assert mirror.fill(S, TranscriptView(2, (ASK, answer("Hel"))))
    assert mirror.items(S) == (ASK, answer("Hello!"))
    mirror.expect(S)
    assert mirror.apply(TranscriptChanged(S, 2, (DONE,), 3, 5)) is Step.HELD
    assert mirror.fill(S, TranscriptView(5, (ASK, answer("Hello!"), DONE)))
    assert mirror.items(S) == (ASK, answer("Hello!"), DONE), (
        "a change the fetch holds is not doubled"
    )


def test_an_older_fetch_never_overwrites_a_newer_copy() -> None:
    mirror = filled(ASK, answer("Hello"), revision=3)
    mirror.expect(S)
    assert mirror.fill(S, TranscriptView(2, (ASK, answer("Hel"))))
    assert mirror.items(S) == (ASK, answer("Hello"))


def test_a_fetch_with_a_gap_behind_it_asks_for_another() -> None:
    mirror = TranscriptMirror()
    mirror.expect(S)
    mirror.apply(AnswerGrew(S, 1, "!", False, 9))
    assert not mirror.fill(S, TranscriptView(2, (ASK, answer("Hel"))))


def test_growth_of_something_that_is_not_an_answer_is_a_miss() -> None:
    mirror = filled(ASK)
    assert mirror.apply(AnswerGrew(S, 0, "x", False, 2)) is Step.MISSED
    assert mirror.apply(AnswerGrew(S, 4, "x", False, 2)) is Step.MISSED


def test_changes_of_sessions_not_copied_are_skipped_and_a_failed_fetch_stops_holding() -> None:
    mirror = TranscriptMirror()
    assert mirror.apply(AnswerGrew("other", 0, "x", False, 1)) is Step.SKIPPED
    mirror.expect(S)
    mirror.abandon(S)
    assert mirror.apply(AnswerGrew(S, 0, "x", False, 1)) is Step.SKIPPED
    assert mirror.sessions() == ()
