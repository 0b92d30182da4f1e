"""Find the runtime host of a state root, start one detached, or stop it.

A detached host runs ``palyra-tui host`` in a session of its own (so the
terminal's SIGHUP never reaches it), with stdin from ``/dev/null`` and its
output appended to ``<state_root>/tui/host.log``.  Whoever starts it waits
until it answers on its socket, or until it exits, and then says why from the
end of that log.

Two UIs started at the same moment on a state root with no host take turns
(``host-start.lock``, an ``flock``): the first starts the host, the second
finds it.  A host that could not start because something else holds the state
root (a host or ``supervise`` started another way) is no failure either: the
starter waits for that one to answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

from palyra_tui.config import Config
from palyra_tui.config.dirs import private_dir, unusable
from palyra_tui.errors import HostError, HostNotRunning
from palyra_tui.host.paths import candidates
from palyra_tui.host.protocol import ClientInfo, HostInfo
from palyra_tui.supervisor.lock import holder

_STARTED: dict[int, subprocess.Popen[bytes]] = {}
"""Hosts this process started: kept, so that their exit can be read while they run."""
LOG_NAME = "host.log"
START_LOCK = "host-start.lock"
START_TIMEOUT = 60.0
"""Seconds a new host may take to answer (it opens the supervisor first)."""
POLL = 0.05


def host_log(config: Config) -> Path:
    """Where a detached host writes its output."""
    return config.state_dir / LOG_NAME


def host_socket_exists(config: Config) -> bool:
    """False when no host can be listening: none of its socket paths exists."""
    return any(os.path.lexists(place.socket) for place in candidates(config.state_root))


async def probe(config: Config, name: str = "palyra-tui") -> HostInfo | None:
    """The running host's handshake answer, or None when no host runs.

    Without a socket file there is nothing to ask, and the gRPC stack is not
    even loaded: a UI starting a host is drawing its first frame meanwhile.
    """
    if not host_socket_exists(config):
        return None
    from palyra_tui.host.client import HostClient

    client = HostClient.for_state_root(config.state_root, client=ClientInfo.current(name))
    try:
        return await client.connect()
    except HostNotRunning:
        return None
    finally:
        await client.close()


def start_detached(config: Config, config_path: Path | None, environ: Mapping[str, str]) -> int:
    """Start ``palyra-tui host`` in its own session; returns its pid (blocking)."""
    private_dir(config.state_dir)
    log = host_log(config)
    command = [sys.executable, "-m", "palyra_tui", "host"]
    if config_path is not None:
        command += ["--config", str(config_path)]
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=fd,
            stderr=fd,
            env=dict(environ),
            start_new_session=True,
            close_fds=True,
        )
    finally:
        os.close(fd)
    _STARTED[process.pid] = process
    return process.pid


async def ensure_host(
    config: Config,
    config_path: Path | None,
    environ: Mapping[str, str] | None = None,
    timeout: float = START_TIMEOUT,
) -> HostInfo:
    """The running host, after starting one if none answers; raises HostError naming why,
    or StateRootUnusable when the state root cannot hold a host at all."""
    try:
        await asyncio.to_thread(private_dir, config.state_dir)
    except OSError as error:
        raise unusable(config.state_root, error) from None
    found = await probe(config)
    if found is not None:
        return found
    deadline = time.monotonic() + timeout
    async with _starting(config, deadline, timeout):
        found = await probe(config)
        if found is not None:
            return found
        env = os.environ if environ is None else environ
        return await _start(config, config_path, env, deadline, timeout)


@contextlib.asynccontextmanager
async def _starting(config: Config, deadline: float, timeout: float) -> AsyncIterator[None]:
    """Hold the state root's start turn: one starter at a time starts a host."""
    path = config.state_dir / START_LOCK
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
    except OSError as error:
        raise unusable(config.state_root, error) from None
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise HostError(
                        f"another palyra-tui has been starting the runtime host for "
                        f"{timeout:g} s and it does not answer (see {host_log(config)})"
                    ) from None
                await asyncio.sleep(POLL)
        yield
    finally:
        os.close(fd)


async def _start(
    config: Config,
    config_path: Path | None,
    env: Mapping[str, str],
    deadline: float,
    timeout: float,
) -> HostInfo:
    """Start a host and wait until one answers: ours, or the one that holds the state root
    when ours found it taken."""
    size = _size(host_log(config))
    pid = await asyncio.to_thread(start_detached, config, config_path, env)
    other: int | None = None
    while time.monotonic() < deadline:
        found = await probe(config)
        if found is not None:
            return found
        if other is None and _exited(pid):
            other = await asyncio.to_thread(holder, config.state_dir)
            if other is None or other == pid:
                break
        elif other is not None and await asyncio.to_thread(holder, config.state_dir) != other:
            break
        await asyncio.sleep(POLL)
    else:
        who = f"pid {pid}" if other is None else f"pid {other}, which holds the state root"
        raise HostError(f"the runtime host ({who}) did not answer within {timeout:g} s")
    found = await probe(config)
    if found is not None:
        return found
    reason = _last_sentence(host_log(config), size)
    if other is not None and other != pid:
        reason += f"; that palyra-tui (pid {other}) has ended since: start palyra-tui again"
    raise HostError(f"the runtime host could not start: {reason}")


async def stop_host(config: Config, timeout: float) -> HostInfo | None:
    """Ask the host to stop everything and wait until it is gone; None if none ran."""
    from palyra_tui.host.client import HostClient

    client = HostClient.for_state_root(config.state_root, client=ClientInfo.current("down"))
    try:
        host = await client.connect()
    except HostNotRunning:
        await client.close()
        return None
    try:
        from palyra_tui.host import wire

        await client.call(wire.SHUTDOWN, wire.Empty(), wire.Outcome)
    finally:
        await client.close()
    if await _ended(host.host_pid, timeout):
        return host
    raise HostError(f"the runtime host (pid {host.host_pid}) did not stop within {timeout:g} s")


async def _ended(pid: int, timeout: float) -> bool:
    """Wait until ``pid`` has ended: told by a pidfd the moment it does, or polled where
    there is none."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    except (OSError, AttributeError):
        fd = -1
    loop = asyncio.get_running_loop()
    ended = asyncio.Event()
    if fd >= 0:
        loop.add_reader(fd, ended.set)
    try:
        async with asyncio.timeout(timeout):
            while not _gone(pid):
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(POLL if fd < 0 else None):
                        await ended.wait()
                ended.clear()
        return True
    except TimeoutError:
        return False
    finally:
        if fd >= 0:
            loop.remove_reader(fd)
            os.close(fd)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _exited(pid: int) -> bool:
    """True once ``pid``, a host this process started, has ended (it is reaped here)."""
    process = _STARTED.get(pid)
    if process is None or process.poll() is None:
        return False
    del _STARTED[pid]
    return True


def _gone(pid: int) -> bool:
    """True once ``pid`` has ended (reaped here if this process started it)."""
    if _exited(pid):
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            state = handle.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state in (b"Z", b"X")


def _last_sentence(log: Path, offset: int) -> str:
    """The last line the failed host wrote after ``offset``."""
    try:
        with open(log, "rb") as handle:
            handle.seek(offset)
            text = handle.read(64 * 1024).decode("utf-8", errors="replace")
    except OSError:
        return f"see {log}"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return f"it exited without a word (see {log})"
    return lines[-1].removeprefix("palyra-tui: ")
