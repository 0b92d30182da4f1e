"""Secrets never survive redaction: by value, by key, by shape."""

from __future__ import annotations

import pytest

from palyra_tui.text import MARK, Redactor, sanitize
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


@pytest.mark.parametrize(
    "shown",
    [
        "tok%2fen%2bwith%3dchars",
        "tok%2Fen%2Bwith%3Dchars",
        "tok/en%2Bwith%3Dchars",
        "tok/en%2bwith%3dchars",
    ],
)
def test_percent_encoded_forms_of_either_hex_case_are_redacted(shown: str) -> None:
    redactor = Redactor(["tok/en+with=chars"])
    assert redactor.redact(f"GET /cb?code={shown}&x=1") == f"GET /cb?code={MARK}&x=1"


@pytest.mark.parametrize(
    ("secret", "shown"),
    [
        ("pass/word-123", "pass\\/word-123"),
        ('quo"ted-secret', 'quo\\"ted-secret'),
        ("back\\slash-secret", "back\\\\slash-secret"),
        ("pässwörd-123", "p\\u00e4ssw\\u00f6rd-123"),
        ("pässwörd-123", "p\\u00E4ssw\\u00F6rd-123"),
        ("a<b>&c-secret", "a\\u003cb\\u003e\\u0026c-secret"),
    ],
)
def test_json_escaped_forms_inside_text_are_redacted(secret: str, shown: str) -> None:
    redactor = Redactor([secret])
    line = f'request failed body="{{\\"key\\":\\"{shown}\\"}}" retry=1'
    redacted = redactor.redact(line)
    assert shown not in redacted
    assert MARK in redacted and redacted.endswith(" retry=1")


@pytest.mark.parametrize(
    "mark", ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u200e", "\u061c", "\u202e"]
)
def test_invisible_characters_inside_a_known_secret_do_not_hide_it(mark: str) -> None:
    secret = "zero-width-secret-42"
    redactor = Redactor([secret])
    raw = f"value {secret[:4]}{mark}{secret[4:9]}{mark}{secret[9:]} end"
    assert redactor.redact(raw) == f"value {MARK} end"
    shown = sanitize(raw)
    assert redactor.redact(shown) == f"value {MARK} end"
    escaped = raw.replace(mark, f"\\u{ord(mark):04X}")
    assert redactor.redact(escaped) == f"value {MARK} end"


def test_visible_marks_are_kept_where_no_secret_hides_behind_them() -> None:
    redactor = Redactor(["zero-width-secret-42"])
    text = sanitize("pay\u200bpal\nzero-\u200bwidth-secret-42\nok\u200bok")
    assert redactor.redact(text) == f"pay\\u200bpal\n{MARK}\nok\\u200bok"


def test_an_invisible_character_inside_a_secret_word_does_not_hide_the_value() -> None:
    redacted = Redactor().redact(sanitize("pass\u200bword=hunter22secret next"))
    assert "hunter22secret" not in redacted
    assert redacted == f"password={MARK} next"


@pytest.mark.parametrize(
    "text",
    [
        '{"pem":"-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\n'
        '-----END PRIVATE KEY-----\\n","n":1}',
        '{"pem":"-----BEGIN RSA PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC',
        "key -----BEGIN PRIVATE KEY----- MIIEvQIBADANBgkqhkiG9w0BAQEFAASC and more",
    ],
)
def test_a_private_key_inside_one_line_is_redacted(text: str) -> None:
    redacted = Redactor().redact(text)
    assert "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" not in redacted
    assert MARK in redacted


def test_a_lone_pem_header_is_left_for_the_block_filter() -> None:
    text = "docs: -----BEGIN RSA PRIVATE KEY----- is the header\n-----BEGIN PRIVATE KEY-----"
    assert Redactor().redact(text) == text
