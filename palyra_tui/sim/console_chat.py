"""The reference gateway's console documents for chat sessions: the catalog and a transcript."""

from __future__ import annotations

from typing import Any

from palyra_tui.sim.store import Identity, SimSession, Store


def catalog(store: Store, identity: Identity, limit: int, include_archived: bool) -> dict[str, Any]:
    """``GET /console/v1/sessions``: an identity's sessions, newest first."""
    sessions = sorted(
        store.sessions_of(identity, include_archived=include_archived),
        key=lambda session: session.updated_ms,
        reverse=True,
    )[:limit]
    return {
        "sessions": [
            {
                "session_id": s.session_id,
                "session_key": s.session_key,
                "title": s.title,
                "preview": s.preview,
                "updated_at_unix_ms": s.updated_ms,
                "last_run_id": s.last_run_id or None,
                "last_run_state": s.last_run_state or None,
                "pending_approvals": sum(
                    1
                    for a in store.approvals.values()
                    if a.session_id == s.session_id and a.pending
                ),
                "archived": bool(s.archived_ms),
            }
            for s in sessions
        ],
        "summary": {"active_sessions": len(sessions)},
    }


def transcript(store: Store, session: SimSession) -> dict[str, Any]:
    """``GET /console/v1/chat/sessions/{id}/transcript``: the session and its tape, run by run."""
    runs = [run for run in store.runs.values() if run.session_id == session.session_id]
    return {
        "session": {
            "session_id": session.session_id,
            "session_key": session.session_key,
            "session_label": session.label or None,
            "principal": session.owner.principal,
            "device_id": session.owner.device_id,
            "created_at_unix_ms": session.created_ms,
            "updated_at_unix_ms": session.updated_ms,
            "last_run_id": session.last_run_id or None,
            "title": session.title,
            "title_source": session.title_source,
            "preview": session.preview or None,
            "branch_state": "root",
            "last_run_state": session.last_run_state or None,
        },
        "records": [
            {
                "session_id": entry.session_id,
                "run_id": entry.run_id,
                "seq": entry.seq,
                "event_type": entry.event_type,
                "payload_json": entry.payload_json,
                "created_at_unix_ms": entry.created_ms,
                "origin_kind": "manual",
            }
            for entry in store.transcript
            if entry.session_id == session.session_id
        ],
        "attachments": [],
        "derived_artifacts": [],
        "pins": [],
        "compactions": [],
        "checkpoints": [],
        "queued_inputs": [],
        "runs": [
            {
                "run_id": run.run_id,
                "session_id": run.session_id,
                "state": run.state,
                "cancel_requested": run.cancel_requested,
                "origin_kind": "manual",
            }
            for run in runs
        ],
        "background_tasks": [],
        "contract": {"contract_version": "control-plane.v1"},
    }
