"""The supervisor with real child processes: exits, backoff, hold, give-up, stop."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from palyra_tui.config import Config
from palyra_tui.errors import InstanceLocked, SupervisorError
from palyra_tui.models import ServiceState
from palyra_tui.supervisor import ManualClock, Supervisor
from palyra_tui.supervisor.subscriptions import EventSubscription
from tests.conftest import (
    block_until,
    child,
    eventually,
    make_config,
    next_state,
    pids_alive,
    wait_for_output,
)

OpenSupervisor = Callable[..., Supervisor]
ConfigFactory = Callable[..., Config]
NO_TICK = 3600.0


async def crasher_on_manual_clock(
    config_factory: ConfigFactory, open_supervisor: OpenSupervisor, **options: object
) -> tuple[Supervisor, EventSubscription, ManualClock]:
    """A service that exits 1 at once, on a clock that moves only when told."""
    clock = ManualClock()
    config = config_factory({"crasher": {"command": child("exit", "1"), **options}})
    supervisor = open_supervisor(config, clock=clock, tick_interval=NO_TICK)
    events = supervisor.subscribe_events()
    await supervisor.start("crasher")
    return supervisor, events, clock


async def test_crash_is_detected_and_decoded(
    config_factory: ConfigFactory, open_supervisor: OpenSupervisor
) -> None:
    clock = ManualClock()
    config = config_factory({"crasher": {"command": child("exit", "3")}})
    supervisor = open_supervisor(config, clock=clock, tick_interval=NO_TICK)
    events = supervisor.subscribe_events()
    await supervisor.start("crasher")
    started = await next_state(events, "crasher", ServiceState.STARTING)
    assert started.pid is not None
    backoff = await next_state(events, "crasher", ServiceState.BACKOFF)
    assert backoff.exit is not None
    assert (backoff.exit.code, backoff.exit.signal) == (3, None)
    assert backoff.exit.description == "exited with code 3"
    assert backoff.reason == "restarting after a 1 s backoff"
    assert backoff.attempt == 1
    assert backoff.next_attempt_at is not None
    assert backoff.next_attempt_at == clock.time() + 1.0
    snapshot = supervisor.snapshot().get("crasher")
    assert snapshot is not None and snapshot.last_exit is not None
    assert snapshot.state is ServiceState.BACKOFF and snapshot.pid is None
    stdout = [line.text for line in supervisor.tail("crasher", 10)]
    assert "about to exit" in stdout


async def test_signal_death_is_named(
    config_factory: ConfigFactory, open_supervisor: OpenSupervisor
) -> None:
    config = config_factory({"victim": {"command": child("hang"), "restart": "never"}})
    supervisor = open_supervisor(config)
    events = supervisor.subscribe_events()
    await supervisor.start("victim")
    started = await next_state(events, "victim", ServiceState.STARTING)
    assert started.pid is not None
    import os

    os.kill(started.pid, signal.SIGKILL)
    exited = await next_state(events, "victim", ServiceState.EXITED)
    assert exited.exit is not None and exited.exit.signal_name == "SIGKILL"
    assert exited.exit.description == "killed by SIGKILL"
    assert exited.reason == "not restarted (restart policy: never)"


async def test_backoff_follows_the_injected_clock(
    config_factory: ConfigFactory, open_supervisor: OpenSupervisor
) -> None:
    supervisor, events, clock = await crasher_on_manual_clock(config_factory, open_supervisor)
    delays = []
    for _ in range(4):
        backoff = await next_state(events, "crasher", ServiceState.BACKOFF)
        assert backoff.next_attempt_at is not None
        delay = backoff.next_attempt_at - clock.time()
        delays.append(delay)
        clock.advance(delay - 0.001)
        await supervisor.tick()
        assert supervisor.snapshot().get("crasher").state is ServiceState.BACKOFF  # type: ignore[union-attr]
        clock.advance(0.001)
        await supervisor.tick()
        await next_state(events, "crasher", ServiceState.STARTING)
    assert delays == [1.0, 2.0, 4.0, 8.0]


async def test_a_long_run_resets_the_backoff(
    config_factory: ConfigFactory, open_supervisor: OpenSupervisor, tmp_path: Path
) -> None:
    clock = ManualClock()
    marker = tmp_path / "go"
    script = (
        f"import os,time\nwhile not os.path.exists({str(marker)!r}): time.sleep(0.01)\n"
        "raise SystemExit(1)"
    )
    config = config_factory({"slow": {"command": [sys.executable, "-c", script]}})
    supervisor = open_supervisor(config, clock=clock, tick_interval=NO_TICK)
    events = supervisor.subscribe_events()
    await supervisor.start("slow")
    await next_state(events, "slow", ServiceState.STARTING)
    marker.touch()
    first = await next_state(events, "slow", ServiceState.BACKOFF)
    assert first.attempt == 1
    marker.unlink()
    clock.advance(1.0)
    await supervisor.tick()
    await next_state(events, "slow", ServiceState.STARTING)
    clock.advance(60.0)
    marker.touch()
    second = await next_state(events, "slow", ServiceState.BACKOFF)
    assert second.attempt == 1
    assert second.next_attempt_at == pytest.approx(clock.time() + 1.0)


async def test_hold_stops_the_schedule_and_release_starts_at_once(
    config_factory: ConfigFactory, open_supervisor: OpenSupervisor
) -> None:
    supervisor, events, clock = await crasher_on_manual_clock(config_factory, open_supervisor)
    await next_state(events, "crasher", ServiceState.BACKOFF)
    await supervisor.hold("crasher", True)
    held = await next_state(events, "crasher", ServiceState.HELD)
    assert held.next_attempt_at is None
    clock.advance(120.0)
    await supervisor.tick()
    snapshot = supervisor.snapshot().get("crasher")
    assert snapshot is not None and snapshot.state is ServiceState.HELD and snapshot.held
    await supervisor.hold("crasher", False)
    await next_state(events, "crasher", ServiceState.STARTING)


async def test_hold_while_running_parks_the_next_crash(
    config_factory: ConfigFactory, open_supervisor: OpenSupervisor, tmp_path: Path
) -> None:
    crash = tmp_path / "crash"
    config = config_factory({"crasher": {"command": child("exit-when", str(crash), "1")}})
    supervisor = open_supervisor(config, tick_interval=NO_TICK)
    events = supervisor.subscribe_events()
    await supervisor.start("crasher")
    await next_state(events, "crasher", ServiceState.STARTING)
    await supervisor.hold("crasher", True)
    crash.touch()
    held = await next_state(events, "crasher", ServiceState.HELD)
    assert held.exit is not None and held.exit.code == 1
    assert held.reason == "restarts held by operator"


async def test_max_restarts_ends_in_failed(
    config_factory: ConfigFactory, open_supervisor: OpenSupervisor
) -> None:
    supervisor, events, clock = await crasher_on_manual_clock(
        config_factory, open_supervisor, max_restarts=2
    )
    for _ in range(2):
        await next_state(events, "crasher", ServiceState.BACKOFF)
        clock.advance(60.0)
        await supervisor.tick()
    failed = await next_state(events, "crasher", ServiceState.FAILED)
    assert failed.reason == "gave up after 3 consecutive failures"
    assert failed.exit is not None and failed.exit.description == "exited with code 1"
    snapshot = supervisor.snapshot().get("crasher")
    assert snapshot is not None and snapshot.next_attempt_at is None
    assert snapshot.restarts == 2

    await supervisor.reconsider()
    again = supervisor.snapshot().get("crasher")
    assert again is not None and again.state is ServiceState.FAILED
    assert again.reason == "gave up after 3 consecutive failures", "a new look keeps why"


@pytest.mark.parametrize(
    ("policy", "code", "final"),
    [
        ("on-failure", "0", ServiceState.EXITED),
        ("never", "1", ServiceState.EXITED),
        ("always", "0", ServiceState.BACKOFF),
    ],
)
async def test_restart_policies(
    config_factory: ConfigFactory,
    open_supervisor: OpenSupervisor,
    policy: str,
    code: str,
    final: ServiceState,
) -> None:
    config = config_factory({"job": {"command": child("exit", code), "restart": policy}})
    supervisor = open_supervisor(config, tick_interval=NO_TICK)
    events = supervisor.subscribe_events()
    await supervisor.start("job")
    await next_state(events, "job", final)


async def test_missing_binary_is_a_state_with_a_retry_schedule(
    config_factory: ConfigFactory, open_supervisor: OpenSupervisor, tmp_path: Path
) -> None:
    config = config_factory({"ghost": {"command": [str(tmp_path / "no-such-binary")]}})
    supervisor = open_supervisor(config, tick_interval=NO_TICK)
    events = supervisor.subscribe_events()
    await supervisor.start("ghost")
    backoff = await next_state(events, "ghost", ServiceState.BACKOFF)
    assert "no-such-binary" in backoff.reason and "does not exist" in backoff.reason
    assert backoff.next_attempt_at is not None
    assert backoff.exit is None
    notes = [line.text for line in supervisor.tail("ghost", 5)]
    assert any("retrying with backoff" in note for note in notes)


async def test_stop_sends_the_configured_signal_to_the_group(
    config_factory: ConfigFactory, open_supervisor: OpenSupervisor, tmp_path: Path
) -> None:
    record = tmp_path / "signal.txt"
    config = config_factory(
        {"polite": {"command": child("record-signal", str(record)), "stop_signal": "SIGINT"}}
    )
    supervisor = open_supervisor(config, tick_interval=NO_TICK)
    events = supervisor.subscribe_events()
    await supervisor.start("polite")
    await next_state(events, "polite", ServiceState.STARTING)
    await wait_for_output(supervisor, "polite", "ready")
    await supervisor.stop("polite")
    assert record.read_text() == "SIGINT"
    snapshot = supervisor.snapshot().get("polite")
    assert snapshot is not None and snapshot.state is ServiceState.STOPPED
    assert snapshot.last_exit is not None and snapshot.last_exit.code == 0


async def test_stop_escalates_to_sigkill_and_leaves_no_descendant(
    config_factory: ConfigFactory, open_supervisor: OpenSupervisor, tmp_path: Path
) -> None:
    pid_file = tmp_path / "pids"
    config = config_factory(
        {
            "stubborn": {"command": child("hang", "--ignore-term"), "stop_timeout": 0.3},
            "tree": {"command": child("fork-tree", str(pid_file))},
        }
    )
    supervisor = open_supervisor(config, tick_interval=NO_TICK)
    events = supervisor.subscribe_events()
    await supervisor.start_all()
    await wait_for_output(supervisor, "stubborn", "hanging")
    await wait_for_output(supervisor, "tree", "forked")
    tree_pids = [int(pid) for pid in pid_file.read_text().split()]
    assert len(pids_alive(tree_pids)) == 3
    started = time.monotonic()
    await supervisor.stop("stubborn")
    assert time.monotonic() - started >= 0.3
    stopped = await next_state(events, "stubborn", ServiceState.STOPPED)
    assert stopped.exit is not None and stopped.exit.signal_name == "SIGKILL"
    notes = [line.text for line in supervisor.tail("stubborn", 5)]
    assert any("did not stop within 0.3 s" in note for note in notes)
    await supervisor.stop("tree")
    assert pids_alive(tree_pids) == []


async def test_grandchildren_die_with_a_crashed_leader(
    config_factory: ConfigFactory, open_supervisor: OpenSupervisor, tmp_path: Path
) -> None:
    pid_file = tmp_path / "pids"
    config = config_factory({"tree": {"command": child("fork-tree", str(pid_file))}})
    supervisor = open_supervisor(config, tick_interval=NO_TICK)
    events = supervisor.subscribe_events()
    await supervisor.start("tree")
    await wait_for_output(supervisor, "tree", "forked")
    leader, *grandchildren = [int(pid) for pid in pid_file.read_text().split()]
    import os

    os.kill(leader, signal.SIGKILL)
    await next_state(events, "tree", ServiceState.BACKOFF)
    assert await eventually(lambda: pids_alive(grandchildren) == [])


async def test_exit_handling_does_not_wait_for_the_callers_loop(
    config_factory: ConfigFactory, open_supervisor: OpenSupervisor
) -> None:
    """The caller's loop stays blocked (a stalled terminal) until the crash is handled.

    The wait below never yields to the caller's loop, so the exit can only be
    seen if the supervisor thread handled it on its own.  Events for this loop
    queue up meanwhile and arrive once it runs again.
    """
    clock = ManualClock()
    config = config_factory({"crasher": {"command": child("exit", "1")}})
    supervisor = open_supervisor(config, clock=clock, tick_interval=NO_TICK)
    events = supervisor.subscribe_events()
    await supervisor.start("crasher")
    handled = block_until(lambda: supervisor.snapshot().get("crasher").last_exit is not None)  # type: ignore[union-attr]
    assert handled, "the crash was not handled while the caller's loop was blocked"
    snapshot = supervisor.snapshot().get("crasher")
    assert snapshot is not None and snapshot.state is ServiceState.BACKOFF
    assert snapshot.last_exit is not None and snapshot.last_exit.code == 1
    backoff = await next_state(events, "crasher", ServiceState.BACKOFF)
    assert backoff.exit == snapshot.last_exit


async def test_restart_stops_gracefully_then_starts(
    config_factory: ConfigFactory, open_supervisor: OpenSupervisor
) -> None:
    config = config_factory({"sleeper": {"command": child("hang")}})
    supervisor = open_supervisor(config, tick_interval=NO_TICK)
    events = supervisor.subscribe_events()
    await supervisor.start("sleeper")
    first = await next_state(events, "sleeper", ServiceState.STARTING)
    await supervisor.restart("sleeper")
    await next_state(events, "sleeper", ServiceState.STOPPED)
    second = await next_state(events, "sleeper", ServiceState.STARTING)
    assert second.pid != first.pid
    snapshot = supervisor.snapshot().get("sleeper")
    assert snapshot is not None and snapshot.restarts == 0, "an operator restart is not counted"


async def test_unknown_service_and_second_instance_are_clear_errors(
    config_factory: ConfigFactory, open_supervisor: OpenSupervisor
) -> None:
    config = config_factory({"sleeper": {"command": child("hang")}})
    supervisor = open_supervisor(config, tick_interval=NO_TICK)
    with pytest.raises(SupervisorError, match="no service called 'nope'"):
        await supervisor.start("nope")
    with pytest.raises(InstanceLocked, match="already supervising"):
        Supervisor(config).open()


async def test_running_state_after_the_start_grace(
    config_factory: ConfigFactory, open_supervisor: OpenSupervisor
) -> None:
    config = config_factory({"sleeper": {"command": child("hang"), "start_grace": 0.1}})
    supervisor = open_supervisor(config, tick_interval=NO_TICK, stats_interval=0.0)
    events = supervisor.subscribe_events()
    await supervisor.start("sleeper")
    await next_state(events, "sleeper", ServiceState.RUNNING)
    await supervisor.tick()

    def measured() -> bool:
        # A sample taken between fork and exec sees the small child, not the interpreter.
        found = supervisor.snapshot().get("sleeper")
        return found is not None and found.stats is not None and found.stats.rss_bytes > 1_000_000

    assert await eventually(measured), "the service's memory was never measured after its exec"
    snapshot = supervisor.snapshot().get("sleeper")
    assert snapshot is not None and snapshot.stats is not None
    assert snapshot.stats.threads >= 1 and snapshot.stats.open_files >= 3
    assert snapshot.uptime(time.time()) is not None


async def test_stop_during_backoff_or_hold_ends_in_stopped(
    config_factory: ConfigFactory, open_supervisor: OpenSupervisor
) -> None:
    supervisor, events, clock = await crasher_on_manual_clock(config_factory, open_supervisor)
    await next_state(events, "crasher", ServiceState.BACKOFF)
    await supervisor.stop("crasher")
    stopped = await next_state(events, "crasher", ServiceState.STOPPED)
    assert stopped.next_attempt_at is None
    clock.advance(120)
    await supervisor.tick()
    assert supervisor.snapshot().get("crasher").state is ServiceState.STOPPED  # type: ignore[union-attr]
    await supervisor.start("crasher")
    await next_state(events, "crasher", ServiceState.BACKOFF)
    await supervisor.hold("crasher", True)
    await next_state(events, "crasher", ServiceState.HELD)
    await supervisor.stop("crasher")
    await next_state(events, "crasher", ServiceState.STOPPED)
    await supervisor.hold("crasher", False)
    snapshot = supervisor.snapshot().get("crasher")
    assert snapshot is not None and snapshot.state is ServiceState.STOPPED and not snapshot.held


async def test_release_of_a_held_service_that_is_not_wanted_stays_stopped(
    config_factory: ConfigFactory, open_supervisor: OpenSupervisor
) -> None:
    supervisor, events, _ = await crasher_on_manual_clock(config_factory, open_supervisor)
    await next_state(events, "crasher", ServiceState.BACKOFF)
    await supervisor.hold("crasher", True)
    await next_state(events, "crasher", ServiceState.HELD)
    await supervisor.stop("crasher")
    await supervisor.hold("crasher", False)
    assert supervisor.snapshot().get("crasher").state is ServiceState.STOPPED  # type: ignore[union-attr]


async def test_start_during_stopping_starts_again_after_the_stop(
    config_factory: ConfigFactory, open_supervisor: OpenSupervisor
) -> None:
    config = config_factory(
        {"slow": {"command": child("hang", "--ignore-term"), "stop_timeout": 0.3}}
    )
    supervisor = open_supervisor(config, tick_interval=NO_TICK)
    events = supervisor.subscribe_events()
    await supervisor.start("slow")
    first = await next_state(events, "slow", ServiceState.STARTING)
    await wait_for_output(supervisor, "slow", "hanging")
    stopping = asyncio.create_task(supervisor.stop("slow"))
    await next_state(events, "slow", ServiceState.STOPPING)
    await supervisor.start("slow")
    assert supervisor.snapshot().get("slow").desired  # type: ignore[union-attr]
    await stopping
    second = await next_state(events, "slow", ServiceState.STARTING)
    assert second.pid != first.pid


async def test_a_failed_service_can_be_started_again(
    config_factory: ConfigFactory, open_supervisor: OpenSupervisor
) -> None:
    supervisor, events, clock = await crasher_on_manual_clock(
        config_factory, open_supervisor, max_restarts=1
    )
    await next_state(events, "crasher", ServiceState.BACKOFF)
    clock.advance(60)
    await supervisor.tick()
    await next_state(events, "crasher", ServiceState.FAILED)
    await supervisor.start("crasher")
    restarted = await next_state(events, "crasher", ServiceState.STARTING)
    assert restarted.attempt == 0


async def test_every_retry_of_a_missing_binary_is_an_event(
    config_factory: ConfigFactory, open_supervisor: OpenSupervisor, tmp_path: Path
) -> None:
    clock = ManualClock()
    config = config_factory({"ghost": {"command": [str(tmp_path / "missing")]}})
    supervisor = open_supervisor(config, clock=clock, tick_interval=NO_TICK)
    events = supervisor.subscribe_events()
    await supervisor.start("ghost")
    attempts = []
    for _ in range(3):
        event = await next_state(events, "ghost", ServiceState.BACKOFF)
        attempts.append(event.attempt)
        assert event.next_attempt_at is not None
        clock.advance(event.next_attempt_at - clock.time())
        await supervisor.tick()
    assert attempts == [1, 2, 3]


async def test_a_bad_spawn_does_not_stop_the_other_services(
    config_factory: ConfigFactory, open_supervisor: OpenSupervisor
) -> None:
    config = config_factory(
        {
            "broken": {"command": child("hang"), "cwd": "/nonexistent-dir-for-palyra-tui"},
            "fine": {"command": child("hang")},
        }
    )
    supervisor = open_supervisor(config, tick_interval=NO_TICK)
    events = supervisor.subscribe_events()
    await supervisor.start_all()
    broken = await next_state(events, "broken", ServiceState.BACKOFF)
    assert "does not exist" in broken.reason
    await next_state(events, "fine", ServiceState.STARTING)


async def test_only_restarts_the_supervisor_makes_count(
    config_factory: ConfigFactory, open_supervisor: OpenSupervisor
) -> None:
    supervisor, events, clock = await crasher_on_manual_clock(config_factory, open_supervisor)

    def restarts() -> int:
        return supervisor.snapshot().get("crasher").restarts  # type: ignore[union-attr]

    first = await next_state(events, "crasher", ServiceState.BACKOFF)
    assert restarts() == 0
    assert first.next_attempt_at is not None
    clock.advance(first.next_attempt_at - clock.time())
    await supervisor.tick()
    await next_state(events, "crasher", ServiceState.STARTING)
    await next_state(events, "crasher", ServiceState.BACKOFF)
    assert restarts() == 1
    await supervisor.stop("crasher")
    await supervisor.start("crasher")
    await next_state(events, "crasher", ServiceState.STARTING)
    await next_state(events, "crasher", ServiceState.BACKOFF)
    await supervisor.restart("crasher")
    await next_state(events, "crasher", ServiceState.STARTING)
    await next_state(events, "crasher", ServiceState.BACKOFF)
    assert restarts() == 1, "operator starts and restarts are not counted"
    await supervisor.hold("crasher", True)
    await next_state(events, "crasher", ServiceState.HELD)
    await supervisor.hold("crasher", False)
    await next_state(events, "crasher", ServiceState.STARTING)
    assert restarts() == 2, "the restart a released hold lets through is counted"


async def test_a_missing_builtin_binary_is_said_once_with_a_way_out(
    tmp_path: Path, open_supervisor: OpenSupervisor
) -> None:
    clock = ManualClock()
    config = make_config(
        tmp_path,
        {"gateway": {"max_restarts": 8}, "browserd": {"enabled": False}},
        builtins=True,
        runtime={"admin_port": 0, "grpc_port": 0},
    )
    environ = {"PATH": str(tmp_path / "empty-path")}
    supervisor = open_supervisor(config, clock=clock, environ=environ, tick_interval=NO_TICK)
    events = supervisor.subscribe_events()
    await supervisor.start("gateway")
    hint = "install Palyra or set PALYRA_DESKTOP_PALYRAD_BIN, or try `palyra-tui demo`"
    for _ in range(8):
        backoff = await next_state(events, "gateway", ServiceState.BACKOFF)
        assert backoff.reason == f"cannot find 'palyrad': {hint}"
        assert backoff.next_attempt_at is not None
        clock.advance(backoff.next_attempt_at - clock.time())
        await supervisor.tick()
    failed = await next_state(events, "gateway", ServiceState.FAILED)
    assert failed.reason.count("cannot find 'palyrad'") == 1
    assert failed.reason.endswith("gave up after 9 failures")
    notes = "\n".join(line.text for line in supervisor.tail("gateway", 50))
    assert notes.count("cannot find 'palyrad'") == 1, notes
    assert "gave up after 9 failures" in notes


async def test_a_spawn_failure_after_a_crash_does_not_repeat_the_old_exit(
    config_factory: ConfigFactory, open_supervisor: OpenSupervisor, tmp_path: Path
) -> None:
    script = tmp_path / "crash.sh"
    script.write_text("#!/bin/sh\nexit 3\n")
    script.chmod(0o755)
    clock = ManualClock()
    config = config_factory({"crasher": {"command": [str(script)]}})
    supervisor = open_supervisor(config, clock=clock, tick_interval=NO_TICK)
    events = supervisor.subscribe_events()
    await supervisor.start("crasher")
    crashed = await next_state(events, "crasher", ServiceState.BACKOFF)
    assert crashed.exit is not None and crashed.exit.code == 3
    assert "exited with code 3" not in crashed.reason
    script.unlink()
    assert crashed.next_attempt_at is not None
    clock.advance(crashed.next_attempt_at - clock.time())
    await supervisor.tick()
    missing = await next_state(events, "crasher", ServiceState.BACKOFF)
    assert missing.exit is None
    assert "does not exist" in missing.reason and "exited" not in missing.reason


async def test_shutting_down_keeps_how_services_ended(
    config_factory: ConfigFactory, open_supervisor: OpenSupervisor
) -> None:
    clock = ManualClock()
    config = config_factory(
        {
            "quitter": {"command": child("exit", "1"), "max_restarts": 1},
            "looper": {"command": child("exit", "2")},
        }
    )
    supervisor = open_supervisor(config, clock=clock, tick_interval=NO_TICK)

    def state(name: str) -> ServiceState:
        return supervisor.snapshot().get(name).state  # type: ignore[union-attr]

    await supervisor.start_all()
    assert await eventually(lambda: state("quitter") is state("looper") is ServiceState.BACKOFF)
    clock.advance(1.0)
    await supervisor.tick()

    def restarts(name: str) -> int:
        return supervisor.snapshot().get(name).restarts  # type: ignore[union-attr]

    assert await eventually(
        lambda: state("quitter") is ServiceState.FAILED and restarts("looper") == 1
    )
    assert await eventually(lambda: state("looper") is ServiceState.BACKOFF)
    failed_reason = supervisor.snapshot().get("quitter").reason  # type: ignore[union-attr]
    events = supervisor.subscribe_events()
    await supervisor.stop_all("palyra-tui is shutting down")
    events.close()
    late = [event async for event in events]
    assert [(e.service, e.state, e.reason) for e in late] == [
        (
            "looper",
            ServiceState.STOPPED,
            "palyra-tui is shutting down (last failure: exited with code 2)",
        )
    ]
    quitter = supervisor.snapshot().get("quitter")
    assert quitter is not None and quitter.state is ServiceState.FAILED
    assert quitter.reason == failed_reason and not quitter.desired
    assert quitter.last_exit is not None and quitter.last_exit.code == 1
