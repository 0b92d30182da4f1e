"""The daemons' directory chosen while onboarding: the rules, and the host taking it up."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from palyra_tui.config import Config, parse_config
from palyra_tui.state.persisted import Onboarding, PersistedState, normalise
from palyra_tui.state.persisted_json import decode_state, encode_state
from palyra_tui.state.runtime_root import (
    RuntimeRootRefused,
    kept_runtime_root,
    prepare_runtime_root,
    validate_runtime_root,
)
from palyra_tui.state.state_file import state_path, write_state


@pytest.fixture
def config(tmp_path: Path) -> Config:
    built = parse_config({"state_root": str(tmp_path / "state")}, None, {})
    built.state_dir.mkdir(parents=True)
    return built


def test_blank_is_the_default(config: Config) -> None:
    default = config.default_runtime_root
    assert validate_runtime_root("  ", default) == default


def test_a_sibling_inside_the_state_directory_is_accepted(config: Config) -> None:
    chosen = config.state_dir / "runtime-b"
    assert validate_runtime_root(str(chosen), config.default_runtime_root) == chosen
    nested = config.state_dir / "more" / "runtime"
    assert prepare_runtime_root(str(nested), config.default_runtime_root) == nested
    assert nested.is_dir() and (nested.stat().st_mode & 0o777) == 0o700


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("relative/runtime", "must be an absolute path"),
        ("{dir}/../escape", "must not contain parent traversal"),
        ("/", "must stay within palyra-tui's state directory"),
        ("{root}/elsewhere", "must stay within palyra-tui's state directory"),
    ],
)
def test_a_directory_outside_is_refused_in_one_sentence(
    config: Config, text: str, says: str
) -> None:
    given = text.format(dir=config.state_dir, root=config.state_root)
    with pytest.raises(RuntimeRootRefused, match=says):
        validate_runtime_root(given, config.default_runtime_root)


def test_a_symlink_out_of_the_state_directory_is_refused(config: Config, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (config.state_dir / "link").symlink_to(outside)
    with pytest.raises(RuntimeRootRefused, match="must stay within"):
        validate_runtime_root(
            str(config.state_dir / "link" / "runtime"), config.default_runtime_root
        )


def test_the_host_takes_up_the_kept_choice(config: Config) -> None:
    chosen = config.state_dir / "runtime-b"
    kept = normalise(PersistedState())
    profile = replace(kept.profile(), runtime_root=str(chosen))
    write_state(state_path(config.state_dir), kept.with_profile(profile))
    taken = kept_runtime_root(config)
    assert taken.runtime_root == chosen
    assert taken.default_runtime_root == config.default_runtime_root


def test_a_kept_choice_that_escaped_is_ignored(config: Config, tmp_path: Path) -> None:
    kept = normalise(PersistedState())
    profile = replace(kept.profile(), runtime_root=str(tmp_path / "escaped"))
    write_state(state_path(config.state_dir), kept.with_profile(profile))
    assert kept_runtime_root(config).runtime_root == config.default_runtime_root


def test_without_a_state_file_the_default_stays(config: Config) -> None:
    assert kept_runtime_root(config) is config


def test_onboarding_progress_and_the_choice_survive_the_file() -> None:
    state = normalise(PersistedState())
    onboarding = Onboarding(
        flow_id="flow",
        welcome_acknowledged_at=1.0,
        discord_skipped_at=2.0,
        dashboard_handoff_skipped_at=3.0,
        openai_profile_id="openai-01jq7p4nq2t7k5xg0c9m3e8ggg",
        openai_connected_at=4.0,
    )
    profile = replace(state.profile(), onboarding=onboarding, runtime_root="/srv/x/tui/rt")
    written = state.with_profile(profile)
    data = encode_state(written)
    assert b'"last_profile_id": "openai-01jq7p4nq2t7k5xg0c9m3e8ggg"' in data
    assert decode_state(data).state == written


def test_each_profile_has_a_directory_of_its_own(
    config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "staging-root"
    catalog = tmp_path / "profiles.toml"
    catalog.write_text(
        'default_profile = "lab"\n[profiles.lab]\n'
        f'[profiles.staging]\nstate_root = "{elsewhere}"\n'
        '[profiles.odd]\nstate_root = "relative/dir"\n'
    )
    monkeypatch.setenv("PALYRA_CLI_PROFILES_PATH", str(catalog))
    lab = config.state_dir / "profiles" / "lab" / "runtime"
    assert kept_runtime_root(config).runtime_root == lab
    chosen = prepare_runtime_root(
        str(config.state_dir / "profiles" / "lab" / "chosen"),
        config.state_dir / "profiles" / "lab" / "runtime",
    )
    for name, expected in (
        ("staging", elsewhere),
        ("odd", config.state_dir / "profiles/odd/runtime"),
    ):
        state = normalise(replace(PersistedState(), active_profile=name))
        write_state(state_path(config.state_dir), state)
        assert kept_runtime_root(config).runtime_root == expected
    state = normalise(replace(PersistedState(), active_profile="lab"))
    state = state.with_profile(replace(state.profile(), runtime_root=str(chosen)))
    write_state(state_path(config.state_dir), state)
    kept = kept_runtime_root(config)
    assert kept.runtime_root == chosen and kept.default_runtime_root == lab
    state = normalise(replace(PersistedState(), active_profile="local"))
    write_state(state_path(config.state_dir), state)
    assert kept_runtime_root(config) is config
