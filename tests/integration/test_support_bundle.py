"""``palyra-tui bundle`` against a real runtime host over the reference daemons: what the
archive holds, that no planted secret survives in any member, and how it fails."""

from __future__ import annotations

import asyncio
import secrets
import stat
import tarfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from palyra_tui.cli.connect import attached
from palyra_tui.config import load_config
from palyra_tui.host.remote import SocketRuntime
from palyra_tui.secrets import SecretStore
from palyra_tui.state.chat import StatusItem
from palyra_tui.state.persisted import Place, Section
from tests.conftest import child, eventually
from tests.filesystems import unwritable
from tests.integration.cli_support import (
    Host,
    Ran,
    StartHost,
    run_cli,
    until_cli,
    write_config,
)

MEMBERS = (
    "versions.txt",
    "config.toml",
    "doctor.txt",
    "doctor.json",
    "timeline.txt",
    "health.txt",
    "approvals.txt",
    "transcript.txt",
    "logs/gateway.log",
    "logs/browserd.log",
    "logs/node_host.log",
)


def read_bundle(path: Path) -> dict[str, str]:
    """Every member's text, by its name inside the bundle's top directory."""
    with tarfile.open(path, "r:gz") as archive:
        found = {}
        for info in archive.getmembers():
            if info.isdir():
                assert stat.S_IMODE(info.mode) == 0o700, info.name
                continue
            assert info.isfile() and stat.S_IMODE(info.mode) == 0o600, info.name
            top, _, name = info.name.partition("/")
            assert top.startswith("support-bundle-"), info.name
            handle = archive.extractfile(info)
            assert handle is not None
            found[name] = handle.read().decode("utf-8")
    return found


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def leftovers(directory: Path) -> list[str]:
    """Temp files a bundle would leave: names that start with a dot."""
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


async def bundle(host: Host, *args: str) -> Ran:
    return await host.cli("bundle", *args, timeout=180)


async def running(host: Host, *names: str) -> None:
    def settled(ran: Ran) -> bool:
        states = {s["name"]: s["state"] for s in ran.json()["services"]} if ran.out else {}
        return all(states.get(name) == "running" for name in names)

    ran = await until_cli(host.path, ("status", "--json"), settled)
    assert settled(ran), ran.out + ran.err


# What it holds ---------------------------------------------------------------------------


async def test_a_bundle_in_the_default_place_with_its_members_and_timeline(
    cli_host: StartHost,
) -> None:
    host = await cli_host(
        {"crasher": {"command": child("exit", "3"), "max_restarts": 2}},
        bundle={"log_minutes": 5},
    )
    await running(host, "gateway")

    def failed(ran: Ran) -> bool:
        states = {s["name"]: s["state"] for s in ran.json()["services"]} if ran.out else {}
        return states.get("crasher") == "failed"

    assert failed(await until_cli(host.path, ("status", "--json"), failed))

    ran = await bundle(host, "--json")
    assert ran.code == 0, ran.err
    document = ran.json()
    assert set(document) == {"path", "bytes", "members"}
    path = Path(document["path"])
    folder = host.config.state_dir / "support-bundles"
    assert path.parent == folder
    assert path.name.startswith("support-bundle-") and path.name.endswith("Z.tar.gz")
    assert document["bytes"] == path.stat().st_size > 0
    assert mode(path) == 0o600 and mode(folder) == 0o700
    stem = path.name.removesuffix(".tar.gz")
    assert document["members"] == [f"{stem}/{name}" for name in (*MEMBERS, "logs/crasher.log")]
    assert leftovers(folder) == []

    members = read_bundle(path)
    timeline = members["timeline.txt"]
    starts = [line for line in timeline.splitlines() if " crasher " in f" {line} "]
    assert any("  starting  pid " in line for line in starts), timeline
    assert any("exited with code 3 after" in line for line in starts), timeline
    assert any("  failed  " in line and "gave up after" in line for line in starts), timeline
    versions = members["versions.txt"]
    assert "palyra-tui  0.1.0" in versions
    assert "service palyra-tui-sim" in versions and "git unknown" in versions
    assert "the last 5 min of every service" in versions
    assert "log_minutes = 5" in members["config.toml"]
    assert "[services.crasher]" in members["config.toml"]
    assert "gateway" in members["health.txt"] and "healthy" in members["health.txt"]
    assert '"checks"' in members["doctor.json"] and "Gateway binary" in members["doctor.txt"]
    assert "about to exit" in members["logs/crasher.log"]
    assert "no chat session was on show" in members["transcript.txt"].lower()
    assert "(no decision was made from this runtime)" in members["approvals.txt"]

    text = await bundle(host)
    assert text.code == 0, text.err
    second = Path(text.out.strip())
    assert second.parent == folder and second != path and mode(second) == 0o600
    assert text.err.startswith("palyra-tui: a support bundle of ")


async def test_a_hold_is_in_the_timeline(cli_host: StartHost) -> None:
    host = await cli_host({"worker": {"command": child("hang")}})
    await running(host, "worker")
    held = await host.cli("hold", "worker")
    assert held.code == 0, held.err
    released = await host.cli("release", "worker")
    assert released.code == 0, released.err
    out = Path((await bundle(host)).out.strip())
    lines = [line for line in read_bundle(out)["timeline.txt"].splitlines() if " worker " in line]
    held_line, released_line = lines[-2:]
    assert "  running  " in held_line and held_line.endswith("; restarts held"), lines
    assert "  running  " in released_line and released_line.endswith("; restarts released")


# How it fails ------------------------------------------------------------------------------


async def test_an_existing_path_is_refused_and_a_read_only_directory_leaves_nothing(
    cli_host: StartHost, tmp_path: Path
) -> None:
    host = await cli_host()
    taken = tmp_path / "taken.tar.gz"
    taken.write_bytes(b"mine")
    refused = await bundle(host, str(taken), "--json")
    assert refused.code == 6
    error = refused.error()
    assert error["code"] == 6 and "already exists" in error["error"]
    assert taken.read_bytes() == b"mine"

    with unwritable(tmp_path / "locked") as locked:
        failed = await bundle(host, str(locked / "bundle.tar.gz"))
        assert failed.code == 1
        assert failed.out == ""
        sentence = f"palyra-tui: no support bundle was written: cannot write in {locked}: "
        assert failed.err.startswith(sentence), failed.err
        assert "Traceback" not in failed.err
        assert list(locked.iterdir()) == []

    relative = await host.cli("bundle", "out.tar.gz", "--json")
    assert relative.code == 0, relative.err
    written = Path(relative.json()["path"])
    assert written.is_absolute() and written.name == "out.tar.gz"
    written.unlink()

    into = tmp_path / "reports"
    into.mkdir()
    ran = await bundle(host, str(into), "--json")
    assert ran.code == 0, ran.err
    assert Path(ran.json()["path"]).parent == into and leftovers(into) == []


async def test_no_host_is_exit_4(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    ran = await run_cli(path, "bundle", "--json")
    assert ran.code == 4
    assert ran.error()["code"] == 4


# Secrets -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Corpus:
    """Secret values of every shape, each unique to this run."""

    admin: str
    browser: str
    bearer: str
    openai: str
    openai_sent: str
    """An OpenAI key too short for the key shape: only its value, once sent, hides it."""
    cookie: str
    password_query: str
    token_query: str
    url_password: str
    jwt: str
    pem_lines: tuple[str, str]
    env_secret: str
    config_password: str

    @classmethod
    def new(cls, admin: str, browser: str) -> Corpus:
        def word(prefix: str) -> str:
            return prefix + secrets.token_hex(12)

        def b64(size: int) -> str:
            return secrets.token_urlsafe(size).replace("-", "A").replace("_", "B")

        return cls(
            admin=admin,
            browser=browser,
            bearer=word("bearer"),
            openai="sk-proj-" + b64(24),
            openai_sent="sk-" + secrets.token_hex(5),
            cookie=word("cookie"),
            password_query=word("pwq"),
            token_query=word("tokq"),
            url_password=word("urlpw"),
            jwt="eyJ" + b64(18) + "." + "eyJ" + b64(24) + "." + b64(24),
            pem_lines=("MIIEvQIBADANBg" + b64(30), "kqhkiG9w0BAQEF" + b64(30)),
            env_secret=word("envsecret"),
            config_password=word("cfgpw"),
        )

    def values(self) -> dict[str, str]:
        named = {name: value for name, value in vars(self).items() if isinstance(value, str)}
        named.update({f"pem_line_{n}": line for n, line in enumerate(self.pem_lines)})
        return named

    def text(self) -> str:
        """Every secret, each in the form it takes in the wild."""
        return "\n".join(
            [
                f"admin token {self.admin} and browser token {self.browser}",
                f"Authorization: Bearer {self.bearer}",
                f"the OpenAI key is {self.openai}, the one sent {self.openai_sent}",
                f"Cookie: palyra_console_session={self.cookie}; theme=dark",
                f"GET /callback?password={self.password_query}&token={self.token_query}&page=2",
                f"connecting to https://svc:{self.url_password}@db.example.net:5432/app",
                f"id token {self.jwt}",
                "the key is:",
                "-----BEGIN PRIVATE KEY-----",
                *self.pem_lines,
                "-----END PRIVATE KEY-----",
                "end of the corpus",
            ]
        )


async def test_no_planted_secret_survives_in_any_member(
    cli_host: StartHost, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config(write_config(tmp_path))
    tokens = SecretStore.for_config(config).load_or_create().secrets
    corpus = Corpus.new(tokens.admin_token, tokens.browser_token)
    plant = tmp_path / "plant.txt"
    plant.write_text(corpus.text() + "\n")
    monkeypatch.setenv("LEAK_API_KEY", corpus.env_secret)
    monkeypatch.setenv("OPENAI_API_KEY", corpus.openai)
    monkeypatch.setenv("LEAK_HEADER", f"Authorization: Bearer {corpus.bearer}")
    worker = {
        "command": child("print-file", str(plant)),
        "env": {
            "WORKER_PASSWORD": corpus.config_password,
            "WORKER_DATABASE": f"https://svc:{corpus.url_password}@db.example.net/app",
            "WORKER_CALLBACK": f"/cb?token={corpus.token_query}",
        },
    }
    host = await cli_host({"worker": worker})
    await running(host, "gateway", "worker")

    async with attached(host.config, "test") as runtime:
        assert await eventually(lambda: runtime.view().snapshot.gateway_health is not None)
        await runtime.connect_openai(corpus.openai_sent)
        session = await chat_with_secrets(runtime, host, corpus)
        await runtime.remember_place(Place(Section.CHAT, session))

    ran = await bundle(host, "--json")
    assert ran.code == 0, ran.err
    members = read_bundle(Path(ran.json()["path"]))
    assert set(members) == {*MEMBERS, "logs/worker.log"}

    # Every source reached the bundle.
    log = members["logs/worker.log"]
    assert "printed" in log and "end of the corpus" in log and "LEAK_API_KEY=" in log
    transcript = members["transcript.txt"]
    assert transcript.count("end of the corpus") >= 2, transcript  # sent, and echoed
    assert "WORKER_PASSWORD = " in members["config.toml"]
    assert "palyra.process.run" in members["approvals.txt"]

    # No secret is in any member, whole or in part (its first or last 12 characters).
    leaks = {
        (member, name, part)
        for member, text in members.items()
        for name, value in corpus.values().items()
        for part in (value, value[:12], value[-12:])
        if part in text
    }
    assert leaks == set()

    # Each is hidden where it was.
    assert "LEAK_API_KEY=<redacted>" in log and "LEAK_HEADER=Authorization: <redacted>" in log
    assert "https://<redacted>@db.example.net" in transcript
    assert 'WORKER_PASSWORD = "<redacted>"' in members["config.toml"]
    assert "echo admin <redacted>" in members["approvals.txt"]


async def ended_runs(runtime: SocketRuntime, session: str, count: int) -> None:
    """Wait until ``count`` runs of the session ended."""
    for _ in range(1200):
        items = (await runtime.transcript(session)).items
        if sum(isinstance(item, StatusItem) for item in items) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{count} runs did not end")


async def chat_with_secrets(runtime: SocketRuntime, host: Host, corpus: Corpus) -> str:
    """A chat whose text and whose tool call's input hold the corpus; the call is allowed
    from the command line.  Returns the session."""
    assert await eventually(lambda: runtime.view().snapshot.gateway_health is not None)
    session = (await runtime.new_session()).session_id
    await runtime.send(session, corpus.text())
    await ended_runs(runtime, session, 1)
    before = {entry.approval_id for entry in runtime.view().inbox}
    await runtime.send(session, f"run `echo admin {corpus.admin} {corpus.openai}`")
    assert await eventually(lambda: {e.approval_id for e in runtime.view().inbox} - before != set())
    (approval,) = {e.approval_id for e in runtime.view().inbox} - before
    approved = await host.cli("approve", approval)
    assert approved.code == 0, approved.err
    await ended_runs(runtime, session, 2)
    return session
