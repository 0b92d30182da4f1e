"""One long-lived ``httpx.AsyncClient`` per gateway: health, admin status, console.

Console calls log in with the admin token on first use; the client's cookie
jar keeps ``palyra_console_session`` and every mutating call sends
``x-palyra-csrf-token``.  A 403 that says the session is missing or
expired (sessions live in palyrad's memory and vanish when it restarts) leads
to one new login and one retry.
"""

from __future__ import annotations

import asyncio
import enum
import json
from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

import httpx

from palyra_tui.client.errors import (
    ClientError,
    ConsoleSessionExpired,
    DeadlineExceeded,
    GatewayUnreachable,
    ProtocolError,
)
from palyra_tui.client.http.errors import map_http_error
from palyra_tui.client.identity import ClientIdentity
from palyra_tui.client.json_fields import choice as _enum
from palyra_tui.client.json_fields import flag as _bool
from palyra_tui.client.json_fields import integer as _int
from palyra_tui.client.json_fields import items as _list
from palyra_tui.client.json_fields import obj as _obj
from palyra_tui.client.json_fields import segment as _segment
from palyra_tui.client.json_fields import text as _str
from palyra_tui.models.console import (
    AdminStatus,
    BrowserHandoff,
    CatalogSession,
    ConsoleSession,
    Diagnostics,
    Transcript,
    TranscriptRecord,
)
from palyra_tui.models.gateway import (
    Approval,
    ApprovalAnswer,
    ApprovalDecision,
    ApprovalOption,
    ApprovalPage,
    ApprovalPrompt,
    DecisionScope,
    GatewayHealth,
    RiskLevel,
    SubjectType,
)
from palyra_tui.models.handoff import check_openable
from palyra_tui.text import Redactor, sanitize_line

E = TypeVar("E", bound=enum.Enum)

DEFAULT_TIMEOUT = 4.0
CSRF_HEADER = "x-palyra-csrf-token"
MAX_DIAGNOSTIC_ERRORS = 25
_ERROR_KEY_WORDS = ("error", "failure", "warning", "detail", "reason", "message")
_ERROR_KEY_EXCEPTIONS = frozenset(
    {"failure_class", "failure_classes", "recent_upload_failures_only"}
)
_ERROR_LABELS = frozenset(
    {
        "config_failure",
        "product_failure",
        "upstream_provider_failure",
        "recent_upload_failures_only",
    }
)


class GatewayHttp:
    """HTTP calls to one palyrad (``base_url`` like ``http://127.0.0.1:7142``)."""

    def __init__(
        self,
        base_url: str,
        identity: ClientIdentity,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        redactor: Redactor | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.identity = identity
        self._redactor = redactor if redactor is not None else Redactor([identity.admin_token])
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=timeout,
            transport=transport,
            trust_env=False,
            headers={"user-agent": "palyra-tui", "accept": "application/json"},
        )
        self._session: ConsoleSession | None = None
        self._login_lock = asyncio.Lock()

    async def close(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    async def __aenter__(self) -> GatewayHttp:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    @property
    def session(self) -> ConsoleSession | None:
        """The current console session, if logged in."""
        return self._session

    # Health and admin ------------------------------------------------------

    async def healthz(self) -> GatewayHealth:
        """``GET /healthz`` (no auth): palyrad's or browserd's liveness."""
        document = await self._json("GET", "/healthz", what="the health check")
        return GatewayHealth(
            service=_str(document, "service"),
            status=_str(document, "status"),
            version=_str(document, "version"),
            git_hash=_str(document, "git_hash"),
            build_profile=_str(document, "build_profile"),
            uptime_seconds=_int(document, "uptime_seconds"),
        )

    async def admin_status(self) -> AdminStatus:
        """``GET /admin/v1/status`` with the Bearer token and identity headers."""
        document = await self._json(
            "GET", "/admin/v1/status", headers=self.identity.admin_headers(), what="admin status"
        )
        security = _obj(document, "security")
        transport = _obj(document, "transport")
        provider = _obj(document, "model_provider")
        context = _obj(document, "request_context")
        counters = _obj(document, "counters")
        return AdminStatus(
            service=_str(document, "service"),
            status=_str(document, "status"),
            version=_str(document, "version"),
            git_hash=_str(document, "git_hash"),
            uptime_seconds=_int(document, "uptime_seconds"),
            runloop_enabled=_bool(security, "orchestrator_runloop_v1_enabled"),
            admin_auth_required=_bool(security, "admin_auth_required"),
            model_provider=_str(provider, "kind"),
            grpc_port=_int(transport, "grpc_port"),
            principal=_str(context, "principal"),
            counters=tuple(
                sorted(
                    (sanitize_line(key), value)
                    for key, value in counters.items()
                    if isinstance(value, int) and not isinstance(value, bool)
                )
            ),
        )

    # Console session -------------------------------------------------------

    async def login(self) -> ConsoleSession:
        """``POST /console/v1/auth/login`` with the admin token; keeps cookie and CSRF."""
        body: dict[str, Any] = {
            "admin_token": self.identity.admin_token,
            "principal": self.identity.principal,
            "device_id": self.identity.device_id,
        }
        if self.identity.channel:
            body["channel"] = self.identity.channel
        document = await self._json("POST", "/console/v1/auth/login", body=body, what="login")
        session = _console_session(document)
        self._session = session
        return session

    async def logout(self) -> None:
        """``POST /console/v1/auth/logout``."""
        if self._session is None:
            return
        await self.console("POST", "/console/v1/auth/logout", body={}, what="logout")
        self._session = None

    # Console calls ---------------------------------------------------------

    async def list_approvals(
        self, *, limit: int = 100, after: str = "", pending_only: bool = False
    ) -> ApprovalPage:
        """``GET /console/v1/approvals``."""
        params: dict[str, str] = {"limit": str(limit)}
        if after:
            params["after_approval_id"] = after
        document = await self.console(
            "GET", "/console/v1/approvals", params=params, what="the approvals list"
        )
        approvals = tuple(parse_approval(item) for item in _list(document, "approvals"))
        if pending_only:
            approvals = tuple(item for item in approvals if item.pending)
        return ApprovalPage(
            approvals=approvals, next_after=_str(document, "next_after_approval_id")
        )

    async def get_approval(self, approval_id: str) -> Approval:
        """``GET /console/v1/approvals/{id}``."""
        document = await self.console(
            "GET", f"/console/v1/approvals/{_segment(approval_id)}", what="the approval"
        )
        return parse_approval(_obj(document, "approval"))

    async def decide_approval(self, approval_id: str, answer: ApprovalAnswer) -> Approval:
        """``POST /console/v1/approvals/{id}/decision``.

        palyrad forwards this only to runs the console started; an approval
        raised inside palyra-tui's own RunStream must be answered on that stream.
        """
        body: dict[str, Any] = {"approved": answer.approved}
        if answer.reason:
            body["reason"] = answer.reason
        if answer.scope is not DecisionScope.UNSPECIFIED:
            body["decision_scope"] = answer.scope.value
        if answer.scope is DecisionScope.TIMEBOXED:
            body["decision_scope_ttl_ms"] = answer.ttl_ms
        document = await self.console(
            "POST",
            f"/console/v1/approvals/{_segment(approval_id)}/decision",
            body=body,
            what="the approval decision",
        )
        return parse_approval(_obj(document, "approval"))

    async def diagnostics(self) -> Diagnostics:
        """``GET /console/v1/diagnostics``, reduced to its errors and counters."""
        document = await self.console("GET", "/console/v1/diagnostics", what="diagnostics")
        rate_limits = _obj(document, "rate_limits")
        return Diagnostics(
            generated_at_ms=_int(document, "generated_at_unix_ms"),
            errors=self._collect_errors(document),
            denied_requests_total=_int(rate_limits, "denied_requests_total"),
            sections=tuple(sorted(sanitize_line(key) for key in document)),
        )

    async def browser_handoff(self, redirect_path: str = "/#/control/overview") -> BrowserHandoff:
        """``POST /console/v1/auth/browser-handoff``: a one-time dashboard URL.

        The URL must point at this client's own console (same scheme, host and
        port), carry a non-blank ``token`` parameter, and be an absolute http(s)
        URL without credentials; anything else is refused, never opened.
        """
        if (
            not redirect_path.startswith("/")
            or redirect_path.startswith("//")
            or any(char in redirect_path for char in "\\\r\n")
        ):
            raise ValueError("redirect_path must be a local path starting with a single '/'")
        document = await self.console(
            "POST",
            "/console/v1/auth/browser-handoff",
            body={"redirect_path": redirect_path},
            what="the dashboard handoff",
        )
        raw = document.get("handoff_url")
        try:
            url = check_openable(raw if isinstance(raw, str) else "")
            handed = httpx.URL(url)
        except (ValueError, httpx.InvalidURL):
            raise ProtocolError("the gateway's handoff URL is not a valid http URL") from None
        expected = httpx.URL(self.base_url)
        if handed.port == 0:
            # palyrad builds the URL from its configured port; bound to port 0 that
            # is 0, while its console is the one this client talks to.
            handed = handed.copy_with(port=expected.port)
            url = str(handed)
        if (handed.scheme, handed.host, _port(handed)) != (
            expected.scheme,
            expected.host,
            _port(expected),
        ):
            raise ProtocolError("the gateway handed off to another host; refusing to open it")
        if not any(key == "token" and value.strip() for key, value in handed.params.multi_items()):
            raise ProtocolError("the handoff URL carries no token")
        return BrowserHandoff(url=url, expires_at_ms=_int(document, "expires_at_unix_ms"))

    async def session_catalog(self, *, limit: int = 16) -> tuple[CatalogSession, ...]:
        """``GET /console/v1/sessions``, newest first."""
        document = await self.console(
            "GET",
            "/console/v1/sessions",
            params={"limit": str(limit), "sort": "updated_desc", "include_archived": "false"},
            what="the session catalog",
        )
        return tuple(
            CatalogSession(
                session_id=_str(item, "session_id"),
                session_key=_str(item, "session_key"),
                title=_str(item, "title"),
                preview=_str(item, "preview"),
                updated_at_ms=_int(item, "updated_at_unix_ms"),
                last_run_id=_str(item, "last_run_id"),
                last_run_state=_str(item, "last_run_state"),
                pending_approvals=_int(item, "pending_approvals"),
                archived=_bool(item, "archived"),
            )
            for item in _list(document, "sessions")
        )

    async def transcript(self, session_id: str) -> Transcript:
        """``GET /console/v1/chat/sessions/{id}/transcript``."""
        document = await self.console(
            "GET",
            f"/console/v1/chat/sessions/{_segment(session_id)}/transcript",
            what="the transcript",
        )
        return Transcript(
            session_id=_str(_obj(document, "session"), "session_id") or session_id,
            records=tuple(
                TranscriptRecord(
                    run_id=_str(item, "run_id"),
                    seq=_int(item, "seq"),
                    event_type=_str(item, "event_type"),
                    payload_json=_str(item, "payload_json"),
                    created_at_ms=_int(item, "created_at_unix_ms"),
                )
                for item in _list(document, "records")
            ),
        )

    async def check_session(self) -> None:
        """Log in (or reuse the session) and ask the console who we are: raises ClientError
        when the admin token is not accepted."""
        await self.console("GET", "/console/v1/auth/session", what="the console session")

    async def console(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One console call with the session (and CSRF for a mutating one); the JSON
        object it answers, for the calls kept in modules of their own (providers)."""
        for attempt in range(2):
            session = await self._ensure_session()
            headers = {CSRF_HEADER: session.csrf_token} if method != "GET" else None
            try:
                return await self._json(
                    method, path, params=params, body=body, headers=headers, what=what
                )
            except ConsoleSessionExpired:
                if attempt:
                    raise
                self._session = None
        raise ConsoleSessionExpired("console session could not be established")

    # Internals -------------------------------------------------------------

    async def _ensure_session(self) -> ConsoleSession:
        async with self._login_lock:
            if self._session is None:
                await self.login()
            assert self._session is not None
            return self._session

    async def _json(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        try:
            response = await self._client.request(
                method, path, params=params, json=body, headers=headers
            )
        except httpx.TimeoutException:
            raise DeadlineExceeded(
                f"the gateway at {self.base_url} did not answer in time"
            ) from None
        except httpx.TransportError as exc:
            raise GatewayUnreachable(
                f"gateway unreachable at {self.base_url}: is palyrad running?",
                detail=sanitize_line(str(exc)),
            ) from None
        if response.status_code >= 400:
            raise map_http_error(response.status_code, response.content, what)
        try:
            document = json.loads(response.content)
        except ValueError:
            raise ProtocolError(f"{what}: the gateway did not answer with JSON") from None
        if not isinstance(document, dict):
            raise ProtocolError(f"{what}: the gateway answered with {type(document).__name__}")
        return document

    def _collect_errors(self, document: Mapping[str, Any]) -> tuple[str, ...]:
        found: list[str] = []
        for key, value in _walk(document, ""):
            lowered = key.lower()
            if lowered in _ERROR_KEY_EXCEPTIONS or not any(w in lowered for w in _ERROR_KEY_WORDS):
                continue
            cleaned = self._redactor.redact(sanitize_line(value)).strip()
            if cleaned and cleaned not in _ERROR_LABELS and cleaned not in found:
                found.append(cleaned)
            if len(found) >= MAX_DIAGNOSTIC_ERRORS:
                break
        return tuple(found)


def parse_approval(document: Mapping[str, Any]) -> Approval:
    """A console ``ApprovalRecord`` (JSON) → :class:`Approval`."""
    prompt = _obj(document, "prompt")
    policy = _obj(document, "policy_snapshot")
    decision_text = document.get("decision")
    decision = ApprovalDecision.PENDING
    if isinstance(decision_text, str):
        decision = _enum(ApprovalDecision, decision_text, ApprovalDecision.ERROR)
    return Approval(
        approval_id=_str(document, "approval_id"),
        session_id=_str(document, "session_id"),
        run_id=_str(document, "run_id"),
        principal=_str(document, "principal"),
        device_id=_str(document, "device_id"),
        channel=_str(document, "channel"),
        requested_at_ms=_int(document, "requested_at_unix_ms"),
        resolved_at_ms=_int(document, "resolved_at_unix_ms"),
        subject_type=_enum(SubjectType, _str(document, "subject_type"), SubjectType.UNSPECIFIED),
        subject_id=_str(document, "subject_id"),
        request_summary=_str(document, "request_summary"),
        decision=decision,
        scope=_enum(DecisionScope, _str(document, "decision_scope"), DecisionScope.UNSPECIFIED),
        policy_id=_str(policy, "policy_id"),
        policy_hash=_str(policy, "policy_hash"),
        policy_summary=_str(policy, "evaluation_summary"),
        prompt=ApprovalPrompt(
            title=_str(prompt, "title"),
            risk=_enum(RiskLevel, _str(prompt, "risk_level"), RiskLevel.UNSPECIFIED),
            subject_id=_str(prompt, "subject_id"),
            summary=_str(prompt, "summary"),
            options=tuple(
                ApprovalOption(
                    option_id=_str(option, "option_id"),
                    label=_str(option, "label"),
                    description=_str(option, "description"),
                    default_selected=_bool(option, "default_selected"),
                    scope=_enum(
                        DecisionScope, _str(option, "decision_scope"), DecisionScope.UNSPECIFIED
                    ),
                    timebox_ttl_ms=_int(option, "timebox_ttl_ms"),
                )
                for option in _list(prompt, "options")
            ),
            timeout_seconds=_int(prompt, "timeout_seconds"),
            details_json=_str(prompt, "details_json"),
            policy_explanation=_str(prompt, "policy_explanation"),
        ),
        decision_reason=_str(document, "decision_reason"),
        scope_ttl_ms=_int(document, "decision_scope_ttl_ms"),
    )


def _console_session(document: Mapping[str, Any]) -> ConsoleSession:
    csrf = document.get("csrf_token")
    if not isinstance(csrf, str) or not csrf:
        raise ProtocolError("console login answered without a CSRF token")
    return ConsoleSession(
        principal=_str(document, "principal"),
        device_id=_str(document, "device_id"),
        channel=_str(document, "channel"),
        csrf_token=csrf,
        issued_at_ms=_int(document, "issued_at_unix_ms"),
        expires_at_ms=_int(document, "expires_at_unix_ms"),
    )


def _port(url: httpx.URL) -> int | None:
    """The URL's port, or its scheme's default."""
    return url.port if url.port is not None else {"http": 80, "https": 443}.get(url.scheme)


def _walk(value: Any, key: str) -> Iterator[tuple[str, str]]:
    """``(key, string)`` pairs of a JSON tree; list items inherit their parent's key."""
    if isinstance(value, dict):
        for child in sorted(value):
            yield from _walk(value[child], str(child))
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item, key)
    elif isinstance(value, str):
        yield key, value


__all__ = ["ClientError", "GatewayHttp", "parse_approval"]
