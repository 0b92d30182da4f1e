"""The tokens palyra-tui keeps for a state root, and what counts as a usable one."""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass, field

MAX_SECRET_BYTES = 4096
"""The largest value the store keeps or accepts (UTF-8 bytes)."""
TOKEN_BYTES = 32
"""New tokens carry 256 random bits (43 URL-safe characters)."""


class SecretName(enum.Enum):
    """Each secret the store holds for a state root; the value names its entry."""

    ADMIN_TOKEN = "admin_token"
    BROWSER_TOKEN = "browser_token"


@dataclass(frozen=True, slots=True)
class RuntimeSecrets:
    """The admin token (palyrad's ``PALYRA_ADMIN_TOKEN``, what clients send) and the browser
    token (shared by palyrad and browserd). Their values never show in a repr."""

    admin_token: str = field(repr=False)
    browser_token: str = field(repr=False)

    def __repr__(self) -> str:
        return "RuntimeSecrets(admin_token=<redacted>, browser_token=<redacted>)"

    __str__ = __repr__

    @classmethod
    def generate(cls) -> RuntimeSecrets:
        """Fresh tokens held in memory only: for a throw-away state root (the demo, the
        idle runtime behind a startup error), where nothing should be stored."""
        return cls(admin_token=new_token(), browser_token=new_token())

    def get(self, name: SecretName) -> str:
        """The value of ``name``."""
        if name is SecretName.ADMIN_TOKEN:
            return self.admin_token
        return self.browser_token

    @classmethod
    def of(cls, values: dict[SecretName, str]) -> RuntimeSecrets:
        """The secrets from a complete mapping of names to values."""
        return cls(
            admin_token=values[SecretName.ADMIN_TOKEN],
            browser_token=values[SecretName.BROWSER_TOKEN],
        )


def new_token() -> str:
    """A new random token."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def problem_with(value: str) -> str:
    """Why ``value`` cannot be a token ("" when it can). Blank values are the caller's
    business: they count as missing, not as wrong."""
    if len(value.encode("utf-8", "surrogatepass")) > MAX_SECRET_BYTES:
        return f"it is longer than {MAX_SECRET_BYTES} bytes"
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
        return "it contains control characters"
    if value != value.strip():
        return "it starts or ends with white space"
    return ""


def is_blank(value: str | None) -> bool:
    """True for a missing value or one that is only white space: both count as missing."""
    return value is None or not value.strip()
