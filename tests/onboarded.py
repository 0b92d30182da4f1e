"""A state root whose operator completed onboarding, so ``palyra-tui`` opens on Health."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from palyra_tui.state.persisted import PersistedState, normalise
from palyra_tui.state.state_file import state_path, write_state


def mark_onboarded(state_root: Path) -> None:
    """Write a state file whose active profile completed onboarding (nothing else kept)."""
    state = normalise(PersistedState())
    profile = state.profile()
    done = replace(profile.onboarding, completed_at=time.time())
    directory = state_root / "tui"
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_state(state_path(directory), state.with_profile(replace(profile, onboarding=done)))
