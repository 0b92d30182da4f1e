"""Asking the gateway for a dashboard handoff on behalf of the runtime.

The runtime refuses while the gateway is not healthy (the desktop companion's
sentence), leads an approval scope to the approval's session and run as the
inbox knows them, takes only a console on ``127.0.0.1``, and keeps the URL
nowhere: it is handed back to the one caller.
"""

from __future__ import annotations

from palyra_tui.client.errors import ClientError, GatewayUnreachable
from palyra_tui.models.clock import Clock
from palyra_tui.models.handoff import HANDOFF_TTL, Handoff, HandoffScope
from palyra_tui.state.gateway_link import GatewayLink
from palyra_tui.state.handoff import NOT_HEALTHY, loopback_base, scope_redirect
from palyra_tui.state.runtime_api import RuntimeView


async def grant_handoff(
    view: RuntimeView, link: GatewayLink, clock: Clock, scope: HandoffScope
) -> Handoff:
    """A one-time URL for ``scope``; raises ClientError with the reason there is none.

    A remote profile's dashboard is its own address with the scope's route, opened as it
    is: palyrad names ``127.0.0.1`` in every handoff URL, so a token could only sign in a
    browser on the gateway's machine.
    """
    approvals = ((e.approval_id, e.session_id, e.run_id) for e in view.inbox)
    if link.remote is not None:
        redirect = scope_redirect(scope, approvals)
        return Handoff(link.remote.http_base + redirect, 0.0, redirect, scope, one_time=False)
    if view.snapshot.gateway_health is None or not view.dashboard_url:
        raise GatewayUnreachable(NOT_HEALTHY)
    redirect = scope_redirect(scope, approvals)
    try:
        loopback_base(view.dashboard_url)
        http = await link.http(view.dashboard_url)
        granted = await http.browser_handoff(redirect)
    except ValueError as error:
        raise ClientError(str(error)) from None
    now = clock.time()
    expires = granted.expires_at_ms / 1000 if granted.expires_at_ms > 0 else now + HANDOFF_TTL
    return Handoff(granted.url, min(expires, now + HANDOFF_TTL), redirect, scope)
