"""Fair from publishing (MEDIA_VEO_FAIRNESS=published, the default): how
many of the free Veo starts a dispatch may hand out now, when other
campaigns' requests are still in the image stage.

A clip joins the start queue only once its still is ready, so the campaign
whose stills come first used to take the whole idle window while the
others' stills were still rendering (issue 25: one campaign's burst first,
its mean wait 14 s, the others' 36-101 s, Jain 0.85). Here every campaign
with work in hand is owed a share: clips rendering at Veo, clips waiting
for a start, and requests still in the image stage (`coming`). The starts
in hand (those rendering plus the log's free ones) are shared max-min
(water_fill); the part of a campaign's share that only its coming requests
can fill is held back, so those requests find a start when their stills
land. Nothing is lost: a held start stays in the rolling log until the
next dispatch takes it, and with no request in the image stage nothing is
held. See docs/decisions/0026-fair-from-publishing.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from shared.core.settings import get_settings
from shared.domain.asset import Asset
from shared.pipeline.checks import too_late
from shared.store import asset_queries


def published_at(doc: Mapping[str, Any]) -> float:
    """When the request was first published (its deadline's start), in
    seconds: the asset's `published_at`, else `created_at`, else the time
    its clip was queued."""
    for key in ("published_at", "created_at"):
        value = doc.get(key)
        if isinstance(value, datetime):
            return value.timestamp()
        if isinstance(value, int | float):
            return float(value)
    return float(doc.get("video_queued_at") or 0)


def counts(docs: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """How many of `docs` each campaign has."""
    by: dict[str, int] = {}
    for doc in docs:
        by[str(doc["campaign_id"])] = by.get(str(doc["campaign_id"]), 0) + 1
    return by


def water_fill(demands: Mapping[str, int], total: float) -> dict[str, float]:
    """Max-min shares of `total`: every campaign gets up to the same level,
    a campaign wanting less than it gets what it wants, and the rest is
    shared among the others."""
    shares: dict[str, float] = {}
    left = float(total)
    pending = sorted(demands.items(), key=lambda item: item[1])
    while pending:
        level = left / len(pending)
        campaign, demand = pending[0]
        if demand > level:
            return {**shares, **{c: level for c, _ in pending}}
        shares[campaign] = float(demand)
        left -= demand
        pending.pop(0)
    return shares


def held_back(
    waiting: Mapping[str, int],
    coming: Mapping[str, int],
    rendering: Mapping[str, int],
    free: int,
) -> int:
    """How many of the `free` starts to keep for requests still in the image
    stage: the parts of the campaigns' max-min shares of the starts in hand
    (rendering + free) that their rendering and waiting clips leave over and
    their coming requests would fill."""
    if not coming or free <= 0:
        return 0
    campaigns = set(waiting) | set(coming) | set(rendering)
    demands = {c: rendering.get(c, 0) + waiting.get(c, 0) + coming.get(c, 0) for c in campaigns}
    shares = water_fill(demands, free + sum(rendering.values()))
    kept = 0.0
    for campaign, n in coming.items():
        rest = shares[campaign] - rendering.get(campaign, 0) - waiting.get(campaign, 0)
        kept += min(float(n), max(0.0, rest))
    # Rounded up: a campaign with a request on its way and any share keeps a
    # start, even when the shares split one free start between two.
    return min(free, math.ceil(kept - 1e-9))


def limit(
    queue: list[Any], coming: Mapping[str, int], rendering: Mapping[str, int], free: int, end: float
) -> int:
    """How many of `queue` (waiting clips in order, urgent ones first) may
    start now: the `free` starts less those held_back, but never fewer than
    the clips that would miss their deadline if the queue's end (`end`)
    came before them."""
    held = held_back(counts(queue), coming, rendering, free)
    urgent = sum(1 for doc in queue if too_late(doc, end))
    return max(free - held, urgent)


def on_the_way() -> dict[str, list[Asset]]:
    """The requests in the image stage whose plan includes a clip, by Veo
    model, when the order counts them (MEDIA_VEO_FAIRNESS=published): one
    query a dispatch. A still not made within one pacing window is not
    waited for: its share goes back to the others."""
    settings = get_settings()
    if settings.MEDIA_VEO_FAIRNESS != "published":
        return {}
    groups: dict[str, list[Asset]] = {}
    for doc in asset_queries.in_image_stage(settings.MEDIA_VEO_PACING_WINDOW_S):
        if doc.video_model is not None and (doc.get("plan") or {}).get("video_planned"):
            groups.setdefault(doc.video_model, []).append(doc)
    return groups
