"""Start-log writes per document past 60 starts a minute: today's design (one
log document per model and region) and the sharded one
(shared/store/start_shards.py) side by side, on a simulated clock, no stack.

300 starts a minute of quota across six model-regions (three Veo models in
two regions), each with a backlog from the first second: clips arrive at
twice each quota's rate, after a burst of half a minute's quota at the
first second (a backlog's onset), and a dispatcher tries every STEP_S to start
waiting clips until the log refuses, as shared/pipeline/dispatch.py does.
The starts go through the product's own pacing.take_start against the
in-memory Firestore of the stage tests (tests/unit/fake_firestore.py, its
commits counted per document) with the clock seam (shared/core/clock.py)
moved by the simulation.

Figures per document: most writes in any rolling second, most in any
rolling ten seconds over ten (Firestore's limit is a sustained one write a
second), mean writes a second; per model-region: starts served a minute vs its quota, and the most
starts in any rolling minute (never over the quota). Two mixes: even (six
at 50/min) and skewed (one model-region at 120/min).

    python -m bench.shards [--minutes N]
"""

from __future__ import annotations

import bisect
import os
from collections import defaultdict
from typing import Any

from bench.common import Table
from bench.scale import option, per_window
from shared.core import clock
from shared.core.settings import get_settings
from shared.store import connections, pacing, start_shards
from tests.unit.fake_firestore import FakeFirestore

STEP_S = 0.05  # the simulated clock's tick, and how often the dispatcher runs
WINDOW_S = 60.0  # Veo's quota minute, uncompressed: Firestore's second is real
MODELS = ("veo-3.1-generate-001", "veo-3.1-fast-generate-001", "veo-3.1-lite-generate-001")
REGIONS = ("us-central1", "europe-west4")
MIXES = {
    "even": (50, 50, 50, 50, 50, 50),
    "skewed": (120, 60, 40, 40, 20, 20),
}


class CountingFirestore(FakeFirestore):
    """The stage tests' Firestore, each committed write's time kept per document."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: dict[str, list[float]] = defaultdict(list)

    def commit(self, path: str, current: dict[str, Any], fields: dict[str, Any]) -> Any:
        self.writes[path].append(clock.time())
        return super().commit(path, current, fields)


def logs(quotas: tuple[int, ...], sharded: bool) -> list[pacing.StartLog]:
    """One start log per model and region, as pacing.veo_log names them (a
    model's region is one setting, so six model-regions are built here)."""
    out = []
    pairs = [(m, r) for r in REGIONS for m in MODELS]
    for (model, region), per_min in zip(pairs, quotas, strict=True):
        doc_id = f"veo-log:{region}:{model}"
        if sharded:  # as pacing.veo_log builds it
            shards, spaced = start_shards.shard_count(per_min), start_shards.spaced(per_min)
            out.append(pacing.StartLog(doc_id, per_min, model, shards, spaced))
        else:  # one document, its starts in bursts as the log admits them
            out.append(pacing.StartLog(doc_id, per_min, model))
    return out


def most_in(times: list[float], width: float) -> int:
    """The most of `times` in any window [t, t + width)."""
    times = sorted(times)
    return max((bisect.bisect_left(times, t + width) - i for i, t in enumerate(times)), default=0)


def simulate(
    start_logs: list[pacing.StartLog], minutes: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Each log's start times, and each document's write times."""
    db = CountingFirestore()
    sim = clock.StepClock()
    previous_client = connections.firestore_client
    previous_clock = clock.use(sim)
    connections.firestore_client = lambda: db  # type: ignore[assignment]
    try:
        t0 = sim.now
        waiting = {log.doc_id: 0 for log in start_logs}
        # The burst at the first second: half a minute's quota at once.
        arrived = {log.doc_id: -(log.per_min // 2) for log in start_logs}
        started: dict[str, list[float]] = {log.doc_id: [] for log in start_logs}
        while sim.now < t0 + minutes * WINDOW_S:
            for log in start_logs:
                # Arrivals at twice the quota: a backlog from the first second.
                due = int((sim.now - t0) * 2 * log.per_min / WINDOW_S) + 1
                waiting[log.doc_id] += due - arrived[log.doc_id]
                arrived[log.doc_id] = due
                while waiting[log.doc_id] and pacing.take_start(log) is not None:
                    waiting[log.doc_id] -= 1
                    started[log.doc_id].append(sim.now)
            sim.sleep(STEP_S)
        return started, dict(db.writes)
    finally:
        clock.use(previous_clock)
        connections.firestore_client = previous_client  # type: ignore[assignment]


def run(table: Table, minutes: int) -> None:
    os.environ["MEDIA_VEO_PACING_WINDOW_S"] = str(WINDOW_S)
    get_settings.cache_clear()
    for mix, quotas in MIXES.items():
        for design, sharded in (("today", False), ("sharded", True)):
            bench = f"shards {mix} {design}"
            print(f"== {bench}: quotas {'+'.join(map(str, quotas))}/min, {minutes} min", flush=True)
            start_logs = logs(quotas, sharded)
            started, writes = simulate(start_logs, minutes)
            worst_second = 0
            for path, times in sorted(writes.items()):
                second = most_in(times, 1.0)
                worst_second = max(worst_second, second)
                name = path.removeprefix("pacing/veo-log:")
                table.add(bench, f"{name} max writes/1s", second, "<= 1", second <= 1)
                sustained = most_in(times, 10.0) / 10.0
                table.add(bench, f"{name} max writes/10s / 10", sustained, "<= 1", sustained <= 1)
                table.add(bench, f"{name} mean writes/s", len(times) / (minutes * WINDOW_S))
            served, total = 0.0, 0
            for log in start_logs:
                times = started[log.doc_id]
                # Every rolling minute from the first start to the last.
                rate = per_window(times, WINDOW_S)
                busiest = most_in(times, WINDOW_S)
                name = log.doc_id.removeprefix("veo-log:")
                table.add(
                    bench,
                    f"{name} starts/min (quota {log.per_min})",
                    rate,
                    ">= 90%",
                    rate >= 0.9 * log.per_min,
                )
                table.add(
                    bench,
                    f"{name} most in a rolling minute",
                    busiest,
                    f"<= {log.per_min}",
                    busiest <= log.per_min,
                )
                served += rate
                total += log.per_min
            table.add(bench, "served starts/min, all", served, f"of {total}")
            table.add(bench, "documents", len(writes))
            table.add(bench, "max writes in any second, any doc", worst_second, "<= 1")
            tens = max(most_in(t, 10.0) / 10.0 for t in writes.values())
            table.add(bench, "max writes/10s / 10, any doc", tens, "<= 1", tens <= 1)
            every = [len(t) / (minutes * WINDOW_S) for t in writes.values()]
            table.add(bench, "max mean writes/s, any doc", max(every), "< 1", max(every) < 1)


if __name__ == "__main__":
    import sys

    t = Table()
    run(t, minutes=option(sys.argv, "--minutes", 5))
    t.write("shards")
