"""The reference gateway's HTTP routes: health, admin, console login and console API.

Status codes, error envelopes, the console cookie, CSRF and the loopback rate
limit follow palyrad.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from palyra_tui.sim import console_chat, proto
from palyra_tui.sim.auth import AuthFailure, FailureKind, authorize
from palyra_tui.sim.console_devices import DeviceRoutes
from palyra_tui.sim.grpc_service import health_fields
from palyra_tui.sim.http_server import HttpServer, Request, Response, Router
from palyra_tui.sim.logs import now_ms
from palyra_tui.sim.pairing import PairingBook
from palyra_tui.sim.providers import OpenAiAuth
from palyra_tui.sim.store import (
    CONSOLE_TTL_MS,
    ConsoleLogin,
    Identity,
    SimApproval,
    Store,
    token_matches,
    valid_ulid,
)

COOKIE = "palyra_console_session"
CONSUME_PATH = "/console/v1/auth/browser-handoff/consume"
HANDOFF_HOST = "127.0.0.1"
DEFAULT_REDIRECT = "/#/control/overview"
NO_STORE = (("cache-control", "no-store"),)
RATE_WINDOW_S = 1.0
LOOPBACK_RATE = 120
OTHER_RATE = 30
RATE_EXEMPT = frozenset(
    {
        ("POST", "/console/v1/auth/login"),
        ("GET", "/console/v1/auth/session"),
        ("POST", "/console/v1/auth/browser-handoff"),
        ("GET", "/console/v1/auth/browser-handoff/consume"),
        ("POST", "/console/v1/auth/browser-handoff/session"),
    }
)
_ENVELOPES = {
    400: ("validation_error", "validation", False),
    401: ("unauthorized", "auth", False),
    403: ("forbidden", "policy", False),
    404: ("not_found", "not_found", False),
    412: ("failed_precondition", "dependency", False),
    429: ("rate_limited", "availability", True),
    503: ("service_unavailable", "availability", True),
}


@dataclass(slots=True)
class HealthFaults:
    """Switches that make ``/healthz`` slow or failing."""

    delay_s: float = 0.0
    fail: bool = False


def bootstrap_location(redirect_path: str, token: str) -> str:
    """Where a consumed handoff sends the browser: its path with
    ``desktop_handoff_token`` appended to the query, before any fragment
    (``/?desktop_handoff_token=…#/control/overview``)."""
    parts = urlsplit(f"http://{HANDOFF_HOST}{redirect_path}")
    query = "&".join(filter(None, (parts.query, urlencode({"desktop_handoff_token": token}))))
    location = f"{parts.path or '/'}?{query}"
    return f"{location}#{parts.fragment}" if parts.fragment else location


def error(status: int, message: str) -> Response:
    """palyrad's error envelope."""
    code, category, retryable = _ENVELOPES.get(status, ("internal_error", "internal", False))
    return Response.json(
        status,
        {
            "error": message,
            "code": code,
            "category": category,
            "retryable": retryable,
            "redacted": False,
        },
    )


class ConsoleApi:
    """Health, admin and console handlers over one :class:`Store`."""

    def __init__(
        self, store: Store, faults: HealthFaults, pairing_file: Path | None = None
    ) -> None:
        self.store = store
        self.faults = faults
        self._window_start = 0.0
        self._window_counts: dict[str, int] = {}
        self.base_url = ""
        self.openai = OpenAiAuth(store.settings.openai_base_url)
        self.pairing = PairingBook(store, pairing_file)
        self._devices = DeviceRoutes(
            self.pairing, lambda request, csrf: self._console(request, csrf=csrf), error
        )

    def server(self) -> HttpServer:
        """An HTTP server with every route."""
        router = Router()
        router.add("GET", "/healthz", self.healthz)
        router.add("GET", "/admin/v1/status", self.admin_status)
        router.add("POST", "/admin/v1/runs/{run_id}/cancel", self.admin_cancel)
        router.add("POST", "/console/v1/auth/login", self.login)
        router.add("GET", "/console/v1/auth/session", self.session)
        router.add("POST", "/console/v1/auth/logout", self.logout)
        router.add("POST", "/console/v1/auth/browser-handoff", self.handoff)
        router.add("GET", "/console/v1/auth/browser-handoff/consume", self.consume)
        router.add("POST", "/console/v1/auth/browser-handoff/session", self.handoff_session)
        router.add("GET", "/console/v1/approvals", self.list_approvals)
        router.add("GET", "/console/v1/approvals/{approval_id}", self.get_approval)
        router.add("POST", "/console/v1/approvals/{approval_id}/decision", self.decide)
        router.add("GET", "/console/v1/diagnostics", self.diagnostics)
        router.add("GET", "/console/v1/sessions", self.catalog)
        router.add("GET", "/console/v1/chat/sessions/{session_id}/transcript", self.transcript)
        router.add("GET", "/console/v1/auth/providers/openai", self.openai_state)
        router.add("POST", "/console/v1/auth/providers/openai/api-key", self.openai_api_key)
        self._devices.add_to(router)
        return HttpServer(
            router,
            not_found=lambda request: error(404, f"no route for {request.method} {request.path}"),
            before=self._rate_limit,
        )

    # Health and admin ----------------------------------------------------------

    async def healthz(self, request: Request) -> Response:
        """Liveness; the ``service`` field says this is not palyrad."""
        if self.faults.delay_s:
            await asyncio.sleep(self.faults.delay_s)
        if self.faults.fail:
            return error(503, "health check failing (fault switch)")
        return Response.json(200, self._health())

    async def admin_status(self, request: Request) -> Response:
        """``GET /admin/v1/status``."""
        identity = self._admin(request)
        if isinstance(identity, Response):
            return identity
        settings = self.store.settings
        return Response.json(
            200,
            {
                **self._health(),
                "transport": {
                    "grpc_bind_addr": "127.0.0.1",
                    "grpc_port": settings.grpc_port,
                    "quic_enabled": False,
                },
                "security": {
                    "deny_by_default": True,
                    "admin_auth_required": settings.require_auth,
                    "admin_token_configured": bool(settings.admin_token),
                    "orchestrator_runloop_v1_enabled": settings.runloop_enabled,
                },
                "model_provider": {"kind": "deterministic", "provider_id": "sim"},
                "counters": dict(self.store.counters),
                "request_context": {
                    "principal": identity.principal,
                    "device_id": identity.device_id,
                    **({"channel": identity.channel} if identity.channel else {}),
                },
            },
        )

    async def admin_cancel(self, request: Request) -> Response:
        """``POST /admin/v1/runs/{run_id}/cancel``."""
        identity = self._admin(request)
        if isinstance(identity, Response):
            return identity
        run = self.store.runs.get(request.params["run_id"])
        if run is None:
            return error(404, f"orchestrator run not found: {request.params['run_id']}")
        try:
            reason = str(request.json().get("reason") or "admin_cancel_requested")
        except ValueError:
            return error(400, "request body must be JSON")
        run.cancel_requested = True
        run.cancel_reason = reason
        return Response.json(
            200, {"run_id": run.run_id, "cancel_requested": True, "reason": reason}
        )

    # Console session -------------------------------------------------------------

    async def login(self, request: Request) -> Response:
        """``POST /console/v1/auth/login``."""
        try:
            body = request.json()
        except ValueError:
            return error(400, "request body must be JSON")
        settings = self.store.settings
        principal = str(body.get("principal") or "").strip()
        device_id = str(body.get("device_id") or "").strip()
        channel = str(body.get("channel") or "").strip()
        if not principal.startswith("admin:"):
            return error(403, "console login requires an admin principal")
        if not device_id:
            return error(400, "device_id is required")
        if not valid_ulid(device_id):
            return error(400, "device_id must be a canonical ULID")
        if settings.require_auth:
            if not settings.bound_principal:
                return error(
                    412,
                    "console login requires configured admin.bound_principal when auth is enabled",
                )
            token = str(body.get("admin_token") or "")
            if not settings.admin_token:
                return error(503, "admin auth token is required but no token is configured")
            if not token or not token_matches(token, settings.admin_token):
                return error(401, "authorization token is invalid")
            principal = settings.bound_principal
        login = self.store.open_console(Identity(principal, device_id, channel))
        return self._session_response(login)

    async def session(self, request: Request) -> Response:
        """``GET /console/v1/auth/session``."""
        login = self._console(request, csrf=False)
        if isinstance(login, Response):
            return login
        return self._session_response(login)

    async def logout(self, request: Request) -> Response:
        """``POST /console/v1/auth/logout``."""
        login = self._console(request, csrf=True)
        if isinstance(login, Response):
            return login
        self.store.console.pop(login.token, None)
        return Response.json(
            200,
            {"signed_out": True},
            ("set-cookie", f"{COOKIE}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"),
        )

    async def handoff(self, request: Request) -> Response:
        """``POST /console/v1/auth/browser-handoff``: a 60-second dashboard URL.

        As palyrad: the URL always names ``127.0.0.1`` and the configured admin port,
        and only the token's SHA-256 is kept."""
        login = self._console(request, csrf=True)
        if isinstance(login, Response):
            return login
        try:
            path = str(request.json().get("redirect_path") or "").strip() or DEFAULT_REDIRECT
        except ValueError:
            return error(400, "request body must be JSON")
        if not path.startswith("/") or path.startswith("//"):
            return error(400, "browser handoff redirect path must stay same-origin")
        if any(char in path for char in "\\\r\n"):
            return error(400, "browser handoff redirect path contains unsupported characters")
        token, handoff = self.store.open_handoff(login.identity, path)
        port = self.store.settings.admin_port
        return Response.json(
            200,
            {
                "handoff_url": f"http://{HANDOFF_HOST}:{port}{CONSUME_PATH}?token={token}",
                "expires_at_unix_ms": handoff.expires_ms,
            },
        )

    async def consume(self, request: Request) -> Response:
        """``GET …/browser-handoff/consume?token=…``: 303 to the dashboard path with
        ``desktop_handoff_token`` added to its query; the token still works after it."""
        if "token" not in request.query:
            return error(400, "missing query parameter: token")
        token = request.query["token"].strip()
        if not token:
            return error(400, "browser handoff token is required")
        handoff = self.store.handoff(token, consume=False)
        if handoff is None:
            return error(403, "browser handoff token is invalid or expired")
        return Response(
            303,
            b"",
            [("location", bootstrap_location(handoff.redirect_path, token)), *NO_STORE],
        )

    async def handoff_session(self, request: Request) -> Response:
        """``POST …/browser-handoff/session {token}``: consumes the token (once) and opens
        a console session for the browser, as the one that asked for the handoff."""
        try:
            token = str(request.json().get("token") or "").strip()
        except ValueError:
            return error(400, "request body must be JSON")
        if not token:
            return error(400, "browser handoff token is required")
        handoff = self.store.handoff(token, consume=True)
        if handoff is None:
            return error(403, "browser handoff token is invalid or expired")
        return self._session_response(self.store.open_console(handoff.identity))

    # Console API ---------------------------------------------------------------

    async def list_approvals(self, request: Request) -> Response:
        """``GET /console/v1/approvals``."""
        login = self._console(request, csrf=False)
        if isinstance(login, Response):
            return login
        try:
            limit = int(request.query.get("limit", "100"))
        except ValueError:
            return error(400, "limit must be a number")
        if not 1 <= limit <= 500:
            return error(400, "limit must be between 1 and 500")
        page, cursor = self.store.list_approvals(
            after=request.query.get("after_approval_id", ""),
            limit=limit,
            subject_id=request.query.get("subject_id", ""),
            principal=request.query.get("principal", ""),
            decision=request.query.get("decision", ""),
        )
        return Response.json(
            200,
            {
                "approvals": [proto.approval_json(record) for record in page],
                "next_after_approval_id": cursor or None,
                "page": {"limit": limit, "returned": len(page), "has_more": bool(cursor)},
            },
        )

    def _approval(self, request: Request, *, csrf: bool) -> SimApproval | Response:
        """The approval a route names, or the error palyrad answers with."""
        login = self._console(request, csrf=csrf)
        if isinstance(login, Response):
            return login
        approval_id = request.params["approval_id"]
        if not valid_ulid(approval_id):
            return error(400, "approval_id must be a canonical ULID")
        record = self.store.approvals.get(approval_id)
        if record is None:
            return error(404, f"approval record not found: {approval_id}")
        return record

    async def get_approval(self, request: Request) -> Response:
        """``GET /console/v1/approvals/{id}``."""
        record = self._approval(request, csrf=False)
        if isinstance(record, Response):
            return record
        return Response.json(200, {"approval": proto.approval_json(record)})

    async def decide(self, request: Request) -> Response:
        """``POST /console/v1/approvals/{id}/decision`` (updates the journal record)."""
        record = self._approval(request, csrf=True)
        if isinstance(record, Response):
            return record
        try:
            body = request.json()
        except ValueError:
            return error(400, "request body must be JSON")
        approved = body.get("approved")
        if not isinstance(approved, bool):
            return error(400, "approved must be a boolean")
        scope = str(body.get("decision_scope") or "once")
        if scope not in proto.SCOPES:
            return error(400, "decision_scope must be once, session or timeboxed")
        ttl = body.get("decision_scope_ttl_ms") or 0
        if not isinstance(ttl, int) or (scope == "timeboxed" and ttl <= 0):
            return error(400, "decision_scope_ttl_ms must be a positive integer for timeboxed")
        reason = str(
            body.get("reason") or ("approved_by_console" if approved else "denied_by_console")
        )
        self.store.resolve_approval(record, "allow" if approved else "deny", scope, reason, ttl)
        if record.subject_type == "device_pairing":
            self.pairing.apply(record.approval_id, approved, reason)
        return Response.json(200, {"approval": proto.approval_json(record), "dm_pairing": None})

    async def diagnostics(self, request: Request) -> Response:
        """``GET /console/v1/diagnostics`` (a small subset of palyrad's sections)."""
        login = self._console(request, csrf=False)
        if isinstance(login, Response):
            return login
        return Response.json(
            200,
            {
                "contract": {"contract_version": "control-plane.v1"},
                "generated_at_unix_ms": now_ms(),
                "model_provider": {"kind": "deterministic", "last_error": None},
                "rate_limits": {
                    "admin_api_window_ms": int(RATE_WINDOW_S * 1000),
                    "admin_api_max_requests_per_window": LOOPBACK_RATE,
                    "denied_requests_total": self.store.counters.get("denied_requests", 0),
                },
                "browserd": {"enabled": False, "health": "disabled"},
                "observability": {"recent_failures": [], "failure_classes": {}},
            },
        )

    async def catalog(self, request: Request) -> Response:
        """``GET /console/v1/sessions``: this login's sessions, newest first."""
        login = self._console(request, csrf=False)
        if isinstance(login, Response):
            return login
        try:
            limit = max(1, min(int(request.query.get("limit", "16")), 128))
        except ValueError:
            return error(400, "limit must be a number")
        include_archived = request.query.get("include_archived", "false") == "true"
        return Response.json(
            200, console_chat.catalog(self.store, login.identity, limit, include_archived)
        )

    async def transcript(self, request: Request) -> Response:
        """``GET /console/v1/chat/sessions/{id}/transcript``."""
        login = self._console(request, csrf=False)
        if isinstance(login, Response):
            return login
        session = self.store.sessions.get(request.params["session_id"])
        if session is None:
            return error(404, f"orchestrator session not found: {request.params['session_id']}")
        if session.owner != login.identity:
            return error(403, "session belongs to another context")
        return Response.json(200, console_chat.transcript(self.store, session))

    async def openai_state(self, request: Request) -> Response:
        """``GET /console/v1/auth/providers/openai``."""
        login = self._console(request, csrf=False)
        if isinstance(login, Response):
            return login
        return Response.json(200, self.openai.state())

    async def openai_api_key(self, request: Request) -> Response:
        """``POST /console/v1/auth/providers/openai/api-key`` (see :mod:`.providers`)."""
        login = self._console(request, csrf=True)
        if isinstance(login, Response):
            return login
        return await self.openai.connect(request)

    # Internals -------------------------------------------------------------------

    def _health(self) -> dict[str, object]:
        return health_fields(self.store)

    def _admin(self, request: Request) -> Identity | Response:
        try:
            return authorize(self.store.settings, request.headers)
        except AuthFailure as failure:
            self.store.count("denied_requests")
            status = {
                FailureKind.TOKEN: 401,
                FailureKind.CONTEXT: 400,
                FailureKind.NOT_CONFIGURED: 503,
            }[failure.kind]
            return error(status, str(failure))

    def _console(self, request: Request, *, csrf: bool) -> ConsoleLogin | Response:
        token = request.cookie(COOKIE)
        if not token:
            return error(403, "console session cookie is missing")
        login = self.store.console_login(token)
        if login is None:
            return error(403, "console session is missing or expired")
        if csrf:
            supplied = request.headers.get("x-palyra-csrf-token", "")
            if not supplied:
                return error(403, "missing CSRF token for console request")
            if not token_matches(supplied, login.csrf_token):
                return error(403, "CSRF token is invalid")
        return login

    def _session_response(self, login: ConsoleLogin) -> Response:
        document: dict[str, object] = {
            "principal": login.identity.principal,
            "device_id": login.identity.device_id,
            "csrf_token": login.csrf_token,
            "issued_at_unix_ms": login.issued_ms,
            "expires_at_unix_ms": login.expires_ms,
        }
        if login.identity.channel:
            document["channel"] = login.identity.channel
        cookie = (
            f"{COOKIE}={login.token}; Max-Age={CONSOLE_TTL_MS // 1000}; Path=/; HttpOnly; "
            "SameSite=Lax"
        )
        return Response.json(200, document, ("set-cookie", cookie))

    def _rate_limit(self, request: Request) -> Response | None:
        if request.path == "/healthz" or (request.method, request.path) in RATE_EXEMPT:
            return None
        now = time.monotonic()
        if now - self._window_start >= RATE_WINDOW_S:
            self._window_start = now
            self._window_counts = {}
        count = self._window_counts.get(request.peer, 0) + 1
        self._window_counts[request.peer] = count
        limit = (
            LOOPBACK_RATE
            if request.peer.startswith("127.") or request.peer == "::1"
            else OTHER_RATE
        )
        if count > limit:
            return error(429, f"admin API rate limit exceeded for {request.peer}")
        return None
