"""The terminal tests run their sessions in a tmux server of their own.

On the default server, another run of the suite on the same machine (a second
checkout, a benchmark, a developer's own tmux) could kill or share it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True, scope="session")
def private_tmux_server() -> Iterator[None]:
    directory = tempfile.mkdtemp(prefix="palyra-tui-tmux-")
    saved = {name: os.environ.get(name) for name in ("TMUX_TMPDIR", "TMUX")}
    os.environ["TMUX_TMPDIR"] = directory
    os.environ.pop("TMUX", None)
    try:
        yield
    finally:
        tmux = shutil.which("tmux")
        if tmux is not None:
            subprocess.run([tmux, "kill-server"], capture_output=True, check=False)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(directory, ignore_errors=True)
