"""Steps of an asset's life that every stage shares: timing, the stored plan,
closing an asset its worker gave up on, rejecting an invalid request, and
logging a paid result that came too late to bill."""

from __future__ import annotations

from typing import Any

from shared.core import clock, log
from shared.core.errors import InvalidRequest
from shared.core.settings import get_settings
from shared.domain.asset import Asset
from shared.domain.asset_fields import rejected_asset
from shared.domain.campaign import Plan
from shared.domain.clip import attempt_of
from shared.domain.ids import asset_id_for
from shared.domain.paths import gs_uri, video_object
from shared.domain.pricing import micros_to_usd
from shared.domain.status import Reason, Status
from shared.pipeline.hiding import transition
from shared.store import assets, spend
from shared.store.optimistic import now

__all__ = ["transition"]  # re-exported: the stages' one way to move an asset


def ms_since(start: float) -> int:
    return int((clock.monotonic() - start) * 1000)


def reject_invalid(exc: InvalidRequest) -> None:
    log.warning(
        "request_invalid",
        f"invalid request: {exc}",
        campaign_id=exc.campaign_id,
        request_id=exc.request_id,
    )
    if not (exc.campaign_id and exc.request_id):
        return  # ids unreadable: logged and dropped, never retried
    asset_id = asset_id_for(exc.request_id)
    fields = rejected_asset(asset_id, exc.request_id, exc.campaign_id, now(), str(exc))
    # If a valid delivery of that id got there first, its asset is left alone.
    assets.create_if_absent(exc.campaign_id, asset_id, fields)


def stored_plan(doc: Asset) -> tuple[Plan, bool]:
    raw = dict(doc["plan"])
    video_planned = bool(raw.pop("video_planned"))
    raw.pop("daily", None)
    return Plan(**raw), video_planned


def close_expired(doc: Asset) -> None:
    """Past MEDIA_DEADLINE_S: stop, keep what exists, release what is held."""
    close(doc, Reason.TIMEOUT, Reason.TIMEOUT)


def close(doc: Asset, partial_reason: str, failed_reason: str, **fields: Any) -> Asset | None:
    """Close an open asset that its worker gave up on (deadline, dead letter).

    `doc` may be a stale copy (a sweep's query): the asset is read again,
    and closed only if it is still at `doc`'s clip attempt, so a sweep never
    ends an owner's retry it did not see (nor leaks that retry's hold).
    Holds are released first, so a worker finishing at the same moment finds
    its key no longer held and charges nothing. A stage its worker settled
    just before stays charged and is recorded as such: a settled clip means
    its MP4 is in place (the poller stores it before settling), so the asset
    is complete; otherwise cost_usd is what was charged, so the session's
    spent always equals the sum of its assets' costs."""
    cid, aid = doc["campaign_id"], doc["asset_id"]
    fresh = assets.load(cid, aid)
    if fresh is None or assets.is_terminal(fresh):
        return None
    attempt = attempt_of(doc)
    if attempt_of(fresh) != attempt:
        log.warning(
            "close_refused",
            f"not closed: read at clip attempt {attempt}, now at {attempt_of(fresh)}",
            attempt=attempt,
        )
        return None
    charged = spend.release(fresh)
    cost = micros_to_usd(sum(charged.values()))
    if "video" in charged and fresh.get("image") and fresh.get("plan"):
        plan, _ = stored_plan(fresh)
        video = {
            "uri": gs_uri(get_settings().MEDIA_BUCKET, video_object(cid, aid)),
            "mime_type": "video/mp4",
            "duration_seconds": plan.duration_seconds,
        }
        return transition(cid, aid, Status.COMPLETE, video=video, cost_usd=cost, attempt=attempt)
    if fresh.get("image"):
        return transition(
            cid, aid, Status.PARTIAL, partial_reason, cost_usd=cost, attempt=attempt, **fields
        )
    return transition(
        cid, aid, Status.FAILED, failed_reason, cost_usd=cost, attempt=attempt, **fields
    )


def fail_video(doc: Asset, reason: str, detail: str, **fields: Any) -> None:
    """End this attempt's clip without one: its hold released, the asset
    `partial` with the still. Refused if the asset moved to another attempt."""
    spend.release(doc, ("video",))
    transition(
        doc["campaign_id"],
        doc["asset_id"],
        Status.PARTIAL,
        reason,
        error=detail[:1000],
        attempt=attempt_of(doc),
        **fields,
    )


def unbilled(what: str, micros: int, detail: str) -> None:
    """A paid result that arrived after its asset was closed: Google bills it,
    the session does not (docs/decisions/0006-late-clips.md)."""
    log.warning(
        "late_result",
        f"{what} arrived after its asset was closed; {detail}",
        unbilled_usd=micros_to_usd(micros),
        stage=what,
    )
