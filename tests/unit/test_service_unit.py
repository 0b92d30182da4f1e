"""The systemd unit's text: system or user unit, and words systemd would misread."""

from __future__ import annotations

from pathlib import Path

from palyra_tui.cli.service_unit import unit_path, unit_text
from palyra_tui.config import parse_config


def test_a_system_unit_runs_as_the_installing_user(tmp_path: Path) -> None:
    config = parse_config({"state_root": str(tmp_path / "state")}, None, {})
    text = unit_text(config, user=False, environ={}, account="alice")
    lines = text.splitlines()
    assert "User=alice" in lines and "WantedBy=multi-user.target" in lines
    assert not any(line.startswith('Environment="PATH=') for line in lines)
    assert "--config" not in text
    assert unit_path(user=False, environ={}) == Path("/etc/systemd/system/palyra-tui.service")


def test_words_are_quoted_and_specifiers_escaped(tmp_path: Path) -> None:
    root = tmp_path / 'odd 5% "$HOME" \\ dir'
    config = parse_config({"state_root": str(root)}, tmp_path / "tui %i.toml", {})
    environ = {"PATH": "/opt/palyra bin:/usr/bin", "PALYRA_DESKTOP_PALYRAD_BIN": "/opt/p%d"}
    text = unit_text(config, user=True, environ=environ)
    assert f'"--config" "{tmp_path}/tui %%i.toml"' in text
    assert 'Environment="PATH=/opt/palyra bin:/usr/bin"' in text
    assert 'Environment="PALYRA_DESKTOP_PALYRAD_BIN=/opt/p%%d"' in text
    assert f'Environment="PALYRA_STATE_ROOT={tmp_path}/odd 5%% \\"$HOME\\" \\\\ dir"' in text
    assert "User=" not in text
