"""Close assets stuck past MEDIA_DEADLINE_S and release their reservations.

Scheduled in the cloud; run on demand locally (`cutscenes janitor`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared import log
from shared.clients import firestore_client
from shared.render import close_expired
from shared.settings import get_settings

OPEN = ["queued", "rendering_image", "animating"]


def sweep(limit: int = 500) -> int:
    cutoff = datetime.now(UTC) - timedelta(seconds=get_settings().MEDIA_DEADLINE_S)
    query = (firestore_client().collection_group("media")
             .where("status", "in", OPEN).where("created_at", "<", cutoff).limit(limit))
    closed = 0
    for snap in query.stream():
        doc = snap.to_dict() or {}
        log.bind(campaign_id=doc.get("campaign_id"), asset_id=doc.get("asset_id"),
                 request_id=doc.get("request_id"))
        close_expired(doc)
        closed += 1
    log.info("janitor_sweep", f"closed {closed} stuck assets", closed=closed)
    return closed
