"""bench.fairness --patterns: the arrival patterns of bench/arrivals.py
replayed through the start log and the orders with the image stage
modelled, every wait measured from publishing (see bench/fairness.py)."""

from __future__ import annotations

import random
from typing import Any

from bench.arrivals import image_seconds, pattern_plan
from bench.common import Table
from bench.fairness import BUDGET, CLIP_S, SPAN, STEP_S, WINDOW
from bench.scale import jain
from shared.pipeline import dispatch, fair_share
from shared.store import pacing

Docs = list[dict[str, Any]]


def replay(
    arrivals: list[tuple[float, str]], order: str, rng: random.Random, slots: int = 0
) -> float:
    """Jain's index of campaign mean wait from publishing to start. With
    `slots`, at most that many stills are made at once, first published
    first (as render_still's instances on a busy machine), and a request is
    seen in the image stage only once its still is begun (before that it is
    a message in Pub/Sub, with no asset to query)."""
    pending: Docs = []
    free_at = [0.0] * max(1, slots)
    for n, (at, campaign) in enumerate(arrivals):
        begun = at
        if slots:
            slot = min(range(slots), key=lambda i: free_at[i])
            begun = max(at, free_at[slot])
        ready = begun + image_seconds(rng)
        if slots:
            free_at[slot] = ready
        pending.append(
            {
                "campaign_id": campaign,
                "asset_id": f"a{n}",
                "published_at": at,
                "begun": begun,
                "ready": ready,
            }
        )
    pending.sort(key=lambda d: d["ready"])
    coming: Docs = []  # published, still being made
    waiting: Docs = []
    log: list[float] = []
    waits: dict[str, list[float]] = {}
    started: Docs = []
    done: dict[str, list[float]] = {}
    now = 0.0
    while pending or coming or waiting:
        coming = [d for d in pending if d["begun"] <= now + 1e-9 and d["ready"] > now]
        while pending and pending[0]["ready"] <= now + 1e-9:
            doc = pending.pop(0)
            waiting.append(dict(doc, video_queued_at=doc["ready"]))
        started = [d for d in started if d["video_started_at"] > now - CLIP_S]
        if waiting:
            queue, limit = _order(order, waiting, coming, waits, now, started, log)
            for doc in queue[:limit]:
                after = pacing.admit(log, now, BUDGET, SPAN)
                if after is None:
                    break
                log = after
                since = doc["published_at"] if order == "published" else doc["video_queued_at"]
                waits = pacing.add_wait(waits, doc["campaign_id"], now - since, now)
                done.setdefault(doc["campaign_id"], []).append(now - doc["published_at"])
                waiting.remove(doc)
                started.append(dict(doc, video_operation="op", video_started_at=now))
        now += STEP_S
    return jain([sum(w) / len(w) for w in done.values()])


def _order(
    order: str,
    waiting: Docs,
    coming: Docs,
    waits: dict[str, list[float]],
    now: float,
    started: Docs,
    log: list[float],
) -> tuple[Docs, int | None]:
    history = pacing.history(waits, now)
    if order == "waiting":
        return dispatch.equalized(waiting, history, now), len(waiting)
    free = pacing.free_starts(log, now, BUDGET, SPAN)
    return dispatch.published_order(
        waiting,
        fair_share.counts(coming),
        dispatch.in_flight(started),
        history,
        now,
        free,
        BUDGET / SPAN,
    )


def run(
    table: Table, patterns: list[str], seeds: int, cutscenes: int, campaigns: int, slots: int = 0
) -> None:
    for pattern in patterns:
        worst: dict[str, float] = {}
        for seed in range(1, seeds + 1):
            _, arrivals = pattern_plan(
                pattern, random.Random(seed), cutscenes, campaigns, WINDOW, BUDGET
            )
            row = []
            for order in ("waiting", "published"):
                index = replay(arrivals, order, random.Random(1000 + seed), slots)
                worst[order] = min(worst.get(order, 1.0), index)
                row.append(f"{index:.3f}")
            table.add(
                f"{pattern} seed {seed}", "Jain waiting (today) | published (0026)", " | ".join(row)
            )
        table.add(
            f"{pattern} worst of {seeds}",
            "Jain waiting (today) | published (0026)",
            f"{worst['waiting']:.3f} | {worst['published']:.3f}",
            ">= 0.9 (published)",
            worst["published"] >= 0.9,
        )
