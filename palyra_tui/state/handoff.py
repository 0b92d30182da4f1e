"""Where a dashboard handoff leads: the web console's hash routes and their parameters.

A scope becomes a redirect path such as ``/#/chat?sessionId=01J…&intent=resume-session``;
palyrad sends the browser there once the handoff URL is opened.  The section
words, their routes, the parameters (in this order) and the intents the web
console understands are the desktop companion's, so both open the same pages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import quote, urlsplit

from palyra_tui.models.handoff import HandoffScope, HandoffSection

NOT_HEALTHY = (
    "local runtime is not healthy yet; start or refresh Palyra before opening the dashboard"
)
LOOPBACK_ONLY = "dashboard browser handoff only supports loopback dashboard URLs"
LOOPBACK_HOST = "127.0.0.1"
OVERVIEW_ROUTE = "/#/control/overview"

ROUTES = {
    "canvas": "/#/chat/canvas",
    "chat": "/#/chat",
    "approvals": "/#/control/approvals",
    "browser": "/#/control/browser",
    "channels": "/#/control/channels",
    "access": "/#/settings/access",
    "auth": "/#/settings/profiles",
    "onboarding": "/#/settings/profiles",
    "config": "/#/settings/config",
    "secrets": "/#/settings/secrets",
    "operations": "/#/settings/diagnostics",
    "overview": OVERVIEW_ROUTE,
    "home": OVERVIEW_ROUTE,
}
PARAMETERS = ("sessionId", "runId", "deviceId", "objectiveId", "canvasId", "intent", "source")
INTENTS = frozenset(
    {
        "approve",
        "inspect-access",
        "inspect-diagnostics",
        "inspect-run",
        "open-workspace",
        "reopen-canvas",
        "resume-session",
    }
)


def normalise_intent(raw: str) -> str:
    """An intent the web console knows (``_`` read as ``-``, any case), or ""."""
    intent = raw.strip().replace("_", "-").lower()
    return intent if intent in INTENTS else ""


def redirect_path(section: str, parameters: Mapping[str, str] | None = None) -> str:
    """The dashboard path of a section word, with its non-blank parameters.

    A word of the route table gets its route; one starting with ``/`` is used as
    it is; any other word is ``/#/control/<word>``.  Values are percent-encoded
    (only ``A-Z a-z 0-9 - _ . ~`` stay), and an intent outside the web console's
    list is left out.
    """
    given = parameters or {}
    word = section.strip() or "overview"
    pairs: list[str] = []
    for key in PARAMETERS:
        value = given.get(key, "").strip()
        if key == "intent":
            value = normalise_intent(value)
        if value:
            pairs.append(f"{key}={quote(value, safe='-_.~')}")
    if word in ROUTES:
        base = ROUTES[word]
    elif word.startswith("/"):
        base = word
    else:
        base = f"/#/control/{quote(word, safe='-_.~')}"
    return f"{base}?{'&'.join(pairs)}" if pairs else base


def scope_redirect(scope: HandoffScope, approvals: Iterable[tuple[str, str, str]] = ()) -> str:
    """The redirect path of a scope; ``approvals`` are ``(approval id, session id, run id)``
    of the approvals pending now, which an approval scope is looked up in.  A scope
    whose session or approval is unknown opens the section itself."""
    if scope.section is HandoffSection.CHAT:
        if not scope.session_id:
            return ROUTES["chat"]
        return redirect_path("chat", {"sessionId": scope.session_id, "intent": "resume-session"})
    if scope.section is HandoffSection.RUN:
        return redirect_path(
            "chat",
            {"sessionId": scope.session_id, "runId": scope.run_id, "intent": "inspect-run"},
        )
    if scope.section is HandoffSection.APPROVALS:
        for approval_id, session_id, run_id in approvals:
            if scope.approval_id and approval_id == scope.approval_id:
                return redirect_path(
                    "approvals", {"sessionId": session_id, "runId": run_id, "intent": "approve"}
                )
        return ROUTES["approvals"]
    return OVERVIEW_ROUTE


def loopback_base(base_url: str) -> str:
    """The gateway's console address if its host is exactly ``127.0.0.1`` (the host
    palyrad names in every handoff URL), else ValueError saying the handoff is
    loopback-only."""
    try:
        host = urlsplit(base_url).hostname
    except ValueError:
        host = None
    if host != LOOPBACK_HOST:
        raise ValueError(LOOPBACK_ONLY)
    return base_url.rstrip("/")
