"""render_still: request -> reserve -> still -> PNG in GCS -> animate or done.

Each step first reads where the asset stands and does only what is left, so a
redelivered or concurrent message resumes instead of repeating paid work.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from shared import assets, log, spend, storage
from shared.campaigns import Campaign, MediaSettings, Plan, load_campaign, plan_for
from shared.clients import publisher, topic_path
from shared.docs import now
from shared.errors import InvalidRequest, PermanentError, SafetyBlocked
from shared.ids import asset_id_for
from shared.media_models import GenaiImageModel, ImageModel
from shared.paths import gs_uri, image_object
from shared.pipeline_checks import checkpoint, expired, past_deadline
from shared.pricing import micros_to_usd, usd_to_micros
from shared.request import MediaRequest, parse_request
from shared.retry import with_retries
from shared.settings import get_settings

# A few threads for reads that can overlap other round trips.
_reads = ThreadPoolExecutor(max_workers=8, thread_name_prefix="reads")


def ms_since(start: float) -> int:
    return int((time.monotonic() - start) * 1000)


def handle_request(data: bytes, delivery_id: str, published_at: datetime | None = None,
                   image_model: ImageModel | None = None) -> None:
    """Process one delivery of a request message. Returns to ack; raises
    TransientError to have the platform redeliver."""
    started = time.monotonic()
    settings = get_settings()
    try:
        request = parse_request(data, settings.MEDIA_BUCKET)
    except InvalidRequest as exc:
        reject_invalid(exc)
        return
    asset_id = asset_id_for(request.request_id)
    log.bind(request_id=request.request_id, campaign_id=request.campaign_id,
             session_id=request.session_id, asset_id=asset_id, delivery_id=delivery_id)
    doc: dict[str, Any] | None  # None once admit()/render() find it moved on
    # The campaign is read while the asset is created: two round trips at once.
    campaign = _reads.submit(load_campaign, request.campaign_id)
    doc, created = assets.create_if_absent(request.campaign_id, asset_id,
                                           assets.new_asset(request, asset_id))
    if not created:
        log.info("redelivery", f"request already known, status {doc.get('status')}")
    if assets.is_terminal(doc):
        return
    if created and published_at is not None and past_deadline(published_at):
        # Redelivered for longer than the deadline (or stuck in a backlog):
        # nobody is waiting for it any more, so close it instead of paying.
        assets.transition(request.campaign_id, asset_id, "failed", "timeout")
        return
    if expired(doc):
        close_expired(doc)
        return
    owner = f"{delivery_id}/{assets.new_owner()[:8]}"  # duplicates share the event id
    admitted = doc["status"] == "queued"
    if admitted:
        doc = admit(request, asset_id, started, owner, campaign.result())
    if doc is not None and doc["status"] == "rendering_image":
        doc = render(request, asset_id, doc, owner, image_model or GenaiImageModel(),
                     leased=admitted)
    if doc is not None and doc["status"] == "animating":
        if not admitted:  # a redelivery: the still's charge may not be settled yet
            spend.settle(doc, "image", stored_plan(doc)[0].image_micros)
        if admitted or not assets.lease_live(doc):  # nobody animating it: (re)start
            publish_animate(request.campaign_id, asset_id)


def reject_invalid(exc: InvalidRequest) -> None:
    log.warning("request_invalid", f"invalid request: {exc}",
                campaign_id=exc.campaign_id, request_id=exc.request_id)
    if not (exc.campaign_id and exc.request_id):
        return  # ids unreadable: logged and dropped, never retried
    asset_id = asset_id_for(exc.request_id)
    stamp = now()
    fields: dict[str, Any] = {
        "asset_id": asset_id, "request_id": exc.request_id, "campaign_id": exc.campaign_id,
        "session_id": None, "turn_number": None, "kind": None, "cutscene_type": None,
        "subject": None, "status": "rejected", "status_reason": "invalid",
        "error": str(exc)[:1000], "image": None, "video": None, "models": {},
        "estimated_cost_usd": 0.0, "cost_usd": 0.0, "stage_ms": {},
        "created_at": stamp, "updated_at": stamp, "completed_at": stamp,
    }
    # If a valid delivery of that id got there first, its asset is left alone.
    assets.create_if_absent(exc.campaign_id, asset_id, fields)


def cap_micros(media: MediaSettings) -> int:
    return usd_to_micros(media.budget_per_session_usd)


def plan_fields(plan: Plan, video_planned: bool, daily: dict | None) -> dict[str, Any]:
    return {"plan": {**plan.__dict__, "video_planned": video_planned, "daily": daily}}


def stored_plan(doc: dict[str, Any]) -> tuple[Plan, bool]:
    raw = dict(doc["plan"])
    video_planned = bool(raw.pop("video_planned"))
    raw.pop("daily", None)
    return Plan(**raw), video_planned


def admit(request: MediaRequest, asset_id: str, started: float, owner: str,
          campaign: Campaign | None) -> dict[str, Any] | None:
    """Check the campaign, price the request and reserve its cost."""
    cid, sid = request.campaign_id, request.session_id
    if campaign is None or not campaign.media.enabled:
        return assets.transition(cid, asset_id, "rejected", "disabled")
    try:
        plan = plan_for(request, campaign.media)
    except PermanentError as exc:
        log.error("plan_failed", str(exc))
        return assets.transition(cid, asset_id, "rejected", "invalid", error=str(exc))
    still_only = {"image": plan.image_micros}
    options = [still_only]
    if request.wants_video:
        options = [{**still_only, "video": plan.video_micros}]
        if campaign.media.degrade_to_still:
            options.append(still_only)
    t0 = time.monotonic()
    choice, daily = spend.reserve(cid, sid, asset_id, cap_micros(campaign.media), options)
    reserve_ms = ms_since(t0)
    if choice is None:
        return assets.transition(cid, asset_id, "rejected", "budget",
                                 stage_ms={"reserve": reserve_ms})
    video_planned = request.wants_video and choice == 0
    estimate = plan.image_micros + (plan.video_micros if video_planned else 0)
    checkpoint("reserved")
    return assets.transition(
        cid, asset_id, "rendering_image",
        lease=assets.lease_for(owner, get_settings().MEDIA_IMAGE_LEASE_S),
        models={"image": plan.image_model, "video": plan.video_model if video_planned else None},
        estimated_cost_usd=micros_to_usd(estimate),
        stage_ms={"reserve": reserve_ms, "admit": ms_since(started)},
        **plan_fields(plan, video_planned, daily),
    )


def styled_prompt(request: MediaRequest) -> str:
    prompt = request.image_prompt
    if request.subject and request.kind != "cutscene":
        label = "Portrait of" if request.kind == "npc_portrait" else "Location"
        prompt = f"{label}: {request.subject}. {prompt}"
    if request.style and request.style.as_text():
        prompt = f"{prompt}\n\nArt direction: {request.style.as_text()}"
    return prompt


def make_still(request: MediaRequest, plan: Plan, model: ImageModel,
               fresh: bool) -> tuple[dict, dict[str, int]]:
    """Generate (or find, after a crash) the PNG; returns image fields and
    timings: the whole stage, and the model's own share of it. `fresh`: this
    delivery admitted the request, so no earlier one can have stored a PNG."""
    name = image_object(request.campaign_id, asset_id_for(request.request_id))
    t0 = time.monotonic()
    model_ms = 0
    blob = None if fresh else storage.stat(name)
    if blob is None:
        tries = 1 + get_settings().MEDIA_IMAGE_BLOCK_RETRIES
        for attempt in range(1, tries + 1):
            try:
                t_model = time.monotonic()
                still = with_retries(lambda: model.generate(
                    plan.image_model, styled_prompt(request), request.aspect_ratio,
                    plan.image_size, list(request.reference_images)), what="image call")
                model_ms = ms_since(t_model)
                break
            except SafetyBlocked:
                log.warning("image_blocked", f"image blocked, try {attempt} of {tries}")
                if attempt == tries:
                    raise
        storage.upload_once(name, still.data, still.mime_type,
                            {"width": str(still.width), "height": str(still.height)})
        width, height = still.width, still.height
    else:
        width, height = int(blob.metadata["width"]), int(blob.metadata["height"])
    image = {"uri": gs_uri(get_settings().MEDIA_BUCKET, name), "mime_type": "image/png",
             "width": width, "height": height}
    return image, {"image": ms_since(t0), "image_model": model_ms}


def render(request: MediaRequest, asset_id: str, doc: dict[str, Any], owner: str,
           model: ImageModel, leased: bool = False) -> dict[str, Any] | None:
    cid = request.campaign_id
    plan, video_planned = stored_plan(doc)
    try:
        with assets.leased(cid, asset_id, owner, get_settings().MEDIA_IMAGE_LEASE_S,
                           "rendering_image", held=leased):
            image, timing = make_still(request, plan, model, fresh=leased)
    except PermanentError as exc:
        spend.release(doc)
        # model_unavailable: the model is not served where we called it, an
        # operator's fix (location settings), not a bad prompt.
        reason = exc.reason if exc.reason in ("image_blocked", "model_unavailable") \
            else "image_failed"
        return assets.transition(cid, asset_id, "failed", reason, error=str(exc)[:1000])
    checkpoint("image_made")
    fields: dict[str, Any] = {"image": image, "cost_usd": micros_to_usd(plan.image_micros)}
    if request.kind == "cutscene" and video_planned:
        # The player sees the still first; its charge is settled just after
        # (a redelivery that finds the asset animating settles it again).
        updated = assets.transition(cid, asset_id, "animating", stage_ms=timing, **fields)
        checkpoint("png_stored")
        spend.settle(doc, "image", plan.image_micros)
        return updated
    # Terminal states are never left with an open hold: settle first.
    spend.settle(doc, "image", plan.image_micros)
    if request.kind != "cutscene":
        return assets.transition(cid, asset_id, "complete", stage_ms=timing, **fields)
    return assets.transition(cid, asset_id, "partial", "budget", stage_ms=timing, **fields)


def publish_animate(campaign_id: str, asset_id: str) -> None:
    body = {"schema": "media.animate.v1", "campaign_id": campaign_id, "asset_id": asset_id}
    publisher().publish(topic_path(get_settings().MEDIA_ANIMATE_TOPIC),
                        json.dumps(body).encode("utf-8"), campaign_id=campaign_id
                        ).result(timeout=30)


def close_expired(doc: dict[str, Any]) -> None:
    """Past MEDIA_DEADLINE_S: stop, keep what exists, release what is held."""
    spend.release(doc)
    status = "partial" if doc.get("image") else "failed"
    assets.transition(doc["campaign_id"], doc["asset_id"], status, "timeout")
