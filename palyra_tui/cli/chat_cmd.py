"""``palyra-tui sessions`` and ``palyra-tui send SESSION TEXT [--wait]``: one chat turn.

``send`` attaches to the host as a UI does, hands it the message (the run is
the host's: it goes on if the command ends) and returns once the gateway took
the message.  With ``--wait`` it streams the turn to stdout until the run ends:
the answer as it grows, each tool call with its input, an approval the call
waits for (decide it with ``palyra-tui approve``), the decision, the result and
how the run ended.  A message the gateway never took is not left behind as an
offline draft: the command discards the draft it made and exits 5 with the
reason.  A draft of the same text in the same session that was there before
(the runtime keeps one draft per session and text) is the operator's: it stays.

SESSION is a session's id, key or name as ``palyra-tui sessions`` lists them,
or ``new`` for a new session (named, as in the UI, after its first message).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from palyra_tui.cli.connect import attached, read_view
from palyra_tui.cli.exits import EXIT_CONFLICT, EXIT_ERROR, EXIT_GATEWAY, EXIT_OK, EXIT_USAGE
from palyra_tui.cli.failures import CommandFailed, complain
from palyra_tui.cli.formats import clean, dump, seconds
from palyra_tui.cli.turn import Turn, TurnPrinter
from palyra_tui.config import Config
from palyra_tui.host.remote import SocketRuntime
from palyra_tui.models.gateway import SessionSummary
from palyra_tui.state.chat_view import ChatView
from palyra_tui.state.drafts import OfflineDraft
from palyra_tui.state.runtime_api import (
    AnswerGrew,
    ChatChanged,
    LinkChanged,
    RuntimeView,
    TranscriptChanged,
)
from palyra_tui.state.snapshot import ConnectionState

NEW = "new"


async def run_sessions(config: Config, *, as_json: bool) -> int:
    """List the gateway's sessions, the most recently active first."""
    found = await read_view(config, "sessions")
    view = found.view
    sessions = view.snapshot.sessions
    if as_json:
        text = dump({"sessions": [session_record(s, view.chat) for s in sessions]})
    else:
        text = "".join(_session_line(s, view.chat) for s in sessions)
    sys.stdout.write(text)
    sys.stdout.flush()
    return _connected(view, as_json)


def _connected(view: RuntimeView, as_json: bool) -> int:
    connection = view.snapshot.connection
    if connection is ConnectionState.CONNECTED:
        return EXIT_OK
    complain(
        f"the gateway is {connection.value}: its sessions cannot be listed",
        EXIT_GATEWAY,
        as_json=as_json,
    )
    return EXIT_GATEWAY


def session_record(session: SessionSummary, chat: ChatView) -> dict[str, Any]:
    """One session as ``sessions --json`` prints it."""
    return {
        "id": session.session_id,
        "key": session.session_key,
        "name": chat.name(session),
        "label": session.session_label,
        "created_at": seconds(session.created_at_ms / 1000) if session.created_at_ms else None,
        "updated_at": seconds(session.updated_at_ms / 1000) if session.updated_at_ms else None,
        "last_run_id": session.last_run_id,
        "last_run_state": session.last_run_state,
        "preview": session.preview,
        "busy": chat.busy(session.session_id),
    }


def _session_line(session: SessionSummary, chat: ChatView) -> str:
    state = "busy" if chat.busy(session.session_id) else clean(session.last_run_state or "-")
    return f"{clean(session.session_id)}  {state}  {clean(chat.name(session))}\n"


@dataclass
class _Watch:
    """What ``send`` learnt about its run so far."""

    drafts: frozenset[OfflineDraft]
    runs: frozenset[str]
    run_id: str = ""
    delivered: bool = False
    ended: bool = False
    failed: bool = False
    draft: str = ""
    """The draft our message made, to discard ("" when it updated one that was there)."""
    reason: str = ""


async def run_send(config: Config, target: str, text: str, *, wait: bool, as_json: bool) -> int:
    """Send ``text`` to a session; with ``wait``, stream the turn until the run ends."""
    async with attached(config, "send") as runtime:
        feed = runtime.subscribe()
        try:
            view = runtime.view()
            if view.snapshot.connection is not ConnectionState.CONNECTED:
                raise CommandFailed(
                    f"the gateway is {view.snapshot.connection.value}: nothing was sent",
                    EXIT_GATEWAY,
                )
            session_id = await _session(runtime, target)
            if runtime.view().chat.busy(session_id):
                raise CommandFailed(
                    f"a run is already in flight in session {session_id}", EXIT_CONFLICT
                )
            turn = Turn(session_id, await runtime.transcript(session_id))
            chat = runtime.view().chat
            watch = _Watch(
                drafts=frozenset(chat.drafts),
                runs=frozenset(chat.active_run_ids()),
            )
            printer = TurnPrinter(as_json=as_json)
            await runtime.send(session_id, text)
            async for message in feed:
                if isinstance(message, TranscriptChanged | AnswerGrew):
                    if message.session_id == session_id and not turn.apply(message):
                        turn.reset(await runtime.transcript(session_id))
                elif isinstance(message, LinkChanged):
                    if not message.connected:
                        raise CommandFailed(message.reason)
                    if message.resynced:
                        turn.reset(await runtime.transcript(session_id))
                elif isinstance(message, ChatChanged):
                    _chat(watch, message.chat, session_id, text)
                if watch.failed:
                    if watch.draft:
                        await runtime.discard_draft(watch.draft)
                    raise CommandFailed(
                        f"the gateway did not take the message: {watch.reason}", EXIT_GATEWAY
                    )
                if not watch.delivered and turn.delivered():
                    watch.delivered = True
                    watch.run_id = watch.run_id or turn.run_id()
                    _say(printer.sent(session_id, watch.run_id))
                    if not wait:
                        return EXIT_OK
                if wait:
                    _say(printer.render(turn.events()))
                if watch.ended:
                    break
            if not watch.delivered:
                raise CommandFailed("the run ended before the gateway took the message")
            _say(printer.render(turn.events()))
            outcome = turn.outcome()
            _say(printer.finished(session_id, watch.run_id, outcome))
            return EXIT_OK if outcome == "completed" else EXIT_ERROR
        finally:
            feed.close()


def _say(text: str) -> None:
    if text:
        sys.stdout.write(text)
        sys.stdout.flush()


def _chat(watch: _Watch, chat: ChatView, session_id: str, text: str) -> None:
    """Note our run (the new one in the session), its end, or the draft it became."""
    active = chat.active_run_ids()
    if not watch.run_id:
        ours = [r.run_id for r in chat.active if r.session_id == session_id]
        started = [run_id for run_id in ours if run_id not in watch.runs]
        if started:
            watch.run_id = started[0]
    elif watch.run_id not in active:
        watch.ended = True
    known = {d.draft_id for d in watch.drafts}
    for draft in chat.drafts:
        changed = draft not in watch.drafts
        if changed and draft.session_id == session_id and draft.text == text:
            watch.failed, watch.reason = True, draft.reason
            watch.draft = "" if draft.draft_id in known else draft.draft_id


async def _session(runtime: SocketRuntime, target: str) -> str:
    """The session ``target`` names (``new`` creates one)."""
    if target == NEW:
        return (await runtime.new_session()).session_id
    view = runtime.view()
    sessions = view.snapshot.sessions
    for key in ("session_id", "session_key"):
        exact = [s for s in sessions if getattr(s, key) == target]
        if exact:
            return exact[0].session_id
    named = [s for s in sessions if view.chat.name(s) == target]
    if len(named) == 1:
        return named[0].session_id
    if named:
        raise CommandFailed(
            f"{len(named)} sessions are called {target!r}: name one by its id", EXIT_USAGE
        )
    raise CommandFailed(
        f"no session {target!r} (palyra-tui sessions lists them; 'new' starts one)", EXIT_USAGE
    )
