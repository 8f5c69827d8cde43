"""Which waiting clip starts next, when starts are paced to Veo's quota.

With MEDIA_VEO_STARTS_PER_MIN set, animate_still does not start its own clip:
it marks the asset waiting and dispatches. A dispatch (animate_still after
enqueueing, finish_clip after a clip completes, the janitor's tick) takes the
waiting assets in round-robin order across campaigns (counting the clips a
campaign already has rendering, so the order holds across dispatch calls),
ties going to the campaign whose oldest clip has waited longest, so one
campaign's burst cannot hold the others back. Each start takes the asset's lease first and a
pacing token second; when the tokens run out the dispatch stops (nothing
waits). A clip whose expected start would come too late for its deadline
degrades at once to its still: `partial`, reason `busy`.
"""

from __future__ import annotations

import time
from typing import Any

from shared.core import log
from shared.core.settings import get_settings
from shared.domain.asset_state import waiting
from shared.domain.status import Reason, Status
from shared.pipeline.checks import too_late
from shared.store import asset_queries, assets, pacing
from shared.store.media_models import GenaiVideoModel, VideoModel


def enqueue(doc: dict[str, Any]) -> None:
    if not doc.get("video_queued_at"):
        assets.update_fields(doc["campaign_id"], doc["asset_id"], video_waiting=True,
                             video_queued_at=time.time())


def fair_order(docs: list[dict[str, Any]], in_flight: dict[str, int] | None = None,
               interval_s: float | None = None) -> list[dict[str, Any]]:
    """Round-robin across campaigns that remembers: a campaign's k-th waiting
    clip ranks k + its clips already rendering at Veo, so a campaign holding
    many starts yields to one holding none, across dispatch calls too; ties
    go to the campaign whose oldest clip has waited longest, and each
    campaign's clips go oldest first.

    With `interval_s` (MEDIA_VEO_FAIRNESS=waiting) the rank is weighted by
    waiting time instead: a clip's turn is its queued time pushed back one
    start interval per clip its campaign has ahead of it or at Veo, so a
    burst still yields to others but an old clip is not overtaken forever."""
    flying = in_flight or {}
    by_campaign: dict[str, list[dict[str, Any]]] = {}
    for doc in sorted(docs, key=lambda d: float(d.get("video_queued_at") or 0)):
        by_campaign.setdefault(str(doc["campaign_id"]), []).append(doc)
    ranked: list[tuple[tuple[float, float], dict[str, Any]]] = []
    for campaign, queue in by_campaign.items():
        head = float(queue[0].get("video_queued_at") or 0)
        for k, doc in enumerate(queue):
            ahead = flying.get(campaign, 0) + k
            if interval_s is not None:
                queued = float(doc.get("video_queued_at") or 0)
                ranked.append(((queued + ahead * interval_s, 0.0), doc))
            else:
                ranked.append(((float(ahead), head), doc))
    ranked.sort(key=lambda pair: pair[0])
    return [doc for _, doc in ranked]


def in_flight(docs: list[dict[str, Any]]) -> dict[str, int]:
    from shared.domain.asset_state import started

    counts: dict[str, int] = {}
    for doc in docs:
        if started(doc):
            counts[str(doc["campaign_id"])] = counts.get(str(doc["campaign_id"]), 0) + 1
    return counts


def dispatch(model: VideoModel | None = None) -> dict[str, int]:
    """Start as many waiting clips as the pacing budget allows right now; once
    it is used up, degrade those whose turn would come too late."""
    if not pacing.enabled():
        return {}
    model = model or GenaiVideoModel()
    counts = {"started": 0, "busy": 0}
    next_free: float | None = None  # when starts resume, once the tokens ran out
    ahead = 0  # clips that will start before this one from then on
    current = asset_queries.animating()
    interval = (1 / pacing.starts_per_s()
                if get_settings().MEDIA_VEO_FAIRNESS == "waiting" else None)
    for doc in fair_order(waiting(current), in_flight(current), interval):
        if next_free is not None:
            start_at = next_free + ahead / pacing.starts_per_s()
            ahead += 1
            if too_late(doc, start_at):
                counts["busy"] += _one(doc, model, start_at, may_start=False)
            continue
        outcome = _one(doc, model, time.time(), may_start=True)
        if outcome == -1:  # the budget is used up for now
            next_free = pacing.next_start_at()
            start_at = next_free
            ahead = 1
            if too_late(doc, start_at):
                counts["busy"] += _one(doc, model, start_at, may_start=False)
        elif outcome == 2:
            counts["started"] += 1
        else:
            counts["busy"] += outcome
    if counts["started"] or counts["busy"]:
        log.info("video_dispatch", "paced Veo starts", **counts)
    return counts


def _one(doc: dict[str, Any], model: VideoModel, start_at: float, may_start: bool) -> int:
    """Under the asset's lease: degrade it if `start_at` is too late (1), or
    start it (2; -1 when no token is left), or nothing (0)."""
    from shared.pipeline.animate import fail_video, start_clip, started

    cid, aid = doc["campaign_id"], doc["asset_id"]
    owner = f"dispatch/{assets.new_owner()[:8]}"
    if not assets.claim(cid, aid, owner, get_settings().MEDIA_VIDEO_LEASE_S, Status.ANIMATING):
        return 0  # another dispatcher has it
    try:
        fresh = assets.load(cid, aid) or {}
        if fresh.get("status") != Status.ANIMATING or started(fresh):
            return 0
        if too_late(fresh, start_at):
            fail_video(fresh, Reason.BUSY, "Veo's start budget is taken until past the deadline",
                       video_waiting=False)
            return 1
        if not may_start:
            return 0
        token_at = pacing.take_start()
        if token_at is None:
            return -1
        queued = float(fresh.get("video_queued_at") or token_at)
        if start_clip(fresh, model, owner) is not None:
            assets.update_fields(cid, aid, video_waiting=False, video_token_at=token_at,
                                 video_wait_ms=int((token_at - queued) * 1000))
        return 2
    finally:
        assets.release_lease(cid, aid, owner)


