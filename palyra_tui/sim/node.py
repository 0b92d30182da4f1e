"""``palyra-tui sim node``: behaves like ``palyra node`` (``status``, ``install``,
``uninstall``, ``run``), against the reference gateway's node RPC listener.

State lives where palyra keeps it: ``<state root>/node-host/node-host.json``
and an ``identity/`` folder holding the client certificate (the state root is
``--state-root``, else ``PALYRA_STATE_ROOT``).  Output is palyra's: one
pretty-printed JSON document on stdout with ``--json``; an error is
``error[<kind>] … <message>`` on stderr with palyra's exit code.

``run --json`` registers with the gateway, prints ``{"action": "run", …}``,
then stays in the foreground sending a heartbeat every poll interval and
printing nothing more; SIGINT ends it with exit 0 after ``node.stopping``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from palyra_tui.models.ids import new_ulid
from palyra_tui.sim.logs import now_ms
from palyra_tui.sim.node_client import NodeRpcError, NodeRpcLink

SCHEMA_VERSION = 1
CAPABILITIES = ("echo", "system.health", "system.identity", "desktop.open_url", "desktop.open_path")
EXIT_CODES = {
    "internal_error": 1,
    "validation_error": 2,
    "auth_failure": 3,
    "connectivity_failure": 4,
    "policy_denial": 6,
    "precondition_failed": 7,
    "not_found": 8,
}


class NodeError(Exception):
    """A failure palyra reports as ``error[<kind>]`` with its exit code."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def main(argv: Sequence[str], environ: Mapping[str, str] | None = None) -> int:
    """Run one ``palyra node`` command."""
    env = os.environ if environ is None else environ
    args = _parser().parse_args(argv)
    root = Path(args.state_root or env.get("PALYRA_STATE_ROOT") or _default_root(env))
    node = _NodeHost(root, env)
    try:
        if args.action == "status":
            return _emit(node.payload("status", "node host status snapshot"), args.json)
        if args.action == "uninstall":
            node.uninstall()
            detail = "node host configuration and local identity material removed"
            return _emit(node.payload("uninstall", detail), args.json)
        config = node.configure(args.grpc_url, args.device_id, args.poll_interval_ms)
        node.ensure_paired(config, args.method, args.pairing_code)
        if args.action == "install":
            return _emit(node.payload("install", "node host configuration installed"), args.json)
        return node.run(config, args.json)
    except NodeError as failure:
        print(
            f"error[{failure.kind}] trace_id={new_ulid()} state_root={root} {failure}",
            file=sys.stderr,
            flush=True,
        )
        return EXIT_CODES.get(failure.kind, 1)


def _parser() -> argparse.ArgumentParser:
    parse = argparse.ArgumentParser(prog="palyra-tui sim node")
    parse.add_argument(
        "action", nargs="?", default="run", choices=["run", "status", "install", "uninstall"]
    )
    parse.add_argument("--json", action="store_true")
    parse.add_argument("--state-root")
    parse.add_argument("--grpc-url")
    parse.add_argument("--gateway-ca-file")
    parse.add_argument("--device-id")
    parse.add_argument("--method", choices=["pin", "qr"])
    parse.add_argument("--pairing-code")
    parse.add_argument("--poll-interval-ms", type=int)
    return parse


def _default_root(env: Mapping[str, str]) -> str:
    return str(Path(env.get("HOME", ".")) / ".local" / "state" / "palyra")


def _emit(payload: dict[str, Any], as_json: bool) -> int:
    if as_json:
        print(json.dumps(payload, indent=2), flush=True)
    else:
        flags = " ".join(
            f"{key}={str(value).lower()}"
            for key, value in payload.items()
            if isinstance(value, bool)
        )
        print(f"node.{payload['action']} {flags}", flush=True)
    return 0


class _NodeHost:
    """One state root's node host files."""

    def __init__(self, root: Path, env: Mapping[str, str]) -> None:
        self.dir = root / "node-host"
        self.config_path = self.dir / "node-host.json"
        self.env = env

    def read_config(self) -> dict[str, Any] | None:
        try:
            document = json.loads(self.config_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            raise NodeError(
                "internal_error", f"failed to read {self.config_path}: {error}"
            ) from None
        return document if isinstance(document, dict) else None

    def certificate(self, config: dict[str, Any] | None) -> dict[str, Any] | None:
        if config is None:
            return None
        path = Path(str(config.get("identity_store_dir", ""))) / "client-certificate.json"
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return document if isinstance(document, dict) and document.get("certificate") else None

    def payload(self, action: str, detail: str) -> dict[str, Any]:
        config = self.read_config()
        cert = self.certificate(config)
        return {
            "action": action,
            "installed": config is not None,
            "paired": cert is not None,
            "running": False,
            "device_id": config.get("device_id") if config else None,
            "grpc_url": config.get("grpc_url") if config else None,
            "identity_store_dir": config.get("identity_store_dir") if config else None,
            "cert_expires_at_unix_ms": cert.get("cert_expires_at_unix_ms") if cert else None,
            "pid": None,
            "stdout_log_path": None,
            "stderr_log_path": None,
            "detail": detail,
        }

    def configure(
        self, grpc_url: str | None, device_id: str | None, poll: int | None
    ) -> dict[str, Any]:
        config = self.read_config() or {
            "schema_version": SCHEMA_VERSION,
            "grpc_url": self._default_url(),
            "device_id": new_ulid(),
            "poll_interval_ms": 1000,
            "identity_store_dir": str(self.dir / "identity"),
            "installed_at_unix_ms": now_ms(),
            "paired_at_unix_ms": None,
        }
        if grpc_url:
            config["grpc_url"] = grpc_url
        wanted = (device_id or "").strip()
        if wanted and wanted != config["device_id"]:
            if config.get("paired_at_unix_ms"):
                raise NodeError(
                    "validation_error",
                    f"node host is already paired as device_id={config['device_id']}; "
                    "uninstall or clear local state before changing device_id",
                )
            config["device_id"] = wanted
        if poll is not None:
            config["poll_interval_ms"] = max(100, poll)
        return config

    def _default_url(self) -> str:
        port = int(self.env.get("PALYRA_GATEWAY_GRPC_PORT") or 7443)
        return f"https://127.0.0.1:{port + 1}"

    def ensure_paired(self, config: dict[str, Any], method: str | None, code: str | None) -> None:
        """Pair unless a certificate is stored; the config is written either way."""
        if self.certificate(config) is None:
            if not method:
                raise NodeError(
                    "validation_error",
                    "node pairing bootstrap requires --method "
                    "when local pairing material is absent",
                )
            if not code:
                raise NodeError(
                    "validation_error",
                    "node pairing bootstrap requires "
                    "--pairing-code when local pairing material is absent",
                )
            link = NodeRpcLink(str(config["grpc_url"]), "")
            try:
                cert = link.pair(str(config["device_id"]), method, code)
            except NodeRpcError as error:
                raise NodeError(error.kind, str(error)) from None
            identity = Path(str(config["identity_store_dir"]))
            identity.mkdir(parents=True, exist_ok=True, mode=0o700)
            _write_private(identity / "client-certificate.json", json.dumps(cert))
            config["paired_at_unix_ms"] = now_ms()
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        _write_private(self.config_path, json.dumps(config, indent=2))

    def run(self, config: dict[str, Any], as_json: bool) -> int:
        cert = self.certificate(config) or {}
        link = NodeRpcLink(str(config["grpc_url"]), str(cert.get("certificate", "")))
        stopped = threading.Event()
        signal.signal(signal.SIGINT, lambda *_: stopped.set())
        try:
            link.register(str(config["device_id"]), platform.system().lower(), CAPABILITIES)
        except NodeRpcError as error:
            raise NodeError(error.kind, str(error)) from None
        poll = int(config.get("poll_interval_ms") or 1000)
        payload = {
            "action": "run",
            "device_id": config["device_id"],
            "grpc_url": config["grpc_url"],
            "poll_interval_ms": poll,
            "paired": True,
            "capability_count": len(CAPABILITIES),
        }
        if as_json:
            print(json.dumps(payload, indent=2), flush=True)
        else:
            print(
                f"node.run device_id={config['device_id']} grpc_url={config['grpc_url']} "
                f"poll_interval_ms={poll} paired=true capabilities={len(CAPABILITIES)}",
                flush=True,
            )
        while not stopped.wait(poll / 1000):
            try:
                link.event("node.heartbeat")
            except NodeRpcError:
                raise NodeError(
                    "connectivity_failure", "node event stream closed unexpectedly"
                ) from None
        with contextlib.suppress(NodeRpcError):
            link.event("node.stopping")
        return 0

    def uninstall(self) -> None:
        config = self.read_config()
        if config is not None:
            identity = Path(str(config.get("identity_store_dir", "")))
            if identity.is_dir() and identity.resolve().is_relative_to(self.dir.parent.resolve()):
                shutil.rmtree(identity)
        if self.dir.exists():
            shutil.rmtree(self.dir)


def _write_private(path: Path, text: str) -> None:
    temp = path.with_name(path.name + ".tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temp, path)
