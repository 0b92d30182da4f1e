"""SIGKILL a state file writer at 1,000 random points: the file is whole every time."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

TORTURE = Path(__file__).resolve().parent.parent / "fixtures" / "state_torture.py"
KILLS = 1000


def test_a_writer_killed_at_random_points_never_leaves_a_broken_file(tmp_path: Path) -> None:
    """Set PALYRA_STATE_TORTURE_SEED to repeat a run; the seed is in every failure."""
    seed = int(
        os.environ.get("PALYRA_STATE_TORTURE_SEED") or random.SystemRandom().randrange(2**32)
    )
    print(f"state file torture seed: {seed}")
    ran = subprocess.run(
        [sys.executable, str(TORTURE), str(tmp_path), str(seed), str(KILLS)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert ran.returncode == 0, f"seed {seed}: {ran.stderr}"
    report = json.loads(ran.stdout)
    assert report["corrupt"] == [], f"seed {seed}: {report}"
    assert report["iterations"] == KILLS
    # Kills landed inside writes, not only between them.
    assert report["kills_inside_a_write"] > 0, f"seed {seed}: {report}"
    assert sorted(os.listdir(tmp_path)) == ["state.json"]
