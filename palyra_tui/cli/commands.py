"""The headless commands that script the runtime host, and how they are dispatched.

Each works over the host's socket API and none imports Textual.  Every one
fails the same way (:mod:`palyra_tui.cli.failures`): one sentence on stderr, or
with ``--json`` one JSON object there, and an exit code from the shared table.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from palyra_tui.config import Config

SERVICE_VERBS = ("start", "stop", "restart", "hold", "release")
NAMES = frozenset(
    {
        "status",
        "logs",
        *SERVICE_VERBS,
        "approvals",
        "approve",
        "deny",
        "up",
        "sessions",
        "send",
        "service",
        "doctor",
        "dashboard",
        "rollout",
        "profile",
        "bundle",
        "node",
        "devices",
    }
)
"""The commands this module runs."""


def add_commands(commands: Any, config_help: str) -> None:
    """Add the scripting commands to ``palyra-tui``'s subparsers."""
    status = commands.add_parser(
        "status",
        prog="palyra-tui status",
        help="the runtime's health: services, gateway, approvals, runs",
        description="Print the overall status, each service (state, pid, uptime, restarts, "
        "next attempt, health, CPU, memory), the gateway, pending approvals and active runs. "
        "Exits 0 when healthy, 1 when degraded or down, 4 when no runtime host runs.",
    )
    _common(status, config_help)
    logs = commands.add_parser(
        "logs",
        prog="palyra-tui logs",
        help="print the services' buffered logs; -f follows them",
        description="Print the logs the runtime host keeps for the services (all, or those "
        "named), oldest first, on one time axis; with -f, go on with new lines until "
        "interrupted. Lines the host could not keep are gap records, inline. Output to a "
        "pipe or a file is never coloured.",
    )
    logs.add_argument("services", nargs="*", metavar="SERVICE", help="only these services")
    logs.add_argument(
        "-n", "--lines", type=int, metavar="N", dest="count", help="only the newest N lines"
    )
    logs.add_argument("-f", "--follow", action="store_true", help="follow new lines")
    logs.add_argument(
        "--since", metavar="DURATION", help="only lines from this long ago on (90s, 5m, 1h30m)"
    )
    logs.add_argument(
        "--level", metavar="LEVEL", help="only lines at this level or above (trace … error)"
    )
    logs.add_argument(
        "--grep", metavar="PATTERN", help="only lines matching this regular expression"
    )
    _common(logs, config_help)
    _service_commands(commands, config_help)
    _approval_commands(commands, config_help)
    up = commands.add_parser(
        "up",
        prog="palyra-tui up",
        help="start the runtime host in the background and wait for a healthy gateway",
        description="Start the runtime host of the state root detached (or use the one that "
        "runs) and return once the gateway answers its health check. Exits 5 with the reason "
        "when the gateway does not come up, 1 when the host cannot start.",
    )
    up.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="how long to wait for the gateway (default: 60)",
    )
    _common(up, config_help)
    sessions = commands.add_parser(
        "sessions",
        prog="palyra-tui sessions",
        help="list the gateway's chat sessions",
        description="List the gateway's chat sessions, the most recently active first, with "
        "their id and name. Exits 5 when the gateway is not connected.",
    )
    _common(sessions, config_help)
    send = commands.add_parser(
        "send",
        prog="palyra-tui send",
        help="send a chat message; --wait streams the answer",
        description="Send TEXT to a session (its id, key or name, or 'new') through the runtime "
        "host and return once the gateway took it. With --wait, stream the turn to stdout "
        "until the run ends: the answer, tool calls and the approvals they wait for (decide "
        "them with palyra-tui approve or deny). Exits 0 when the run completed, 1 when it "
        "failed or was aborted, 5 when the gateway did not take the message.",
    )
    send.add_argument("session", metavar="SESSION")
    send.add_argument("text", metavar="TEXT")
    send.add_argument("--wait", action="store_true", help="stream the turn until the run ends")
    _common(send, config_help)
    doctor = commands.add_parser(
        "doctor",
        prog="palyra-tui doctor",
        help="check what the runtime needs: binaries, state root, config, ports, secrets",
        description="Run the preflight checks without starting anything: the daemons' "
        "binaries, a write to the state root, the config file, the gateway's and browserd's "
        "loopback ports (free, or used by this state root's own runtime), the secret store "
        "and what it protects against, and the admin token. Each check prints its status "
        "(ok, warning, blocked), its detail and a hint. Exits 0 when nothing is blocked, "
        "1 when something is.",
    )
    _common(doctor, config_help)
    _dashboard_command(commands, config_help)
    _rollout_command(commands, config_help)
    _bundle_command(commands, config_help)
    from palyra_tui.cli.node_cmd import add_node_commands

    add_node_commands(commands, _common, config_help)
    from palyra_tui.cli.profile_cmd import add_profile_command

    add_profile_command(commands, config_help)
    service = commands.add_parser(
        "service",
        prog="palyra-tui service",
        help="run the runtime host under systemd",
        description="Install a systemd unit that runs the runtime host as a service.",
    )
    actions = service.add_subparsers(dest="action", metavar="ACTION", required=True)
    install = actions.add_parser(
        "install",
        prog="palyra-tui service install",
        help="write a systemd unit for the runtime host",
        description="Write a systemd unit (Type=notify) that runs palyra-tui host --foreground "
        "with this config, and print the systemctl and loginctl lines that enable it. "
        "Without --user it is a system unit in /etc/systemd/system (as root).",
    )
    install.add_argument("--user", action="store_true", help="a user unit (systemctl --user)")
    install.add_argument(
        "--print", action="store_true", dest="show", help="print the unit instead of writing it"
    )
    _common(install, config_help, json=False)


_SERVICE_HELP = {
    "start": (
        "start services and wait until they run",
        "Start each service now (its backoff reset) and wait until it runs; if it does not, "
        "say why and exit 1. A service that already runs is a conflict (exit 6).",
    ),
    "stop": (
        "stop services and wait until their processes are gone",
        "Stop each service (its stop signal, then SIGKILL after its stop_timeout) and wait "
        "until every process it started is gone. One that is already stopped, exited or "
        "failed is a conflict (exit 6).",
    ),
    "restart": (
        "restart services and wait until they run again",
        "Stop each service gracefully, start it again, and wait until it runs.",
    ),
    "hold": (
        "hold services' automatic restarts",
        "Stop restarting each service automatically (a running one goes on running; one in "
        "backoff stays down). Holding a held service is a conflict (exit 6).",
    ),
    "release": (
        "release services' held restarts",
        "Restart each service automatically again. Releasing one that is not held is a "
        "conflict (exit 6).",
    ),
}


def _approval_commands(commands: Any, config_help: str) -> None:
    approvals = commands.add_parser(
        "approvals",
        prog="palyra-tui approvals",
        help="list the approvals that wait for a decision, with the full tool input",
        description="List the approvals that wait for a person: those the runtime host's own "
        "chat runs hold and those the gateway reports, oldest first, each with the complete "
        "tool input. Exits 5 when the gateway is not connected (its approvals may be missing).",
    )
    _common(approvals, config_help)
    approve = commands.add_parser(
        "approve",
        prog="palyra-tui approve",
        help="allow a pending tool call",
        description="Allow one pending approval, once or for the session. The runtime host "
        "sends the decision exactly once; if another client decided first, exit 6 says what "
        "was decided, when and by whom.",
    )
    approve.add_argument("approval_id", metavar="ID")
    approve.add_argument(
        "--session", action="store_true", help="allow this tool for the rest of the session"
    )
    _common(approve, config_help)
    deny = commands.add_parser(
        "deny",
        prog="palyra-tui deny",
        help="deny a pending tool call",
        description="Deny one pending approval, optionally saying why. A decision already "
        "made by another client is exit 6.",
    )
    deny.add_argument("approval_id", metavar="ID")
    deny.add_argument("--reason", default="", metavar="TEXT", help="why, for the agent")
    _common(deny, config_help)


def _dashboard_command(commands: Any, config_help: str) -> None:
    dashboard = commands.add_parser(
        "dashboard",
        prog="palyra-tui dashboard",
        help="print a one-time link that opens the web dashboard, signed in",
        description="Ask the gateway for a one-time sign-in link to its web dashboard and "
        "print it on stdout (nowhere else). It works once, within 60 seconds, in a browser "
        "that reaches the gateway's 127.0.0.1; in an SSH session stderr also gives the "
        "ssh -L line that makes it work from your laptop. Exits 5 when the gateway is not "
        "healthy or refuses.",
    )
    dashboard.add_argument(
        "--scope",
        choices=("overview", "chat", "approvals", "run"),
        default="overview",
        help="what the dashboard opens on (default: overview)",
    )
    dashboard.add_argument("--session", default="", metavar="ID", help="the chat session")
    dashboard.add_argument("--approval", default="", metavar="ID", help="the approval")
    dashboard.add_argument("--run", default="", metavar="ID", help="the run (with --session)")
    _common(dashboard, config_help)


def _rollout_command(commands: Any, config_help: str) -> None:
    rollout = commands.add_parser(
        "rollout",
        prog="palyra-tui rollout",
        help="print the rollout flags; rollout set NAME=VALUE changes them",
        description="Print the rollout flags the runtime host keeps in the state file "
        "(companion_shell_enabled, ambient_companion_enabled, desktop_notifications_enabled, "
        "offline_drafts_enabled, voice_capture_enabled, voice_overlay_enabled, "
        "voice_silence_detection_enabled, tts_playback_enabled, release_channel). Exits 4 "
        "when no runtime host runs.",
    )
    _common(rollout, config_help)
    actions = rollout.add_subparsers(dest="action", metavar="ACTION")
    change = actions.add_parser(
        "set",
        prog="palyra-tui rollout set",
        help="change some rollout flags",
        description="Set each NAME to VALUE (true, false, on or off; release_channel takes "
        "a word, and a blank one is ignored) through the runtime host, so attached UIs see "
        "the change at once, then print every flag. An unknown name or a bad value changes "
        "nothing (exit 2).",
    )
    change.add_argument("assignments", nargs="+", metavar="NAME=VALUE")
    _common(change, config_help)


def _bundle_command(commands: Any, config_help: str) -> None:
    bundle = commands.add_parser(
        "bundle",
        prog="palyra-tui bundle",
        help="write a support bundle to attach to a bug report",
        description="Ask the runtime host to write one archive (tar.gz, mode 0600) for a bug "
        "report: palyra-tui's and palyrad's versions, the config, the doctor checks, the last "
        "minutes of every service's logs ([bundle] log_minutes), the services' state changes, "
        "the health probes, the approval decisions made from this runtime and the chat on "
        "show, every one redacted. PATH names the new file (or a directory to put it in); "
        "by default it goes to <state_root>/tui/support-bundles/. Prints the path. Exits 6 "
        "when PATH exists (a bundle never replaces a file), 1 when nothing could be written, "
        "4 when no runtime host runs.",
    )
    bundle.add_argument("path", nargs="?", type=Path, metavar="PATH", help="where to write it")
    _common(bundle, config_help)


def _service_commands(commands: Any, config_help: str) -> None:
    for verb in SERVICE_VERBS:
        short, description = _SERVICE_HELP[verb]
        command = commands.add_parser(
            verb, prog=f"palyra-tui {verb}", help=short, description=description
        )
        command.add_argument("services", nargs="+", metavar="SERVICE")
        command.add_argument(
            "--no-wait", action="store_true", help="return once the runtime host has the command"
        )
        _common(command, config_help)


def _common(command: argparse.ArgumentParser, config_help: str, *, json: bool = True) -> None:
    command.add_argument("--config", type=Path, default=argparse.SUPPRESS, help=config_help)
    if json:
        command.add_argument(
            "--json", action="store_true", help="print JSON (errors too, on stderr)"
        )


def run_command(args: argparse.Namespace) -> int:
    """Run one of :data:`NAMES`; returns the exit code."""
    from palyra_tui.cli.failures import expected, fail
    from palyra_tui.config import load_config

    as_json = bool(getattr(args, "json", False))
    try:
        if args.command == "doctor":
            from palyra_tui.cli.doctor import run_doctor

            return _run(run_doctor(args.config, as_json=as_json))
        config = load_config(args.config)
        return _run(_dispatch(args, config))
    except KeyboardInterrupt as interrupt:
        return fail(interrupt, as_json=as_json)
    except Exception as error:
        if sys.flags.dev_mode and not expected(error):
            raise
        return fail(error, as_json=as_json)


def _run(work: Coroutine[Any, Any, int]) -> int:
    return asyncio.run(work)


async def _dispatch(args: argparse.Namespace, config: Config) -> int:
    command = args.command
    if command == "status":
        from palyra_tui.cli.status import run_status

        return await run_status(config, as_json=args.json)
    if command == "logs":
        from palyra_tui.cli import logs_cmd

        options = logs_cmd.LogOptions(
            services=tuple(args.services),
            count=args.count,
            follow=args.follow,
            since=logs_cmd.parse_duration(args.since) if args.since is not None else None,
            level=logs_cmd.parse_level(args.level) if args.level is not None else None,
            grep=logs_cmd.parse_pattern(args.grep) if args.grep is not None else None,
            as_json=args.json,
        )
        return await logs_cmd.run_logs(config, options)
    if command in SERVICE_VERBS:
        from palyra_tui.cli.services_cmd import run_service_command

        return await run_service_command(
            config, command, tuple(args.services), wait=not args.no_wait, as_json=args.json
        )
    if command == "up":
        from palyra_tui.cli.up import run_up

        return await run_up(config, args.config, timeout=args.timeout, as_json=args.json)
    if command == "sessions":
        from palyra_tui.cli.chat_cmd import run_sessions

        return await run_sessions(config, as_json=args.json)
    if command == "send":
        from palyra_tui.cli.chat_cmd import run_send

        return await run_send(config, args.session, args.text, wait=args.wait, as_json=args.json)
    if command == "dashboard":
        from palyra_tui.cli.dashboard_cmd import run_dashboard, scope_of

        scope = scope_of(args.scope, args.session, args.approval, args.run)
        return await run_dashboard(config, scope, as_json=args.json)
    if command == "rollout":
        from palyra_tui.cli.rollout_cmd import run_rollout

        changes = tuple(args.assignments) if args.action == "set" else None
        return await run_rollout(config, changes, as_json=args.json)
    if command == "bundle":
        from palyra_tui.cli.bundle_cmd import run_bundle

        return await run_bundle(config, args.path, as_json=args.json)
    if command == "node":
        from palyra_tui.cli.node_cmd import run_node

        return await run_node(config, args.action, yes=args.yes, as_json=args.json)
    if command == "devices":
        from palyra_tui.cli.node_cmd import run_devices

        return await run_devices(config, as_json=args.json)
    if command == "profile":
        from palyra_tui.cli.profile_cmd import run_profile

        return await run_profile(config, args)
    if command == "service":
        from palyra_tui.cli.service_unit import run_install

        return await run_install(config, user=args.user, show=args.show)
    if command == "approvals":
        from palyra_tui.cli.approvals import run_approvals

        return await run_approvals(config, as_json=args.json)
    if command in ("approve", "deny"):
        from palyra_tui.cli.approvals import run_decide
        from palyra_tui.models.gateway import ApprovalAnswer

        if command == "deny":
            answer = ApprovalAnswer.deny(args.reason)
        elif args.session:
            answer = ApprovalAnswer.allow_session()
        else:
            answer = ApprovalAnswer.allow_once()
        return await run_decide(config, args.approval_id, answer, as_json=args.json)
    raise AssertionError(f"not a scripting command: {command}")
