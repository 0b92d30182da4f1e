"""``palyra-tui status`` against a real runtime host: healthy, degraded, no host."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import child
from tests.integration.cli_support import (
    Ran,
    StartHost,
    cli_env,
    run_cli,
    until_cli,
    write_config,
)


async def test_status_json_of_a_healthy_runtime(cli_host: StartHost) -> None:
    host = await cli_host()

    def settled(ran: Ran) -> bool:
        if ran.code != 0:
            return False
        gateway = _service(ran.json(), "gateway")
        return bool(gateway["state"] == "running" and gateway["health"]["state"] == "healthy")

    ran = await until_cli(host.path, ("status", "--json"), settled)
    assert ran.code == 0, ran.err
    document = ran.json()
    assert document["overall"] == "healthy"
    assert document["host"]["pid"] == host.pid
    assert document["host"]["state_root"] == str(host.config.state_root)
    assert document["gateway"]["connection"] == "connected"
    assert document["gateway"]["version"]
    services = {service["name"]: service for service in document["services"]}
    assert list(services) == ["gateway", "browserd", "node_host"]
    gateway = services["gateway"]
    assert gateway["state"] == "running" and gateway["pid"] > 0 and gateway["uptime"] >= 0
    assert gateway["health"]["state"] == "healthy"
    assert gateway["restarts"] == 0 and gateway["unwell"] is False
    assert services["browserd"]["state"] == "stopped" and services["browserd"]["pid"] is None
    assert document["approvals"] == [] and document["runs"] == [] and document["drafts"] == 0


async def test_a_crashing_service_makes_status_exit_1(cli_host: StartHost) -> None:
    crashing = {"command": child("exit", "3"), "restart": "always", "max_restarts": 1}
    host = await cli_host({"crashing": crashing})

    def failed(ran: Ran) -> bool:
        return ran.out != "" and _service(ran.json(), "crashing")["state"] == "failed"

    ran = await until_cli(host.path, ("status", "--json"), failed)
    assert ran.code == 1
    document = ran.json()
    assert document["overall"] in ("degraded", "down")
    service = _service(document, "crashing")
    assert service["unwell"] is True and service["pid"] is None
    assert service["last_exit"]["code"] == 3 and service["restarts"] == 1
    text = await host.cli("status")
    assert text.code == 1
    assert text.out.split(" · ")[0] in ("degraded", "down")
    assert "crashing" in text.out and "failed" in text.out
    assert "\x1b" not in text.out


def _service(document: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in document["services"] if s["name"] == name)


async def test_status_without_a_host_is_exit_4(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    ran = await run_cli(path, "status")
    assert ran.code == 4
    assert ran.out == ""
    assert ran.err.startswith("palyra-tui: no runtime host is running")
    assert ran.err.count("\n") == 1
    as_json = await run_cli(path, "status", "--json")
    assert as_json.code == 4
    error = as_json.error()
    assert error["code"] == 4 and "no runtime host" in error["error"]


async def test_a_usage_error_with_json_is_json(tmp_path: Path) -> None:
    ran = await run_cli(write_config(tmp_path), "status", "--json", "--bogus")
    assert ran.code == 2
    assert ran.error()["code"] == 2 and "--bogus" in ran.error()["error"]


async def test_status_loads_neither_textual_nor_rich_nor_the_chat_models(
    cli_host: StartHost,
) -> None:
    host = await cli_host()
    code = (
        "import sys\n"
        "from palyra_tui.__main__ import _main\n"
        "_main(['status', '--json'])\n"
        "loaded = {m.split('.')[0] for m in sys.modules}\n"
        "print(sorted(loaded & {'textual', 'rich', 'grpc_reflection'}),"
        " 'palyra_tui.state.chat' in sys.modules, file=sys.stderr)\n"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        code,
        env=cli_env(host.path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert json.loads(out)["host"]["pid"] == host.pid
    assert err.decode().strip().splitlines()[-1] == "[] False"
