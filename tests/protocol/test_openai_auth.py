"""The reference gateway's OpenAI auth routes through the console client."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from palyra_tui.client.errors import InvalidRequest
from palyra_tui.client.http import GatewayHttp
from palyra_tui.client.http.providers import connect_openai_api_key, openai_auth_state
from tests.fake_openai import GOOD_KEY, fake_openai
from tests.protocol.conftest import Launch, identity

HttpClients = Callable[..., GatewayHttp]


async def test_a_key_checked_with_openai_becomes_the_default_profile(
    sim: Launch, http_clients: HttpClients
) -> None:
    async with fake_openai() as openai:
        gateway = sim(env={"PALYRA_MODEL_PROVIDER_OPENAI_BASE_URL": openai.base_url})
        http = http_clients(gateway)
        before = await openai_auth_state(http)
        assert (before.provider, before.state, before.default_profile_id) == (
            "openai",
            "not_configured",
            "",
        )
        action = await connect_openai_api_key(http, GOOD_KEY)
        assert openai.keys_seen == [GOOD_KEY]
    assert action.state == "selected" and action.profile_id.startswith("openai-")
    assert GOOD_KEY not in repr(action)
    after = await openai_auth_state(http)
    assert after.state == "selected_profile"
    assert after.default_profile_id == action.profile_id
    assert after.available_profile_ids == (action.profile_id,)
    assert not any(GOOD_KEY in str(line) for line in gateway.lines)


async def test_a_key_openai_refuses_is_an_invalid_request_that_never_repeats_it(
    sim: Launch, http_clients: HttpClients
) -> None:
    wrong = "sk-test-refused-9876543210fedcba"
    async with fake_openai() as openai:
        gateway = sim(env={"PALYRA_MODEL_PROVIDER_OPENAI_BASE_URL": openai.base_url})
        http = http_clients(gateway)
        with pytest.raises(InvalidRequest, match="OpenAI credential is invalid") as refused:
            await connect_openai_api_key(http, wrong)
        assert openai.keys_seen == [wrong]
    assert wrong not in str(refused.value) and wrong not in refused.value.detail
    assert (await openai_auth_state(http)).state == "not_configured"


async def test_without_a_base_url_the_key_s_shape_decides(
    sim: Launch, http_clients: HttpClients
) -> None:
    http = http_clients(sim())
    with pytest.raises(InvalidRequest, match="OpenAI credential is invalid"):
        await connect_openai_api_key(http, "not-an-openai-key")
    action = await connect_openai_api_key(http, "sk-anything-0123456789", set_default=False)
    assert action.state == "saved"
    state = await openai_auth_state(http)
    assert state.state == "api_key_configured" and not state.default_profile_id


async def test_the_api_key_route_needs_a_console_session_and_csrf(sim: Launch) -> None:
    gateway = sim()
    async with httpx.AsyncClient(base_url=gateway.http_url) as raw:
        response = await raw.post(
            "/console/v1/auth/providers/openai/api-key",
            json={"profile_name": "OpenAI", "scope": {"kind": "global"}, "api_key": "sk-x"},
        )
    assert response.status_code == 403
    assert "cookie" in response.json()["error"]


async def test_an_answer_that_repeats_the_key_has_it_redacted() -> None:
    """A gateway that echoes the key (palyrad does not; a proxy might) never gets it
    into an error or a message palyra-tui could show or log."""
    key = "sk-test-secret-abcdef0123456789"

    def echo(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/login"):
            return httpx.Response(200, json={"principal": "admin:local", "csrf_token": "c"})
        body = json.loads(request.content)
        if body["profile_name"] == "refused":
            error = {"error": f"bad key {body['api_key']}", "code": "validation_error"}
            return httpx.Response(400, json=error)
        return httpx.Response(200, json={"message": f"kept {body['api_key']}", "state": "saved"})

    http = GatewayHttp("http://127.0.0.1:9", identity(), transport=httpx.MockTransport(echo))
    async with http:
        with pytest.raises(InvalidRequest) as refused:
            await connect_openai_api_key(http, key, profile_name="refused")
        assert key not in str(refused.value) and key not in refused.value.detail
        assert "<redacted>" in str(refused.value)
        action = await connect_openai_api_key(http, key)
        assert action.message == "kept <redacted>"
