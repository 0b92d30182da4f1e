"""The ``palyra node`` commands, run as child processes with a deadline each.

``palyra node status|install|uninstall --json`` prints one pretty-printed JSON
document (several lines: it is parsed whole, never line by line).  A failure is
``error[<kind>] …`` on stderr, or palyra's JSON error envelope, with a non-zero
exit; it becomes one sentence with palyra's error kind and its message,
sanitised and redacted.  A command that outlives its deadline is killed with
its process group.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from palyra_tui.client.errors import ClientError
from palyra_tui.client.json_fields import flag, integer, line
from palyra_tui.models.devices import NodeStatus
from palyra_tui.text import Redactor, decode, sanitize_line

STATUS_TIMEOUT = 15.0
INSTALL_TIMEOUT = 90.0
"""Pairing waits for an approval; palyra-tui approves within 20 s of the request."""
MAX_OUTPUT = 256 * 1024
_TEXT_ERROR = re.compile(
    r"^error\[(?P<kind>[a-z_]+)\](?: trace_id=\S+)?(?: profile=\S+)?(?: state_root=\S+)? ?"
    r"(?P<message>.*)$"
)


class NodeCliError(ClientError):
    """A ``palyra node`` command failed; ``kind`` is palyra's error kind ("" if unknown)."""

    def __init__(self, message: str, kind: str = "") -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True, slots=True)
class NodeCli:
    """How to run ``palyra node``: the command that stands for it, and where state lives."""

    command: tuple[str, ...]
    """``palyra node`` itself: the palyra binary and ``node`` (or a stand-in)."""
    runtime_root: Path
    environ: Mapping[str, str]

    async def status(self) -> NodeStatus:
        """``palyra node status --json``."""
        return _status(await self._run(("status", "--json"), STATUS_TIMEOUT, "status"))

    async def install(
        self, *, device_id: str, grpc_url: str, pairing_code: str, redactor: Redactor
    ) -> NodeStatus:
        """``palyra node install --json`` with a PIN pairing code (kept out of any message)."""
        args = (
            "install",
            "--json",
            "--device-id",
            device_id,
            "--grpc-url",
            grpc_url,
            "--method",
            "pin",
            "--pairing-code",
            pairing_code,
        )
        secret = Redactor()
        secret.add_secret(pairing_code)
        document = await self._run(args, INSTALL_TIMEOUT, "install", (redactor, secret))
        return _status(document)

    async def uninstall(self) -> NodeStatus:
        """``palyra node uninstall --json``: configuration and local identity removed."""
        return _status(await self._run(("uninstall", "--json"), STATUS_TIMEOUT, "uninstall"))

    async def _run(
        self,
        args: Sequence[str],
        timeout: float,
        what: str,
        redactors: Sequence[Redactor] = (),
    ) -> dict[str, Any]:
        env = {
            **self.environ,
            "PALYRA_STATE_ROOT": str(self.runtime_root),
            "PALYRA_GATEWAY_IDENTITY_STORE_DIR": str(self.runtime_root / "identity"),
        }
        try:
            process = await asyncio.create_subprocess_exec(
                *self.command,
                *args,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=env,
                start_new_session=True,
            )
        except OSError as error:
            raise NodeCliError(
                f"palyra node {what} could not start {self.command[0]!r}: "
                f"{error.strerror or error}",
                "not_found",
            ) from None
        try:
            out, err = await asyncio.wait_for(process.communicate(), timeout)
        except TimeoutError:
            _kill_group(process.pid)
            await process.wait()
            raise NodeCliError(
                f"palyra node {what} did not finish within {timeout:g} s and was stopped",
                "timeout",
            ) from None
        finally:
            if process.returncode is None:
                _kill_group(process.pid)
        if process.returncode != 0:
            kind, message = _failure(_clean(err, redactors))
            raise NodeCliError(
                f"palyra node {what} failed ({kind or f'exit {process.returncode}'}): {message}",
                kind,
            )
        try:
            document = json.loads(decode(out[:MAX_OUTPUT]))
        except ValueError:
            raise NodeCliError(
                f"palyra node {what} did not print one JSON document", "protocol"
            ) from None
        if not isinstance(document, dict):
            raise NodeCliError(f"palyra node {what} printed JSON that is not an object", "protocol")
        return document


def _status(document: Mapping[str, Any]) -> NodeStatus:
    return NodeStatus(
        installed=flag(document, "installed"),
        paired=flag(document, "paired"),
        device_id=line(document, "device_id"),
        grpc_url=line(document, "grpc_url"),
        cert_expires_at_ms=integer(document, "cert_expires_at_unix_ms"),
        detail=line(document, "detail"),
    )


def _clean(raw: bytes, redactors: Sequence[Redactor]) -> str:
    text = decode(raw[-MAX_OUTPUT:])
    for redactor in redactors:
        text = redactor.redact(text)
    return text


def _failure(stderr: str) -> tuple[str, str]:
    """palyra's error kind and message from its stderr (JSON envelope or text)."""
    try:
        document = json.loads(stderr)
    except ValueError:
        document = None
    if isinstance(document, dict) and isinstance(document.get("error"), dict):
        error = document["error"]
        return line(error, "kind"), line(error, "message") or "no message"
    lines = [sanitize_line(text) for text in stderr.splitlines() if text.strip()]
    for text in reversed(lines):
        match = _TEXT_ERROR.match(text)
        if match:
            return match["kind"], match["message"] or "no message"
    return "", lines[-1] if lines else "no message on stderr"


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
