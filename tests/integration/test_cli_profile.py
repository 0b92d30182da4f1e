"""``palyra-tui profile list|use`` with a runtime host and without one."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from palyra_tui.state.state_file import state_path
from tests.conftest import pids_alive
from tests.integration.cli_support import (
    StartHost,
    run_cli,
    start_hosts,
    until_cli,
    use_catalog,
    write_config,
)

CATALOG = """
[profiles.lab]
daemon_url = "http://127.0.0.1:7142"
label = "Lab bench"

[profiles.staging]
daemon_url = "http://localhost:7142"
strict_mode = true
"""


@pytest.fixture
async def hosts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[StartHost]:
    use_catalog(monkeypatch, tmp_path / "profiles.toml", CATALOG)
    async for start in start_hosts(tmp_path):
        yield start


def kept_active(tmp_path: Path) -> str:
    document = json.loads(state_path(tmp_path / "state" / "tui").read_text())
    active = document["active_profile"]
    assert isinstance(active, str)
    return active


async def test_list_and_use_through_the_runtime_host(hosts: StartHost) -> None:
    host = await hosts()
    listed = await host.cli("profile", "list", "--json")
    assert listed.code == 0, listed.err
    document = listed.json()
    assert document["active"] == "local" and document["runtime_running"] is True
    assert [(p["name"], p["strict"], p["risk_level"]) for p in document["profiles"]] == [
        ("local", False, "low"),
        ("lab", False, "low"),
        ("staging", True, "high"),
    ]
    ran = await until_cli(
        host.path,
        ("status", "--json"),
        lambda r: any(s["state"] == "running" for s in r.json()["services"]),
    )
    gateway = next(s for s in ran.json()["services"] if s["name"] == "gateway")
    refused = await host.cli("profile", "use", "staging")
    assert refused.code == 2
    assert "strict: type its name to confirm" in refused.err
    assert pids_alive([gateway["pid"]]) == [gateway["pid"]]
    wrong = await host.cli("profile", "use", "staging", "--confirm", "lab", "--json")
    assert wrong.code == 2 and wrong.error()["code"] == 2
    used = await host.cli("profile", "use", "staging", "--confirm", "staging")
    assert used.code == 0, used.err
    assert "the runtime was paused so the profiles stay apart" in used.out
    assert pids_alive([gateway["pid"]]) == []
    table = await host.cli("profile", "list")
    assert table.code == 0
    (active,) = [line for line in table.out.splitlines() if line.startswith("*")]
    assert "staging" in active and "strict" in active and "high" in active
    again = await host.cli("profile", "use", "staging")
    assert again.code == 0 and "already using" in again.out
    unknown = await host.cli("profile", "use", "nowhere")
    assert unknown.code == 2 and "'nowhere' is not available" in unknown.err


async def test_use_without_a_runtime_host_is_what_the_next_start_opens_on(
    hosts: StartHost, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config(tmp_path, {"gateway": {"enabled": False}})
    listed = await run_cli(path, "profile", "list")
    assert listed.code == 0, listed.err
    assert "no runtime host is running" in listed.out
    refused = await run_cli(path, "profile", "use", "staging")
    assert refused.code == 2
    assert not state_path(tmp_path / "state" / "tui").exists()
    used = await run_cli(path, "profile", "use", "lab")
    assert used.code == 0, used.err
    assert "next start opens on it" in used.out
    assert kept_active(tmp_path) == "lab"
    host = await hosts({"gateway": {"enabled": False}})
    status = await host.cli("profile", "list", "--json")
    assert status.json()["active"] == "lab"
    assert status.json()["runtime_running"] is True
