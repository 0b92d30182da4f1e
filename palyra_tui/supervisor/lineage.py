"""Every process a service started, including the ones that left its process group.

A daemon that calls ``setsid`` or forks twice leaves its service's process
group, so ``killpg`` no longer reaches it.  Three mechanisms keep track of it:

* The supervising process is a *child subreaper* (``PR_SET_CHILD_SUBREAPER``,
  no privileges needed): an orphaned descendant re-parents to palyra-tui
  instead of init, so it is still ours to find, kill and reap.
* Each start of a service carries a lineage mark in its environment
  (``PALYRA_TUI_LINEAGE=<instance>:<service>:<start>``), inherited by every
  descendant that does not clear its environment.  An adopted orphan is
  attributed to its service by that mark.
* A descendant is identified by its pid *and* its start time, so a pid reused
  by an unrelated process is never signalled.  Signals go through a pidfd.

The functions here read ``/proc`` with blocking calls: run them in a thread.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import threading
from collections.abc import Iterable
from dataclasses import dataclass

MARK_VAR = "PALYRA_TUI_LINEAGE"
_PR_SET_CHILD_SUBREAPER = 36


@dataclass(frozen=True, slots=True)
class ProcEntry:
    """One line of the process table, as ``/proc/<pid>/stat`` gives it."""

    pid: int
    ppid: int
    pgid: int
    start: int
    zombie: bool


@dataclass(frozen=True, slots=True)
class Tracked:
    """A process known by pid and start time (clock ticks since boot)."""

    pid: int
    start: int


def become_subreaper() -> bool:
    """Make this process adopt its orphaned descendants; False where Linux refuses."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def lineage_mark(instance: str, service: str, start: int) -> str:
    """The environment value that marks one start of ``service``."""
    return f"{instance}:{service}:{start}"


def read_entry(pid: int) -> ProcEntry | None:
    """The process table entry of ``pid``, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
    except OSError:
        return None
    fields = stat[stat.rfind(b")") + 2 :].split()
    if len(fields) < 20:
        return None
    return ProcEntry(
        pid=pid,
        ppid=int(fields[1]),
        pgid=int(fields[2]),
        start=int(fields[19]),
        zombie=fields[0] in (b"Z", b"X"),
    )


def process_table() -> dict[int, ProcEntry]:
    """Every process this user can see, by pid."""
    table: dict[int, ProcEntry] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return table
    for name in entries:
        if name.isdigit():
            entry = read_entry(int(name))
            if entry is not None:
                table[entry.pid] = entry
    return table


def mark_of(pid: int) -> str | None:
    """The lineage mark in ``pid``'s environment, if it has one and it can be read."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as handle:
            environ = handle.read()
    except OSError:
        return None
    prefix = MARK_VAR.encode() + b"="
    for item in environ.split(b"\0"):
        if item.startswith(prefix):
            return item[len(prefix) :].decode("utf-8", errors="replace")
    return None


def descendants(table: dict[int, ProcEntry], roots: Iterable[int]) -> set[int]:
    """Live pids below ``roots`` in the parent tree (the roots excluded)."""
    children: dict[int, list[int]] = {}
    for entry in table.values():
        children.setdefault(entry.ppid, []).append(entry.pid)
    found: set[int] = set()
    stack = list(roots)
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in found:
                found.add(child)
                stack.append(child)
    return {pid for pid in found if not table[pid].zombie}


def kill_tracked(process: Tracked, signum: int = signal.SIGKILL) -> bool:
    """Signal ``process`` if that pid still is that process; True if it was signalled."""
    try:
        pidfd = os.pidfd_open(process.pid)
    except OSError:
        return False
    try:
        entry = read_entry(process.pid)
        if entry is None or entry.start != process.start or entry.zombie:
            return False
        signal.pidfd_send_signal(pidfd, signum)
        return True
    except OSError:
        return False
    finally:
        os.close(pidfd)


class LineageTracker:
    """Which processes belong to which start of a service (thread-safe, blocking reads).

    ``scan`` runs with the periodic stats sample; ``sweep`` runs when a
    service's main process has exited, to find everything it left behind.
    Both also collect the exit of every orphan this subreaper adopted that has
    died, seen or not, so that none stays a zombie.
    """

    def __init__(self, instance: str) -> None:
        self.instance = instance
        self.subreaper = False
        self._lock = threading.Lock()
        self._known: dict[str, set[Tracked]] = {}
        self._own: set[int] = set()

    def own(self, pid: int) -> None:
        """``pid`` is a child the supervisor waits for itself (a service's main process,
        the watchdog): never reap it here."""
        with self._lock:
            self._own.add(pid)

    def disown(self, pid: int) -> None:
        """``pid`` was reaped by its owner."""
        with self._lock:
            self._own.discard(pid)

    def scan(self, leaders: dict[int, str]) -> tuple[list[Tracked], set[Tracked]]:
        """Record the descendants of each running start; returns the ones seen first now
        and the ones that have ended since the last look."""
        table = process_table()
        with self._lock:
            own = set(self._own)
        found = self._attribute(table, leaders, own)
        _reap_orphans(table, own)
        fresh: list[Tracked] = []
        ended: set[Tracked] = set()
        with self._lock:
            for mark, processes in found.items():
                known = self._known.setdefault(mark, set())
                fresh.extend(processes - known)
                known |= processes
            for known in self._known.values():
                gone = {p for p in known if _ended(table, p)}
                known -= gone
                ended |= gone
        return fresh, ended

    def sweep(self, mark: str) -> set[Tracked]:
        """Every live process of the start ``mark``; its main process has ended."""
        table = process_table()
        with self._lock:
            own = set(self._own)
        found = self._attribute(table, {}, own).get(mark, set())
        _reap_orphans(table, own)
        with self._lock:
            known = self._known.setdefault(mark, set())
            known |= found
            return {p for p in known if not _ended(table, p)}

    def known(self) -> set[Tracked]:
        """Every descendant recorded so far, of every start."""
        with self._lock:
            return set().union(*self._known.values())

    def forget(self, mark: str) -> set[Tracked]:
        """Stop tracking ``mark``; returns what was still recorded for it."""
        with self._lock:
            return self._known.pop(mark, set())

    def _attribute(
        self, table: dict[int, ProcEntry], leaders: dict[int, str], own: set[int]
    ) -> dict[str, set[Tracked]]:
        found: dict[str, set[Tracked]] = {}
        me = os.getpid()
        for leader, mark in leaders.items():
            below = descendants(table, [leader])
            found.setdefault(mark, set()).update(_tracked(table, below))
        prefix = self.instance + ":"
        for entry in table.values():
            if entry.ppid != me or entry.zombie or entry.pid in leaders or entry.pid in own:
                continue
            adopted_mark = mark_of(entry.pid)
            if adopted_mark is None or not adopted_mark.startswith(prefix):
                continue
            below = descendants(table, [entry.pid]) | {entry.pid}
            found.setdefault(adopted_mark, set()).update(_tracked(table, below))
        return found


def _reap_orphans(table: dict[int, ProcEntry], own: set[int]) -> None:
    """Collect dead children of this process that nobody here waits for.

    An adopted orphan is never in this process's own process group: a service
    runs in a group of its own, and a daemon that left it made another.  Other
    children of this process (started by other code in it) stay in its group
    unless they were given a session of their own, so their exit stays theirs.
    """
    me = os.getpid()
    group = os.getpgrp()
    for entry in table.values():
        if entry.zombie and entry.ppid == me and entry.pid not in own and entry.pgid != group:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(entry.pid, os.WNOHANG)


def _tracked(table: dict[int, ProcEntry], pids: Iterable[int]) -> set[Tracked]:
    return {Tracked(pid, table[pid].start) for pid in pids if pid in table}


def _ended(table: dict[int, ProcEntry], process: Tracked) -> bool:
    entry = table.get(process.pid)
    return entry is None or entry.zombie or entry.start != process.start
