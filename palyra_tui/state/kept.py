"""The runtime's side of the state file: it holds the state as kept and hands it to the store.

The runtime reads the active profile's drafts, place and the rollout flags
once at open, and keeps each change here; :class:`~palyra_tui.state.state_store.StateStore`
writes it.  Plaintext tokens found in the file go to ``adopt_secrets`` (the
secret store) before the file is rewritten without them; if that fails, the
file is left as it is for this run.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

from palyra_tui.errors import PalyraError
from palyra_tui.models.clock import Clock
from palyra_tui.state.persisted import (
    LegacySecrets,
    PersistedState,
    Preferences,
    ProfileState,
    RolloutFlags,
    normalise,
)
from palyra_tui.state.state_store import StateStore
from palyra_tui.text import sanitize_line

log = logging.getLogger(__name__)

AdoptSecrets = Callable[[LegacySecrets], Awaitable[None]]


class KeptState:
    """The persisted state of one runtime, and the store that writes it."""

    def __init__(
        self,
        path: Path,
        clock: Clock,
        *,
        on_notice: Callable[[str], None],
        adopt_secrets: AdoptSecrets | None = None,
    ) -> None:
        self.store = StateStore(path, clock=clock, on_notice=on_notice)
        self.state = normalise(PersistedState())
        self._adopt = adopt_secrets
        self._opened = False
        self.first_run = False
        """True when there was no state file: no profile was chosen yet."""

    async def open(self) -> PersistedState:
        """Read the file (once); returns the state to start from."""
        if self._opened:
            return self.state
        self.first_run = not await asyncio.to_thread(os.path.lexists, self.store.path)
        loaded = await self.store.open()
        self.state = loaded.state
        self._opened = True
        if loaded.legacy and not await self._adopted(loaded.legacy):
            return self.state
        self.store.save(self.state)
        return self.state

    async def _adopted(self, legacy: LegacySecrets) -> bool:
        """Hand plaintext tokens to the secret store; False if they must stay in the file."""
        path = self.store.path
        if self._adopt is None:
            log.warning(
                "the state file %s held plaintext tokens; this runtime keeps its tokens in memory "
                "only, so they are removed from the file",
                path,
            )
            return True
        try:
            await self._adopt(legacy)
        except (OSError, PalyraError) as error:
            why = sanitize_line(str(error))
            for secret in (legacy.admin_token, legacy.browser_token):
                if secret:
                    why = why.replace(secret, "[redacted]")
            self.store.hold(
                f"The state file {path} holds plaintext tokens that could not be moved into the "
                f"secret store ({why}): palyra-tui leaves the file as it is for this run."
            )
            return False
        return True

    @property
    def opened(self) -> bool:
        """True once the file has been read."""
        return self._opened

    def profile(self) -> ProfileState:
        """The active profile's state."""
        return self.state.profile()

    def keep(self, profile: ProfileState) -> None:
        """The active profile is now ``profile``; written within the store's window."""
        changed = self.state.with_profile(profile)
        if changed == self.state:
            return
        self.state = changed
        if self._opened:
            self.store.save(changed)

    def keep_settings(self, rollout: RolloutFlags, preferences: Preferences) -> None:
        """The operator's rollout flags and preferences are now these (not per profile)."""
        changed = replace(self.state, rollout=rollout, preferences=preferences)
        if changed == self.state:
            return
        self.state = changed
        if self._opened:
            self.store.save(changed)

    def activate(self, name: str) -> ProfileState:
        """Make ``name`` the active profile (kept at the next write); returns its state,
        empty for a profile never used."""
        changed = normalise(replace(self.state, active_profile=name))
        if changed != self.state:
            self.state = changed
            if self._opened:
                self.store.save(changed)
        return self.state.profile()

    async def flush(self) -> None:
        """Write the newest state now (a profile switch must outlive a crash right after)."""
        await self.store.flush()

    async def close(self) -> None:
        """Write what is left."""
        await self.store.close()
