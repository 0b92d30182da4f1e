"""browserd as the supervisor starts it: its engine settings and its token reach it through
its environment, and its command line (which ``ps`` shows) holds no token."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from palyra_tui.cli.demo import sim_command
from palyra_tui.models import ServiceState
from palyra_tui.secrets import RuntimeSecrets
from palyra_tui.supervisor import Supervisor
from tests.conftest import eventually, make_config, next_state

OpenSupervisor = Callable[..., Supervisor]


def environ_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {key.decode(errors="replace"): value.decode(errors="replace") for key, value in pairs}


async def test_the_reference_browserd_gets_its_engine_from_the_environment(
    tmp_path: Path, open_supervisor: OpenSupervisor
) -> None:
    """The reference browserd defaults to ``--engine-mode chromium`` like palyra-browserd, so
    the ``simulated`` it reports came from the environment palyra-tui gave it."""
    config = make_config(
        tmp_path,
        {
            "browserd": {
                "command": sim_command("browserd", "--port", "0", "--grpc-port", "0"),
                "enabled": True,
            }
        },
        runtime={
            "browserd_port": 0,
            "browserd_grpc_port": 0,
            "browser_engine": "simulated",
            "browser_chromium_path": "/opt/chromium/chrome",
        },
    )
    tokens = RuntimeSecrets.generate()
    supervisor = open_supervisor(config, tokens=tokens)
    events = supervisor.subscribe_events()
    await supervisor.start("browserd")
    started = await next_state(events, "browserd", ServiceState.STARTING)
    assert started.pid is not None

    def startup() -> dict[str, str]:
        for line in supervisor.tail("browserd", 50):
            if line.message == "browser service startup":
                return dict(line.fields)
        return {}

    assert await eventually(lambda: bool(startup())), [
        line.text for line in supervisor.tail("browserd", 50)
    ]
    assert startup()["engine_mode"] == "simulated"
    assert startup()["chromium_path"] == "/opt/chromium/chrome"
    assert startup()["auth_enabled"] == "true"

    cmdline = Path(f"/proc/{started.pid}/cmdline").read_bytes().split(b"\0")
    assert b"browserd" in cmdline
    assert not [arg for arg in cmdline if tokens.browser_token.encode() in arg]
    assert not [arg for arg in cmdline if b"auth-token" in arg or b"chrom" in arg]
    environ = environ_of(started.pid)
    assert environ["PALYRA_BROWSERD_AUTH_TOKEN"] == tokens.browser_token
    assert environ["PALYRA_BROWSERD_ENGINE_MODE"] == "simulated"
    assert environ["PALYRA_BROWSERD_CHROMIUM_PATH"] == "/opt/chromium/chrome"
