"""The host builds the ``Status`` report from its view (the client only decodes it)."""

from __future__ import annotations

from dataclasses import replace

from palyra_tui.host.report import (
    ApprovalBrief,
    Connection,
    GatewayReport,
    Overall,
    RunBrief,
    SourceProblem,
    StatusReport,
)
from palyra_tui.models import SupervisorSnapshot
from palyra_tui.state.profiles import not_supervised
from palyra_tui.state.runtime_api import RuntimeView
from palyra_tui.state.snapshot import service_unwell


def build_report(view: RuntimeView, supervised: SupervisorSnapshot) -> StatusReport:
    """What ``palyra-tui status`` prints: the runtime's view, with the supervisor's state
    as it is now (the view takes up to its interval to see a change such as a hold)."""
    snapshot = replace(view.snapshot, supervisor=supervised)
    health = snapshot.gateway_health
    services = supervised.services
    return StatusReport(
        overall=Overall(snapshot.overall.value),
        gateway=GatewayReport(
            connection=Connection(snapshot.connection.value),
            target=snapshot.gateway_target,
            dashboard_url=view.dashboard_url,
            version=health.version if health is not None else None,
            status=health.status if health is not None else None,
            uptime=health.uptime_seconds if health is not None else None,
            errors=tuple(SourceProblem(e.source, e.message) for e in snapshot.errors),
        ),
        services=services,
        unwell=tuple(s.name for s in services if s.enabled and service_unwell(s)),
        approvals=tuple(
            ApprovalBrief(
                approval_id=entry.approval_id,
                tool_name="" if entry.is_pairing else entry.tool_name,
                session_id=entry.session_id,
                risk=entry.risk.value,
                requested_at=entry.requested_at,
                deadline=entry.deadline,
                what=entry.what,
            )
            for entry in view.inbox
        ),
        runs=tuple(RunBrief(r.run_id, r.session_id, r.aborting) for r in view.chat.active),
        drafts=len(view.chat.drafts),
        clients=view.clients,
        profile=view.profile.name,
        not_supervised=not_supervised(view.profile) if view.profile.remote else "",
    )
