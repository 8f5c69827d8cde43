"""Close what the pipeline gave up on, so every request ends terminal.

- `sweep()`: assets stuck past MEDIA_DEADLINE_S are closed and their
  reservations released (Cloud Scheduler in the cloud; `cutscenes janitor`
  locally).
- `sweep_operations()` (shared/pipeline/operations.py): animating assets
  whose clip is overdue are asked about, once each, with backoff.
- `close_dead_letter()`: a message that exhausted its delivery attempts
  reaches a dead-letter topic, which pushes it here; its asset is closed at
  once instead of waiting for the deadline.
"""

from __future__ import annotations

import json
from typing import Any

from shared.core import log
from shared.core.errors import InvalidRequest
from shared.core.settings import get_settings
from shared.core.transient import describe, transport_error
from shared.domain.asset import Asset
from shared.domain.ids import asset_id_for
from shared.domain.paths import VEO_OUTPUT_ROOT
from shared.domain.request import parse_request
from shared.domain.status import OPEN, Reason
from shared.pipeline.animate import parse_animate
from shared.pipeline.checks import deadline_start, sweep_cutoff
from shared.pipeline.entry import decode_data
from shared.pipeline.lifecycle import close, close_expired, reject_invalid
from shared.pipeline.operations import sweep_operations
from shared.store import asset_queries, assets, storage
from shared.store.optimistic import forget_versions

__all__ = ["sweep_operations"]  # the janitor's second sweep (operations.py)

GAVE_UP = "delivery failed repeatedly; the message was dead-lettered"


def _stuck(limit: int) -> list[Asset]:
    """Open assets whose deadline passes before the next sweep. Keyed on the
    publish time; created_at as well for assets written before it was kept."""
    cutoff = sweep_cutoff()
    found: dict[str, Asset] = {}
    for field in ("published_at", "created_at"):
        for doc in asset_queries.open_before(list(OPEN), field, cutoff, limit):
            found.setdefault(f"{doc.get('campaign_id')}/{doc.get('asset_id')}", doc)
    # A retried clip (re-animate) counts from its retry, which no query sees.
    return [doc for doc in found.values() if (deadline_start(doc) or cutoff) < cutoff][:limit]


def sweep(limit: int = 500) -> int:
    closed = failed = 0
    for doc in _stuck(limit):
        log.bind(
            campaign_id=doc.get("campaign_id"),
            asset_id=doc.get("asset_id"),
            request_id=doc.get("request_id"),
        )
        try:
            close_expired(doc)
            closed += 1
        except Exception as exc:  # noqa: BLE001 - one bad asset must not stop the sweep
            failed += 1
            _log_failure("janitor_close_failed", "could not close a stuck asset", exc)
    # Veo output older than the deadline belongs to a closed asset (a live one
    # has it moved into place within seconds): the bucket's lifecycle rule in
    # the cloud, and the only cleanup on the local Storage emulator.
    stale = storage.delete_stale(VEO_OUTPUT_ROOT, get_settings().MEDIA_DEADLINE_S)
    log.info(
        "janitor_sweep",
        f"closed {closed} stuck assets",
        closed=closed,
        failed=failed,
        veo_output_deleted=stale,
    )
    return closed


def _log_failure(event: str, message: str, exc: Exception) -> None:
    if transport_error(exc) is not None:  # an outage: the next sweep tries again
        log.warning(event, f"{message}: {describe(exc)}", transient=True)
    else:
        log.error(event, f"{message}: {type(exc).__name__}: {exc}", exc_info=True)


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
    close(doc, Reason.VIDEO_FAILED, Reason.IMAGE_FAILED, error=GAVE_UP)
    log.warning("dead_letter_closed", "closed the asset of a dead-lettered message")
    return "closed"


def handle_http(body: Any) -> dict[str, object]:
    """A Pub/Sub push envelope (dead letters), `{"sweep": "operations"}`
    (overdue Veo operations only), or anything else (both sweeps)."""

    # A warm instance serves tick after tick: start each from what Firestore
    # holds, not from the versions an earlier tick wrote (an asset this
    # janitor closed may have been re-animated since; its remembered
    # `partial` would make closing it again a silent no-op).
    forget_versions()
    message = body.get("message") if isinstance(body, dict) else None
    if isinstance(message, dict):
        return {"dead_letter": dead_letter(decode_data(message.get("data")))}
    if isinstance(body, dict) and body.get("sweep") == "operations":
        return {"operations": sweep_operations()}  # the local scheduler's tick
    answer: dict[str, object] = {"closed": sweep()}
    checked = sweep_operations()
    if checked:
        answer["operations"] = checked
    return answer


def dead_letter(data: bytes) -> str:
    """close_dead_letter, answering 2xx (ack) unless retrying can help: a
    message no retry can close stays in the dead-letter hold subscription
    for an operator, instead of being pushed here for the whole retention."""
    try:
        return close_dead_letter(data)
    except Exception as exc:
        if transport_error(exc) is not None:
            raise  # an outage: 500, retried (and dead-lettered in the end)
        _log_failure("dead_letter_failed", "could not close a dead-lettered asset", exc)
        return "failed"


def parse_body(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
