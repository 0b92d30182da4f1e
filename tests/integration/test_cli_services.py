"""``palyra-tui start|stop|restart|hold|release`` against a real runtime host."""

from __future__ import annotations

from typing import Any

from tests.conftest import child, pids_alive
from tests.integration.cli_support import Host, Ran, StartHost, until_cli

HANG = {"command": child("hang"), "stop_timeout": 30.0}
STUBBORN = {"command": child("hang", "--ignore-term"), "stop_timeout": 1.5}


def service(ran: Ran, name: str) -> dict[str, Any]:
    return next(s for s in ran.json()["services"] if s["name"] == name)


async def running(host: Host, name: str) -> dict[str, Any]:
    ran = await until_cli(
        host.path, ("status", "--json"), lambda r: service(r, name)["state"] == "running"
    )
    return service(ran, name)


async def test_stop_and_start_wait_for_the_state_and_say_when_it_already_is(
    cli_host: StartHost,
) -> None:
    host = await cli_host({"worker": HANG})
    pid = (await running(host, "worker"))["pid"]
    stopped = await host.cli("stop", "worker", "--json")
    assert stopped.code == 0, stopped.err
    assert service(stopped, "worker") == {
        "name": "worker",
        "result": "ok",
        "message": "",
        "state": "stopped",
        "pid": None,
        "held": False,
    }
    assert pids_alive([pid]) == []
    again = await host.cli("stop", "worker")
    assert again.code == 6 and again.out == ""
    assert again.err == "palyra-tui: worker is already stopped\n"
    started = await host.cli("start", "worker")
    assert started.code == 0, started.err
    assert started.out.startswith("worker: running (pid ")
    new_pid = int(started.out.split("pid ")[1].rstrip(")\n"))
    assert pids_alive([new_pid]) == [new_pid]
    twice = await host.cli("start", "worker", "--json")
    assert twice.code == 6
    assert twice.error() == {
        "error": f"worker is already running (pid {new_pid})",
        "code": 6,
    }
    assert service(twice, "worker")["result"] == "conflict"


async def test_a_start_that_does_not_come_up_says_why(cli_host: StartHost) -> None:
    crasher = {"command": child("exit", "3"), "enabled": False, "restart": "on-failure"}
    host = await cli_host({"crasher": crasher})
    ran = await host.cli("start", "crasher", "--json")
    assert ran.code == 1
    assert service(ran, "crasher")["result"] == "failed"
    message = ran.error()["error"]
    assert message.startswith("crasher is backoff: exited with code 3")
    text = await host.cli("start", "crasher")
    assert text.code == 1 and "exited with code 3" in text.err


async def test_restart_waits_for_a_new_process(cli_host: StartHost) -> None:
    host = await cli_host({"worker": HANG})
    old = (await running(host, "worker"))["pid"]
    ran = await host.cli("restart", "worker", "--json")
    assert ran.code == 0, ran.err
    restarted = service(ran, "worker")
    assert restarted["state"] == "running" and restarted["pid"] not in (None, old)
    assert pids_alive([old]) == []


async def test_hold_and_release(cli_host: StartHost) -> None:
    host = await cli_host({"worker": HANG})
    await running(host, "worker")
    held = await host.cli("hold", "worker", "--json")
    assert held.code == 0 and service(held, "worker")["held"] is True
    assert (await host.cli("hold", "worker")).code == 6
    released = await host.cli("release", "worker")
    assert released.code == 0 and released.out.startswith("worker: running (pid ")
    not_held = await host.cli("release", "worker")
    assert not_held.code == 6 and "not held" in not_held.err


async def test_no_wait_returns_before_a_slow_stop_is_done(cli_host: StartHost) -> None:
    host = await cli_host({"stubborn": STUBBORN})
    pid = (await running(host, "stubborn"))["pid"]
    ran = await host.cli("stop", "stubborn", "--no-wait", "--json")
    assert ran.code == 0, ran.err
    accepted = service(ran, "stubborn")
    assert accepted["result"] == "accepted" and accepted["state"] in ("running", "stopping")
    assert pids_alive([pid]) == [pid]
    await until_cli(
        host.path, ("status", "--json"), lambda r: service(r, "stubborn")["state"] == "stopped"
    )
    assert pids_alive([pid]) == []


async def test_a_waited_stop_returns_once_the_process_is_gone(cli_host: StartHost) -> None:
    host = await cli_host({"stubborn": STUBBORN})
    pid = (await running(host, "stubborn"))["pid"]
    ran = await host.cli("stop", "stubborn")
    assert ran.code == 0 and ran.out == "stubborn: stopped\n"
    assert pids_alive([pid]) == []


async def test_several_services_and_an_unknown_one(cli_host: StartHost) -> None:
    host = await cli_host({"one": HANG, "two": HANG})
    await running(host, "one")
    await running(host, "two")
    unknown = await host.cli("stop", "one", "nope")
    assert unknown.code == 2 and "no service called 'nope'" in unknown.err
    assert (await running(host, "one"))["state"] == "running"
    assert (await host.cli("stop", "one")).code == 0
    both = await host.cli("stop", "two", "one", "--json")
    assert both.code == 6
    assert [(s["name"], s["result"]) for s in both.json()["services"]] == [
        ("two", "ok"),
        ("one", "conflict"),
    ]
