"""The state layer's rules: overall status, connection state, drafts, inbox merge."""

from __future__ import annotations

import time
from dataclasses import replace

from palyra_tui.models import (
    HealthState,
    HealthStatus,
    ServiceKind,
    ServiceSnapshot,
    ServiceState,
    SupervisorSnapshot,
)
from palyra_tui.models.console import TranscriptRecord
from palyra_tui.models.gateway import (
    Approval,
    ApprovalDecision,
    ApprovalPrompt,
    GatewayHealth,
    RiskLevel,
)
from palyra_tui.models.run_events import ApprovalRequestEvent
from palyra_tui.state.chat import (
    REFUSED,
    AnswerItem,
    StatusItem,
    ToolItem,
    UserItem,
    activity_label,
    history_items,
    time_label,
    title_from_message,
)
from palyra_tui.state.collector import steady_uptime
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


def test_the_time_of_a_probe_never_makes_snapshots_differ() -> None:
    gateway = service(ServiceKind.GATEWAY, ServiceState.RUNNING, HealthState.HEALTHY)
    probed = [
        replace(gateway, health=HealthStatus(HealthState.HEALTHY, latency_ms=2.0, checked_at=at))
        for at in (10.0, 10.5)
    ]
    assert snapshot(probed[0]) == snapshot(probed[1])


def test_the_gateway_uptime_moves_a_snapshot_once_a_minute_after_the_first() -> None:
    """Each poll reads a new uptime; the Health screen shows seconds, then minutes."""
    shown = [steady_uptime(replace(HEALTH, uptime_seconds=s)).uptime_seconds for s in range(200)]
    assert shown[:60] == list(range(60))
    assert shown[60:] == [60] * 60 + [120] * 60 + [180] * 20
    polled = [snapshot(health=steady_uptime(replace(HEALTH, uptime_seconds=s))) for s in (121, 179)]
    assert polled[0] == polled[1]


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


def test_session_names_and_activity_labels() -> None:
    at = time.mktime((2026, 12, 2, 14, 5, 30, 0, 0, -1))
    assert time_label(at) == "chat 14:05"
    assert title_from_message("  please\ncheck the disk usage on the build host ") == (
        "please check the disk usage on …"
    )
    assert title_from_message("short one") == "short one"
    assert title_from_message("x" * 80) == "x" * 47 + "…"
    assert title_from_message("\x1b[31m \n") == ""
    ms = int(at * 1000)
    assert activity_label(0, at) == ""
    assert activity_label(ms, at + 30) == "just now"
    assert activity_label(ms, at + 300) == "5 min ago"
    assert activity_label(ms, at + 3 * 3600) == "14:05"
    assert activity_label(ms, at + 2 * 86400) == "2 Dec"


def _record(run_id: str, event_type: str, payload: str) -> TranscriptRecord:
    return TranscriptRecord(run_id, 0, event_type, payload, 1_796_198_255_000)


def test_history_from_palyrads_tape() -> None:
    # Records as a real palyrad returned them (trimmed): no message text, tokens redacted.
    records = [
        _record("R1", "status", '{"kind":"accepted","message":"accepted session=S"}'),
        _record("R1", "tool_catalog_snapshot", '{"schema_version":1}'),
        _record("R1", "model_token", '{"is_final":true,"token":"<redacted>"}'),
        _record("R1", "message.replied", '{"reply_text":"alpha beta gamma"}'),
        _record("R1", "status", '{"kind":"done","message":"completed"}'),
        _record(
            "R2",
            "tool_proposal",
            '{"proposal_id":"call_1","tool_name":"custom.noop",'
            '"input_json":{"payload":"echo \\u001b]52;c;x\\u0007"},"approval_required":true}',
        ),
        _record("R2", "tool_approval_request", '{"proposal_id":"call_1","approval_id":"A1"}'),
        _record(
            "R2",
            "tool_approval_response",
            '{"proposal_id":"call_1","approval_id":"A1","approved":false,'
            '"reason":"approval_response_error: tool_approval_response.proposal_id must be a '
            'canonical ULID","decision_scope":"once","decision_scope_ttl_ms":null}',
        ),
        _record(
            "R2",
            "tool_decision",
            '{"proposal_id":"call_1","kind":"deny","reason":"sensitive action blocked by '
            'default; explicit user approval required"}',
        ),
        _record(
            "R2",
            "tool_result",
            '{"proposal_id":"call_1","success":false,"output_json":{},"error":"blocked"}',
        ),
        _record("R2", "status", '{"kind":"failed","message":"cancelled by request"}'),
        _record("R3", "status", "not json"),
    ]
    sent = {"R2": UserItem("do the thing", 1.0)}
    items = history_items(records, sent)
    assert [type(item).__name__ for item in items] == [
        "AnswerItem",
        "StatusItem",
        "UserItem",
        "ToolItem",
        "StatusItem",
    ]
    answer, done, user, tool, aborted = items
    assert isinstance(answer, AnswerItem) and answer.text == "alpha beta gamma" and answer.final
    assert isinstance(done, StatusItem) and done.text == "run completed"
    assert user is sent["R2"]
    assert isinstance(tool, ToolItem)
    assert tool.input_json == '{"payload": "echo \\u001b]52;c;x\\u0007"}'
    assert tool.decision == REFUSED and "'call_1'" in tool.reason
    assert tool.success is False and tool.result == "blocked" and not tool.approval_pending
    assert isinstance(aborted, StatusItem) and aborted.text == "run aborted" and aborted.failed
