"""The overall status: down, degraded or healthy, rule by rule."""

from __future__ import annotations

from dataclasses import replace

import pytest

from palyra_tui.models import (
    ExitInfo,
    HealthState,
    HealthStatus,
    ServiceKind,
    ServiceSnapshot,
    ServiceState,
    SupervisorSnapshot,
)
from palyra_tui.models.gateway import GatewayHealth
from palyra_tui.state.snapshot import AppSnapshot, OverallStatus

HEALTH = GatewayHealth("palyrad", "ok", "0.1.0", "x", "release", 1)
CRASH = ExitInfo(code=3, signal=None, at=1.0, uptime=0.5)
CLEAN = ExitInfo(code=0, signal=None, at=1.0, uptime=0.5)


def running(kind: ServiceKind, name: str = "") -> ServiceSnapshot:
    return ServiceSnapshot(
        name=name or kind.value,
        kind=kind,
        state=ServiceState.RUNNING,
        desired=True,
        health=HealthStatus(HealthState.HEALTHY),
    )


GATEWAY = running(ServiceKind.GATEWAY)
BROWSERD = running(ServiceKind.BROWSERD)
NODE = running(ServiceKind.NODE_HOST)
WORKER = running(ServiceKind.CUSTOM, "worker")


def overall(*services: ServiceSnapshot, health: GatewayHealth | None = HEALTH) -> OverallStatus:
    snapshot = AppSnapshot(supervisor=SupervisorSnapshot(services=services), gateway_health=health)
    return snapshot.overall


def test_all_up_and_healthy_is_healthy() -> None:
    assert overall(GATEWAY, BROWSERD, NODE, WORKER) is OverallStatus.HEALTHY


def test_no_gateway_health_is_down() -> None:
    assert overall(GATEWAY, BROWSERD, health=None) is OverallStatus.DOWN


@pytest.mark.parametrize("base", [GATEWAY, BROWSERD, NODE, WORKER], ids=lambda s: s.name)
@pytest.mark.parametrize(
    "changes",
    [
        {"state": ServiceState.BACKOFF, "last_exit": CRASH},
        {"state": ServiceState.FAILED, "last_exit": CRASH},
        {"state": ServiceState.HELD, "last_exit": CRASH},
        {"state": ServiceState.EXITED, "last_exit": CRASH},
        {"health": HealthStatus(HealthState.UNHEALTHY, "HTTP 503")},
    ],
    ids=["backoff", "failed", "held", "exited-with-failure", "unhealthy"],
)
def test_any_enabled_service_unwell_is_degraded(
    base: ServiceSnapshot, changes: dict[str, object]
) -> None:
    others = [s for s in (GATEWAY, BROWSERD, NODE, WORKER) if s is not base]
    sick = replace(base, **changes)  # type: ignore[arg-type]
    assert overall(*others, sick) is OverallStatus.DEGRADED
    assert overall(*others, replace(sick, enabled=False)) is OverallStatus.HEALTHY


def test_a_job_that_exited_cleanly_is_fine() -> None:
    job = replace(WORKER, state=ServiceState.EXITED, last_exit=CLEAN)
    assert overall(GATEWAY, job) is OverallStatus.HEALTHY


def test_a_failed_service_the_operator_stopped_no_longer_counts() -> None:
    failed = replace(WORKER, state=ServiceState.FAILED, last_exit=CRASH)
    assert overall(GATEWAY, failed) is OverallStatus.DEGRADED
    assert overall(GATEWAY, replace(failed, desired=False)) is OverallStatus.HEALTHY


@pytest.mark.parametrize("base", [BROWSERD, NODE], ids=lambda s: s.name)
def test_browserd_and_the_node_host_must_be_up(base: ServiceSnapshot) -> None:
    stopped = replace(base, state=ServiceState.STOPPED, desired=False)
    assert overall(GATEWAY, stopped) is OverallStatus.DEGRADED


def test_a_stopped_custom_service_is_not_a_problem() -> None:
    stopped = replace(WORKER, state=ServiceState.STOPPED, desired=False)
    assert overall(GATEWAY, stopped) is OverallStatus.HEALTHY
