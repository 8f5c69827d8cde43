"""Status events (CONTRACT section 4), for backends that forward progress."""

from __future__ import annotations

import json
from typing import Any

from shared import log
from shared.clients import publisher, topic_path
from shared.settings import get_settings

EVENT_FIELDS = ("campaign_id", "session_id", "asset_id", "request_id", "turn_number",
                "kind", "cutscene_type", "status", "status_reason")


def event_for(asset: dict[str, Any]) -> dict[str, Any]:
    return {"schema": "media.event.v1", **{k: asset.get(k) for k in EVENT_FIELDS}}


def publish_status(asset: dict[str, Any]) -> None:
    """Publish one status change. Firestore is the source of truth, so a
    failed publish is logged, never raised into the pipeline."""
    event = event_for(asset)
    try:
        future = publisher().publish(
            topic_path(get_settings().MEDIA_EVENTS_TOPIC),
            json.dumps(event).encode("utf-8"),
            campaign_id=str(event["campaign_id"]), status=str(event["status"]),
        )
        future.result(timeout=10)
    except Exception as exc:  # noqa: BLE001 - events are best effort by design
        log.warning("event_publish_failed", f"status event not published: {exc}",
                    status=event["status"])
