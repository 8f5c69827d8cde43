"""animate_still: the still -> a Veo operation started, recorded, and left.

Nothing here waits on Veo. The operation name is stored on the asset the
moment Veo accepts the job (so a redelivery never starts a second one), and
the function returns. Veo writes the MP4 into our bucket; the bucket's
object-finalize notification runs `finish_clip` (shared/pipeline/finish.py), and the
janitor's sweep asks Veo about the few operations that write nothing.
See docs/decisions/0012-finish-from-bucket-events.md.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from typing import Any

from shared.core import log
from shared.core.errors import Busy, PermanentError, QuotaExceeded, RetriesSpent, StartUncertain
from shared.core.retry import with_retries
from shared.core.settings import get_settings
from shared.domain.asset_state import started
from shared.domain.ids import is_scope_id
from shared.domain.messages import ANIMATE_SCHEMA
from shared.domain.paths import gs_uri, split_gs_uri, video_output_prefix
from shared.domain.status import Reason, Status
from shared.pipeline import attempts, dispatch, hiding
from shared.pipeline.checks import checkpoint, expected_s, expired, too_late
from shared.pipeline.lifecycle import close_expired, ms_since, stored_plan, transition
from shared.store import assets, pacing, spend, storage
from shared.store.media_models import GenaiVideoModel, VideoModel


def parse_animate(data: bytes) -> tuple[str, str] | None:
    try:
        body = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(body, dict) or body.get("schema") != ANIMATE_SCHEMA:
        return None
    cid, aid = body.get("campaign_id"), body.get("asset_id")
    if not (is_scope_id(cid) and is_scope_id(aid)):
        return None
    return cid, aid


def handle_animate(
    data: bytes, delivery_id: str, published_at: object = None, model: VideoModel | None = None
) -> None:
    parsed = parse_animate(data)
    if parsed is None:
        log.warning("animate_invalid", "animate message unreadable; dropped")
        return
    cid, aid = parsed
    log.bind(campaign_id=cid, asset_id=aid, delivery_id=delivery_id)
    doc = assets.load(cid, aid)
    if doc is None or assets.is_terminal(doc) or doc.get("status") != Status.ANIMATING:
        return
    log.bind(request_id=doc.get("request_id"), session_id=doc.get("session_id"))
    if doc.get("hidden"):  # checked before Veo is paid
        hiding.stop(doc)
        return
    if expired(doc):
        close_expired(doc)
        return
    if started(doc):
        return  # an earlier delivery started it (or may have); the bucket event finishes it
    if pacing.enabled():  # starts paced to Veo's quota, fair across campaigns
        dispatch.enqueue(doc)
        dispatch.dispatch(model)
        return
    owner = f"{delivery_id}/{assets.new_owner()[:8]}"  # duplicates share the event id
    with assets.leased(cid, aid, owner, get_settings().MEDIA_VIDEO_LEASE_S, Status.ANIMATING):
        start_clip(doc, model or GenaiVideoModel(), owner)


def start_clip(
    doc: dict[str, Any], model: VideoModel, owner: str, gate: Callable[[], bool] | None = None
) -> str | None:
    """Start the clip for this asset (the caller holds its "animating" lease
    as `owner`) and record the operation; returns its name, or None if it was
    not started: Veo refused the job for good (closed `partial`), the asset
    was hidden, an owner's retry did not fit the budget, or the start's
    outcome was lost (finished by its output or by the sweep, never restarted).
    The first attempt, its redeliveries, paced starts and re-animate all come
    through here. A paced start passes `gate`, which takes the start token
    just before the call goes out; without one it raises NoStartToken."""
    fresh = assets.load(doc["campaign_id"], doc["asset_id"]) or doc
    if fresh.get("video_operation"):
        return str(fresh["video_operation"])
    if started(fresh) or assets.is_terminal(fresh):
        return None
    if fresh.get("hidden"):  # checked before Veo is paid
        hiding.stop(fresh)
        return None
    if not attempts.reserve_retry(fresh):
        return None  # an owner's retry the budget refused: ended partial (budget)
    try:
        return start_job(fresh, model, owner, gate)
    except AdoptInstead:
        return None
    except TooLate:
        # The deadline's own reason, only earlier and without paying for a
        # clip nobody could take. (Paced starts degrade with `busy` before
        # they get here: their wait is the start budget's, see dispatch.)
        fail_video(
            fresh, Reason.TIMEOUT, "too little time left before the deadline to start the clip"
        )
        return None
    except PermanentError as exc:
        fail_video(fresh, Reason.VIDEO_FAILED, str(exc))
        return None


def fail_video(doc: dict[str, Any], reason: str, detail: str, **fields: Any) -> None:
    spend.release(doc, ("video",))
    transition(
        doc["campaign_id"], doc["asset_id"], Status.PARTIAL, reason, error=detail[:1000], **fields
    )


def within_quota(doc: dict[str, Any], owner: str, start: Callable[[], str]) -> str:
    """Start, waiting out 429s in this invocation (renewing the lease) rather
    than spending Pub/Sub delivery attempts on them: under a 10/min quota a
    burst would otherwise dead-letter clips that only had to wait a minute.
    The SDK's HttpRetryOptions cannot do this for us: it would also retry a
    timed-out start, which may already be a paid job. Paced starts
    (MEDIA_VEO_STARTS_PER_MIN) make this rare."""
    settings = get_settings()
    cid, aid = doc["campaign_id"], doc["asset_id"]
    budget_end = time.monotonic() + settings.MEDIA_VEO_QUOTA_WAIT_S
    attempt = 0
    while True:
        if too_late(doc, time.time()):
            raise TooLate()
        try:
            return start()
        except QuotaExceeded as exc:
            attempt += 1
            pause = random.uniform(0.5, min(15.0, 2.0**attempt))
            if time.monotonic() + pause > budget_end or expired(doc):
                raise RetriesSpent(f"Veo quota still exhausted after {attempt} tries") from exc
            log.info("veo_quota_wait", f"{exc}; trying again in {pause:.1f} s", attempt=attempt)
            if not assets.claim(cid, aid, owner, settings.MEDIA_VIDEO_LEASE_S, Status.ANIMATING):
                raise Busy("lost the lease while waiting for Veo quota") from exc
            time.sleep(pause)


class NoStartToken(Exception):
    """A paced start found the start budget used up: not started, left waiting.
    (Its hold stays; a later dispatch reserves the same key again as a no-op.)"""


class TooLate(Exception):
    """The clip would still be rendering at the asset's deadline: not started."""


class AdoptInstead(Exception):
    """start_job could not tell whether Veo started: adopt, do not restart."""

    def __init__(self, since: float) -> None:
        super().__init__("Veo start outcome unknown")
        self.since = since


def start_job(
    doc: dict[str, Any], model: VideoModel, owner: str, gate: Callable[[], bool] | None = None
) -> str:
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
    # The token is taken last, after the reads and the image download, so the
    # start log's time is within a moment of the call reaching Veo: under load
    # those steps took over a second, more than the log's margin over Veo's
    # own window, and paced starts met 429s (shared/store/pacing.py).
    if gate is not None and not gate():
        raise NoStartToken()
    try:
        name = with_retries(
            lambda: within_quota(
                doc,
                owner,
                lambda: model.start(
                    video_model,
                    image_png,
                    doc["motion_prompt"],
                    plan.duration_seconds,
                    doc.get("aspect_ratio") or "16:9",
                    plan.video_resolution,
                    plan.video_audio,
                    output,
                ),
            ),
            what="Veo start",
        )
    except StartUncertain as exc:
        # Never a blind second start. No watcher either: if the lost job writes
        # its clip under this asset's output folder, the bucket event adopts it
        # (shared/pipeline/finish.py); if nothing lands within MEDIA_VEO_ADOPT_WAIT_S the
        # sweep closes the asset partial, hold released
        # (docs/decisions/0011-veo-start-retries.md).
        log.warning("veo_start_uncertain", f"{exc}; adopting its output, not restarting")
        since = time.time()
        assets.update_fields(
            cid,
            aid,
            video_start_uncertain_at=since,
            video_waiting=False,
            video_check_at=since + get_settings().MEDIA_VEO_ADOPT_WAIT_S,
            video_checks=0,
            stage_ms={"video_start": ms_since(t0)},
        )
        raise AdoptInstead(since) from exc
    now = time.time()
    assets.update_fields(
        cid,
        aid,
        video_operation=name,
        video_started_at=now,
        video_check_at=now + expected_s(plan.duration_seconds),
        video_checks=0,
        stage_ms={"video_start": ms_since(t0)},
    )
    checkpoint("veo_started")
    log.info("video_started", "Veo operation started; the bucket event finishes it", operation=name)
    return name
