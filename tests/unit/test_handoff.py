"""Dashboard handoff values and routes: where each scope leads, what may be opened."""

from __future__ import annotations

import pytest

from palyra_tui.models.handoff import Handoff, HandoffScope, check_openable
from palyra_tui.state.handoff import LOOPBACK_ONLY, loopback_base, redirect_path, scope_redirect
from palyra_tui.state.ssh_tunnel import ssh_session, tunnel_command

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
        "/#/control/approvals"
    )
    assert scope_redirect(HandoffScope.approvals(), pending) == "/#/control/approvals"
    assert scope_redirect(HandoffScope.chat("")) == "/#/chat"


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


@pytest.mark.parametrize(
    ("connection", "line"),
    [
        ("198.51.100.7 52114 203.0.113.5 22", "ssh -L 7142:127.0.0.1:7142 alice@203.0.113.5"),
        ("2001:db8::7 52114 2001:db8::5 22", "ssh -L 7142:127.0.0.1:7142 alice@2001:db8::5"),
        (
            "2001:db8::7 52114 2001:0db8:0000::0005 2222",
            "ssh -L 7142:127.0.0.1:7142 -p 2222 alice@2001:db8::5",
        ),
        ("fe80::7%eth0 52114 fe80::5%eth0 22", "ssh -L 7142:127.0.0.1:7142 alice@fe80::5"),
        (
            "::ffff:198.51.100.7 52114 ::ffff:203.0.113.5 22",
            "ssh -L 7142:127.0.0.1:7142 alice@203.0.113.5",
        ),
        ("garbage", "ssh -L 7142:127.0.0.1:7142 alice@<server>"),
        ("1.2.3.4 5 not-an-address 22", "ssh -L 7142:127.0.0.1:7142 alice@<server>"),
        ("1.2.3.4 5 10.0.0.5 99999", "ssh -L 7142:127.0.0.1:7142 alice@10.0.0.5"),
    ],
)
def test_the_tunnel_line_names_the_server_address_and_port_of_the_session(
    connection: str, line: str
) -> None:
    session = ssh_session({"SSH_CONNECTION": connection, "USER": "alice"})
    assert session is not None
    assert tunnel_command(session, 7142) == line


def test_the_tunnel_line_takes_the_login_name_and_quotes_it() -> None:
    connection = "198.51.100.7 52114 203.0.113.5 22"
    logname = ssh_session({"SSH_CONNECTION": connection, "LOGNAME": "bob"})
    assert (
        logname is not None
        and tunnel_command(logname, 80) == "ssh -L 80:127.0.0.1:80 bob@203.0.113.5"
    )
    odd = ssh_session({"SSH_CONNECTION": connection, "USER": "o'neil smith"})
    assert odd is not None
    assert tunnel_command(odd, 80) == "ssh -L 80:127.0.0.1:80 'o'\"'\"'neil smith@203.0.113.5'"
    controls = ssh_session({"SSH_CONNECTION": connection, "USER": "eve\x1b]52;c;x\x07"})
    assert controls is not None and controls.user == ""
    assert tunnel_command(controls, 80) == "ssh -L 80:127.0.0.1:80 <user>@203.0.113.5"
    assert ssh_session({}) is None and ssh_session({"SSH_CONNECTION": " "}) is None


def test_without_user_or_logname_the_password_database_names_the_user() -> None:
    import os
    import pwd

    session = ssh_session({"SSH_CONNECTION": "1.2.3.4 5 10.0.0.5 22"})
    assert session is not None and session.user == pwd.getpwuid(os.getuid()).pw_name
