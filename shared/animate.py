"""animate_still: the still -> a Veo clip -> MP4 in GCS -> cost settled.

The operation name is stored on the asset the moment Veo accepts the job, so
a redelivery resumes polling that operation instead of starting a second one.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from shared import assets, attempts, hiding, log, spend, storage
from shared.errors import (
    Busy,
    PermanentError,
    QuotaExceeded,
    RetriesSpent,
    StartUncertain,
    TransientError,
)
from shared.ids import is_scope_id
from shared.media_models import ClipResult, GenaiVideoModel, VideoModel
from shared.paths import gs_uri, split_gs_uri, video_object, video_output_prefix
from shared.pipeline_checks import checkpoint, expired, past_deadline
from shared.polling import Schedule
from shared.pricing import micros_to_usd
from shared.render import close_expired, ms_since, stored_plan, unbilled
from shared.retry import with_retries
from shared.settings import get_settings


def parse_animate(data: bytes) -> tuple[str, str] | None:
    try:
        body = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(body, dict) or body.get("schema") != "media.animate.v1":
        return None
    cid, aid = body.get("campaign_id"), body.get("asset_id")
    if not (is_scope_id(cid) and is_scope_id(aid)):
        return None
    return cid, aid


def handle_animate(data: bytes, delivery_id: str, published_at: object = None,
                   model: VideoModel | None = None) -> None:
    parsed = parse_animate(data)
    if parsed is None:
        log.warning("animate_invalid", "animate message unreadable; dropped")
        return
    cid, aid = parsed
    log.bind(campaign_id=cid, asset_id=aid, delivery_id=delivery_id)
    doc = assets.load(cid, aid)
    if doc is None or assets.is_terminal(doc) or doc.get("status") != "animating":
        return
    log.bind(request_id=doc.get("request_id"), session_id=doc.get("session_id"))
    if doc.get("hidden"):  # checked before Veo is paid
        hiding.stop(doc)
        return
    if expired(doc):
        close_expired(doc)
        return
    owner = f"{delivery_id}/{assets.new_owner()[:8]}"  # duplicates share the event id
    with assets.leased(cid, aid, owner, get_settings().MEDIA_VIDEO_LEASE_S, "animating"):
        animate(doc, owner, model or GenaiVideoModel())


def fail_video(doc: dict[str, Any], reason: str, detail: str, **fields: Any) -> None:
    spend.release(doc, ("video",))
    assets.transition(doc["campaign_id"], doc["asset_id"], "partial", reason,
                      error=detail[:1000], **fields)


def within_quota(doc: dict[str, Any], owner: str, start: Callable[[], str]) -> str:
    """Start, waiting out 429s in this invocation (renewing the lease) rather
    than spending Pub/Sub delivery attempts on them: under a 10/min quota a
    burst would otherwise dead-letter clips that only had to wait a minute.
    The SDK's HttpRetryOptions cannot do this for us: it would also retry a
    timed-out start, which may already be a paid job."""
    settings = get_settings()
    cid, aid = doc["campaign_id"], doc["asset_id"]
    budget_end = time.monotonic() + settings.MEDIA_POLL_BUDGET_S
    attempt = 0
    while True:
        try:
            return start()
        except QuotaExceeded as exc:
            attempt += 1
            pause = random.uniform(0.5, min(15.0, 2.0 ** attempt))
            created = doc.get("created_at")
            if (time.monotonic() + pause > budget_end
                    or (isinstance(created, datetime) and past_deadline(created))):
                raise RetriesSpent(f"Veo quota still exhausted after {attempt} tries") from exc
            log.info("veo_quota_wait", f"{exc}; trying again in {pause:.1f} s", attempt=attempt)
            if not assets.claim(cid, aid, owner, settings.MEDIA_VIDEO_LEASE_S, "animating"):
                raise Busy("lost the lease while waiting for Veo quota") from exc
            time.sleep(pause)


def start_job(doc: dict[str, Any], model: VideoModel, owner: str) -> str:
    cid, aid = doc["campaign_id"], doc["asset_id"]
    plan, _ = stored_plan(doc)
    t0 = time.monotonic()
    _, image_name = split_gs_uri(doc["image"]["uri"])
    image_png = storage.download(image_name)
    output = gs_uri(get_settings().MEDIA_BUCKET, video_output_prefix(cid, aid))
    video_model = plan.video_model
    if video_model is None:
        # Only an asset whose plan includes a clip is ever sent to animate.
        raise RuntimeError(f"asset {aid} reached animate without a planned video model")
    try:
        name = with_retries(lambda: within_quota(doc, owner, lambda: model.start(
            video_model, image_png, doc["motion_prompt"], plan.duration_seconds,
            doc.get("aspect_ratio") or "16:9", plan.video_resolution, plan.video_audio, output)),
            what="Veo start")
    except StartUncertain as exc:
        # Never a blind second start: watch for the output of the operation
        # this call may have created instead (docs/decisions/0011-veo-start-retries.md).
        log.warning("veo_start_uncertain", f"{exc}; watching for its output, not restarting")
        since = time.time()
        assets.update_fields(cid, aid, video_start_uncertain_at=since,
                             stage_ms={"video_start": ms_since(t0)})
        raise AdoptInstead(since) from exc
    assets.update_fields(cid, aid, video_operation=name, video_started_at=time.time(),
                         stage_ms={"video_start": ms_since(t0)})
    checkpoint("veo_started")
    return name


class AdoptInstead(Exception):
    """start_job could not tell whether Veo started: adopt, do not restart."""

    def __init__(self, since: float) -> None:
        super().__init__("Veo start outcome unknown")
        self.since = since


def adopt(doc: dict[str, Any], since: float, owner: str) -> ClipResult:
    """Wait for an MP4 under the asset's output prefix from an operation whose
    name we never got. Found: that clip is ours (and paid for). Not found
    within MEDIA_VEO_ADOPT_WAIT_S: no clip, and no second start either."""
    cid, aid = doc["campaign_id"], doc["asset_id"]
    settings = get_settings()
    prefix = video_output_prefix(cid, aid)
    give_up_at = since + settings.MEDIA_VEO_ADOPT_WAIT_S
    budget_end = time.monotonic() + settings.MEDIA_POLL_BUDGET_S
    checkup_every = min(5.0, settings.MEDIA_VIDEO_LEASE_S / 3)
    last_checkup = time.monotonic()
    while True:
        uri = storage.first_mp4_under(prefix)
        if uri:
            log.info("veo_output_adopted", f"found {uri} from the uncertain start")
            return ClipResult(done=True, uri=uri)
        if time.time() > give_up_at:
            return ClipResult(done=True, error=(
                "Veo start failed with an unknown outcome and no clip appeared within "
                f"{settings.MEDIA_VEO_ADOPT_WAIT_S:.0f} s; not started again, to never "
                "pay for two clips"))
        if time.monotonic() > budget_end:
            raise TransientError("still watching for an uncertain start's clip")
        if time.monotonic() - last_checkup >= checkup_every:
            last_checkup = time.monotonic()
            fresh = assets.load(cid, aid)
            if fresh is None or assets.is_terminal(fresh):
                return ClipResult(done=False)
            if expired(fresh):
                close_expired(fresh)
                return ClipResult(done=False)
            if not assets.claim(cid, aid, owner, settings.MEDIA_VIDEO_LEASE_S, "animating"):
                raise Busy("lost the lease while watching")
        time.sleep(1.0)


def wait_for(doc: dict[str, Any], operation: str, owner: str,
             model: VideoModel) -> tuple[ClipResult, int]:
    """Poll until done; hand over to a redelivery when this invocation's
    polling budget runs out (the stored operation name makes that a resume).
    Returns the result and how many Veo polls it took."""
    cid, aid = doc["campaign_id"], doc["asset_id"]
    settings = get_settings()
    schedule = Schedule.parse(settings.MEDIA_POLL_STRATEGY)
    prefix = video_output_prefix(cid, aid)
    budget_end = time.monotonic() + settings.MEDIA_POLL_BUDGET_S
    # Renew the lease and look at the asset (deadline, janitor) this often.
    checkup_every = min(5.0, settings.MEDIA_VIDEO_LEASE_S / 3)
    last_poll = last_checkup = time.monotonic()
    polls = checks = 0
    while True:
        seen = False
        if schedule.watch:
            seen = storage.any_under(prefix)
            checks += 1
        if schedule.poll_due(time.monotonic() - last_poll, seen):
            result = with_retries(lambda: model.poll(operation), what="Veo poll")
            polls += 1
            last_poll = time.monotonic()
            if result.done:
                log.info("video_done", "Veo operation finished", polls=polls,
                         output_checks=checks)
                return result, polls
        if polls + checks == 1:
            checkpoint("mid_poll")  # waited once, not done yet
        if time.monotonic() > budget_end:
            raise TransientError("clip still rendering; polling resumes on redelivery")
        if time.monotonic() - last_checkup >= checkup_every:
            last_checkup = time.monotonic()
            fresh = assets.load(cid, aid)
            if fresh is None or assets.is_terminal(fresh):
                return ClipResult(done=False), polls
            if fresh.get("hidden"):  # stop paying attention (and holding money) now
                hiding.stop(fresh)
                return ClipResult(done=False), polls
            if expired(fresh):
                close_expired(fresh)
                return ClipResult(done=False), polls
            # Renewed here: a crashed poller delays the takeover one lease.
            if not assets.claim(cid, aid, owner, settings.MEDIA_VIDEO_LEASE_S, "animating"):
                raise Busy("lost the lease while polling")
        time.sleep(schedule.tick_s())


def animate(doc: dict[str, Any], owner: str, model: VideoModel) -> None:
    cid, aid = doc["campaign_id"], doc["asset_id"]
    plan, _ = stored_plan(doc)
    operation = doc.get("video_operation")
    uncertain_since = doc.get("video_start_uncertain_at")
    t0 = time.monotonic()
    try:
        if not operation and uncertain_since is None:
            if not attempts.reserve_retry(doc):
                return  # an owner's retry the budget refused: ended partial (budget)
            try:
                operation = start_job(doc, model, owner)
            except AdoptInstead as adopting:
                uncertain_since = adopting.since
        t0 = time.monotonic()
        if operation:
            result, polls = wait_for(doc, operation, owner, model)
        else:
            result, polls = adopt(doc, float(uncertain_since or 0), owner), 0
    except PermanentError as exc:
        fail_video(doc, "video_failed", str(exc))
        return
    if not result.done:
        return  # closed elsewhere (deadline or janitor)
    # The poll count rides on the terminal write: no extra write before it.
    if result.blocked:
        fail_video(doc, "video_blocked", result.error or "clip blocked by safety filters",
                   video_polls=polls)
        return
    if result.error or not result.uri:
        fail_video(doc, "video_failed", result.error or "no video", video_polls=polls)
        return
    wait_ms = ms_since(t0)
    t1 = time.monotonic()
    name = video_object(cid, aid)
    fresh = assets.load(cid, aid)
    if fresh is None or fresh.get("status") != "animating":
        late_clip(plan.video_micros, result.uri, None)  # closed while Veo rendered
        return
    storage.move_into_place(result.uri, name)
    checkpoint("mp4_recorded")
    if not spend.settle(doc, "video", plan.video_micros):
        # Closed between the look above and the settle: its hold is gone.
        late_clip(plan.video_micros, None, name)
        return
    assets.transition(
        cid, aid, "complete",
        video={"uri": gs_uri(get_settings().MEDIA_BUCKET, name), "mime_type": "video/mp4",
               "duration_seconds": plan.duration_seconds},
        cost_usd=micros_to_usd(plan.image_micros + plan.video_micros),
        stage_ms={"video_wait": wait_ms, "video_store": ms_since(t1)}, video_polls=polls,
    )


def late_clip(micros: int, veo_uri: str | None, stored: str | None) -> None:
    """The clip landed after its asset was closed (deadline, janitor, hide):
    not attached (the asset stays as the player was told) and not charged to
    the session (its hold was released). Google bills it anyway: logged as a
    loss. See docs/decisions/0006-late-clips.md."""
    unbilled("clip", micros, "not attached, not charged to the session")
    if veo_uri:
        storage.delete_quietly(split_gs_uri(veo_uri)[1])
    if stored:
        storage.delete_quietly(stored)
