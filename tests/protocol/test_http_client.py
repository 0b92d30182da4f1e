"""The HTTP client against the reference gateway: health, admin status and the console."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx
import pytest

from palyra_tui.client.errors import (
    AuthRejected,
    ConsoleSessionExpired,
    GatewayUnreachable,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
)
from palyra_tui.client.grpc import GatewayClient
from palyra_tui.client.http import GatewayHttp
from palyra_tui.models.gateway import ApprovalAnswer, ApprovalDecision
from palyra_tui.models.ids import new_ulid
from palyra_tui.models.run_events import ApprovalRequestEvent
from tests.protocol.conftest import TOKEN, Launch, identity

HttpClients = Callable[..., GatewayHttp]
Clients = Callable[..., Awaitable[GatewayClient]]


async def test_health_and_admin_status(sim: Launch, http_clients: HttpClients) -> None:
    gateway = sim()
    http = http_clients(gateway)
    health = await http.healthz()
    assert (health.service, health.status) == ("palyra-tui-sim", "ok")
    status = await http.admin_status()
    assert status.runloop_enabled and status.admin_auth_required
    assert status.principal == "admin:local" and status.model_provider == "deterministic"
    assert status.grpc_port == int(gateway.grpc_addr.rsplit(":", 1)[1])


async def test_admin_errors_follow_the_envelope(sim: Launch, http_clients: HttpClients) -> None:
    gateway = sim()
    with pytest.raises(AuthRejected, match="authorization token is invalid"):
        await http_clients(gateway, token="wrong-token").admin_status()
    async with httpx.AsyncClient(base_url=gateway.http_url) as raw:
        response = await raw.get(
            "/admin/v1/status",
            headers={"authorization": f"Bearer {TOKEN}", "x-palyra-principal": "admin:local"},
        )
    assert response.status_code == 400
    envelope = response.json()
    assert envelope["code"] == "validation_error" and envelope["category"] == "validation"
    assert envelope["retryable"] is False and "x-palyra-device-id" in envelope["error"]


async def test_console_login_keeps_cookie_and_csrf(sim: Launch, http_clients: HttpClients) -> None:
    gateway = sim()
    http = http_clients(gateway)
    session = await http.login()
    assert session.principal == "admin:local" and session.csrf_token
    assert session.expires_at_ms - session.issued_at_ms == 30 * 60 * 1000
    assert "csrf" not in repr(session).lower() or session.csrf_token not in repr(session)
    assert (await http.diagnostics()).denied_requests_total == 0


async def test_console_login_rules(sim: Launch, http_clients: HttpClients) -> None:
    gateway = sim()
    with pytest.raises(AuthRejected):
        await http_clients(gateway, token="wrong-token").login()
    with pytest.raises(PermissionDenied):
        await http_clients(gateway, principal="user:local").login()
    unbound = sim(env={"PALYRA_ADMIN_BOUND_PRINCIPAL": ""})
    with pytest.raises(PreconditionFailed, match="bound_principal"):
        await http_clients(unbound).login()


async def test_mutating_calls_need_csrf(sim: Launch, http_clients: HttpClients) -> None:
    gateway = sim()
    http = http_clients(gateway)
    await http.login()
    async with httpx.AsyncClient(base_url=gateway.http_url) as raw:
        login = await raw.post(
            "/console/v1/auth/login",
            json={"admin_token": TOKEN, "principal": "admin:local", "device_id": new_ulid()},
        )
        assert "palyra_console_session=" in login.headers["set-cookie"]
        assert "HttpOnly" in login.headers["set-cookie"]
        response = await raw.post(
            f"/console/v1/approvals/{new_ulid()}/decision", json={"approved": True}
        )
    assert response.status_code == 403
    assert response.json()["error"] == "missing CSRF token for console request"


async def test_an_expired_console_session_logs_in_again(
    sim: Launch, http_clients: HttpClients
) -> None:
    gateway = sim()
    http = http_clients(gateway)
    first = await http.login()
    cookie = http._client.cookies.get("palyra_console_session") or ""
    async with httpx.AsyncClient(
        base_url=gateway.http_url, cookies={"palyra_console_session": cookie}
    ) as raw:
        signed_out = await raw.post(
            "/console/v1/auth/logout", headers={"x-palyra-csrf-token": first.csrf_token}
        )
        assert signed_out.json() == {"signed_out": True}
    catalog = await http.session_catalog()
    assert catalog == ()
    assert http.session is not None and http.session.csrf_token != first.csrf_token


async def test_approvals_over_the_console(
    sim: Launch, http_clients: HttpClients, clients: Clients
) -> None:
    gateway = sim("--approval-timeout-ms", "5000")
    http = http_clients(gateway)
    client = await clients(gateway)
    session = await client.new_session("console")
    run = client.run(session.session.session_id, "run whoami")
    async for event in run:
        if isinstance(event, ApprovalRequestEvent):
            page = await http.list_approvals(pending_only=True)
            assert [a.approval_id for a in page.approvals] == [event.approval_id]
            record = await http.get_approval(event.approval_id)
            assert record.pending and record.prompt.title == "Approve palyra.process.run"
            assert record.prompt.details_json.startswith("{")
            decided = await http.decide_approval(event.approval_id, ApprovalAnswer.deny("seen"))
            assert decided.decision is ApprovalDecision.DENY and decided.decision_reason == "seen"
            await run.answer(event, ApprovalAnswer.allow_once())
    final = await http.get_approval(record.approval_id)
    assert final.decision is ApprovalDecision.ALLOW, "the stream's answer overwrites the record"
    with pytest.raises(NotFound):
        await http.get_approval(new_ulid())
    with pytest.raises(InvalidRequest):
        await http.get_approval("not-a-ulid")


async def test_catalog_transcript_and_handoff(
    sim: Launch, http_clients: HttpClients, clients: Clients
) -> None:
    gateway = sim()
    http = http_clients(gateway)
    client = await clients(gateway)
    session_id = (await client.new_session("catalog")).session.session_id
    run = client.run(session_id, "alpha beta gamma")
    async for _ in run:
        pass
    catalog = await http.session_catalog()
    assert [entry.session_id for entry in catalog] == [session_id]
    assert catalog[0].last_run_state == "done" and catalog[0].last_run_id == run.run_id
    transcript = await http.transcript(session_id)
    types = [record.event_type for record in transcript.records]
    assert "message.replied" in types and "status" in types
    handoff = await http.browser_handoff()
    assert handoff.url.startswith(gateway.http_url) and "token=" in handoff.url
    assert handoff.url not in repr(handoff)
    async with httpx.AsyncClient() as raw:
        consumed = await raw.get(handoff.url)
    assert consumed.status_code == 303
    assert consumed.headers["location"].startswith("/?desktop_handoff_token=")
    assert consumed.headers["location"].endswith("#/control/overview")
    with pytest.raises(ValueError):
        await http.browser_handoff("//evil.test/")


async def test_unreachable_gateway() -> None:
    http = GatewayHttp("http://127.0.0.1:9", identity())
    try:
        with pytest.raises(GatewayUnreachable, match=r"127\.0\.0\.1:9"):
            await http.healthz()
    finally:
        await http.close()


async def test_a_slow_health_check_times_out(sim: Launch) -> None:
    gateway = sim("--health-delay-ms", "30000")
    http = GatewayHttp(gateway.http_url, identity(), timeout=0.3)
    try:
        from palyra_tui.client.errors import DeadlineExceeded

        with pytest.raises(DeadlineExceeded):
            await http.healthz()
    finally:
        await http.close()


async def test_diagnostics_errors_are_collected_redacted_and_capped() -> None:
    secret = "sk-proj-abcdefghijklmnopqrstuvwx"
    document = {
        "generated_at_unix_ms": 5,
        "rate_limits": {"denied_requests_total": 3},
        "model_provider": {"last_error": f"401 from provider, key {secret}"},
        "observability": {
            "failure_classes": {"config_failure": 1},
            "recent_failures": [{"message": "upstream 429"}, {"message": "upstream 429"}],
        },
        "workers": [{"detail": f"warning {index}"} for index in range(40)],
    }

    def reply(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/console/v1/auth/login":
            return httpx.Response(200, json={"csrf_token": "c", "principal": "admin:local"})
        return httpx.Response(200, json=document)

    http = GatewayHttp("http://gateway.test", identity(), transport=httpx.MockTransport(reply))
    diagnostics = await http.diagnostics()
    await http.close()
    assert diagnostics.denied_requests_total == 3
    assert len(diagnostics.errors) == 25
    assert diagnostics.errors.count("upstream 429") == 1
    assert all(secret not in error for error in diagnostics.errors)
    assert any("<redacted>" in error for error in diagnostics.errors)


async def test_console_session_expiry_is_typed() -> None:
    def reply(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/console/v1/auth/login":
            return httpx.Response(200, json={"csrf_token": "c"})
        return httpx.Response(403, json={"error": "console session is missing or expired"})

    http = GatewayHttp("http://gateway.test", identity(), transport=httpx.MockTransport(reply))
    with pytest.raises(ConsoleSessionExpired):
        await http.list_approvals()
    await http.close()
    await asyncio.sleep(0)


async def test_a_handoff_url_with_port_zero_gets_the_console_port() -> None:
    """palyrad bound to port 0 hands off to port 0 (its configured port)."""

    def reply(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/console/v1/auth/login":
            return httpx.Response(200, json={"csrf_token": "c"})
        assert request.headers["x-palyra-csrf-token"] == "c"
        return httpx.Response(
            200,
            json={
                "handoff_url": "http://127.0.0.1:0/console/v1/auth/browser-handoff/consume?token=t",
                "expires_at_unix_ms": 5,
            },
        )

    http = GatewayHttp("http://127.0.0.1:43210", identity(), transport=httpx.MockTransport(reply))
    handoff = await http.browser_handoff()
    await http.close()
    assert handoff.url.startswith("http://127.0.0.1:43210/console/v1/auth/browser-handoff/consume")
    assert handoff.url.endswith("token=t")
