"""The preflight's result types: one check each, and all of them together.

``palyra-tui doctor`` prints them and the onboarding's Environment step shows
them, so they sit at the bottom with the other shared values."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class CheckStatus(enum.Enum):
    """How one check came out; ``blocked`` keeps the runtime from working."""

    OK = "ok"
    WARNING = "warning"
    BLOCKED = "blocked"


@dataclass(frozen=True, slots=True)
class Check:
    """One preflight check: what it is, how it came out, and what to do."""

    key: str
    label: str
    status: CheckStatus
    detail: str
    hint: str = ""


@dataclass(frozen=True, slots=True)
class Preflight:
    """Every check, in order."""

    checks: tuple[Check, ...]

    @property
    def blocked(self) -> int:
        """How many checks are blocked."""
        return sum(check.status is CheckStatus.BLOCKED for check in self.checks)

    @property
    def warnings(self) -> int:
        """How many checks warn."""
        return sum(check.status is CheckStatus.WARNING for check in self.checks)

    @property
    def status(self) -> CheckStatus:
        """The worst status of any check."""
        if self.blocked:
            return CheckStatus.BLOCKED
        return CheckStatus.WARNING if self.warnings else CheckStatus.OK
