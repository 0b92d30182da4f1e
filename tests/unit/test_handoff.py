"""Dashboard handoff values and routes: where each scope leads, what may be opened."""

from __future__ import annotations

import pytest

from palyra_tui.models.handoff import Handoff, HandoffScope, check_openable
from palyra_tui.state.handoff import LOOPBACK_ONLY, loopback_base, redirect_path, scope_redirect

SESSION = "01JQ7P4NQ2T7K5XG0C9M3E8AAA"
RUN = "01JQ7P4NQ2T7K5XG0C9M3E8BBB"
APPROVAL = "01JQ7P4NQ2T7K5XG0C9M3E8CCC"


@pytest.mark.parametrize(
    ("section", "route"),
    [
        ("", "/#/control/overview"),
        ("overview", "/#/control/overview"),
        ("home", "/#/control/overview"),
        ("canvas", "/#/chat/canvas"),
        ("chat", "/#/chat"),
        ("approvals", "/#/control/approvals"),
        ("browser", "/#/control/browser"),
        ("channels", "/#/control/channels"),
        ("access", "/#/settings/access"),
        ("auth", "/#/settings/profiles"),
        ("onboarding", "/#/settings/profiles"),
        ("config", "/#/settings/config"),
        ("secrets", "/#/settings/secrets"),
        ("operations", "/#/settings/diagnostics"),
        ("/#/custom/page", "/#/custom/page"),
        ("memory", "/#/control/memory"),
    ],
)
def test_each_section_has_its_route(section: str, route: str) -> None:
    assert redirect_path(section) == route


def test_parameters_keep_their_order_are_encoded_and_blank_ones_are_left_out() -> None:
    path = redirect_path(
        "chat",
        {
            "source": "terminal",
            "intent": "Inspect_Run",
            "runId": RUN,
            "sessionId": "a b&c=d/é",
            "deviceId": "  ",
            "unknown": "x",
        },
    )
    assert path == (
        f"/#/chat?sessionId=a%20b%26c%3Dd%2F%C3%A9&runId={RUN}&intent=inspect-run&source=terminal"
    )


@pytest.mark.parametrize("intent", ["review-approvals", "onboarding", "approve now", ""])
def test_an_intent_the_web_console_does_not_know_is_dropped(intent: str) -> None:
    assert redirect_path("approvals", {"intent": intent}) == "/#/control/approvals"


def test_each_scope_leads_to_its_page() -> None:
    pending = [(APPROVAL, SESSION, RUN)]
    assert scope_redirect(HandoffScope.overview()) == "/#/control/overview"
    assert scope_redirect(HandoffScope.chat(SESSION)) == (
        f"/#/chat?sessionId={SESSION}&intent=resume-session"
    )
    assert scope_redirect(HandoffScope.run(SESSION, RUN)) == (
        f"/#/chat?sessionId={SESSION}&runId={RUN}&intent=inspect-run"
    )
    assert scope_redirect(HandoffScope.approval(APPROVAL), pending) == (
        f"/#/control/approvals?sessionId={SESSION}&runId={RUN}&intent=approve"
    )
    assert scope_redirect(HandoffScope.approval("01JQ7P4NQ2T7K5XG0C9M3EGONE"), pending) == (
        "/#/control/approvals?intent=approve"
    )


@pytest.mark.parametrize(
    "base", ["http://[::1]:7142", "http://localhost:7142", "http://127.0.0.2:7142", "garbage"]
)
def test_only_a_console_on_127_0_0_1_hands_off(base: str) -> None:
    with pytest.raises(ValueError, match=LOOPBACK_ONLY):
        loopback_base(base)
    assert loopback_base("http://127.0.0.1:7142/") == "http://127.0.0.1:7142"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://127.0.0.1/x", "only supports http"),
        ("file:///etc/passwd", "only supports http"),
        ("http://user@127.0.0.1:7142/?token=t", "embedded credentials"),
        ("http://:pw@127.0.0.1:7142/?token=t", "embedded credentials"),
        ("http:///no-host", "valid absolute URL"),
        ("/relative?token=t", "only supports http"),
        ("http://127.0.0.1:99999/", "valid absolute URL"),
        ("http://127.0.0.1:7142/?token=t\x1b\\", "valid absolute URL"),
        ("http://127.0.0.1:7142/ ?token=t", "valid absolute URL"),
        ("", "valid absolute URL"),
    ],
)
def test_a_url_is_checked_before_a_browser_opens_it(url: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        check_openable(url)


def test_a_handoff_never_shows_its_url() -> None:
    url = "http://127.0.0.1:7142/console/v1/auth/browser-handoff/consume?token=s3cr3t"
    handoff = Handoff(url, 100.0, "/#/control/overview", HandoffScope.overview())
    assert check_openable(url) == url
    assert "s3cr3t" not in repr(handoff) and "s3cr3t" not in str(handoff)
    assert handoff.remaining(70.0) == 30.0 and handoff.remaining(130.0) == 0.0
