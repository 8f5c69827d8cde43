"""Fairness orders replayed: the scale benchmark's arrivals (its generator,
several seeds) through the product's own start log and orders, on a
simulated clock, with no stack. Prints Jain's index of per-campaign mean
wait for each order and each seed, and the starts per quota window.

What it answers: how much of the index the order decides, and how much the
arrivals do (bench/scale.py runs one seed on the real stack; this runs
many in a second). Every dispatch happens the moment a start frees, so the
figures are each order's best case, not the stack's.

    python -m bench.fairness [--seeds N] [--cutscenes N] [--campaigns M]
    python -m bench.fairness --patterns even,burst-first,trickle-late-burst
                             [--seeds N] [--cutscenes N] [--campaigns M]
                             [--image-slots K]

With --patterns it replays bench/arrivals.py's patterns instead, with the
image stage modelled (each still takes 2-8 s after its publish before its
clip joins the queue), and measures every wait from publishing: today's
order (`waiting`, which sees only clips whose stills are ready, waits from
queueing) and `published` (0026: waits from publishing, starts held for
stills on their way), side by side, Jain per pattern and seed and the worst
over the seeds (default 8 seeds; 120 cutscenes over 12 campaigns).
--image-slots K makes at most K stills at once, first published first, a
request unseen until its still is begun (a busy stack's image stage).
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from typing import Any

from bench.common import Table
from bench.scale import COMPRESS, arrival_plan, jain, option, per_window
from shared.pipeline import dispatch
from shared.store import pacing

STEP_S = 0.05  # the simulated clock's tick
BUDGET = 30
WINDOW = 60.0 / COMPRESS
SPAN = WINDOW + WINDOW / BUDGET
CLIP_S = 40.0 / COMPRESS  # bench/scale.py's clips: 20-60 s, compressed
Docs = list[dict[str, Any]]
# (waiting clips, the start log's wait history, now, clips started) -> order
Order = Callable[[Docs, dict[str, list[float]], float, Docs], Docs]


def equalized(waiting: Docs, waits: dict[str, list[float]], now: float, _started: Docs) -> Docs:
    return dispatch.equalized(waiting, pacing.history(waits, now), now)


def first_come(waiting: Docs, _waits: dict[str, list[float]], _now: float, started: Docs) -> Docs:
    return dispatch.virtual_clock(waiting, started, SPAN / BUDGET)


def round_robin(waiting: Docs, _waits: dict[str, list[float]], _now: float, started: Docs) -> Docs:
    return dispatch.fair_order(waiting, dispatch.in_flight(started))


def replay(plan: list[str], order: Order, halves: bool = True) -> tuple[float, float]:
    """Jain's index of campaign mean wait, and starts per quota window."""
    gap = WINDOW / (2 * BUDGET)  # twice the quota's rate, as bench/scale.py
    pending: Docs = [
        {"campaign_id": c, "asset_id": f"a{n}", "video_queued_at": n * gap}
        for n, c in enumerate(plan)
    ]
    waiting: Docs = []
    log: list[float] = []
    starts: list[float] = []
    waits: dict[str, list[float]] = {}
    started: Docs = []  # clips rendering: started within the last CLIP_S
    done: dict[str, list[float]] = {}
    now = 0.0
    admit = pacing.admit if halves else _admit_whole
    while pending or waiting:
        while pending and float(pending[0]["video_queued_at"]) <= now + 1e-9:
            waiting.append(pending.pop(0))
        started = [d for d in started if d["video_started_at"] > now - CLIP_S]
        if waiting:
            for doc in order(waiting, waits, now, started):
                after = admit(log, now, BUDGET, SPAN)
                if after is None:
                    break
                log = after
                waited = now - float(doc["video_queued_at"])
                waits = pacing.add_wait(waits, doc["campaign_id"], waited, now)
                done.setdefault(doc["campaign_id"], []).append(waited)
                waiting.remove(doc)
                started.append(dict(doc, video_operation="op", video_started_at=now))
                starts.append(now)
        now += STEP_S
    means = [sum(w) / len(w) for w in done.values()]
    return jain(means), per_window(starts, WINDOW) if starts[-1] - starts[0] > WINDOW else 0.0


def _admit_whole(starts: list[float], now: float, budget: int, span: float) -> list[float] | None:
    """The start log before its half-span limit (0015), for comparison."""
    kept = sorted(t for t in starts if t > now - span)
    return None if len(kept) >= budget else [*kept, now]


def run(table: Table, seeds: int, cutscenes: int, campaigns: int) -> None:
    # add_wait forgets a campaign idle past the deadline: the compressed one.
    os.environ.setdefault("MEDIA_DEADLINE_S", str(int(900 / COMPRESS)))
    orders: list[tuple[str, Order, bool]] = [
        ("first_come", first_come, False),
        ("round_robin", round_robin, False),
        ("waiting, whole-span log", equalized, False),
        ("waiting (default)", equalized, True),
    ]
    for label, order, halves in orders:
        indexes: list[float] = []
        rates: list[float] = []
        for seed in [16, *range(1, seeds)]:
            _, plan = arrival_plan(random.Random(seed), cutscenes, campaigns)
            index, rate = replay(plan, order, halves)
            indexes.append(index)
            rates.append(rate)
        table.add(f"replay {label}", "Jain, seed 16 (bench.scale's)", indexes[0])
        table.add(f"replay {label}", f"Jain, worst of {seeds} seeds", min(indexes))
        table.add(f"replay {label}", f"Jain, mean of {seeds} seeds", sum(indexes) / seeds)
        table.add(f"replay {label}", "starts per window, mean", sum(rates) / seeds)


if __name__ == "__main__":
    import sys

    t = Table()
    if "--patterns" in sys.argv:
        from bench import fair_patterns

        os.environ.setdefault("MEDIA_DEADLINE_S", str(int(900 / COMPRESS)))
        fair_patterns.run(
            t,
            patterns=sys.argv[sys.argv.index("--patterns") + 1].split(","),
            seeds=option(sys.argv, "--seeds", 8),
            cutscenes=option(sys.argv, "--cutscenes", 120),
            campaigns=option(sys.argv, "--campaigns", 12),
            slots=option(sys.argv, "--image-slots", 0),
        )
        t.write("fairness-patterns")
    else:
        run(
            t,
            seeds=option(sys.argv, "--seeds", 8),
            cutscenes=option(sys.argv, "--cutscenes", 200),
            campaigns=option(sys.argv, "--campaigns", 40),
        )
        t.write("fairness")
