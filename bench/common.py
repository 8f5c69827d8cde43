"""What every benchmark shares: the stack, a results table, JSON output."""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def start_stack(extra_env: dict[str, str] | None = None, log_dir: Path | None = None):
    from infra.local.stack import LocalStack
    from shared.store.connections import reset_all

    stack = LocalStack.start(ROOT, extra_env=extra_env or {}, log_dir=log_dir)
    os.environ.update(stack.env)
    reset_all()
    return stack


def running_stack(state_dir: Path):
    """A stack already running (`cutscenes local up --detach`, or a test's),
    found through its state dir: benchmarks that only need its env and wipe
    it between runs, without starting (or stopping) one of their own."""
    from infra.local.stack import LocalStack
    from shared.store.connections import reset_all

    stack = LocalStack.load(state_dir)
    os.environ.update(stack.env)
    reset_all()
    return stack


def wait_settled(timeout: float = 180.0) -> int:
    """Until no asset on the stack is still being worked on (or `timeout`);
    returns how many still are. A benchmark on a stack it does not own
    (`--state-dir`) leaves it quiet: a clip still rendering would otherwise
    reach the stack's next user after its wipe (the suite counts Veo calls)."""
    from shared.domain.paths import MEDIA
    from shared.domain.status import TERMINAL
    from shared.store.connections import firestore_client

    deadline = time.monotonic() + timeout
    while True:
        docs = firestore_client().collection_group(MEDIA).stream()
        busy = sum(1 for d in docs if (d.to_dict() or {}).get("status") not in TERMINAL)
        if not busy or time.monotonic() > deadline:
            return busy
        time.sleep(0.5)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": pct(values, 50),
        "p95": pct(values, 95),
        "mean": statistics.fmean(values) if values else float("nan"),
        "max": max(values) if values else float("nan"),
    }


def statuses(docs: list[dict[str, Any]]) -> dict[str, int]:
    """How many assets ended in each `status/reason`."""
    counts: dict[str, int] = {}
    for d in docs:
        label = f"{d.get('status', 'none')}/{d.get('status_reason') or '-'}"
        counts[label] = counts.get(label, 0) + 1
    return counts


def session_cost_micros(docs: list[dict[str, Any]], campaign_id: str, session_id: str) -> int:
    """What a session's assets record as their cost, to hold against its ledger."""
    return sum(
        round((d.get("cost_usd") or 0) * 1_000_000)
        for d in docs
        if d.get("campaign_id") == campaign_id and d.get("session_id") == session_id
    )


class Table:
    """Rows of (benchmark, figure, value, target, met)."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def add(
        self, bench: str, figure: str, value: Any, target: str = "", met: bool | None = None
    ) -> None:
        self.rows.append(
            {"bench": bench, "figure": figure, "value": value, "target": target, "met": met}
        )
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        mark = "" if met is None else ("  met" if met else "  NOT MET")
        print(f"  {bench:<18} {figure:<40} {shown:>12}  {target}{mark}", flush=True)

    def write(self, name: str) -> Path:
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.json"
        path.write_text(json.dumps(self.rows, indent=2, default=str))
        return path
