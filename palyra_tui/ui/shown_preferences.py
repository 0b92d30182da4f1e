"""The operator's kept preferences (theme, terminal notifications) as one app shows them.

The runtime keeps them for every attached view; a view applies what the runtime
says, and saves what the operator changes.  A theme this version does not know
falls back to the default, with a notice, and stays as kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from palyra_tui.errors import PalyraError

if TYPE_CHECKING:
    from textual.theme import Theme

    from palyra_tui.state.persisted import Preferences
    from palyra_tui.state.settings import PreferencesUpdate
    from palyra_tui.ui.app import PalyraApp


class ShownPreferences:
    """What one app shows of the kept preferences, and the operator's changes to them."""

    def __init__(self, app: PalyraApp) -> None:
        self.app = app
        self._shown_theme = ""
        """The theme the kept preference asked for and the app shows (the default when the
        kept one is unknown): only a theme the operator picks after it is saved."""
        self._preferences: Preferences | None = None
        """The preferences last applied, as the runtime sent them."""

    def toggle_notifications(self) -> None:
        """Terminal notifications on or off, for every UI of the runtime and the next start."""
        from palyra_tui.state.settings import PreferencesUpdate

        app = self.app
        app.terminal_notifications = not app.terminal_notifications
        state = "on" if app.terminal_notifications else "off"
        held = "" if app.desktop_notifications else " (none are sent: rollout flag off)"
        app.notify(f"terminal notifications {state}{held}")
        self.save(PreferencesUpdate(notifications=app.terminal_notifications))

    def changed(self, preferences: Preferences) -> None:
        """Show what the operator's kept preferences say; a theme this version does not
        know falls back to the default, with a notice."""
        app = self.app
        if preferences == self._preferences:
            return
        self._preferences = preferences
        app.terminal_notifications = preferences.notifications
        wanted = preferences.theme or app.default_theme
        if wanted not in app.available_themes:
            app.notify(
                f"the theme {wanted!r} is not known here: showing {app.default_theme!r}",
                severity="warning",
                markup=False,
            )
            wanted = app.default_theme
        self._shown_theme = wanted
        app.theme = wanted

    def theme_chosen(self, theme: Theme) -> None:
        """The operator picked a theme (the palette's "Theme"): keep it for every UI."""
        from palyra_tui.state.settings import PreferencesUpdate

        if theme.name == self._shown_theme or not self._shown_theme:
            return
        self._shown_theme = theme.name
        self.save(PreferencesUpdate(theme=theme.name))

    def save(self, update: PreferencesUpdate) -> None:
        """Have the runtime keep ``update``; a refusal leaves it for this view only."""
        app = self.app

        async def save() -> None:
            try:
                await app.runtime.update_preferences(update)
            except PalyraError as error:
                app.notify(
                    f"the preference holds for this view only: {error}",
                    severity="warning",
                    markup=False,
                )

        app.run_worker(save(), group="preferences", exit_on_error=False)
