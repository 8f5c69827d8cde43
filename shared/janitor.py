"""Close what the pipeline gave up on, so every request ends terminal.

- `sweep()`: assets stuck past MEDIA_DEADLINE_S are closed and their
  reservations released (Cloud Scheduler in the cloud; `cutscenes janitor`
  locally).
- `close_dead_letter()`: a message that exhausted its delivery attempts
  reaches a dead-letter topic, which pushes it here; its asset is closed at
  once instead of waiting for the deadline.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from shared import assets, log, spend
from shared.animate import parse_animate
from shared.clients import firestore_client
from shared.errors import InvalidRequest
from shared.ids import asset_id_for
from shared.pipeline_checks import expired
from shared.render import close_expired, reject_invalid
from shared.request import parse_request
from shared.settings import get_settings

OPEN = ["queued", "rendering_image", "animating"]
GAVE_UP = "delivery failed repeatedly; the message was dead-lettered"


def sweep(limit: int = 500) -> int:
    cutoff = datetime.now(UTC) - timedelta(seconds=get_settings().MEDIA_DEADLINE_S)
    from google.cloud.firestore_v1.base_query import FieldFilter

    # Keyword filters: the positional form prints a UserWarning, a two-line
    # text entry in the middle of the JSON logs.
    query = (firestore_client().collection_group("media")
             .where(filter=FieldFilter("status", "in", OPEN))
             .where(filter=FieldFilter("created_at", "<", cutoff)).limit(limit))
    closed = 0
    for snap in query.stream():
        doc = snap.to_dict() or {}
        if not expired(doc):
            continue  # a retried clip: its deadline counts from the retry
        log.bind(campaign_id=doc.get("campaign_id"), asset_id=doc.get("asset_id"),
                 request_id=doc.get("request_id"))
        close_expired(doc)
        closed += 1
    log.info("janitor_sweep", f"closed {closed} stuck assets", closed=closed)
    return closed


def _asset_for_message(data: bytes) -> tuple[str, str] | None:
    """(campaign_id, asset_id) of a request or animate message, creating the
    asset if a request died before it had one."""
    animate = parse_animate(data)
    if animate is not None:
        return animate
    try:
        request = parse_request(data, get_settings().MEDIA_BUCKET)
    except InvalidRequest as exc:
        reject_invalid(exc)
        return None
    asset_id = asset_id_for(request.request_id)
    assets.create_if_absent(request.campaign_id, asset_id, assets.new_asset(request, asset_id))
    return request.campaign_id, asset_id


def close_dead_letter(data: bytes) -> str:
    """Close the asset of a dead-lettered message; returns what it did."""
    found = _asset_for_message(data)
    if found is None:
        return "unreadable"
    campaign_id, asset_id = found
    log.bind(campaign_id=campaign_id, asset_id=asset_id)
    doc = assets.load(campaign_id, asset_id)
    if doc is None or assets.is_terminal(doc):
        return "already terminal"
    if assets.lease_live(doc):
        # A duplicate gave up while another delivery works on the asset; that
        # delivery's own message is still outstanding, and the deadline sweep
        # remains the backstop.
        return "in progress"
    spend.release(doc)
    if doc.get("image"):
        assets.transition(campaign_id, asset_id, "partial", "video_failed", error=GAVE_UP)
    else:
        assets.transition(campaign_id, asset_id, "failed", "image_failed", error=GAVE_UP)
    log.warning("dead_letter_closed", "closed the asset of a dead-lettered message")
    return "closed"


def handle_http(body: Any) -> dict[str, Any]:
    """A Pub/Sub push envelope (dead letters) or anything else (a sweep)."""
    from shared.entry import decode_data

    message = body.get("message") if isinstance(body, dict) else None
    if isinstance(message, dict):
        return {"dead_letter": close_dead_letter(decode_data(message.get("data")))}
    return {"closed": sweep()}


def parse_body(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
