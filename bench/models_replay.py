"""bench.scale_models' workload on a simulated clock, no stack: three Veo
models at 20 starts a minute each, 72 cutscenes over 9 campaigns (a third
on each tier), published at twice the summed quotas' rate, started through
the product's own pacing.veo_log / take_start (the stage tests' in-memory
Firestore, the clock seam), one project-wide log vs one per model, side by
side.

What it answers when the local stack cannot: on a loaded machine the
stack's stills and function calls, not the pacing, set the start rate (see
docs/decisions/0027). Here every dispatch happens the moment a start frees
and Veo takes a start the moment its token is taken, so the figures are
each design's best case. Veo's quota is checked as the emulator checks it:
a start that would make a model's rolling window hold more than its quota
counts as a 429. No books: nothing is charged here.

    python -m bench.models_replay
"""

from __future__ import annotations

import bisect
import json
import os
import random

from bench.common import Table
from bench.scale import per_window
from bench.scale_models import PER_MODEL, TIERS, pacing_env, tiered_plan
from bench.shards import CountingFirestore
from shared.core import clock
from shared.core.settings import get_settings
from shared.store import connections, pacing

STEP_S = 0.05
WINDOW_S = 60.0


def replay(label: str, cutscenes: int, campaigns: int) -> dict[str, list[float]]:
    """Each model's start times."""
    os.environ.update(pacing_env(label))
    os.environ["MEDIA_VEO_PACING_WINDOW_S"] = str(WINDOW_S)
    if label == "project":
        os.environ.pop("MEDIA_MODEL_QUOTAS", None)
    else:
        os.environ.pop("MEDIA_VEO_PACING_SCOPE", None)
    get_settings.cache_clear()
    _, plan, tier_of = tiered_plan(random.Random(16), cutscenes, campaigns)
    gap = WINDOW_S / (2 * PER_MODEL * len(TIERS))
    db, sim = CountingFirestore(), clock.StepClock()
    previous_client, previous_clock = connections.firestore_client, clock.use(sim)
    connections.firestore_client = lambda: db  # type: ignore[assignment]
    try:
        t0 = sim.now
        waiting: dict[str, int] = {m: 0 for m in TIERS.values()}
        started: dict[str, list[float]] = {m: [] for m in TIERS.values()}
        arrived = 0
        while arrived < len(plan) or any(waiting.values()):
            while arrived < len(plan) and t0 + arrived * gap <= sim.now + 1e-9:
                waiting[TIERS[tier_of[plan[arrived]]]] += 1
                arrived += 1
            for model, n in waiting.items():
                log = pacing.veo_log(model)
                while n and pacing.take_start(log) is not None:
                    n -= 1
                    started[model].append(sim.now - t0)
                waiting[model] = n
            sim.sleep(STEP_S)
        return started
    finally:
        clock.use(previous_clock)
        connections.firestore_client = previous_client  # type: ignore[assignment]
        get_settings.cache_clear()


def refused(times: list[float], quota: int, window: float) -> int:
    """Starts Veo would answer 429: each past `quota` in its rolling window."""
    kept: list[float] = []
    n = 0
    for t in sorted(times):
        if len(kept) - bisect.bisect_right(kept, t - window) >= quota:
            n += 1
        else:
            kept.append(t)
    return n


def run(table: Table, cutscenes: int = 72, campaigns: int = 9) -> None:
    for label in ("project", "per-model"):
        bench = f"models replay {label}"
        print(f"== {bench}: {json.dumps(pacing_env(label))}", flush=True)
        started = replay(label, cutscenes, campaigns)
        every = sorted(t for ts in started.values() for t in ts)
        rate = per_window(every, WINDOW_S) if every[-1] - every[0] > WINDOW_S else float("nan")
        table.add(bench, "starts per minute (backlog)", rate, ">= 54", rate >= 54)
        span = every[-1] - every[0] + WINDOW_S / (PER_MODEL * len(TIERS))
        table.add(bench, "starts per minute, first to last", len(every) / span * WINDOW_S)
        table.add(bench, "last start s", every[-1])
        no = sum(refused(ts, PER_MODEL, WINDOW_S) for ts in started.values())
        table.add(bench, "429s (Veo's window) / starts", f"{no}/{len(every)}", "<= 5%")
        for tier, model in TIERS.items():
            times = sorted(started[model])
            most = max(
                (bisect.bisect_left(times, t + WINDOW_S) - i for i, t in enumerate(times)),
                default=0,
            )
            table.add(
                bench,
                f"{tier} most starts in a minute",
                most,
                f"<= {PER_MODEL}",
                most <= PER_MODEL,
            )


if __name__ == "__main__":
    t = Table()
    run(t)
    t.write("models-replay")
