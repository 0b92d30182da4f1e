"""``palyra-tui service install [--user] [--print]``: a systemd unit for the runtime host.

The unit runs ``palyra-tui host --foreground`` as ``Type=notify``: systemd
counts the host as started once it says ``READY=1`` (its services have
started), and stops it with SIGTERM to the host alone (``KillMode=mixed``), so
the host stops the services in order, the gateway last, each within its
``stop_timeout``; ``TimeoutStopSec`` leaves room for all of them.  The UI and
every command attach to that host as to any other.

The unit pins what the installing shell resolved: this interpreter, the config
file, the state root, ``PATH`` (where the Palyra binaries are found) and the
``PALYRA_DESKTOP_*_BIN`` overrides.  A user unit survives logout and starts at
boot once lingering is enabled (``loginctl enable-linger``).
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from palyra_tui.cli.exits import EXIT_OK
from palyra_tui.cli.failures import CommandFailed
from palyra_tui.config import Config
from palyra_tui.host.launcher import probe

UNIT = "palyra-tui.service"
STOP_MARGIN = 30
"""Seconds systemd waits beyond the services' own stop timeouts."""
START_TIMEOUT = 300
"""Seconds systemd waits for READY=1 (the services' start grace and a slow gateway)."""
PASSED_ON = (
    "PATH",
    "PALYRA_DESKTOP_PALYRAD_BIN",
    "PALYRA_DESKTOP_BROWSERD_BIN",
    "PALYRA_DESKTOP_PALYRA_BIN",
)


def unit_text(config: Config, *, user: bool, environ: Mapping[str, str], account: str = "") -> str:
    """The unit file for the host of ``config``."""
    command = [sys.executable, "-m", "palyra_tui", "host", "--foreground"]
    if config.path is not None:
        command += ["--config", str(Path(config.path).resolve())]
    stop = STOP_MARGIN + int(sum(service.stop_timeout for service in config.services) + 0.999)
    settings = [("PALYRA_STATE_ROOT", str(config.state_root)), ("PYTHONUNBUFFERED", "1")]
    settings += [(name, environ[name]) for name in PASSED_ON if environ.get(name)]
    lines = [
        "[Unit]",
        f"Description=Palyra runtime host (palyra-tui) for {_specifiers(str(config.state_root))}",
        "After=network-online.target",
        "Wants=network-online.target",
        "",
        "[Service]",
        "Type=notify",
        "NotifyAccess=main",
        f"ExecStart={' '.join(_argument(word) for word in command)}",
        *(f"Environment={_quoted(f'{key}={value}')}" for key, value in settings),
        "KillMode=mixed",
        "KillSignal=SIGTERM",
        f"TimeoutStartSec={START_TIMEOUT}",
        f"TimeoutStopSec={stop}",
        "Restart=on-failure",
        "RestartSec=5",
    ]
    if not user:
        lines.append(f"User={account or getpass.getuser()}")
    lines += ["", "[Install]", f"WantedBy={'default.target' if user else 'multi-user.target'}"]
    return "\n".join(lines) + "\n"


def unit_path(*, user: bool, environ: Mapping[str, str]) -> Path:
    """Where systemd looks for the unit: the user's config directory, or /etc."""
    if not user:
        return Path("/etc/systemd/system") / UNIT
    base = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "systemd" / "user" / UNIT


async def run_install(config: Config, *, user: bool, show: bool) -> int:
    """Write the unit (or print it) and say what to run next."""
    environ = os.environ
    account = environ.get("SUDO_USER", "") if not user else ""
    text = unit_text(config, user=user, environ=environ, account=account)
    if show:
        sys.stdout.write(text)
        return EXIT_OK
    path = unit_path(user=user, environ=environ)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    except OSError as error:
        hint = "" if user else " (run it as root, or install a user unit with --user)"
        raise CommandFailed(f"cannot write {path}: {error.strerror}{hint}") from None
    manager = "systemctl --user" if user else "systemctl"
    steps = [f"{manager} daemon-reload", f"{manager} enable --now {UNIT}"]
    if user:
        steps.append(f"loginctl enable-linger {getpass.getuser()}")
    out = [f"wrote {path}:", "", text, "next, run:", *(f"  {step}" for step in steps)]
    if user:
        out.append(
            "(enable-linger keeps the host running after you log out, and starts it at boot)"
        )
    running = await probe(config, "palyra-tui service")
    if running is not None:
        out.append(
            f"a runtime host runs now (pid {running.host_pid}): stop it with palyra-tui down "
            "before systemd starts its own"
        )
    sys.stdout.write("\n".join(out) + "\n")
    return EXIT_OK


def _specifiers(text: str) -> str:
    """``%`` starts a systemd specifier in a unit file; ``%%`` is a percent sign."""
    return text.replace("%", "%%")


def _quoted(text: str) -> str:
    """One word in double quotes, as systemd parses it."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{_specifiers(escaped)}"'


def _argument(word: str) -> str:
    """A word of ExecStart: quoted, with ``$`` and ``%`` taken literally."""
    return _quoted(word).replace("$", "$$")
