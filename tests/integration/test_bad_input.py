"""Bad input to ``palyra-tui supervise``: one sentence, the documented exit code, no traceback.

Each case runs the real command.  The static cases are files in
``tests/fixtures/bad_configs/``; the first line of each says the expected exit code
and a part of the sentence (``# expect 2: services.gateway.restart: must be …``).
Cases that need paths of this test, or are too big to keep as files, are built here.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.filesystems import full_disk, unwritable

CASES = Path(__file__).parent.parent / "fixtures" / "bad_configs"
EXPECT = re.compile(r"^# expect (\d+): (.+)$")
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
DEADLINE = 60.0
"""Only bounds how long a broken case hangs; every case exits at once."""
BUILTINS_OFF = "[services.gateway]\nenabled = false\n[services.browserd]\nenabled = false\n"


def supervise(config: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "palyra_tui", "supervise", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
    )


def assert_one_sentence(result: subprocess.CompletedProcess[str], code: int, *parts: str) -> str:
    """Exactly one clean line on stderr, nothing on stdout, and ``code``."""
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    sentence = lines[0]
    assert sentence.startswith("palyra-tui: "), sentence
    assert CONTROL.search(result.stderr.rstrip("\n")) is None, repr(sentence)
    for part in parts:
        assert part in sentence, sentence
    assert result.returncode == code, sentence
    assert result.stdout == ""
    return sentence


def fixture_cases() -> list[Path]:
    return sorted(CASES.glob("*.toml"))


@pytest.mark.parametrize("case", fixture_cases(), ids=lambda path: path.stem)
def test_each_bad_config_file_is_one_sentence(case: Path) -> None:
    header = EXPECT.match(case.read_text(encoding="utf-8").splitlines()[0])
    assert header is not None, f"{case.name} must start with '# expect CODE: TEXT'"
    result = supervise(case)
    assert_one_sentence(result, int(header.group(1)), f"{case}: ", header.group(2))


def deep_array(path: Path) -> str:
    path.write_text("[services.worker]\ncommand = " + "[" * 2000 + "]" * 2000 + "\n")
    return "services.worker.command: invalid TOML: arrays or inline tables nested too deeply"


def deep_inline_table(path: Path) -> str:
    path.write_text(BUILTINS_OFF + "\n\nextra = " + "{a = " * 2000 + "1" + "}" * 2000 + "\n")
    return "extra: invalid TOML: arrays or inline tables nested too deeply (at line 7)"


def long_integer(path: Path) -> str:
    path.write_text("[services.gateway]\nstop_timeout = " + "9" * 5000 + "\n")
    return "services.gateway.stop_timeout: invalid TOML: an integer with too many digits"


def huge_value(path: Path) -> str:
    path.write_text("[services.gateway]\nrestart = '" + "x" * 500_000 + "'\n")
    return "services.gateway.restart: must be one of always, on-failure, never, got 'xxxx"


def huge_key(path: Path) -> str:
    path.write_text("k" * 200_000 + " = 1\n")
    return "kkkk…: unknown key"


def huge_file(path: Path) -> str:
    path.write_text("# " + "x" * (1 << 20) + "\n")
    return "config file is larger than 1 MiB"


def not_utf8(path: Path) -> str:
    path.write_bytes(b"log_lines = 1000\n\xff\xfe = 1\n")
    return "config file is not UTF-8 text"


def missing_file(path: Path) -> str:
    return "config file does not exist"


def a_directory(path: Path) -> str:
    path.mkdir()
    return "cannot read config file: Is a directory"


@pytest.mark.parametrize(
    "build",
    [
        deep_array,
        deep_inline_table,
        long_integer,
        huge_value,
        huge_key,
        huge_file,
        not_utf8,
        missing_file,
        a_directory,
    ],
)
def test_each_generated_bad_config_is_one_sentence(
    tmp_path: Path, build: Callable[[Path], str]
) -> None:
    config = tmp_path / "tui.toml"
    expected = build(config)
    sentence = assert_one_sentence(supervise(config), 2, f"{config}: ", expected)
    assert len(sentence) < 400


def test_a_relative_state_root_from_the_environment_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "tui.toml"
    config.write_text(BUILTINS_OFF)
    result = supervise(config, {"PALYRA_STATE_ROOT": "relative/\x1b[2Jroot"})
    assert_one_sentence(result, 2, "PALYRA_STATE_ROOT must be an absolute path")


def config_with_root(tmp_path: Path, root: Path) -> Path:
    config = tmp_path / "tui.toml"
    config.write_text(f"state_root = {json.dumps(str(root))}\n{BUILTINS_OFF}")
    return config


def test_a_state_root_that_is_a_file(tmp_path: Path) -> None:
    root = tmp_path / "state"
    root.write_text("not a directory\n")
    result = supervise(config_with_root(tmp_path, root))
    assert_one_sentence(result, 1, f"cannot use the state root {root}: it is not a directory")


def test_a_state_root_below_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    root = tmp_path / "file" / "state"
    result = supervise(config_with_root(tmp_path, root))
    assert_one_sentence(result, 1, f"{root}: {tmp_path / 'file'} is not a directory")


def test_a_state_root_whose_tui_directory_is_a_file(tmp_path: Path) -> None:
    root = tmp_path / "state"
    root.mkdir()
    (root / "tui").write_text("")
    result = supervise(config_with_root(tmp_path, root))
    assert_one_sentence(result, 1, f"{root}: {root / 'tui'} is not a directory")


def test_an_unwritable_state_root(tmp_path: Path) -> None:
    with unwritable(tmp_path / "locked") as parent:
        result = supervise(config_with_root(tmp_path, parent / "state"))
    sentence = assert_one_sentence(result, 1, f"cannot use the state root {parent / 'state'}: ")
    assert "read-only file system" in sentence or "permission denied" in sentence


def test_a_state_root_on_a_full_disk(tmp_path: Path) -> None:
    with full_disk(tmp_path / "disk") as disk:
        result = supervise(config_with_root(tmp_path, disk / "state"))
    assert_one_sentence(
        result, 1, f"cannot use the state root {disk / 'state'}: no space is left on its device"
    )


def test_a_missing_binary_is_a_reason_on_stdout_not_an_exit(tmp_path: Path) -> None:
    config = config_with_root(tmp_path, tmp_path / "state")
    config.write_text(
        config.read_text() + "[services.worker]\ncommand = ['/nonexistent/bin/worker']\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "palyra_tui", "supervise", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            record = json.loads(line)
            if record.get("service") == "worker" and record.get("state") == "backoff":
                break
        else:
            raise AssertionError("the worker never went into backoff")
        assert "/nonexistent/bin/worker" in record["reason"]
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=DEADLINE)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
    assert process.returncode == 0
    assert err == ""
