"""The benchmark command keeps working (timing targets are judged by the
benchmark itself, not here; only correctness figures are asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


# The benchmark judges its own timings; here only that it ends. Beside other
# test files and a CPU-bound process it took 130 s on three workers and past
# 300 s on four (docs/decisions/0029): the limit is generous on purpose.
# It runs on the worker's stack (`--state-dir`), as on a `cutscenes local up
# --detach` one: starting a stack of its own cost a stack's CPU (0030).
@pytest.mark.timeout(900)
def test_bench_quick_runs_and_reports_every_figure(stack, tmp_path):
    before = set((ROOT / "bench" / "results").glob("bench-quick-*.json"))
    with stack.recorded_in(tmp_path / "state") as state:
        done = subprocess.run(
            [sys.executable, "-m", "bench", "--quick", "--state-dir", str(state)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=840,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    # Nothing left rendering on the worker's stack for the next test to count.
    assert "stack left with 0 assets still open" in done.stdout
    written = set((ROOT / "bench" / "results").glob("bench-quick-*.json")) - before
    assert len(written) == 1
    rows = json.loads(written.pop().read_text())
    benches = {r["bench"] for r in rows}
    assert {
        "cold start",
        "still overhead",
        "completion lag bucket event",
        "burst 10x1 session",
        "aidm loop lag",
    } <= benches
    by_figure = {(r["bench"], r["figure"]): r for r in rows}
    for figure in ("charged (complete)", "overspend usd", "reserved after usd"):
        assert by_figure[("burst 10x1 session", figure)]["met"] is True
    for row in rows:  # every target is printed with its figure
        assert row["figure"] in done.stdout
