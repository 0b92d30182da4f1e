"""The state layer's rules: overall status, connection state, drafts, inbox merge."""

from __future__ import annotations

from dataclasses import replace

from palyra_tui.models import (
    HealthState,
    HealthStatus,
    ServiceKind,
    ServiceSnapshot,
    ServiceState,
    SupervisorSnapshot,
)
from palyra_tui.models.gateway import (
    Approval,
    ApprovalDecision,
    ApprovalPrompt,
    ApprovalRequestEvent,
    GatewayHealth,
    RiskLevel,
)
from palyra_tui.state.drafts import MAX_DRAFTS, Drafts
from palyra_tui.state.inbox import (
    Route,
    SummaryParts,
    from_record,
    from_stream,
    merge,
    parse_summary,
)
from palyra_tui.state.snapshot import (
    AppSnapshot,
    ConnectionState,
    OverallStatus,
    connection_state,
)

HEALTH = GatewayHealth("palyrad", "ok", "0.1.0", "x", "release", 1)


def service(kind: ServiceKind, state: ServiceState, health: HealthState) -> ServiceSnapshot:
    return ServiceSnapshot(
        name=kind.value, kind=kind, state=state, desired=True, health=HealthStatus(health)
    )


def snapshot(*services: ServiceSnapshot, health: GatewayHealth | None = HEALTH) -> AppSnapshot:
    return AppSnapshot(supervisor=SupervisorSnapshot(services=services), gateway_health=health)


def test_overall_status_rules() -> None:
    gateway = service(ServiceKind.GATEWAY, ServiceState.RUNNING, HealthState.HEALTHY)
    browser = service(ServiceKind.BROWSERD, ServiceState.RUNNING, HealthState.HEALTHY)
    node = service(ServiceKind.NODE_HOST, ServiceState.STARTING, HealthState.NOT_CHECKED)
    assert snapshot(gateway, browser, node).overall is OverallStatus.HEALTHY
    assert snapshot(gateway, health=None).overall is OverallStatus.DOWN
    sick_browser = replace(browser, health=HealthStatus(HealthState.UNHEALTHY))
    assert snapshot(gateway, sick_browser).overall is OverallStatus.DEGRADED
    crashed_node = replace(node, state=ServiceState.BACKOFF)
    assert snapshot(gateway, crashed_node).overall is OverallStatus.DEGRADED
    disabled_node = replace(crashed_node, enabled=False)
    assert snapshot(gateway, disabled_node).overall is OverallStatus.HEALTHY


def test_connection_state_truth_table() -> None:
    assert connection_state(True, False) is ConnectionState.CONNECTED
    assert connection_state(False, True) is ConnectionState.RECONNECTING
    assert connection_state(False, False) is ConnectionState.OFFLINE


def test_snapshot_equality_ignores_the_time() -> None:
    assert replace(snapshot(), taken_at=1.0) == replace(snapshot(), taken_at=2.0)


def test_drafts_are_bounded_sanitized_and_not_duplicated() -> None:
    drafts = Drafts()
    first = drafts.add("s1", "hello", "gateway down\x1b[31m")
    assert first.reason == "gateway down"
    drafts.failed_again(first.draft_id, "still down")
    assert [d.reason for d in drafts.all()] == ["still down"]
    for index in range(MAX_DRAFTS + 5):
        drafts.add("s2", f"m{index}", "down")
    assert len(drafts.all()) == MAX_DRAFTS
    assert drafts.all()[0].text == "m5"
    assert drafts.for_session("s1") == ()


def test_inbox_merges_our_stream_approvals_with_the_gateway_list() -> None:
    prompt = ApprovalPrompt(title="Approve x", risk=RiskLevel.HIGH, timeout_seconds=60)
    ours = from_stream(
        ApprovalRequestEvent("r1", "p1", "A1", "x", "{}", "do x", prompt), "s1", 100.0
    )
    record_same = Approval(approval_id="A1", requested_at_ms=99_000, prompt=prompt)
    record_other = Approval(
        approval_id="A2",
        requested_at_ms=50_000,
        subject_id="tool:palyra.http.fetch",
        prompt=replace(prompt, details_json='{"input": {"url": "https://x"}}'),
    )
    decided = Approval(approval_id="A3", decision=ApprovalDecision.ALLOW)
    entries = merge((ours,), (record_same, record_other, decided), frozenset())
    assert [e.approval_id for e in entries] == ["A2", "A1"]
    assert entries[1].route is Route.STREAM and entries[0].route is Route.CONSOLE
    assert entries[0].tool_name == "palyra.http.fetch"
    assert '"url": "https://x"' in entries[0].input_json
    assert entries[1].deadline == 160.0
    assert merge((ours,), (record_other,), frozenset({"A1", "A2"})) == ()


PALYRAD_SUMMARY = (
    '{"tool_name":"custom.noop","skill_id":null,"skill_version":null,'
    '"input_json":{"payload":"rm -rf ./scratch && echo \\u001b]52;c;ZXZpbA==\\u0007"}}'
)
PALYRAD_PROMPT = ApprovalPrompt(
    title="Approve custom.noop",
    risk=RiskLevel.HIGH,
    subject_id="tool:custom.noop",
    summary="Tool `custom.noop` requested explicit approval",
    timeout_seconds=60,
    details_json=(
        '{"tool_name":"custom.noop","subject_id":"tool:custom.noop","skill_id":null,'
        '"skill_version":null,"input_json":{"payload":"rm -rf ./scratch"}}'
    ),
    policy_explanation="Sensitive tool actions are deny-by-default until explicitly approved",
)


def test_palyrad_json_summaries_are_read_and_kept_whole() -> None:
    event = ApprovalRequestEvent(
        "r1", "01ARZ3NDEKTSV4RRFFQ69G5FAV", "A1", "", "", PALYRAD_SUMMARY, PALYRAD_PROMPT
    )
    entry = from_stream(event, "s1", 0.0)
    assert entry.tool_name == "custom.noop"
    assert entry.summary == "Tool `custom.noop` requested explicit approval"
    assert (
        entry.input_json == '{"payload": "rm -rf ./scratch && echo \\u001b]52;c;ZXZpbA==\\u0007"}'
    )
    assert entry.reason == "Sensitive tool actions are deny-by-default until explicitly approved"
    assert entry.raw_summary == PALYRAD_SUMMARY
    assert entry.refusal == ""
    record = from_record(
        Approval(
            approval_id="A2",
            subject_id="tool:custom.noop",
            request_summary=PALYRAD_SUMMARY + "; backend_requested=auto; backend_resolved=local"
            "; backend_reason_code=default",
            prompt=PALYRAD_PROMPT,
        )
    )
    assert record.input_json == '{"payload": "rm -rf ./scratch"}'
    assert record.reason == (
        "Sensitive tool actions are deny-by-default until explicitly approved; "
        "backend local (requested auto, default)"
    )
    assert record.summary == PALYRAD_PROMPT.summary


def test_a_summary_that_is_not_palyrads_json_is_shown_as_it_is() -> None:
    assert parse_summary('{"tool_name":"x","input_json":{"a":1') == SummaryParts()
    cut = from_stream(
        ApprovalRequestEvent("r", "p", "A", "x", "{}", '{"tool_name":"x"...', PALYRAD_PROMPT),
        "s",
        0.0,
    )
    assert cut.summary == '{"tool_name":"x"...' and cut.raw_summary == cut.summary
    assert parse_summary('{"tool_name":"x","input_json":[1]}').input_json == "[1]"
