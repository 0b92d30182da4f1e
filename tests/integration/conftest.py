"""Fixtures of the integration tests that drive the CLI against a real runtime host."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.integration.cli_support import StartHost, start_hosts


@pytest.fixture
async def cli_host(tmp_path: Path) -> AsyncIterator[StartHost]:
    """``await cli_host(extra_services, **top)`` starts a detached host, stopped afterwards."""
    async for start in start_hosts(tmp_path):
        yield start
