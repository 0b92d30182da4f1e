"""How the in-process runtime switches profiles, and takes up a profile's kept state.

A switch keeps the profiles apart: the local services stop (and are not
started again), their logs and restart counts are forgotten, the gateway
clients close (their session was the old gateway's), runs, transcripts and
approvals are dropped, and the drafts, notifications, onboarding and place
become the new profile's.  The state file is written before the call returns,
so the next start opens on the new profile.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from palyra_tui.client.identity import ClientIdentity
from palyra_tui.config.profiles import ProfileMode, is_loopback_url
from palyra_tui.errors import PalyraError, SupervisorError
from palyra_tui.state import notification_rules as rules
from palyra_tui.state.gateway_link import RemoteGateway, remote_gateway
from palyra_tui.state.persisted import ProfileState, record_event
from palyra_tui.state.profile_book import running
from palyra_tui.state.profiles import ProfileRefused, not_supervised, switched_message
from palyra_tui.state.renames import Renames
from palyra_tui.state.runtime_api import NotificationsChanged, PlaceChanged, ProfileChanged
from palyra_tui.state.runtime_root import runtime_for
from palyra_tui.state.snapshot import AppSnapshot

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from palyra_tui.state.local_runtime import LocalRuntime


async def switch_profile(runtime: LocalRuntime, name: str, confirmation: str = "") -> str:
    """Switch ``runtime`` to the profile ``name`` (see LocalRuntime.switch_profile)."""
    if runtime.node.busy:
        raise ProfileRefused(
            "the node host is being enrolled, repaired or reset: switch when it is done"
        )
    async with runtime._switching:
        target = await runtime.book.check(name, confirmation)
        if target is None:
            profile_changed(runtime)
            already = f"already using the profile {runtime.book.active.name!r}"
            if not runtime.book.info.remote:
                return already
            missing = await use_gateway(runtime)  # a token kept since is taken up now
            runtime.refresh()
            return f"{already}; {missing or 'its admin token was read again'}"
        supervisor = runtime.supervisor
        now = runtime.clock.time()
        paused = running(supervisor.snapshot())
        kept = runtime.kept.state.profile(target.name)
        config = await asyncio.to_thread(runtime_for, supervisor.config, target, kept.runtime_root)
        reason = f"stopped: switching to the profile {target.name}"
        await supervisor.stop_all(reason)
        try:
            await supervisor.redefine(config)
        except SupervisorError:  # a client started a service meanwhile
            await supervisor.stop_all(reason)
            await supervisor.redefine(config)
        await supervisor.forget_history()
        await runtime.link.close()
        # Messages in flight fail now that their streams are cut: each is kept as a draft,
        # and its run's notice given, while the profile it was typed in is still active.
        await runtime.runs.settle()
        previous = runtime.book.active.name
        runtime.book.activate(target)
        missing = await use_gateway(runtime)
        sessions = await runtime.runs.forget()
        runtime.decisions.clear()
        runtime._renames = Renames()
        runtime._noticed = rules.Noticed()
        profile = runtime.kept.activate(target.name)
        switched = f"from {previous} to {target.name}"
        onboarding = record_event(profile.onboarding, "profile_switched", switched, now)
        profile = replace(profile, onboarding=onboarding)
        runtime.kept.keep(profile)
        profile_changed(runtime)
        runtime._restored = False  # the new profile's drafts are not news
        runtime.runs.drafts.restore(profile.drafts)
        take_up(runtime, profile)
        runtime._restored = True
        for session_id in sessions:
            runtime._publish_transcript(session_id)
        runtime._publish_snapshot(AppSnapshot(supervisor=runtime.supervisor.snapshot()))
        runtime.onboarding.forget_gateway()
        runtime.onboarding.update()
        await runtime.kept.flush()
        runtime.refresh()
        said = switched_message(runtime.book.info, paused)
        return f"{said}; {missing}" if missing else said


async def open_profile(runtime: LocalRuntime, remembered: str) -> None:
    """Resolve the active profile at open (``remembered``: "" on a first run) and point the
    gateway link at its gateway."""
    active = await runtime.book.open(remembered)
    if runtime.book.problem:
        runtime._state_notice(
            f"The profile catalog cannot be used ({runtime.book.problem}): palyra-tui runs "
            "the built-in profile 'local' until it is fixed."
        )
    if active.name != runtime.kept.state.active_profile:
        runtime.kept.activate(active.name)
    missing = await use_gateway(runtime)
    if missing:
        log.warning("%s", missing)
    profile_changed(runtime)


def refuse_remote(runtime: LocalRuntime) -> None:
    """Refuse to start anything for a remote profile: its services run elsewhere."""
    if runtime.book.info.remote:
        raise SupervisorError(not_supervised(runtime.book.info))


async def use_gateway(runtime: LocalRuntime) -> str:
    """Point the gateway link at the active profile's gateway (the caller closed its
    clients); returns a sentence when a remote profile has no admin token kept."""
    profile = runtime.book.active
    if profile.mode is not ProfileMode.REMOTE:
        await runtime.link.use(None)
        return ""
    token = ""
    if runtime.profile_token is not None:
        try:
            found = await asyncio.to_thread(runtime.profile_token, profile.name)
            token = found or ""
        except PalyraError as error:
            log.warning("the admin token of the profile %s cannot be read: %s", profile.name, error)
    if token:
        runtime.supervisor.redactor.add_secret(token)
    local = runtime.link.identity
    identity = ClientIdentity(
        admin_token=token,
        principal=profile.principal or local.principal,
        device_id=profile.device_id or local.device_id,
        channel=local.channel,
    )
    gateway = remote_gateway(profile, identity)
    await runtime.link.use(gateway)
    if not token:
        return (
            f"no admin token is kept for the profile {profile.name!r}: "
            f"palyra-tui profile token {profile.name} keeps one"
        )
    return _in_the_clear(gateway)


def _in_the_clear(gateway: RemoteGateway) -> str:
    """A warning when the admin token would cross the network unencrypted: gRPC or HTTP
    over plain ``http`` to a host that is not this machine."""
    grpc_url = "" if gateway.tls else f"http://{gateway.grpc_target}"
    clear = [url for url in (grpc_url, gateway.http_base) if url.startswith("http://")]
    exposed = list(dict.fromkeys(url for url in clear if not is_loopback_url(url)))
    if not exposed:
        return ""
    return (
        f"the admin token goes unencrypted to {' and '.join(exposed)}: give the profile "
        "https URLs, or reach the gateway through an SSH tunnel"
    )


def take_up(runtime: LocalRuntime, profile: ProfileState) -> None:
    """Show the place, notifications and drafts the active profile kept."""
    if profile.place != runtime._view.place:
        runtime._view = replace(runtime._view, place=profile.place)
        runtime._push(PlaceChanged(profile.place))
    if profile.notifications != runtime._view.notifications:
        runtime._view = replace(runtime._view, notifications=profile.notifications)
        runtime._push(NotificationsChanged(profile.notifications))
    runtime._chat_changed()


def profile_changed(runtime: LocalRuntime) -> None:
    """Publish the active profile and the catalog when they changed."""
    profile, profiles = runtime.book.info, runtime.book.infos
    if (profile, profiles) != (runtime._view.profile, runtime._view.profiles):
        runtime._view = replace(runtime._view, profile=profile, profiles=profiles)
        runtime._push(ProfileChanged(profile, profiles))
