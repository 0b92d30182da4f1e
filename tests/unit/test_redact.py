"""Secrets never survive redaction: by value, by key, by shape."""

from __future__ import annotations

import pytest

from palyra_tui.text import MARK, Redactor
from palyra_tui.text.redact import is_sensitive_key


def test_desktop_acceptance_example() -> None:
    text = "authorization=very-secret url=https://local.test/cb?token=abc&mode=ok"
    redacted = Redactor().redact(text)
    assert "very-secret" not in redacted
    assert "token=<redacted>" in redacted
    assert "mode=ok" in redacted


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer abc.def.ghi", "abc.def.ghi"),
        ("curl -H 'authorization: Bearer zzz123'", "zzz123"),
        ("sending bearer tok3n-value now", "tok3n-value"),
        ('{"fields":{"api_key":"k-123456"}}', "k-123456"),
        ('{"msg":"x","headers":{\\"token\\":\\"esc-secret\\"}}', "esc-secret"),
        ("password = hunter22", "hunter22"),
        ("PALYRA_ADMIN_TOKEN=0123456789abcdef", "0123456789abcdef"),
        ("client-secret: s3cr3t-v4lue", "s3cr3t-v4lue"),
        ("set-cookie: palyra_console_session=abcdef", "abcdef"),
        ("https://alice:pa55word@host.test/path", "pa55word"),
        ("https://host.test/cb?x=1&access_token=qwerty#frag", "qwerty"),
        ("https://host.test/cb#refresh_token=frag-secret", "frag-secret"),
        ("key sk-proj-abcdefghijklmnopqrstuvwx in text", "sk-proj-abcdefghijklmnopqrstuvwx"),
        ("ghp_abcdefghijklmnopqrstuvwxyz0123456789", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
        ("aws AKIAABCDEFGHIJKLMNOP", "AKIAABCDEFGHIJKLMNOP"),
        (
            "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlLXZhbHVl",
            "eyJzdWIiOiIxMjM0In0",
        ),
        ("sig=abcdef0123 signal=SIGTERM", "abcdef0123"),
        ("palyrad --password=hunter22secret --verbose", "hunter22secret"),
        ("cli --api-key=abcdef0123456789", "abcdef0123456789"),
        ("-token=t0k3nvalue", "t0k3nvalue"),
        ("9token=t0k3nvalue", "t0k3nvalue"),
        ('{"privateKey":"k3y-material"}', "k3y-material"),
        ("Cookie: a=b; auth_session=s3ss10n", "s3ss10n"),
        ('{"cookie":"a=b; sid=s3ss10n","n":1}', "s3ss10n"),
    ],
)
def test_secret_shapes_are_redacted(text: str, secret: str) -> None:
    redacted = Redactor().redact(text)
    assert secret not in redacted
    assert MARK in redacted


@pytest.mark.parametrize(
    "text",
    [
        "session_id=01ARZ3NDEKTSV4RRFFQ69G5FAV run_id=01ARZ3NDEKTSV4RRFFQ69G5FAW",
        "max_tokens=512 prompt_tokens=12",
        "admin_token_configured=true admin_auth_required=true",
        "signal=SIGTERM design=minimal",
        "listen_addr=127.0.0.1:7142 status=200",
    ],
)
def test_ordinary_fields_are_kept(text: str) -> None:
    assert Redactor().redact(text) == text


def test_known_values_are_redacted_anywhere_and_url_encoded() -> None:
    secret = "tok/en+with=chars"
    redactor = Redactor([secret])
    text = f"start {secret} mid{secret}end url?x=tok%2Fen%2Bwith%3Dchars"
    redacted = redactor.redact(text)
    assert secret not in redacted
    assert "tok%2Fen%2Bwith%3Dchars" not in redacted
    assert redacted.count(MARK) == 3


def test_short_values_are_not_registered() -> None:
    redactor = Redactor(["abc", "   "])
    assert redactor.secrets == ()
    assert redactor.redact("abc abc") == "abc abc"


def test_truncated_tail_hides_half_a_secret() -> None:
    redactor = Redactor(["0123456789abcdef"])
    assert redactor.truncated_tail("prefix 01234567") == f"prefix {MARK}"
    assert redactor.truncated_tail("prefix 012") == "prefix 012"


def test_redaction_is_idempotent() -> None:
    redactor = Redactor(["supersecretvalue"])
    once = redactor.redact("token=supersecretvalue Bearer x1 https://u:p@h/")
    assert redactor.redact(once) == once


@pytest.mark.parametrize(
    ("key", "sensitive"),
    [
        ("token", True),
        ("X-Amz-Credential", True),
        ("private-key", True),
        ("sig", True),
        ("session_id", False),
        ("token_count", False),
        ("signal", False),
    ],
)
def test_sensitive_keys(key: str, sensitive: bool) -> None:
    assert is_sensitive_key(key) is sensitive


@pytest.mark.parametrize("prefix", ["İ" * 20 + " ", "İ ", "ẞ" * 3 + "İ" * 7 + " "])
def test_characters_that_grow_when_lowercased_do_not_shift_the_search(prefix: str) -> None:
    line = prefix + "password=hunter2secret and more"
    redacted = Redactor().redact(line)
    assert "hunter2secret" not in redacted
    assert redacted == prefix + f"password={MARK} and more"
