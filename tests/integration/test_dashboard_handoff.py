"""The dashboard handoff through a real runtime host and reference gateway: the URL it
hands out works once, as palyrad's server side does, and the token is kept nowhere."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from palyra_tui.client.errors import ClientError
from palyra_tui.host.client import HostClient
from palyra_tui.host.protocol import ClientInfo
from palyra_tui.host.remote import SocketRuntime
from palyra_tui.models.handoff import HandoffScope
from palyra_tui.state.handoff import NOT_HEALTHY
from palyra_tui.state.state_file import state_path
from tests.conftest import eventually
from tests.integration.cli_support import StartHost, stop, until_cli

SESSION_ROUTE = "/console/v1/auth/browser-handoff/session"


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


def files_holding(root: Path, secrets: list[str]) -> list[str]:
    """Every file under ``root`` that holds one of ``secrets`` (as text or in bytes)."""
    found = []
    for path in root.rglob("*"):
        if not path.is_file() or path.is_socket():
            continue
        data = path.read_bytes()
        if any(secret.encode() in data for secret in secrets):
            found.append(str(path))
    return found


async def test_a_handoff_from_the_host_works_once_and_its_token_is_kept_nowhere(
    cli_host: StartHost,
) -> None:
    host = await cli_host()
    client = HostClient.for_state_root(host.config.state_root, client=ClientInfo.current("t"))
    runtime = SocketRuntime(client)
    await runtime.open()
    tokens: list[str] = []
    try:
        assert await eventually(
            lambda: (
                runtime.view().snapshot.gateway_health is not None
                and bool(runtime.view().dashboard_url)
            ),
            timeout=60,
        )
        console = urlsplit(runtime.view().dashboard_url)
        handoff = await runtime.dashboard_handoff(HandoffScope.overview())
        url = urlsplit(handoff.url)
        assert (url.scheme, url.hostname, url.port) == ("http", "127.0.0.1", console.port)
        assert handoff.redirect_path == "/#/control/overview"
        tokens.append(token_of(handoff.url))
        assert tokens[0] not in repr(handoff)

        session = await runtime.new_session()
        scoped = await runtime.dashboard_handoff(HandoffScope.chat(session.session_id))
        tokens.append(token_of(scoped.url))
        route = f"/#/chat?sessionId={session.session_id}&intent=resume-session"
        assert scoped.redirect_path == route

        async with httpx.AsyncClient(base_url=runtime.view().dashboard_url) as browser:
            consumed = await browser.get(scoped.url)
            assert consumed.status_code == 303
            assert consumed.headers["location"] == (
                f"/?desktop_handoff_token={tokens[1]}#{route.removeprefix('/#')}"
            )
            signed_in = await browser.post(SESSION_ROUTE, json={"token": tokens[1]})
            assert signed_in.status_code == 200 and "set-cookie" in signed_in.headers
            again = await browser.post(SESSION_ROUTE, json={"token": tokens[1]})
            assert again.status_code == 403

        lines = await runtime.tail("gateway", 10_000)
        assert lines and not [line for line in lines if any(t in line.text for t in tokens)]

        await runtime.stop("gateway")
        assert await eventually(lambda: runtime.view().snapshot.gateway_health is None)
        with pytest.raises(ClientError, match=NOT_HEALTHY):
            await runtime.dashboard_handoff(HandoffScope.overview())
    finally:
        await runtime.close()
        await stop(host.config, host.pid)
    state_root = Path(host.config.state_root)

    assert files_holding(state_root, tokens) == []
    assert files_holding(state_root, ["handoff_url"]) == []
    state = json.loads(state_path(state_root / "tui").read_text())
    onboarding = json.dumps(state)
    assert '"dashboard_handoff_at_unix_ms": null' not in onboarding
    kept = state["profile_states"]["local"]["onboarding"]
    opened = [e["detail"] for e in kept["recent_events"] if e["kind"] == "dashboard_opened"]
    assert opened == ["overview", "chat"], "one event for each link handed out"
    assert kept["last_failure"]["step"] == "dashboard_handoff"
    assert kept["last_failure"]["message"] == NOT_HEALTHY
    assert kept["failure_step_counts"] == {"dashboard_handoff": 1}


async def test_the_dashboard_command_prints_the_link_on_stdout_only(
    cli_host: StartHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = await cli_host()
    ready = await until_cli(host.path, ("status", "--json"), lambda ran: ran.code == 0)
    assert ready.code == 0, ready.err
    monkeypatch.delenv("SSH_CONNECTION", raising=False)
    plain = await host.cli("dashboard")
    assert plain.code == 0, plain.err
    url = plain.out.strip()
    assert plain.out == url + "\n" and urlsplit(url).hostname == "127.0.0.1"
    assert token_of(url) not in plain.err and "works once" in plain.err
    assert "ssh -L" not in plain.err

    monkeypatch.setenv("SSH_CONNECTION", "2001:db8::7 52114 2001:db8::5 2222")
    monkeypatch.setenv("USER", "alice")
    ran = await host.cli("dashboard", "--scope", "chat", "--session", "S1", "--json")
    assert ran.code == 0, ran.err
    record = ran.json()
    port = urlsplit(record["url"]).port
    assert record["scope"] == "chat" and 0 < record["expires_in"] <= 60
    assert record["redirect_path"] == "/#/chat?sessionId=S1&intent=resume-session"
    assert record["tunnel"] == f"ssh -L {port}:127.0.0.1:{port} -p 2222 alice@2001:db8::5"
    assert token_of(record["url"]) not in ran.err

    usage = await host.cli("dashboard", "--scope", "run", "--session", "S1")
    assert usage.code == 2 and "--run ID" in usage.err
    await stop(host.config, host.pid)
    state_root = Path(host.config.state_root)
    assert files_holding(state_root, [token_of(url), token_of(record["url"])]) == []
