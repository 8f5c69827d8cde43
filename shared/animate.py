"""animate_still: the still -> a Veo operation started, recorded, and left.

Nothing here waits on Veo. The operation name is stored on the asset the
moment Veo accepts the job (so a redelivery never starts a second one), and
the function returns. Veo writes the MP4 into our bucket; the bucket's
object-finalize notification runs `finish_clip` (shared/finish.py), and the
janitor's sweep asks Veo about the few operations that write nothing.
See docs/decisions/0007-finish-from-bucket-events.md.
"""

from __future__ import annotations

import json
import time
from typing import Any

from shared import assets, dispatch, log, pacing, spend, storage
from shared.errors import PermanentError
from shared.ids import is_scope_id
from shared.media_models import GenaiVideoModel, VideoModel
from shared.paths import gs_uri, split_gs_uri, video_output_prefix
from shared.pipeline_checks import checkpoint, expired
from shared.render import close_expired, ms_since, stored_plan
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
    if expired(doc):
        close_expired(doc)
        return
    if doc.get("video_operation"):
        return  # started by an earlier delivery; the bucket event finishes it
    if pacing.enabled():  # starts paced to Veo's quota, fair across campaigns
        dispatch.enqueue(doc)
        dispatch.dispatch(model)
        return
    owner = f"{delivery_id}/{assets.new_owner()[:8]}"  # duplicates share the event id
    with assets.leased(cid, aid, owner, get_settings().MEDIA_VIDEO_LEASE_S, "animating"):
        start_clip(doc, model or GenaiVideoModel())


def start_clip(doc: dict[str, Any], model: VideoModel) -> str | None:
    """Start the clip for this asset (the caller holds its "animating" lease)
    and record the operation; returns its name, or None if Veo refused the job
    for good (the asset is then closed `partial`). Re-animate calls this too."""
    fresh = assets.load(doc["campaign_id"], doc["asset_id"]) or doc
    if fresh.get("video_operation"):
        return str(fresh["video_operation"])
    try:
        return start_job(fresh, model)
    except PermanentError as exc:
        fail_video(fresh, "video_failed", str(exc))
        return None


def fail_video(doc: dict[str, Any], reason: str, detail: str, **fields: Any) -> None:
    spend.release(doc, ("video",))
    assets.transition(doc["campaign_id"], doc["asset_id"], "partial", reason,
                      error=detail[:1000], **fields)


def start_job(doc: dict[str, Any], model: VideoModel) -> str:
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
    name = with_retries(lambda: model.start(
        video_model, image_png, doc["motion_prompt"], plan.duration_seconds,
        doc.get("aspect_ratio") or "16:9", plan.video_resolution, plan.video_audio, output),
        what="Veo start")
    now = time.time()
    assets.update_fields(cid, aid, video_operation=name, video_started_at=now,
                         video_check_at=now + expected_s(plan.duration_seconds),
                         video_checks=0, stage_ms={"video_start": ms_since(t0)})
    checkpoint("veo_started")
    log.info("video_started", "Veo operation started; the bucket event finishes it",
             operation=name)
    return name


def expected_s(duration_seconds: int) -> float:
    """When the sweep first asks Veo about an operation that wrote nothing."""
    settings = get_settings()
    return settings.MEDIA_VIDEO_EXPECTED_S + settings.MEDIA_VIDEO_EXPECTED_PER_S * duration_seconds
