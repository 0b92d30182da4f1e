"""When a service that went down is started again.

Pure and clock-free: callers pass the times in, so tests drive it with any
clock they like.  The schedule is the desktop companion's: 1, 2, 4, 8, 16,
then 30 s; a run of at least 60 s, or a clean exit, resets it.  Unlike the
desktop, a service may give up after ``max_restarts`` consecutive failures.
"""

from __future__ import annotations

from dataclasses import dataclass

from palyra_tui.models import ExitInfo, RestartPolicy

BASE_DELAY = 1.0
MAX_DELAY = 30.0
STABLE_UPTIME = 60.0


def backoff_delay(attempt: int) -> float:
    """Seconds to wait before restart number ``attempt + 1`` (attempt counts from 0)."""
    exponent: int = min(max(attempt, 0), 5)
    return min(BASE_DELAY * float(2**exponent), MAX_DELAY)


@dataclass(frozen=True, slots=True)
class RestartDecision:
    """What to do after an exit or a failed spawn.

    ``delay`` is None when the service must not be started again; ``give_up``
    says the reason is ``max_restarts`` rather than the restart policy.
    """

    attempt: int
    delay: float | None
    give_up: bool = False


def after_exit(
    ended: ExitInfo, attempt: int, policy: RestartPolicy, max_restarts: int
) -> RestartDecision:
    """Decide on a restart after the process ended as ``ended`` says.

    ``attempt`` is the number of consecutive failures before this exit.
    """
    if ended.success or ended.uptime >= STABLE_UPTIME:
        attempt = 0
    if policy is RestartPolicy.NEVER or (policy is RestartPolicy.ON_FAILURE and ended.success):
        return RestartDecision(attempt=attempt, delay=None)
    if ended.success:
        return RestartDecision(attempt=0, delay=backoff_delay(0))
    return _next(attempt, max_restarts)


def after_spawn_failure(attempt: int, max_restarts: int) -> RestartDecision:
    """Decide on a retry after the process could not be started at all."""
    return _next(attempt, max_restarts)


def _next(attempt: int, max_restarts: int) -> RestartDecision:
    failures = attempt + 1
    if max_restarts and failures > max_restarts:
        return RestartDecision(attempt=failures, delay=None, give_up=True)
    return RestartDecision(attempt=failures, delay=backoff_delay(attempt))
