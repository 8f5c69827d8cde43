"""The operations sweep: animating assets whose clip is overdue are asked
about, at most MEDIA_VIDEO_SWEEP_LIMIT per sweep, each backing off on its
own (Cloud Scheduler's tick in the cloud, the local ticker here).

By the clip's state (shared/domain/clip.py):
- STARTED, its MP4 not landed by its expected time (an error, a safety
  block, a hang, or a lost event): Veo is asked about the operation once.
- UNCERTAIN past MEDIA_VEO_ADOPT_WAIT_S: its clip adopted if one landed,
  else the attempt ends `partial`, its hold released. Never a second start.
- INTENT whose worker let its lease lapse (it died with the call in
  flight): recovered as UNCERTAIN, with the adopt wait from now.

A check that fails is tried again later (2, 4, 8... s) and the clip ends
after MEDIA_VIDEO_CHECK_TRIES failures in a row; a check that fails for
good (Veo does not know the operation) ends it at once. Either way its next
check time moves on, so failing checks never crowd the others out of the
due-checks query.
"""

from __future__ import annotations

from shared.core import clock, log
from shared.core.errors import Busy
from shared.core.settings import get_settings
from shared.core.transient import describe, transport_error
from shared.domain.asset import Asset
from shared.domain.clip import Clip, ClipState
from shared.domain.paths import video_output_prefix
from shared.domain.polling import next_check_s
from shared.domain.status import Reason, Status
from shared.pipeline import dispatch
from shared.pipeline.finish import adopt_output, finish_operation
from shared.pipeline.lifecycle import fail_video
from shared.store import asset_queries, assets, clips, storage
from shared.store.media_models import GenaiVideoModel, VideoModel

# The first pause after a failed check; doubled after each further one.
FAILED_CHECK_FIRST_S = 2.0


def sweep_operations(model: VideoModel | None = None) -> dict[str, int]:
    settings = get_settings()
    outcomes: dict[str, int] = {}
    for doc in asset_queries.animating_checks_due(clock.time(), settings.MEDIA_VIDEO_SWEEP_LIMIT):
        log.bind(
            campaign_id=doc.get("campaign_id"),
            asset_id=doc.get("asset_id"),
            request_id=doc.get("request_id"),
        )
        what = check_one(doc, model)
        outcomes[what] = outcomes.get(what, 0) + 1
    if outcomes:
        log.info("janitor_operations", "checked overdue Veo operations", **outcomes)
    for what, n in dispatch.dispatch_held(model).items():
        outcomes[what] = outcomes.get(what, 0) + n
    return {k: v for k, v in outcomes.items() if v}


def check_one(doc: Asset, model: VideoModel | None) -> str:
    clip = Clip.from_doc(doc)
    try:
        if clip.state == ClipState.STARTED and clip.operation:
            return finish_operation(doc, clip.operation, model or GenaiVideoModel())
        if clip.state == ClipState.UNCERTAIN:
            return give_up_uncertain(doc)
        if clip.state == ClipState.INTENT:
            return recover_intent(doc, clip)
        return "skipped"
    except Busy:
        # The bucket event, a starter or another sweep is on it: look again
        # once its lease could have run out, not at every tick meanwhile.
        clips.note(
            doc["campaign_id"],
            doc["asset_id"],
            clip,
            video_check_at=clock.time() + get_settings().MEDIA_VIDEO_LEASE_S,
        )
        return "busy"
    except Exception as exc:  # noqa: BLE001 - one bad asset must not stop the sweep
        return check_failed(doc, clip, exc)


def check_failed(doc: Asset, clip: Clip, exc: Exception) -> str:
    """A check raised: back off, and end the clip once it failed too often."""
    failures = clip.check_failures + 1
    tries = get_settings().MEDIA_VIDEO_CHECK_TRIES
    if transport_error(exc) is not None:  # an outage: the next check tries again
        detail = describe(exc)
        log.warning(
            "janitor_check_failed", f"could not check an operation: {detail}", transient=True
        )
    else:
        detail = f"{type(exc).__name__}: {exc}"
        log.error("janitor_check_failed", f"could not check an operation: {detail}", exc_info=True)
    if failures >= tries:
        end_failing(doc, clip, f"the clip's checks failed {failures} times; last: {detail}")
        return "check_failed_ended"
    pause = next_check_s(failures, FAILED_CHECK_FIRST_S, get_settings().MEDIA_VIDEO_SWEEP_MAX_S)
    clips.note(
        doc["campaign_id"],
        doc["asset_id"],
        clip,
        video_check_failures=failures,
        video_check_at=clock.time() + pause,
    )
    return "error"


def end_failing(doc: Asset, clip: Clip, detail: str) -> None:
    cid, aid = doc["campaign_id"], doc["asset_id"]
    owner = f"janitor/{assets.new_owner()[:8]}"
    if not assets.claim(cid, aid, owner, get_settings().MEDIA_VIDEO_LEASE_S, Status.ANIMATING):
        return  # someone is on it after all; the next failure ends it
    try:
        fresh = assets.load(cid, aid)
        same = (clip.state, clip.attempt, clip.operation)
        if (
            fresh is not None
            and (fresh.clip.state, fresh.clip.attempt, fresh.clip.operation) == same
        ):
            fail_video(fresh, Reason.VIDEO_FAILED, detail)
    finally:
        assets.release_lease(cid, aid, owner)


def recover_intent(doc: Asset, clip: Clip) -> str:
    """An intent whose worker let its lease lapse: the call may have gone
    out before the worker died, so it is uncertain (adopted if its clip
    lands within MEDIA_VEO_ADOPT_WAIT_S from now, else ended), never
    started again."""
    if assets.lease_live(doc):
        raise Busy("the starter is still calling Veo")
    fresh = assets.load(doc.campaign_id, doc.asset_id)
    if fresh is not None and assets.lease_live(fresh):
        raise Busy("the starter is still calling Veo")
    since = clock.time()
    moved = clips.move(
        doc["campaign_id"],
        doc["asset_id"],
        clip.attempt,
        {ClipState.INTENT},
        ClipState.UNCERTAIN,
        video_start_uncertain_at=since,
        video_check_at=since + get_settings().MEDIA_VEO_ADOPT_WAIT_S,
    )
    if moved is None:
        return "closed"
    log.warning("veo_intent_recovered", "a start's worker died after its intent; uncertain now")
    return "uncertain"


def give_up_uncertain(doc: Asset) -> str:
    """A Veo start whose outcome was lost, past its MEDIA_VEO_ADOPT_WAIT_S
    (video_check_at): adopt its clip if one landed (a lost event), else close
    the asset partial with its hold released. Never a second start."""
    cid, aid = doc["campaign_id"], doc["asset_id"]
    uri = storage.first_mp4_under(video_output_prefix(cid, aid))
    if uri:
        what = adopt_output(doc, uri, None)
        if what != "refused":
            return what
    owner = f"janitor/{assets.new_owner()[:8]}"
    if not assets.claim(cid, aid, owner, get_settings().MEDIA_VIDEO_LEASE_S, Status.ANIMATING):
        raise Busy("another worker holds the asset")
    try:
        fresh = assets.load(cid, aid)
        if fresh is None:
            return "closed"
        clip = fresh.clip
        if clip.state != ClipState.UNCERTAIN or clip.attempt != doc.clip.attempt:
            return "closed"
        waited = float(clip.check_at or 0) - float(clip.uncertain_at or 0)
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
