"""The reference gateway's OpenAI auth routes: the provider status and connecting an API key.

As palyrad, ``POST /console/v1/auth/providers/openai/api-key`` checks the key
with OpenAI before keeping it: ``GET <base>/models`` with the key as a Bearer
token, where ``<base>`` is ``PALYRA_MODEL_PROVIDER_OPENAI_BASE_URL``.  A 401 or
403 there is an invalid credential (HTTP 400 here), 429 is rate limited, 5xx
or no answer is unavailable.  Without that variable the reference gateway
reaches no one: it accepts a key that starts with ``sk-`` and refuses any
other as an invalid credential.

The key is kept in memory, as palyrad keeps it in its vault, and never
logged or answered back; the profile it makes (``openai-<ulid>`` for the
default name) becomes the default when ``set_default`` is true.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import httpx

from palyra_tui.models.ids import new_ulid
from palyra_tui.sim.http_server import Request, Response

VALIDATION_TIMEOUT = 10.0
_IDENTIFIER = re.compile(r"^[a-z0-9_.-]{1,128}$")
CONTRACT = {"contract_version": "control-plane.v1"}


@dataclass(slots=True)
class OpenAiProfile:
    """One OpenAI auth profile; its key is never shown."""

    profile_id: str
    profile_name: str
    scope: dict[str, str]
    api_key: str = field(repr=False)


@dataclass(slots=True)
class OpenAiAuth:
    """The profiles and the default selection, in memory."""

    base_url: str = ""
    profiles: dict[str, OpenAiProfile] = field(default_factory=dict)
    default_profile_id: str = ""

    def state(self) -> dict[str, object]:
        """The ``ProviderAuthStateEnvelope``."""
        if self.default_profile_id:
            state = "selected_profile"
        elif self.profiles:
            state = "api_key_configured"
        else:
            state = "not_configured"
        document: dict[str, object] = {
            "contract": CONTRACT,
            "provider": "openai",
            "oauth_supported": False,
            "bootstrap_supported": False,
            "callback_supported": False,
            "reconnect_supported": False,
            "revoke_supported": True,
            "default_selection_supported": True,
            "available_profile_ids": list(self.profiles),
            "state": state,
        }
        if self.default_profile_id:
            document["default_profile_id"] = self.default_profile_id
        return document

    async def connect(self, request: Request) -> Response:
        """``POST …/openai/api-key`` (the caller checked the session and CSRF)."""
        try:
            body = request.json()
        except ValueError:
            return invalid("body", "invalid_json", "request body must be JSON")
        name = str(body.get("profile_name") or "").strip()
        if not name:
            return invalid("profile_name", "required", "profile_name is required")
        if len(name) > 256:
            return invalid("profile_name", "too_long", "profile_name exceeds max length (256)")
        profile_id = str(body.get("profile_id") or "").strip().lower()
        if profile_id and not _IDENTIFIER.match(profile_id):
            return invalid(
                "profile_id", "invalid_format", "profile_id contains unsupported characters"
            )
        given = body.get("scope")
        scope: dict[str, object] = given if isinstance(given, dict) else {"kind": "global"}
        kind = str(scope.get("kind") or "").strip().lower()
        if kind not in ("global", "agent"):
            return invalid("scope.kind", "unsupported", "scope.kind must be global or agent")
        agent = str(scope.get("agent_id") or "").strip().lower()
        if kind == "agent" and not _IDENTIFIER.match(agent):
            return invalid("scope.agent_id", "required", "scope.agent_id is required")
        api_key = str(body.get("api_key") or "").strip()
        if not api_key:
            return invalid("api_key", "required", "api_key is required")
        refused = await self._validate(api_key)
        if refused is not None:
            return refused
        profile_id = profile_id or f"{_slug(name)}-{new_ulid().lower()}"
        kept_scope = {"kind": kind, **({"agent_id": agent} if kind == "agent" else {})}
        self.profiles[profile_id] = OpenAiProfile(profile_id, name, kept_scope, api_key)
        if body.get("set_default") is True:
            self.default_profile_id = profile_id
            state = "selected"
            message = "OpenAI API key profile saved and selected as the default auth profile."
        else:
            state = "saved"
            message = "OpenAI API key profile saved."
        return Response.json(
            200,
            {
                "contract": CONTRACT,
                "provider": "openai",
                "action": "api_key",
                "state": state,
                "message": message,
                "profile_id": profile_id,
            },
        )

    async def _validate(self, api_key: str) -> Response | None:
        """None when OpenAI (or, with no base URL, the key's shape) accepts the key."""
        if not self.base_url:
            if api_key.startswith("sk-"):
                return None
            return _invalid_credential()
        url = self.base_url.rstrip("/") + "/models"
        try:
            async with httpx.AsyncClient(timeout=VALIDATION_TIMEOUT, trust_env=False) as client:
                answer = await client.get(url, headers={"authorization": f"Bearer {api_key}"})
        except httpx.HTTPError:
            return _unavailable()
        if answer.is_success:
            return None
        if answer.status_code in (401, 403):
            return _invalid_credential()
        if answer.status_code == 429:
            return _envelope(
                429, "OpenAI credential validation was rate limited", "rate_limited", True
            )
        if answer.status_code >= 500:
            return _unavailable()
        return _envelope(
            500,
            f"OpenAI credential validation failed: validation endpoint returned status "
            f"{answer.status_code}",
            "internal_error",
            False,
        )


def invalid(field_name: str, code: str, message: str) -> Response:
    """palyrad's validation error: HTTP 400 with the field that failed."""
    return Response.json(
        400,
        {
            "error": message,
            "code": "validation_error",
            "category": "validation",
            "retryable": False,
            "redacted": False,
            "validation_errors": [{"field": field_name, "code": code, "message": message}],
        },
    )


def _invalid_credential() -> Response:
    return invalid(
        "api_key",
        "invalid_credential",
        "OpenAI credential is invalid or does not have the required access.",
    )


def _unavailable() -> Response:
    return _envelope(
        503, "OpenAI credential validation is temporarily unavailable", "unavailable", True
    )


def _envelope(status: int, message: str, code: str, retryable: bool) -> Response:
    return Response.json(
        status,
        {
            "error": message,
            "code": code,
            "category": "availability" if retryable else "internal",
            "retryable": retryable,
            "redacted": False,
        },
    )


def _slug(name: str) -> str:
    """``OpenAI Team`` → ``openai-team``; ``openai`` when nothing is left."""
    words = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return words or "openai"
