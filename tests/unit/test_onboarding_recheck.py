"""Checking onboarding again asks the gateway afresh: a probe that began before the cause
was fixed never answers for the check, and a failure does not outlive its cause."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from palyra_tui.client.errors import AuthRejected
from palyra_tui.models import SupervisorSnapshot
from palyra_tui.models.clock import ManualClock
from palyra_tui.models.preflight import Preflight
from palyra_tui.state.gateway_link import GatewayLink
from palyra_tui.state.kept import KeptState
from palyra_tui.state.onboarding import OnboardingAction, OnboardingStatus, StepKey, StepStatus
from palyra_tui.state.onboarding_driver import OnboardingDriver
from palyra_tui.state.state_file import state_path
from palyra_tui.supervisor import Supervisor
from tests.conftest import eventually, make_config
from tests.snapshots.fixed import NOW, app_snapshot

DASHBOARD = "http://127.0.0.1:7142"


class Console:
    """A gateway's console whose login works once ``accepts``; a login that ``hangs``
    waits until released, answering as the console was when it began."""

    def __init__(self) -> None:
        self.accepts = False
        self.hangs = False
        self.released = asyncio.Event()
        self.logins = 0

    async def check_session(self) -> None:
        self.logins += 1
        accepted = self.accepts
        if self.hangs:
            await self.released.wait()
        if not accepted:
            raise AuthRejected("admin token rejected")

    async def console(self, method: str, path: str, **_: Any) -> dict[str, Any]:
        return {"default_profile_id": "openai-1", "available_profile_ids": ["openai-1"]}


class Link:
    def __init__(self, console: Console) -> None:
        self.console = console

    async def http(self, base_url: str) -> Console:
        return self.console


def driver(tmp_path: Path, console: Console) -> OnboardingDriver:
    config = make_config(tmp_path, {})
    clock = ManualClock(NOW)
    kept = KeptState(state_path(config.state_dir), clock, on_notice=lambda _text: None)

    async def preflight(_services: SupervisorSnapshot, _dashboard: str) -> Preflight:
        return Preflight(())

    return OnboardingDriver(
        cast(Supervisor, SimpleNamespace(config=config)),
        cast(GatewayLink, Link(console)),
        kept,
        clock,
        current=lambda: (app_snapshot(), DASHBOARD),
        publish=lambda _status: None,
        preflight=preflight,
    )


def auth(status: OnboardingStatus | None) -> StepStatus | None:
    return None if status is None else status.step(StepKey.OPERATOR_AUTH).status


async def test_a_check_does_not_wait_for_a_probe_from_before_the_fix(tmp_path: Path) -> None:
    console = Console()
    onboarding = driver(tmp_path, console)
    console.hangs = True
    onboarding.update()  # a probe starts while the token is still refused
    assert await eventually(lambda: console.logins == 1)
    console.accepts = True
    console.hangs = False
    check = asyncio.ensure_future(onboarding.act(OnboardingAction.CHECK, _nothing))
    await asyncio.sleep(0)
    console.released.set()  # the old probe answers now, with the old cause
    status = await asyncio.wait_for(check, 10)
    assert auth(status) is StepStatus.COMPLETE
    await asyncio.sleep(0)
    assert auth(onboarding.status) is StepStatus.COMPLETE, "the old answer came in after"
    await onboarding.close()


async def test_a_failure_is_replaced_once_its_cause_is_fixed(tmp_path: Path) -> None:
    console = Console()
    onboarding = driver(tmp_path, console)
    failed = await onboarding.act(OnboardingAction.CHECK, _nothing)
    assert auth(failed) is not StepStatus.COMPLETE
    assert "admin token rejected" in failed.step(StepKey.OPERATOR_AUTH).detail
    console.accepts = True
    fixed = await onboarding.act(OnboardingAction.CHECK, _nothing)
    assert auth(fixed) is StepStatus.COMPLETE
    assert console.logins == 2
    await onboarding.close()


async def _nothing() -> None:
    return None


async def test_a_check_asked_for_while_one_runs_runs_again_after_it(tmp_path: Path) -> None:
    console = Console()
    onboarding = driver(tmp_path, console)
    console.hangs = True
    first = asyncio.ensure_future(onboarding.check())
    assert await eventually(lambda: console.logins == 1)
    console.accepts = True
    console.hangs = False
    again = asyncio.ensure_future(onboarding.check())
    joined = asyncio.ensure_future(onboarding.check())
    await asyncio.sleep(0)
    console.released.set()
    await asyncio.wait_for(first, 10)
    status = await asyncio.wait_for(again, 10)
    assert auth(status) is StepStatus.COMPLETE
    assert await asyncio.wait_for(joined, 10) == status
    assert console.logins == 2, "the two asks made during the first check share one"
    await onboarding.close()
