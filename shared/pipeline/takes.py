"""An owner's moves on an asset (docs/interface.md section 5): regenerate, re-animate, hide.

The HTTP routes and the CLI both call these; each raises `TakeRefused` with
the HTTP code that describes why it cannot (404 unknown or hidden asset, 409
wrong state, 400 bad input, 503 Pub/Sub unreachable).
"""

from __future__ import annotations

from typing import Any

from shared.core import log
from shared.domain.asset import Asset
from shared.domain.clip import Clip, ClipState
from shared.domain.messages import new_request_id
from shared.domain.pricing import micros_to_usd
from shared.domain.status import Reason, Status
from shared.pipeline import hiding
from shared.pipeline.lifecycle import transition
from shared.store import asset_queries, assets, events, publish, rewinds
from shared.store.campaigns import load_campaign
from shared.store.optimistic import Fields, forget_versions, now, read_modify_write


class TakeRefused(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def visible(campaign_id: str, asset_id: str) -> Asset:
    """The asset, unless it does not exist or was hidden (both: 404)."""
    doc = assets.load(campaign_id, asset_id)
    if doc is None or doc.get("hidden"):
        raise TakeRefused(404, "no such asset")
    return doc


def regenerate(
    campaign_id: str,
    asset_id: str,
    image_prompt: str | None = None,
    motion_prompt: str | None = None,
) -> dict[str, str]:
    """Publish a new request for the same moment (session, turn, kind, type,
    subject, style, references) with new prompts where given, linked back by
    `regenerated_from`. The pipeline admits it like any request (budget)."""

    doc = visible(campaign_id, asset_id)
    original = doc.get("request")
    if not isinstance(original, dict) or not doc.get("session_id"):
        raise TakeRefused(409, "this asset's request was invalid: there is nothing to regenerate")
    if motion_prompt is not None and doc.get("kind") != "cutscene":
        raise TakeRefused(400, "motion_prompt is for cutscenes only")
    message = {
        **original,
        "request_id": f"regen-{new_request_id()[4:]}",
        "regenerated_from": asset_id,
    }
    if image_prompt is not None:
        message["image_prompt"] = image_prompt
    if motion_prompt is not None:
        message["motion_prompt"] = motion_prompt
    result = publish.publish_request(message)
    if not result.accepted:
        reason = result.reason or "not published"
        raise TakeRefused(400 if reason.startswith("invalid") else 503, reason)
    log.info(
        "regenerated",
        f"asset {asset_id} regenerated as {result.asset_id}",
        campaign_id=campaign_id,
        asset_id=asset_id,
        new_asset_id=result.asset_id,
        request_id=result.request_id,
    )
    return {"asset_id": result.asset_id or "", "request_id": result.request_id or ""}


def _retry_fields(doc: Fields) -> Fields:
    plan = doc.get("plan") or {}
    stamp = now()
    return {
        "status": Status.ANIMATING,
        "status_reason": None,
        "error": None,
        "video_attempt": int(doc.get("video_attempt") or 1) + 1,
        "restarted_at": stamp,
        "updated_at": stamp,
        "completed_at": None,
        "lease": None,
        "video": None,
        # A new attempt's clip starts from nothing (shared/domain/clip.py).
        "video_state": ClipState.NONE.value,
        "video_intent_at": None,
        "video_check_failures": 0,
        "video_operation": None,
        "video_started_at": None,
        "video_start_uncertain_at": None,
        "clip_daily": None,
        # The last attempt's clip-stage bookkeeping (paced queue, sweep checks):
        # a retry waits, starts and is checked afresh.
        "video_waiting": False,
        "video_queued_at": None,
        "video_check_at": None,
        "video_checks": 0,
        "video_token_at": None,
        "video_wait_ms": None,
        "video_output_at": None,
        "models": {**(doc.get("models") or {}), "video": plan.get("video_model")},
        "estimated_cost_usd": micros_to_usd(
            int(plan.get("image_micros") or 0) + int(plan.get("video_micros") or 0)
        ),
    }


def reanimate(campaign_id: str, asset_id: str) -> dict[str, str]:
    """Try the clip of a `partial` cutscene again on its existing still: the
    one way back in the status machine (partial -> animating). Only one of
    several concurrent calls wins; the others get 409."""
    # An API worker serves one owner's clicks one after another: versions an
    # earlier call wrote are stale (a `partial` it wrote would make this
    # call's rollback below a silent no-op, leaving the asset animating).
    forget_versions()

    doc = visible(campaign_id, asset_id)
    if (
        doc.get("kind") != "cutscene"
        or not doc.get("image")
        or not (doc.get("plan") or {}).get("video_model")
    ):
        raise TakeRefused(409, "only a cutscene with a still can be re-animated")
    campaign = load_campaign(campaign_id)
    if campaign is None or not campaign.media.enabled:
        raise TakeRefused(409, "media is disabled for this campaign")

    def mutate(cur: Fields | None) -> tuple[Fields | None, Any]:
        if cur is None or cur.get("hidden"):
            return None, 404
        if cur.get("status") != Status.PARTIAL:
            return None, f"the asset is {cur.get('status')}, not partial"
        update = _retry_fields(cur)
        return update, {**cur, **update}

    outcome = read_modify_write(assets.asset_ref(campaign_id, asset_id), mutate)
    if outcome == 404:
        raise TakeRefused(404, "no such asset")
    if not isinstance(outcome, dict):
        raise TakeRefused(409, str(outcome))
    events.publish_status(outcome)
    try:
        publish.publish_animate(campaign_id, asset_id)
    except Exception as exc:
        # Nobody will work on it: put it back where it was, holding nothing.
        transition(
            campaign_id,
            asset_id,
            Status.PARTIAL,
            Reason.VIDEO_FAILED,
            error=f"re-animate not published: {type(exc).__name__}",
        )
        raise TakeRefused(503, "could not publish the re-animate request; try again") from exc
    log.info(
        "reanimated",
        f"asset {asset_id}: clip attempt {outcome['video_attempt']}",
        campaign_id=campaign_id,
        asset_id=asset_id,
        attempt=outcome["video_attempt"],
    )
    return {"asset_id": asset_id}


def idle_clip(doc: Asset) -> bool:
    """An animating asset no worker holds: its clip started (or waits for a
    paced start), and only a bucket event or the sweep would look at it."""
    return (
        doc.get("status") == "animating"
        and not assets.lease_live(doc)
        and Clip.from_doc(doc).state != ClipState.NONE
    )


def hide(campaign_id: str, asset_id: str) -> bool:
    """Hide the asset and delete its objects. A request in flight notices at
    its next check and ends (reason `hidden`), releasing its holds. Hiding a
    hidden asset again is a no-op that deletes its objects again. True when
    this call hid it (a rewind counts those)."""
    forget_versions()  # as in reanimate: start from Firestore's state

    def mutate(cur: Fields | None) -> tuple[Fields | None, Any]:
        if cur is None:
            return None, None
        if cur.get("hidden"):
            return None, (False, cur)
        update = {"hidden": True, "hidden_at": now(), "updated_at": now()}
        return update, (True, {**cur, **update})

    outcome = read_modify_write(assets.asset_ref(campaign_id, asset_id), mutate)
    if outcome is None:
        raise TakeRefused(404, "no such asset")
    newly, fields = outcome
    doc = Asset(fields)
    hiding.delete_objects(campaign_id, asset_id)
    events.publish_status(doc)  # players drop it (the event carries hidden: true)
    if idle_clip(doc):
        # Nothing runs while Veo renders or a paced clip waits (the bucket
        # event finishes clips): end it now, releasing the clip's hold.
        hiding.stop(doc)
    log.info(
        "asset_hidden",
        f"asset {asset_id} hidden",
        campaign_id=campaign_id,
        asset_id=asset_id,
        status=doc.get("status"),
    )
    return bool(newly)


def rewind(campaign_id: str, session_id: str, after_turn: int) -> int:
    """The host rewound the session to `after_turn`: hide every asset of the
    session with a later turn number, as `hide` does one (objects deleted,
    in-flight ones end `hidden`, holds released), so a reused turn number
    shows only what is asked for from now on. Returns how many this call hid.

    Already hidden assets are hidden again (their objects deleted again), as
    DELETE does: a rewind retried after a failure half way finishes the job."""
    # The mark first, then the query: a request delivered after the query
    # finds the mark and hides itself (shared/store/rewinds.py).
    rewinds.record(campaign_id, session_id, after_turn)
    hidden = 0
    for doc in asset_queries.session_assets_after(campaign_id, session_id, after_turn):
        hidden += hide(campaign_id, doc.asset_id)
    log.info(
        "session_rewound",
        f"session {session_id} rewound to turn {after_turn}: {hidden} assets hidden",
        campaign_id=campaign_id,
        session_id=session_id,
        after_turn=after_turn,
        hidden=hidden,
    )
    return hidden
