"""A support bundle that was written: where, how big, and what it holds."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SupportBundle:
    """One archive an operator attaches to a bug report."""

    path: str
    """Where it was written (absolute)."""
    size: int
    """Its size in bytes."""
    members: tuple[str, ...] = ()
    """The names of its members, in the order they were written."""

    @property
    def shown_size(self) -> str:
        """``812 bytes``, ``41.2 KiB``, ``3.1 MiB``."""
        if self.size < 1024:
            return f"{self.size} bytes"
        if self.size < 1024 * 1024:
            return f"{self.size / 1024:.1f} KiB"
        return f"{self.size / (1024 * 1024):.1f} MiB"


@dataclass(frozen=True, slots=True)
class BundleRequest:
    """Write a support bundle to ``path`` (absolute), or to the default place ("")."""

    path: str = ""
