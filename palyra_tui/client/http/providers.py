"""Model-provider auth on the console API: the OpenAI status, and connecting an API key.

An API key goes into one request body and nowhere else: it is not kept, and
an error or answer that repeats it has it replaced by ``<redacted>`` before
anyone can show or log it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from palyra_tui.client.errors import ClientError
from palyra_tui.client.http.gateway_http import GatewayHttp
from palyra_tui.text import Redactor, sanitize_line

OPENAI_PATH = "/console/v1/auth/providers/openai"
DEFAULT_PROFILE_NAME = "OpenAI"


@dataclass(frozen=True, slots=True)
class ProviderAuthState:
    """``GET /console/v1/auth/providers/openai``: the gateway's auth for one model provider."""

    provider: str
    state: str
    """``selected_profile``, ``api_key_configured`` or ``not_configured``."""
    default_profile_id: str = ""
    available_profile_ids: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True, slots=True)
class ProviderAuthAction:
    """What the gateway did with a provider credential (never the credential itself)."""

    provider: str
    action: str
    state: str
    message: str
    profile_id: str = ""


async def openai_auth_state(http: GatewayHttp) -> ProviderAuthState:
    """``GET /console/v1/auth/providers/openai``."""
    document = await http.console("GET", OPENAI_PATH, what="the OpenAI auth status")
    ids = document.get("available_profile_ids")
    listed = ids if isinstance(ids, list) else []
    return ProviderAuthState(
        provider=_text(document, "provider"),
        state=_text(document, "state"),
        default_profile_id=_text(document, "default_profile_id"),
        available_profile_ids=tuple(sanitize_line(i) for i in listed if isinstance(i, str)),
        note=_text(document, "note"),
    )


async def connect_openai_api_key(
    http: GatewayHttp,
    api_key: str,
    *,
    profile_name: str = DEFAULT_PROFILE_NAME,
    set_default: bool = True,
) -> ProviderAuthAction:
    """``POST /console/v1/auth/providers/openai/api-key``: a global profile, made the
    default unless ``set_default`` is False."""
    body = {
        "profile_name": profile_name,
        "scope": {"kind": "global"},
        "api_key": api_key,
        "set_default": set_default,
    }
    try:
        document = await http.console(
            "POST", f"{OPENAI_PATH}/api-key", body=body, what="the OpenAI API key"
        )
    except ClientError as error:
        raise without(error, api_key) from None
    return ProviderAuthAction(
        provider=_text(document, "provider"),
        action=_text(document, "action"),
        state=_text(document, "state"),
        message=hide(_text(document, "message"), api_key),
        profile_id=_text(document, "profile_id"),
    )


def hide(text: str, secret: str) -> str:
    """``text`` with ``secret`` (and its encoded forms) replaced by ``<redacted>``."""
    hidden = Redactor([secret]).redact(text)
    secret = secret.strip()
    return hidden.replace(secret, "<redacted>") if secret else hidden


def without(error: ClientError, secret: str) -> ClientError:
    """``error`` with ``secret`` replaced wherever its message or detail repeats it."""
    error.args = tuple(hide(a, secret) if isinstance(a, str) else a for a in error.args)
    error.detail = hide(error.detail, secret)
    return error


def _text(document: Mapping[str, Any], key: str) -> str:
    value = document.get(key)
    return sanitize_line(value).strip() if isinstance(value, str) else ""
