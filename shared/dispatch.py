"""Which waiting clip starts next, when starts are paced to Veo's quota.

With MEDIA_VEO_STARTS_PER_MIN set, animate_still does not start its own clip:
it marks the asset waiting and dispatches. A dispatch (animate_still after
enqueueing, finish_clip after a clip completes, the janitor's tick) takes the
waiting assets in round-robin order across campaigns, each campaign's turn
ordered by how long its oldest clip has waited, so one campaign's burst
cannot hold the others back. Each start takes the asset's lease first and a
pacing token second; when the tokens run out the dispatch stops (nothing
waits). A clip whose expected start would come too late for its deadline
degrades at once to its still: `partial`, reason `busy`.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from datetime import datetime
from typing import Any

from shared import assets, log, pacing
from shared.clients import firestore_client
from shared.media_models import GenaiVideoModel, VideoModel
from shared.settings import get_settings


def enqueue(doc: dict[str, Any]) -> None:
    if not doc.get("video_queued_at"):
        assets.update_fields(doc["campaign_id"], doc["asset_id"], video_waiting=True,
                             video_queued_at=time.time())


def waiting(limit: int = 1000) -> list[dict[str, Any]]:
    from google.cloud.firestore_v1.base_query import FieldFilter

    query = (firestore_client().collection_group("media")
             .where(filter=FieldFilter("video_waiting", "==", True)).limit(limit))
    docs = [s.to_dict() or {} for s in query.stream()]
    return [d for d in docs if d.get("status") == "animating" and not d.get("video_operation")]


def fair_order(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Round-robin across campaigns; each round in order of the campaign's
    oldest waiting clip, and each campaign's clips oldest first."""
    by_campaign: dict[str, list[dict[str, Any]]] = {}
    for doc in sorted(docs, key=lambda d: float(d.get("video_queued_at") or 0)):
        by_campaign.setdefault(str(doc["campaign_id"]), []).append(doc)
    queues = OrderedDict(sorted(by_campaign.items(),
                                key=lambda kv: float(kv[1][0].get("video_queued_at") or 0)))
    order: list[dict[str, Any]] = []
    depth = 0
    while True:
        layer = [q[depth] for q in queues.values() if len(q) > depth]
        if not layer:
            return order
        order.extend(layer)
        depth += 1


def too_late(doc: dict[str, Any], position: int, now: float) -> bool:
    """Whether a clip that starts after `position` others (at the paced rate)
    would still be rendering at its deadline."""
    from shared.animate import expected_s
    from shared.render import stored_plan

    created = doc.get("created_at")
    if not isinstance(created, datetime):
        return False
    deadline = created.timestamp() + get_settings().MEDIA_DEADLINE_S
    start_at = now + position / pacing.starts_per_s()
    plan, _ = stored_plan(doc)
    return start_at + expected_s(plan.duration_seconds) > deadline


def dispatch(model: VideoModel | None = None) -> dict[str, int]:
    """Start as many waiting clips as the pacing budget allows right now."""
    from shared.animate import fail_video, start_clip

    if not pacing.enabled():
        return {}
    model = model or GenaiVideoModel()
    counts = {"started": 0, "busy": 0}
    now = time.time()
    lease_s = get_settings().MEDIA_VIDEO_LEASE_S
    for position, doc in enumerate(fair_order(waiting())):
        cid, aid = doc["campaign_id"], doc["asset_id"]
        owner = f"dispatch/{assets.new_owner()[:8]}"
        if not assets.claim(cid, aid, owner, lease_s, "animating"):
            continue  # another dispatcher has it
        try:
            fresh = assets.load(cid, aid) or {}
            if fresh.get("status") != "animating" or fresh.get("video_operation"):
                continue
            if too_late(fresh, position - counts["started"], now):
                fail_video(fresh, "busy", "Veo's start budget is taken until past the "
                           "deadline", video_waiting=False)
                counts["busy"] += 1
                continue
            if not pacing.take_start():
                break
            if start_clip(fresh, model) is not None:
                assets.update_fields(cid, aid, video_waiting=False,
                                     video_wait_ms=int((time.time() - float(
                                         fresh.get("video_queued_at") or now)) * 1000))
            counts["started"] += 1
        finally:
            assets.release_lease(cid, aid, owner)
    if counts["started"] or counts["busy"]:
        log.info("video_dispatch", "paced Veo starts", **counts)
    return counts


def queue_minutes() -> float | None:
    """How long a clip asked for now would wait for its start, in minutes
    (None when starts are unpaced). One keys-only query."""
    if not pacing.enabled():
        return None
    from google.cloud.firestore_v1.base_query import FieldFilter

    query = (firestore_client().collection_group("media")
             .where(filter=FieldFilter("video_waiting", "==", True)).select([]).limit(2000))
    waiting_now = sum(1 for _ in query.stream())
    return waiting_now / pacing.starts_per_s() / 60.0
