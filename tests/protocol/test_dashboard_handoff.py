"""The dashboard handoff: what the client accepts, and the reference gateway's server side.

palyrad's side: the handoff URL names 127.0.0.1 and the console's port; ``GET
…/consume`` answers 303 to the redirect path with ``desktop_handoff_token`` in
its query and does not use the token up; ``POST …/session`` uses it up once and
signs the browser in.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from palyra_tui.client.errors import ProtocolError
from palyra_tui.client.http import GatewayHttp
from palyra_tui.state.handoff import redirect_path
from tests.protocol.conftest import Launch, identity

HttpClients = Callable[..., GatewayHttp]
CONSUME = "/console/v1/auth/browser-handoff/consume"
SESSION = "/console/v1/auth/browser-handoff/session"


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


async def test_the_handoff_url_validates_and_is_used_up_once(
    sim: Launch, http_clients: HttpClients
) -> None:
    gateway = sim()
    http = http_clients(gateway)
    handoff = await http.browser_handoff()
    parts = urlsplit(handoff.url)
    assert (parts.scheme, parts.hostname) == ("http", "127.0.0.1")
    assert parts.port == urlsplit(gateway.http_url).port
    assert parts.path == CONSUME
    token = token_of(handoff.url)
    assert token and token not in repr(handoff)
    async with httpx.AsyncClient(base_url=gateway.http_url) as browser:
        for _ in range(2):  # opening the URL does not use the token up
            consumed = await browser.get(handoff.url)
            assert consumed.status_code == 303
            assert consumed.headers["cache-control"] == "no-store"
            assert consumed.headers["location"] == (
                f"/?desktop_handoff_token={token}#/control/overview"
            )
            assert "set-cookie" not in consumed.headers
        signed_in = await browser.post(SESSION, json={"token": token})
        assert signed_in.status_code == 200
        assert signed_in.json()["csrf_token"]
        cookie = signed_in.headers["set-cookie"]
        assert cookie.startswith("palyra_console_session=") and "SameSite=Lax" in cookie
        session = await browser.get(
            "/console/v1/auth/session", headers={"cookie": cookie.split(";")[0]}
        )
        assert session.status_code == 200
        assert session.json()["principal"] == "admin:local"
        again = await browser.post(SESSION, json={"token": token})
        assert again.status_code == 403
        assert again.json()["error"] == "browser handoff token is invalid or expired"
        gone = await browser.get(handoff.url)
        assert gone.status_code == 403
        blank = await browser.post(SESSION, json={"token": "  "})
        assert blank.status_code == 400


async def test_a_scoped_handoff_keeps_its_route_after_the_token(
    sim: Launch, http_clients: HttpClients
) -> None:
    gateway = sim()
    http = http_clients(gateway)
    session_id = "01JQ7P4NQ2T7K5XG0C9M3E8AAA"
    path = redirect_path("chat", {"sessionId": session_id, "intent": "resume_session"})
    assert path == f"/#/chat?sessionId={session_id}&intent=resume-session"
    handoff = await http.browser_handoff(path)
    async with httpx.AsyncClient() as browser:
        consumed = await browser.get(handoff.url)
    token = token_of(handoff.url)
    assert consumed.headers["location"] == (
        f"/?desktop_handoff_token={token}#/chat?sessionId={session_id}&intent=resume-session"
    )


async def test_the_gateway_refuses_redirects_off_its_origin(
    sim: Launch, http_clients: HttpClients
) -> None:
    gateway = sim()
    http = http_clients(gateway)
    await http.login()
    session = http.session
    assert session is not None
    for path in ("//evil.test/", "https://evil.test/", "/\\evil.test"):
        with pytest.raises(ValueError):
            await http.browser_handoff(path)
    async with httpx.AsyncClient(base_url=gateway.http_url) as raw:
        login = await raw.post(
            "/console/v1/auth/login",
            json={
                "admin_token": http.identity.admin_token,
                "principal": "admin:local",
                "device_id": http.identity.device_id,
            },
        )
        csrf = login.json()["csrf_token"]
        for path in ("//evil.test/", "/a\\b", "relative"):
            refused = await raw.post(
                "/console/v1/auth/browser-handoff",
                json={"redirect_path": path},
                headers={"x-palyra-csrf-token": csrf},
            )
            assert refused.status_code == 400, path
        no_csrf = await raw.post("/console/v1/auth/browser-handoff", json={})
        assert no_csrf.status_code == 403


def handing_off(url: object) -> httpx.MockTransport:
    def reply(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/console/v1/auth/login":
            return httpx.Response(200, json={"csrf_token": "c"})
        return httpx.Response(200, json={"handoff_url": url, "expires_at_unix_ms": 5})

    return httpx.MockTransport(reply)


GOOD = "http://127.0.0.1:7142/console/v1/auth/browser-handoff/consume?token=t0k3n"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.2:7142/console/v1/auth/browser-handoff/consume?token=t",
        "http://127.0.0.1:7143/console/v1/auth/browser-handoff/consume?token=t",
        "https://127.0.0.1:7142/console/v1/auth/browser-handoff/consume?token=t",
        "http://user:pw@127.0.0.1:7142/console/v1/auth/browser-handoff/consume?token=t",
        "http://127.0.0.1:7142/console/v1/auth/browser-handoff/consume",
        "http://127.0.0.1:7142/console/v1/auth/browser-handoff/consume?token=",
        "http://127.0.0.1:7142/console/v1/auth/browser-handoff/consume?token=%20",
        "http://127.0.0.1:7142/console/v1/auth/browser-handoff/consume?tok=t",
        "http://127.0.0.1:7142/consume?token=t\x1b]8;;http://evil.test\x1b\\",
        "http://127.0.0.1:7142/consume?token=t\x07",
        "http://127.0.0.1:7142/consume?token=t é",
        "javascript:alert(1)//127.0.0.1:7142/?token=t",
        "/console/v1/auth/browser-handoff/consume?token=t",
        "",
        42,
    ],
)
async def test_the_client_refuses_a_handoff_url_it_must_not_open(url: object) -> None:
    http = GatewayHttp("http://127.0.0.1:7142", identity(), transport=handing_off(url))
    try:
        with pytest.raises(ProtocolError):
            await http.browser_handoff()
    finally:
        await http.close()


async def test_the_client_takes_a_handoff_url_for_its_own_console() -> None:
    http = GatewayHttp("http://127.0.0.1:7142", identity(), transport=handing_off(GOOD))
    try:
        handoff = await http.browser_handoff("/#/chat?sessionId=S")
    finally:
        await http.close()
    assert handoff.url == GOOD
    assert handoff.expires_at_ms == 5
    assert "t0k3n" not in repr(handoff)
