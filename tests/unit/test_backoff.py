"""The restart schedule: 1, 2, 4, 8, 16, then 30 s; resets; policies; giving up."""

from __future__ import annotations

import pytest

from palyra_tui.models import ExitInfo, RestartPolicy
from palyra_tui.supervisor.backoff import after_exit, after_spawn_failure, backoff_delay


def crash(uptime: float = 1.0, code: int | None = 1, sig: int | None = None) -> ExitInfo:
    return ExitInfo(code=code, signal=sig, at=0.0, uptime=uptime)


@pytest.mark.parametrize(
    ("attempt", "delay"),
    [(0, 1.0), (1, 2.0), (2, 4.0), (3, 8.0), (4, 16.0), (5, 30.0), (9, 30.0), (500, 30.0)],
)
def test_delays(attempt: int, delay: float) -> None:
    assert backoff_delay(attempt) == delay


def test_consecutive_crashes_walk_the_schedule() -> None:
    attempt = 0
    delays = []
    for _ in range(7):
        decision = after_exit(crash(), attempt, RestartPolicy.ALWAYS, 0)
        assert decision.delay is not None
        delays.append(decision.delay)
        attempt = decision.attempt
    assert delays == [1, 2, 4, 8, 16, 30, 30]


def test_sixty_seconds_of_uptime_resets_the_schedule() -> None:
    assert after_exit(crash(uptime=59.9), 4, RestartPolicy.ALWAYS, 0).delay == 16.0
    decision = after_exit(crash(uptime=60.0), 4, RestartPolicy.ALWAYS, 0)
    assert decision.delay == 1.0
    assert decision.attempt == 1


def test_clean_exit_under_always_restarts_after_one_second() -> None:
    decision = after_exit(crash(code=0), 3, RestartPolicy.ALWAYS, 0)
    assert (decision.delay, decision.attempt) == (1.0, 0)


def test_policies() -> None:
    assert after_exit(crash(code=0), 0, RestartPolicy.ON_FAILURE, 0).delay is None
    assert after_exit(crash(code=2), 0, RestartPolicy.ON_FAILURE, 0).delay == 1.0
    assert after_exit(crash(code=None, sig=9), 0, RestartPolicy.ON_FAILURE, 0).delay == 1.0
    never = after_exit(crash(code=2), 0, RestartPolicy.NEVER, 0)
    assert never.delay is None and not never.give_up


def test_max_restarts_gives_up_after_that_many_failed_restarts() -> None:
    attempt = 0
    outcomes = []
    for _ in range(4):
        decision = after_exit(crash(), attempt, RestartPolicy.ALWAYS, 3)
        outcomes.append(decision.give_up)
        attempt = decision.attempt
    assert outcomes == [False, False, False, True]
    assert attempt == 4


def test_spawn_failures_back_off_and_give_up_too() -> None:
    assert after_spawn_failure(0, 0).delay == 1.0
    assert after_spawn_failure(5, 0).delay == 30.0
    assert after_spawn_failure(1, 1).give_up
