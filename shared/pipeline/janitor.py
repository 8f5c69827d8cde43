"""Close what the pipeline gave up on, so every request ends terminal.

- `sweep()`: assets stuck past MEDIA_DEADLINE_S are closed and their
  reservations released (Cloud Scheduler in the cloud; `cutscenes janitor`
  locally).
- `sweep_operations()`: animating assets whose Veo operation wrote nothing
  by its expected time are asked about, once each, with backoff.
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
from shared.domain.ids import asset_id_for
from shared.domain.paths import VEO_OUTPUT_ROOT
from shared.domain.request import parse_request
from shared.domain.status import OPEN, Reason, Status
from shared.pipeline.animate import parse_animate
from shared.pipeline.checks import deadline_start, sweep_cutoff
from shared.pipeline.lifecycle import close, close_expired, reject_invalid
from shared.store import asset_queries, assets, storage

GAVE_UP = "delivery failed repeatedly; the message was dead-lettered"


def _stuck(limit: int) -> list[dict[str, Any]]:
    """Open assets whose deadline passes before the next sweep. Keyed on the
    publish time; created_at as well for assets written before it was kept."""
    cutoff = sweep_cutoff()
    found: dict[str, dict[str, Any]] = {}
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


def sweep_operations(model: Any = None) -> dict[str, int]:
    """Ask Veo about animating assets whose operation is overdue (its MP4
    never landed: an error, a safety block, a hang, or a lost event), at
    most MEDIA_VIDEO_SWEEP_LIMIT per sweep, each backing off on its own."""
    import time

    from shared.core.errors import Busy
    from shared.pipeline.finish import finish_operation
    from shared.store.media_models import GenaiVideoModel

    settings = get_settings()
    outcomes: dict[str, int] = {}
    for doc in asset_queries.animating_checks_due(time.time(), settings.MEDIA_VIDEO_SWEEP_LIMIT):
        uncertain = doc.get("video_start_uncertain_at") is not None
        if not doc.get("video_operation") and not uncertain:
            continue
        log.bind(
            campaign_id=doc.get("campaign_id"),
            asset_id=doc.get("asset_id"),
            request_id=doc.get("request_id"),
        )
        try:
            if doc.get("video_operation"):
                what = finish_operation(
                    doc, str(doc["video_operation"]), model or GenaiVideoModel()
                )
            else:
                what = give_up_uncertain(doc)
        except Busy:
            what = "busy"  # the bucket event (or another sweep) is on it
        except Exception as exc:  # noqa: BLE001 - one bad asset must not stop the sweep
            what = "error"
            _log_failure("janitor_check_failed", "could not check an operation", exc)
        outcomes[what] = outcomes.get(what, 0) + 1
    if outcomes:
        log.info("janitor_operations", "checked overdue Veo operations", **outcomes)
    from shared.pipeline import dispatch

    for what, n in dispatch.dispatch_held(model).items():
        outcomes[what] = outcomes.get(what, 0) + n
    return {k: v for k, v in outcomes.items() if v}


def give_up_uncertain(doc: dict[str, Any]) -> str:
    """A Veo start whose outcome was lost, past its MEDIA_VEO_ADOPT_WAIT_S
    (video_check_at): adopt its clip if one landed (a lost event), else close
    the asset partial with its hold released. Never a second start."""
    from shared.core.errors import Busy
    from shared.domain.paths import video_output_prefix
    from shared.pipeline.animate import fail_video
    from shared.pipeline.finish import adopt_output

    cid, aid = doc["campaign_id"], doc["asset_id"]
    uri = storage.first_mp4_under(video_output_prefix(cid, aid))
    if uri:
        return adopt_output(doc, uri, None)
    owner = f"janitor/{assets.new_owner()[:8]}"
    if not assets.claim(cid, aid, owner, get_settings().MEDIA_VIDEO_LEASE_S, Status.ANIMATING):
        raise Busy("another worker holds the asset")
    try:
        fresh = assets.load(cid, aid) or {}
        if fresh.get("status") != Status.ANIMATING or fresh.get("video_operation"):
            return "closed"
        waited = float(fresh.get("video_check_at") or 0) - float(
            fresh.get("video_start_uncertain_at") or 0
        )
        fail_video(
            fresh,
            Reason.VIDEO_FAILED,
            (
                "Veo start failed with an unknown outcome and no clip appeared within "
                f"{waited:.0f} s; not started again, to never pay for two clips"
            ),
        )
        return "gave_up"
    finally:
        assets.release_lease(cid, aid, owner)


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


def handle_http(body: Any) -> dict[str, Any]:
    """A Pub/Sub push envelope (dead letters), `{"sweep": "operations"}`
    (overdue Veo operations only), or anything else (both sweeps)."""
    from shared.pipeline.entry import decode_data
    from shared.store.optimistic import forget_versions

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
    answer: dict[str, Any] = {"closed": sweep()}
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
