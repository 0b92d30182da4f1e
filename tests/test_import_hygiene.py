"""Only palyra_tui.ui may import textual or rich; the headless core never loads them."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

CORE = [
    "palyra_tui",
    "palyra_tui.models",
    "palyra_tui.text",
    "palyra_tui.config",
    "palyra_tui.secrets",
    "palyra_tui.supervisor",
    "palyra_tui.host.transport",
    "palyra_tui.cli.main",
    "palyra_tui.cli.supervise",
    "palyra_tui.cli.commands",
    "palyra_tui.cli.status",
    "palyra_tui.cli.logs_cmd",
    "palyra_tui.cli.services_cmd",
    "palyra_tui.cli.approvals",
    "palyra_tui.cli.chat_cmd",
    "palyra_tui.cli.up",
    "palyra_tui.cli.notify",
    "palyra_tui.cli.service_unit",
    "palyra_tui.cli.doctor",
    "palyra_tui.cli.dashboard_cmd",
    "palyra_tui.cli.bundle_cmd",
    "palyra_tui.state.bundle",
    "palyra_tui.host.preflight",
]


@pytest.mark.parametrize("module", CORE)
def test_core_module_does_not_load_textual_or_rich(module: str) -> None:
    code = (
        f"import sys, {module}; "
        "print([m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_supervise_command_does_not_load_textual_or_rich() -> None:
    code = (
        "import sys\n"
        "from palyra_tui.cli.main import build_parser\n"
        "build_parser().parse_args(['supervise'])\n"
        "import palyra_tui.cli.supervise, palyra_tui.supervisor.engine\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'textual', 'rich'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_control_center_draws_before_loading_the_runtime_machinery() -> None:
    """What attaching loads before its first frame: neither the supervisor (it lives in
    the host; only its lock file is read), psutil, protobuf nor the gRPC stack (loaded
    once the frame is drawn), nor the device records (the Health pane names only their
    states)."""
    code = (
        "import sys, palyra_tui.__main__, palyra_tui.ui.attach, palyra_tui.cli.main\n"
        "heavy = ('grpc', 'google', 'psutil', 'httpx')\n"
        "print(sorted({m for m in sys.modules if m.split('.')[0] in heavy"
        " or m.startswith(('palyra_tui.supervisor.', 'palyra_tui.host.client'))"
        " or m == 'palyra_tui.models.devices'}"
        " - {'palyra_tui.supervisor.lock'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


GRPC_IMPORTERS = [
    "palyra_tui.client.grpc.errors",
    "palyra_tui.client.grpc.run_stream",
    "palyra_tui.client.grpc.gateway",
    "palyra_tui.host.channel",
    "palyra_tui.host.status",
]


@pytest.mark.parametrize("module", GRPC_IMPORTERS)
def test_grpc_is_imported_with_fork_support_off(module: str) -> None:
    """With fork support on, a daemon forked while a grpc poller runs can abort before its
    program starts; whichever module loads grpc first must have turned it off."""
    code = (
        "import importlib.abc, os, sys\n"
        "seen = []\n"
        "class Watch(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'grpc':\n"
        "            seen.append(os.environ.get('GRPC_ENABLE_FORK_SUPPORT'))\n"
        "        return None\n"
        "sys.meta_path.insert(0, Watch())\n"
        f"import {module}\n"
        "print(seen)"
    )
    env = {key: value for key, value in os.environ.items() if key != "GRPC_ENABLE_FORK_SUPPORT"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == "['false']"
