"""Enrol, repair and reset the local node host, and read the gateway's devices.

Enrolment pairs ``palyra node`` with the gateway palyra-tui supervises:

1. the gateway must be ours (a child of this supervisor) and healthy;
2. ``palyra node status --json`` says whether the node is installed and paired;
3. palyrad's node RPC asks for a client certificate before it lets a node
   begin pairing, and a node has none until it has paired.  So, when the
   gateway announces ``node_rpc_mtls_required``, it is restarted with
   ``PALYRA_ALLOW_INSECURE_NODE_RPC_WITHOUT_MTLS=true`` for the pairing window
   only (it stays bound to loopback), and restarted without it afterwards,
   whatever happened in between;
4. a PIN is minted on the console API, ``palyra node install`` presents it,
   and the pairing request that appears for our device id is approved;
5. the node host service is defined again (it is enabled once enrolled) and
   started; it reaches the node RPC at the address the gateway announced.

Repair uninstalls first.  Reset stops the node host and uninstalls it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from palyra_tui.client.errors import ClientError
from palyra_tui.client.node_cli import NodeCli
from palyra_tui.errors import BinaryNotFound
from palyra_tui.models import HealthState, ServiceKind, ServiceSnapshot, ServiceState
from palyra_tui.models.clock import Clock
from palyra_tui.models.devices import (
    Inventory,
    NodeAction,
    NodeOutcome,
    NodeStatus,
    PairingRequest,
    restart_warning,
)
from palyra_tui.models.ids import new_ulid
from palyra_tui.state.gateway_link import GatewayLink
from palyra_tui.state.runtime_api import NodeHostRefused
from palyra_tui.state.snapshot import AppSnapshot
from palyra_tui.supervisor.binaries import resolve_builtin
from palyra_tui.supervisor.supervisor import Supervisor
from palyra_tui.text import Redactor

if TYPE_CHECKING:
    from palyra_tui.client.http import GatewayHttp

T = TypeVar("T")
log = logging.getLogger(__name__)

INSECURE_ENV = "PALYRA_ALLOW_INSECURE_NODE_RPC_WITHOUT_MTLS"
ISSUED_BY = "admin:palyra-tui"
CODE_TTL_MS = 10 * 60 * 1000
REQUEST_WAIT = 20.0
POLL = 0.25
CLOCK_SLACK_MS = 5_000
"""How far the gateway's clock may be behind ours when it stamps our pairing request."""
GATEWAY_WAIT = 60.0
"""Seconds a restarted gateway has to be healthy and to announce its node RPC address."""
NODE_WAIT = 30.0


@dataclass(frozen=True, slots=True)
class _Ours:
    """What tells enrolment's pairing request from another: its device, the code's issuer
    (palyra-tui), and a time no earlier than the code was minted."""

    device_id: str
    since_ms: int

    def among(self, requests: tuple[PairingRequest, ...]) -> tuple[PairingRequest, ...]:
        return tuple(
            r
            for r in requests
            if r.device_id == self.device_id
            and r.code_issued_by in ("", ISSUED_BY)
            and r.requested_at_ms >= self.since_ms
        )


@dataclass(frozen=True, slots=True)
class _Gateway:
    name: str
    node_rpc: str
    mtls_required: bool


class NodeHostControl:
    """The node host's enrolment, repair and reset; one action at a time."""

    def __init__(
        self,
        supervisor: Supervisor,
        link: GatewayLink,
        *,
        current: Callable[[], tuple[AppSnapshot, str]],
        is_remote: Callable[[], bool],
        clock: Clock,
    ) -> None:
        self.supervisor = supervisor
        self.link = link
        self._current = current
        self._is_remote = is_remote
        self.clock = clock
        """Wall time tells our pairing request from older ones (the gateway stamps it)."""
        self._busy = asyncio.Lock()
        self.pairing_device = ""
        """The device id enrolment is pairing right now ("" when none): its request is
        approved by the enrolment, never shown to be decided by a person."""

    @property
    def busy(self) -> bool:
        """An enrolment, repair or reset is under way."""
        return self._busy.locked()

    async def status(self) -> NodeOutcome:
        """Where the node host stands (``palyra node status --json``)."""
        self._refuse_remote("read")
        status = await self._call((await asyncio.to_thread(self._cli)).status())
        return NodeOutcome(NodeAction.STATUS, status, _describe(status))

    async def devices(self) -> Inventory:
        """The gateway's devices and open pairings (``GET /console/v1/inventory``)."""
        from palyra_tui.client.http.devices import inventory

        _, dashboard = self._current()
        if not dashboard:
            raise NodeHostRefused("the gateway is not reachable: start it to see its devices")
        try:
            return await inventory(await self.link.http(dashboard))
        except ClientError as error:
            raise NodeHostRefused(f"the device inventory could not be read: {error}") from None

    async def enroll(self, *, repair: bool, restart_confirmed: bool) -> NodeOutcome:
        """Pair the local node host with the gateway and start it."""
        action = NodeAction.REPAIR if repair else NodeAction.ENROLL
        self._refuse_remote("enrol")
        if self._busy.locked():
            raise NodeHostRefused("the node host is already being enrolled, repaired or reset")
        async with self._busy:
            gateway = self._gateway()
            cli = await asyncio.to_thread(self._cli)
            status = await self._call(cli.status())
            if status.installed and status.paired and not repair:
                await self._start_node_host()
                return NodeOutcome(action, status, "the node host is already enrolled")
            if gateway.mtls_required and not restart_confirmed:
                raise NodeHostRefused(restart_warning())
            device_id = status.device_id or new_ulid()
            if status.installed:
                await self._stop_node_host()
                await self._call(cli.uninstall())
            restarted = False
            try:
                if gateway.mtls_required:
                    restarted = True
                    gateway = await self._restart_gateway(gateway.name, insecure=True)
                status = await self._pair(cli, gateway, device_id, repair)
            finally:
                if restarted:
                    # Shielded: a second cancellation must not leave the opt-out in place.
                    await asyncio.shield(asyncio.ensure_future(self._restore(gateway.name)))
            await self._start_node_host()
            detail = (
                "node host repaired and started" if repair else "node host enrolled and started"
            )
            return NodeOutcome(action, status, detail, gateway_restarted=restarted)

    async def reset(self) -> NodeOutcome:
        """Stop the node host and remove its configuration and identity."""
        self._refuse_remote("reset")
        if self._busy.locked():
            raise NodeHostRefused("the node host is already being enrolled, repaired or reset")
        async with self._busy:
            cli = await asyncio.to_thread(self._cli)
            await self._stop_node_host()
            status = await self._call(cli.uninstall())
            await self.supervisor.reconsider()
            return NodeOutcome(NodeAction.RESET, status, "node host stopped and uninstalled")

    # Steps ------------------------------------------------------------------------

    async def _pair(
        self, cli: NodeCli, gateway: _Gateway, device_id: str, repair: bool
    ) -> NodeStatus:
        from palyra_tui.client.http.devices import mint_pairing_code

        http = await self._http()
        minted_ms = int(self.clock.time() * 1000)
        try:
            code = await mint_pairing_code(http, issued_by=ISSUED_BY, ttl_ms=CODE_TTL_MS)
        except ClientError as error:
            raise NodeHostRefused(f"the gateway minted no pairing code: {error}") from None
        redactor = Redactor()
        redactor.add_secret(code.code)
        install = asyncio.create_task(
            cli.install(
                device_id=device_id,
                grpc_url=f"https://{gateway.node_rpc}",
                pairing_code=code.code,
                redactor=redactor,
            )
        )
        reason = "palyra_tui_repair_enroll" if repair else "palyra_tui_enroll"
        self.pairing_device = device_id
        ours = _Ours(device_id, minted_ms - CLOCK_SLACK_MS)
        done = False
        try:
            await self._approve(install, ours, reason)
            status = await self._call(install)
            done = True
            return status
        finally:
            self.pairing_device = ""
            if not install.done():
                install.cancel()
                await asyncio.gather(install, return_exceptions=True)
            if not done:
                await asyncio.shield(asyncio.ensure_future(self._withdraw(ours)))

    async def _withdraw(self, ours: _Ours) -> None:
        """A pairing that failed leaves no request of ours waiting for a person to allow."""
        from palyra_tui.client.http.devices import pairing_requests, reject_pairing

        try:
            http = await self._http()
            for request in ours.among(await pairing_requests(http)):
                await reject_pairing(http, request.request_id, "palyra_tui_enroll_failed")
        except (ClientError, NodeHostRefused) as error:
            log.warning("a failed enrolment's pairing request was not rejected: %s", error)

    async def _approve(self, install: asyncio.Task[NodeStatus], ours: _Ours, reason: str) -> None:
        """Approve the pairing request of ours, once it appears (20 s at most)."""
        from palyra_tui.client.http.devices import approve_pairing, pairing_requests

        http = await self._http()
        try:
            async with asyncio.timeout(REQUEST_WAIT):
                while True:
                    if install.done():
                        await self._call(install)
                        raise NodeHostRefused("palyra node install ended before it asked to pair")
                    mine = ours.among(await pairing_requests(http))
                    if len(mine) > 1:
                        raise NodeHostRefused(
                            f"{len(mine)} pairing requests name device {ours.device_id}: "
                            "none was approved; deny the ones you did not make on Approvals"
                        )
                    if mine:
                        await approve_pairing(http, mine[0].request_id, reason)
                        return
                    await asyncio.sleep(POLL)
        except TimeoutError:
            raise NodeHostRefused(
                f"timed out waiting for the node pairing request of device {ours.device_id}"
            ) from None
        except ClientError as error:
            raise NodeHostRefused(f"the pairing request could not be approved: {error}") from None

    async def _restart_gateway(self, name: str, *, insecure: bool) -> _Gateway:
        await self.supervisor.overlay(name, {INSECURE_ENV: "true"} if insecure else {})
        await self.supervisor.restart(name)
        try:
            async with asyncio.timeout(GATEWAY_WAIT):
                while True:
                    services = self.supervisor.snapshot().services
                    wanted = next((s.desired for s in services if s.name == name), False)
                    if not wanted:
                        raise NodeHostRefused("the gateway was stopped while it was restarted")
                    gateway = _ready_gateway(services, name)
                    if gateway is not None and gateway.mtls_required is not insecure:
                        return gateway
                    await asyncio.sleep(POLL)
        except TimeoutError:
            state = "without" if insecure else "with"
            raise NodeHostRefused(
                f"the gateway did not come back healthy {state} client certificates "
                f"required on its node RPC within {GATEWAY_WAIT:g} s; see its logs"
            ) from None

    async def _restore(self, name: str) -> None:
        """Take the opt-out away and restart the gateway with client certificates required,
        unless it is no longer wanted (stopped meanwhile, or the host is stopping): then it
        starts without the opt-out whenever it starts again."""
        await self.supervisor.overlay(name, {})
        gateway = next((s for s in self.supervisor.snapshot().services if s.name == name), None)
        if gateway is None or not gateway.desired:
            return
        await self._restart_gateway(name, insecure=False)

    async def _start_node_host(self) -> None:
        await self.supervisor.reconsider()
        node = _node_host(self.supervisor.snapshot().services)
        if node is None:
            raise NodeHostRefused("no node host service is configured")
        if not node.state.is_up:
            await self.supervisor.start(node.name)

    async def _stop_node_host(self) -> None:
        node = _node_host(self.supervisor.snapshot().services)
        if node is not None and node.state is not ServiceState.STOPPED:
            await self.supervisor.stop(node.name)

    # Helpers ----------------------------------------------------------------------

    def _refuse_remote(self, verb: str) -> None:
        if self._is_remote():
            raise NodeHostRefused(
                f"this profile's gateway is remote: palyra-tui can {verb} only the node host "
                "of a gateway it supervises on this machine"
            )

    def _gateway(self) -> _Gateway:
        services = self.supervisor.snapshot().services
        gateway = next((s for s in services if s.kind is ServiceKind.GATEWAY), None)
        if gateway is None or gateway.pid is None:
            raise NodeHostRefused(
                "enrolling the node host needs the gateway palyra-tui supervises: start it first"
            )
        ready = _ready_gateway(services, gateway.name)
        if ready is None:
            raise NodeHostRefused(
                "the gateway is not healthy yet (or has not announced its node RPC address): "
                "wait for it, then try again"
            )
        return ready

    def _cli(self) -> NodeCli:
        node = next(
            (d for d in self.supervisor.definitions() if d.config.kind is ServiceKind.NODE_HOST),
            None,
        )
        if node is None:
            raise NodeHostRefused("no node host service is configured")
        command = node.config.command
        if command is not None:
            if "run" not in command[1:]:
                raise NodeHostRefused(
                    "the node host's command does not say `run`, so palyra-tui cannot tell "
                    "how to call `palyra node` from it"
                )
            prefix = command[: command.index("run", 1)]
        else:
            try:
                binary = resolve_builtin(ServiceKind.NODE_HOST, None, self.supervisor.environ)
            except BinaryNotFound as missing:
                raise NodeHostRefused(str(missing)) from None
            prefix = (str(binary), "node")
        return NodeCli(prefix, self.supervisor.config.runtime_root, self.supervisor.environ)

    async def _http(self) -> GatewayHttp:
        """The console API of the supervised gateway, where it listens now."""
        _, dashboard = self.link.targets(self.supervisor.snapshot())
        if not dashboard:
            raise NodeHostRefused("the gateway's console API is not reachable")
        return await self.link.http(dashboard)

    async def _call(self, work: Awaitable[T]) -> T:
        try:
            return await work
        except ClientError as error:
            raise NodeHostRefused(str(error)) from None


def _ready_gateway(services: tuple[ServiceSnapshot, ...], name: str) -> _Gateway | None:
    service = next((s for s in services if s.name == name), None)
    if service is None or service.pid is None or service.health.state is not HealthState.HEALTHY:
        return None
    endpoints = dict(service.endpoints)
    address = endpoints.get("node_rpc_listen_addr", "")
    if not address:
        return None
    return _Gateway(name, address, endpoints.get("node_rpc_mtls_required", "true") != "false")


def _node_host(services: tuple[ServiceSnapshot, ...]) -> ServiceSnapshot | None:
    return next((s for s in services if s.kind is ServiceKind.NODE_HOST), None)


def _describe(status: NodeStatus) -> str:
    if not status.installed:
        return "the node host is not enrolled"
    if not status.paired:
        return "the node host is installed but not paired: repair it"
    return f"the node host is enrolled as device {status.device_id}"
