"""What the Health screen says when it enrols, repairs or resets the local node host.

The runtime does the work (:meth:`~palyra_tui.state.runtime_api.RuntimeApi.node_host`);
the screen asks first, in words that say what will happen to the gateway and to
the runs in flight, and then shows progress while the work goes on (3 to 15 s).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from rich.text import Text

from palyra_tui.errors import PalyraError
from palyra_tui.models import ServiceKind, ServiceSnapshot
from palyra_tui.models.device_states import NodeAction
from palyra_tui.state.snapshot import AppSnapshot
from palyra_tui.ui.screens.confirm import ConfirmScreen

if TYPE_CHECKING:
    from palyra_tui.models.devices import NodeOutcome
    from palyra_tui.ui.screens.base import ControlPane

NODE_NOTICE = 120.0
"""Seconds the progress of an action stays in the key line (its result replaces it as
soon as it comes)."""

RESTARTS = (
    "The gateway is restarted twice: first with client certificates not required on its "
    "node RPC (it still listens on loopback only) so that the node host can pair, then with "
    "them required again. Runs in flight are cut."
)
NO_RESTART = (
    "The gateway's node RPC does not require client certificates, so the gateway is not restarted."
)


class NodeQuestion(NamedTuple):
    """The confirmation of one action: the question, its confirm button, and what the key
    line says while it runs."""

    question: str
    confirm: str
    progress: str


def restarts_gateway(snapshot: AppSnapshot | None) -> bool:
    """Whether enrolment restarts the gateway: when its node RPC requires client
    certificates, which it does unless the gateway announces otherwise."""
    services = snapshot.supervisor.services if snapshot is not None else ()
    gateway = next((s for s in services if s.kind is ServiceKind.GATEWAY), None)
    endpoints = dict(gateway.endpoints) if gateway is not None else {}
    return endpoints.get("node_rpc_mtls_required", "true") != "false"


def node_question(action: NodeAction, restarts: bool) -> NodeQuestion:
    """What the operator confirms before ``action``."""
    gateway = RESTARTS if restarts else NO_RESTART
    if action is NodeAction.RESET:
        return NodeQuestion(
            "Reset the node host?\n\n"
            "It is stopped, and its configuration and identity are removed from this "
            "machine. The gateway is not restarted; it keeps its record of the device "
            "until the device is revoked in the web console.",
            "Reset",
            "resetting the node host…",
        )
    if action is NodeAction.REPAIR:
        return NodeQuestion(
            "Repair the node host?\n\n"
            "It is stopped and uninstalled, then paired with the gateway again under the "
            f"same device id. {gateway}\nThen the node host starts. This takes 3 to 15 "
            "seconds.",
            "Repair",
            "repairing the node host…",
        )
    return NodeQuestion(
        "Enrol the node host with the gateway?\n\n"
        f"{gateway}\nThen the node host starts. This takes 3 to 15 seconds.",
        "Enrol",
        "enrolling the node host…",
    )


def outcome_sentence(outcome: NodeOutcome) -> str:
    """The notice for a finished action."""
    if outcome.gateway_restarted:
        return f"{outcome.detail} (the gateway was restarted twice)"
    return outcome.detail


def failure_sentence(action: NodeAction, reason: str) -> str:
    """The notice for an action the runtime refused or that failed."""
    verb = {
        NodeAction.ENROLL: "enrolled",
        NodeAction.REPAIR: "repaired",
        NodeAction.RESET: "reset",
        NodeAction.STATUS: "read",
    }[action]
    return f"the node host was not {verb}: {reason}"


class NodeHostFlow:
    """The node host actions of one pane: refuse, ask, run in a worker, report.

    One action at a time; ``done`` is called when one has ended, however it ended.
    """

    def __init__(self, pane: ControlPane, done: Callable[[], None]) -> None:
        self._pane = pane
        self._done = done
        self.busy: tuple[NodeAction, float] | None = None
        """The action under way, and when it began (monotonic)."""

    def refusal(self, action: NodeAction) -> str:
        """Why ``action`` cannot be done from here ("" when it can)."""
        control = self._pane.control
        if control.startup_error:
            return "the node host cannot be enrolled, repaired or reset: the runtime is not open"
        if control.profile.remote:
            return (
                "this profile's gateway is remote: palyra-tui enrols, repairs and resets only "
                "the node host of a gateway it supervises on this machine"
            )
        if self.busy is not None:
            return "the node host is already being enrolled, repaired or reset: wait for it"
        node = node_host_service(control.snapshot)
        if node is None:
            return "no node host service is configured"
        if action is NodeAction.ENROLL and node.enabled:
            return "the node host is enrolled already: Repair node host (Ctrl+P) pairs it again"
        return ""

    def ask(self, action: NodeAction) -> None:
        """Ask the operator, naming what happens; do it once they confirm."""
        control = self._pane.control
        restarts = restarts_gateway(control.snapshot)
        question = node_question(action, restarts)

        def answered(ok: bool | None) -> None:
            if ok:
                self.run(action, question.progress, restarts and action is not NodeAction.RESET)

        control.push_screen(
            ConfirmScreen(question.question, clock=control.clock, confirm=question.confirm),
            answered,
        )

    def run(self, action: NodeAction, progress: str, restart_confirmed: bool) -> None:
        """Have the runtime do ``action`` while the screen goes on; ``restart_confirmed``
        when the question the operator answered said the gateway restarts."""
        if self.busy is not None:
            return
        control = self._pane.control
        self.busy = (action, control.clock.monotonic())
        control.notify(progress, markup=False, timeout=NODE_NOTICE)
        self._done()

        async def run() -> None:
            try:
                outcome = await control.runtime.node_host(action, restart_confirmed)
            except PalyraError as error:
                control.notify(failure_sentence(action, str(error)), severity="error", markup=False)
            except Exception as error:
                kind = type(error).__name__
                sentence = failure_sentence(action, f"unexpected error ({kind})")
                control.notify(sentence, severity="error", markup=False)
            else:
                control.notify(outcome_sentence(outcome), markup=False)
            finally:
                self.busy = None
                control.request_refresh()
                self._done()

        self._pane.run_worker(run(), group="node-host", exit_on_error=False)

    def note(self, service: ServiceSnapshot) -> Text | None:
        """What the node host's card says about enrolment: how, or how it is going."""
        if service.kind is not ServiceKind.NODE_HOST:
            return None
        control = self._pane.control
        if self.busy is not None:
            action, began = self.busy
            progress = node_question(action, restarts_gateway(control.snapshot)).progress
            took = max(0, int(control.clock.monotonic() - began))
            return Text(f"{progress} {took} s; the result shows in the key line", "bold cyan")
        if not service.enabled:
            return Text(
                "not enrolled: press e to enrol it with the gateway (it asks first); "
                "Ctrl+P also has Repair node host and Reset node host",
                "bold",
            )
        return Text(
            "enrolled: Ctrl+P has Repair node host (pair it again) and Reset node host "
            "(remove its identity)",
            "dim",
        )


def node_host_service(snapshot: AppSnapshot | None) -> ServiceSnapshot | None:
    """The node host among the services, if one is configured."""
    services = snapshot.supervisor.services if snapshot is not None else ()
    return next((s for s in services if s.kind is ServiceKind.NODE_HOST), None)
