"""The preflight's result types (they live in :mod:`palyra_tui.models.preflight`)."""

from __future__ import annotations

from palyra_tui.models.preflight import Check, CheckStatus, Preflight

__all__ = ["Check", "CheckStatus", "Preflight"]
