"""Keys typed as text never act as hotkeys.

An operator who believes the composer has focus types a sentence; without a
guard, its letters and digits switch screens, hold restarts or answer an
approval.  The guard sees every printable key the app receives, in arrival
order, and calls the operator "typing" while printable keys that are not
hotkeys of the current screen keep coming: a hotkey that arrives then is
dropped.  Actions that change
something (service actions, approval decisions) also need their key to stand
alone: no printable key within :data:`SETTLE` seconds before it, and none while
they wait :data:`SETTLE` seconds after it.
"""

from __future__ import annotations

from palyra_tui.models.clock import Clock

TYPING_GAP = 0.6
"""Seconds after a text key during which hotkeys count as part of the text."""
SETTLE = 0.4
"""Seconds of quiet an irreversible key needs on each side."""


class KeyGuard:
    """Tells typing from hotkeys, on the one clock the app runs on."""

    def __init__(self, clock: Clock, gap: float = TYPING_GAP) -> None:
        self._clock = clock
        self._gap = gap
        self._text_at = float("-inf")
        self._last_at = float("-inf")
        self.quiet_before = float("inf")
        """Seconds between the latest printable key and the one before it."""
        self.printable = 0
        """How many printable keys arrived so far (a sequence number)."""

    def typing(self) -> bool:
        """True while the latest text key is recent enough to call this typing."""
        return self._clock.monotonic() - self._text_at < self._gap

    def admit(self, hotkey: bool) -> bool:
        """Record one printable key; False when a hotkey must be dropped as text."""
        now = self._count()
        if hotkey and not self.typing():
            return True
        self._text_at = now
        return not hotkey

    def entered(self) -> None:
        """Record a key typed into an input or the composer.

        It counts for standing alone (an action key right after it waits, and one
        pending is cancelled), but not as typing on the screen: ``n`` right after
        a filter's Enter still finds.
        """
        self._count()

    def _count(self) -> float:
        now = self._clock.monotonic()
        self.printable += 1
        self.quiet_before = now - self._last_at
        self._last_at = now
        return now

    def stands_alone(self) -> bool:
        """True when the latest printable key had no other within :data:`SETTLE` before it."""
        return self.quiet_before >= SETTLE

    def chosen(self) -> None:
        """The operator picked a command from a list (the command palette): the keys typed
        to find it were a search, so the command stands alone.  A printable key that
        arrives while it waits still cancels it."""
        self.quiet_before = float("inf")

    def mark_typing(self) -> None:
        """Treat the latest keys as text (a hotkey that turned out to be part of a word)."""
        self._text_at = self._last_at
