"""render_still: request -> reserve -> still -> PNG in GCS -> animate or done.

Each step first reads where the asset stands and does only what is left, so a
redelivered or concurrent message resumes instead of repeating paid work.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from shared.core import clock, log
from shared.core.errors import Busy, InvalidRequest, PermanentError, SafetyBlocked
from shared.core.retry import with_retries
from shared.core.settings import get_settings
from shared.domain.asset import Asset
from shared.domain.campaign import Campaign, MediaSettings, Plan, plan_for
from shared.domain.ids import asset_id_for
from shared.domain.paths import gs_uri, image_object
from shared.domain.pricing import micros_to_usd, usd_to_micros
from shared.domain.request import MediaRequest, parse_request
from shared.domain.status import Reason, Status
from shared.pipeline import guard, hiding, takes
from shared.pipeline.checks import checkpoint
from shared.pipeline.lifecycle import (
    ms_since,
    reject_invalid,
    stored_plan,
    transition,
    unbilled,
)
from shared.store import assets, image_pacing, model_sheets, rewinds, spend, storage
from shared.store.campaigns import load_campaign
from shared.store.media_models import GenaiImageModel, ImageModel, Still
from shared.store.optimistic import Fields
from shared.store.publish import publish_animate
from shared.store.spend import DailyHold

# A few threads for reads that can overlap other round trips.
_reads = ThreadPoolExecutor(max_workers=8, thread_name_prefix="reads")


def handle_request(
    data: bytes,
    delivery_id: str,
    published_at: datetime | None = None,
    image_model: ImageModel | None = None,
) -> None:
    """Process one delivery of a request message. Returns to ack; raises
    TransientError to have the platform redeliver."""
    started = clock.monotonic()
    settings = get_settings()
    try:
        request = parse_request(data, settings.MEDIA_BUCKET)
    except InvalidRequest as exc:
        reject_invalid(exc)
        return
    asset_id = asset_id_for(request.request_id)
    log.bind(
        request_id=request.request_id,
        campaign_id=request.campaign_id,
        session_id=request.session_id,
        asset_id=asset_id,
        delivery_id=delivery_id,
    )
    doc: Asset | None  # None once admit()/render() find it moved on
    # The campaign is read while the asset is created: two round trips at once.
    campaign = _reads.submit(load_campaign, request.campaign_id)
    doc, created = assets.create_if_absent(
        request.campaign_id, asset_id, assets.new_asset(request, asset_id, published_at)
    )
    if not created:
        log.info("redelivery", f"request already known, status {doc.get('status')}")
    elif rewinds.rewound_past(
        request.campaign_id, request.session_id, request.turn_number, doc["published_at"]
    ):
        # Published before a rewind that abandoned its turn, delivered after
        # the rewind looked (shared/store/rewinds.py): hidden as it would have been.
        takes.hide(request.campaign_id, asset_id)
        doc = assets.load(request.campaign_id, asset_id) or doc
    # Terminal: nothing left. Hidden before this delivery got to it: stopped.
    # Past the deadline (redelivered for longer, or stuck in a backlog):
    # nobody is waiting for it any more, so it is closed instead of paid for.
    if not guard.may_go_on(doc):
        return
    if not created:
        # The first body to create the asset defines the request: a later
        # delivery of the same id with another session, kind or duration acts
        # on the stored one, or it would reserve in one session and settle in
        # another, or hold one price and settle another.
        request = stored_request(doc, request)
        log.bind(session_id=request.session_id)
    owner = f"{delivery_id}/{assets.new_owner()[:8]}"  # duplicates share the event id
    admitted = doc["status"] == Status.QUEUED
    if admitted:
        doc = admit(request, asset_id, started, owner, campaign.result())
    if doc is not None and doc["status"] == Status.RENDERING_IMAGE:
        doc = render(
            request, asset_id, doc, owner, image_model or GenaiImageModel(), leased=admitted
        )
    if doc is not None and doc["status"] == Status.ANIMATING:
        if not admitted:  # a redelivery: the still's charge may not be settled yet
            spend.settle(doc, "image", stored_plan(doc)[0].image_micros)
        if admitted or not assets.lease_live(doc):  # nobody animating it: (re)start
            publish_animate(request.campaign_id, asset_id)


def stored_request(doc: Asset, delivered: MediaRequest) -> MediaRequest:
    """The request as its asset recorded it (`delivered`: this delivery's body)."""
    raw = doc.get("request")
    if not isinstance(raw, dict):
        return delivered  # written before assets kept their request: nothing to compare
    stored = MediaRequest.model_validate(raw)
    if stored != delivered:
        ours, theirs = stored.to_message(), delivered.to_message()
        differ = sorted(k for k in ours.keys() | theirs.keys() if ours.get(k) != theirs.get(k))
        log.warning(
            "request_conflict",
            "a delivery of this request id differs from the "
            "stored request; acting on the stored one",
            fields=differ,
        )
    return stored


def cap_micros(media: MediaSettings) -> int:
    return usd_to_micros(media.budget_per_session_usd)


def plan_fields(plan: Plan, video_planned: bool, daily: DailyHold | None) -> Fields:
    return {"plan": {**plan.__dict__, "video_planned": video_planned, "daily": daily}}


def admit(
    request: MediaRequest, asset_id: str, started: float, owner: str, campaign: Campaign | None
) -> Asset | None:
    """Check the campaign, price the request and reserve its cost."""
    cid, sid = request.campaign_id, request.session_id
    if campaign is None or not campaign.media.enabled:
        return transition(cid, asset_id, Status.REJECTED, Reason.DISABLED)
    try:
        plan = plan_for(request, campaign.media)
    except PermanentError as exc:
        log.error("plan_failed", str(exc))
        return transition(cid, asset_id, Status.REJECTED, Reason.INVALID, error=str(exc))
    still_only = {"image": plan.image_micros}
    options = [still_only]
    if request.wants_video:
        options = [{**still_only, "video": plan.video_micros}]
        if campaign.media.degrade_to_still:
            options.append(still_only)
    t0 = clock.monotonic()
    choice, daily = spend.reserve(
        cid, sid, asset_id, cap_micros(campaign.media), options, request.player_id
    )
    reserve_ms = ms_since(t0)
    if choice is None:
        return transition(
            cid, asset_id, Status.REJECTED, Reason.BUDGET, stage_ms={"reserve": reserve_ms}
        )
    video_planned = request.wants_video and choice == 0
    estimate = plan.image_micros + (plan.video_micros if video_planned else 0)
    checkpoint("reserved")
    log.info(
        "request_admitted",
        "admitted: its cost is held against the session's cap",
        estimated_cost_usd=micros_to_usd(estimate),
        video_planned=video_planned,
        kind=request.kind,
    )
    return transition(
        cid,
        asset_id,
        Status.RENDERING_IMAGE,
        lease=assets.lease_for(owner, get_settings().MEDIA_IMAGE_LEASE_S),
        models={"image": plan.image_model, "video": plan.video_model if video_planned else None},
        estimated_cost_usd=micros_to_usd(estimate),
        stage_ms={"reserve": reserve_ms, "admit": ms_since(started)},
        **plan_fields(plan, video_planned, daily),
    )


def styled_prompt(request: MediaRequest) -> str:
    prompt = request.image_prompt
    if request.subject and request.kind != "cutscene":
        label = {"npc_portrait": "Portrait of", "model_sheet": "Character model sheet of"}.get(
            request.kind, "Location"
        )
        prompt = f"{label}: {request.subject}. {prompt}"
    if request.style and request.style.as_text():
        prompt = f"{prompt}\n\nArt direction: {request.style.as_text()}"
    return prompt


def make_still(
    request: MediaRequest,
    plan: Plan,
    model: ImageModel,
    fresh: bool,
    owns: Callable[[], None] = lambda: None,
    intent: Callable[[], None] = lambda: None,
) -> tuple[dict, dict[str, int]]:
    """Generate (or find, after a crash) the PNG; returns image fields and
    timings: the whole stage, and the model's own share of it. `fresh`: this
    delivery admitted the request, so no earlier one can have stored a PNG.
    `owns()` raises Busy if the stage's lease is no longer ours, and
    `intent()` writes the call down on the asset: both run before every paid
    call, retries included."""
    name = image_object(request.campaign_id, asset_id_for(request.request_id))
    t0 = clock.monotonic()
    model_ms = 0
    blob = None if fresh else storage.stat(name)
    if blob is None:
        references = model_sheets.references_for(request)
        tries = 1 + get_settings().MEDIA_IMAGE_BLOCK_RETRIES
        for attempt in range(1, tries + 1):
            try:
                t_model = clock.monotonic()

                def call() -> Still:
                    # In the image model's turn, and again in a later one after
                    # a 429 (shared/store/image_pacing.py), with no second
                    # intent: a call answered 429 was not paid for.
                    return image_pacing.paced_call(
                        plan.image_model,
                        lambda: model.generate(
                            plan.image_model,
                            styled_prompt(request),
                            request.aspect_ratio,
                            plan.image_size,
                            references,
                        ),
                        before_each=owns,
                        before_first=intent,
                    )

                still = with_retries(call, what="image call")
                model_ms = ms_since(t_model)
                break
            except SafetyBlocked:
                log.warning("image_blocked", f"image blocked, try {attempt} of {tries}")
                if attempt == tries:
                    raise
        storage.upload_once(
            name,
            still.data,
            still.mime_type,
            {"width": str(still.width), "height": str(still.height)},
        )
        width, height = still.width, still.height
    else:
        width, height = int(blob.metadata["width"]), int(blob.metadata["height"])
    image = {
        "uri": gs_uri(get_settings().MEDIA_BUCKET, name),
        "mime_type": "image/png",
        "width": width,
        "height": height,
    }
    return image, {"image": ms_since(t0), "image_model": model_ms}


def image_intent(campaign_id: str, asset_id: str, owner: str) -> None:
    """Write the image call down before it is made (STYLE: a write-ahead
    intent). A call counted by an earlier delivery that stored no still was
    paid for and lost (its worker died): logged as such. Past
    MEDIA_IMAGE_MAX_CALLS the asset fails instead of paying again."""
    count = assets.write_call_intent(campaign_id, asset_id, owner, Status.RENDERING_IMAGE)
    if count is None:
        raise Busy("the image stage was taken over before its call")
    limit = get_settings().MEDIA_IMAGE_MAX_CALLS
    if count > limit:
        raise PermanentError(
            Reason.IMAGE_FAILED,
            f"{limit} image calls were made for this asset without a stored still; no more",
        )
    if count > 1:
        log.info("image_call_again", f"image call {count} for this asset", calls=count)


def render(
    request: MediaRequest,
    asset_id: str,
    doc: Asset,
    owner: str,
    model: ImageModel,
    leased: bool = False,
) -> Asset | None:
    cid = request.campaign_id
    plan, video_planned = stored_plan(doc)
    if hiding.stop_if_hidden(cid, asset_id):  # checked before the paid call
        return None
    try:
        with assets.leased(
            cid,
            asset_id,
            owner,
            get_settings().MEDIA_IMAGE_LEASE_S,
            Status.RENDERING_IMAGE,
            held=leased,
        ) as lease:
            image, timing = make_still(
                request,
                plan,
                model,
                fresh=leased,
                owns=lease.ensure,
                intent=lambda: image_intent(cid, asset_id, owner),
            )
            # The PNG is stored (a taker-over finds it and pays for nothing);
            # moving the asset on is for whoever holds the stage now.
            lease.ensure()
    except PermanentError as exc:
        spend.release(doc)
        # model_unavailable: the model is not served where we called it, an
        # operator's fix (location settings), not a bad prompt.
        reason = (
            exc.reason
            if exc.reason in (Reason.IMAGE_BLOCKED, Reason.MODEL_UNAVAILABLE)
            else Reason.IMAGE_FAILED
        )
        return transition(cid, asset_id, Status.FAILED, reason, error=str(exc)[:1000])
    checkpoint("image_made")
    published = doc.stamp("published_at")
    if published is not None:
        # What the player waits for the still, queueing included: the
        # operator's dashboard charts it (terraform dashboard.tf).
        if published.tzinfo is None:  # a naive stamp is UTC
            published = published.replace(tzinfo=UTC)
        elapsed = (clock.now() - published).total_seconds()
        timing = {**timing, "request_to_still": max(0, int(elapsed * 1000))}
    log.info(
        "still_stored",
        "the still is stored",
        image_ms=timing.get("image"),
        model=plan.image_model,
    )
    fields: Fields = {"image": image, "cost_usd": micros_to_usd(plan.image_micros)}
    if request.kind == "cutscene" and video_planned:
        # The player sees the still first; its charge is settled just after
        # (a redelivery that finds the asset animating settles it again).
        updated = transition(cid, asset_id, Status.ANIMATING, stage_ms=timing, **fields)
        checkpoint("png_stored")
        if not spend.settle(doc, "image", plan.image_micros):
            unbilled("image", plan.image_micros, "its closer recorded the asset's cost")
            return None
        return updated
    # Terminal states are never left with an open hold: settle first.
    if not spend.settle(doc, "image", plan.image_micros):
        unbilled("image", plan.image_micros, "kept out of the session's spend")
        return None
    if request.kind == "model_sheet":  # registered before it is complete: a retry redoes it
        model_sheets.register(request, asset_id, image["uri"])
    if request.kind != "cutscene":
        return transition(cid, asset_id, Status.COMPLETE, stage_ms=timing, **fields)
    return transition(cid, asset_id, Status.PARTIAL, Reason.BUDGET, stage_ms=timing, **fields)
