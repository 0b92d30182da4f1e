"""`up` waits for a gateway the new host has not started yet, not for one stopped on purpose."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from palyra_tui.cli.up import _verdict
from palyra_tui.host.client import HostClient
from palyra_tui.host.protocol import ClientInfo
from palyra_tui.host.remote import SocketRuntime
from palyra_tui.models import ServiceKind, ServiceSnapshot, ServiceState, SupervisorSnapshot
from palyra_tui.state.runtime_api import RuntimeView
from palyra_tui.state.snapshot import AppSnapshot


def runtime_with(gateway: ServiceSnapshot, tmp_path: Path) -> SocketRuntime:
    client = HostClient.for_state_root(tmp_path, client=ClientInfo.current("test"))
    runtime = SocketRuntime(client)
    snapshot = AppSnapshot(supervisor=SupervisorSnapshot(services=(gateway,)))
    runtime._view = RuntimeView(snapshot=snapshot)
    return runtime


def test_a_gateway_the_host_has_not_started_yet_is_waited_for(tmp_path: Path) -> None:
    fresh = ServiceSnapshot(
        name="gateway", kind=ServiceKind.GATEWAY, state=ServiceState.STOPPED, desired=False
    )
    assert _verdict(runtime_with(fresh, tmp_path)) == ""
    stopped = replace(fresh, reason="stopped by operator")
    assert "not started" in (_verdict(runtime_with(stopped, tmp_path)) or "")
    disabled = replace(fresh, enabled=False, reason="disabled in the configuration")
    assert "disabled in the configuration" in (_verdict(runtime_with(disabled, tmp_path)) or "")
