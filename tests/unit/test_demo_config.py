"""The demo's config: reference daemons, with the operator's other settings."""

from __future__ import annotations

from pathlib import Path

from palyra_tui.cli.demo import demo_config
from palyra_tui.config import parse_config


def test_the_demo_takes_the_log_budgets_from_a_given_config_but_not_its_services(
    tmp_path: Path,
) -> None:
    base = parse_config(
        {
            "state_root": str(tmp_path / "mine"),
            "log_lines": 500,
            "log_mib": 8,
            "log_total_mib": 24,
            "services": {"worker": {"command": ["/bin/true"]}},
        },
        tmp_path / "tui.toml",
        {},
    )
    config = demo_config(tmp_path / "demo", base=base)
    assert (config.log_lines, config.log_mib, config.log_total_mib) == (500, 8, 24)
    assert config.state_root == tmp_path / "demo"
    assert config.service("worker") is None
    assert config.service("gateway") is not None
    assert demo_config(tmp_path / "demo").log_lines != 500
