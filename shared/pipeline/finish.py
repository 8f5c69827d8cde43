"""finish_clip: Veo's MP4 landed in the bucket -> the asset completes.

The bucket's object-finalize notification (Pub/Sub, prefix `veo-out/`) runs
this once per object, at least once. It checks the asset's operation once
(the object alone says nothing of safety filters), copies the MP4 to its
final name, settles the clip and completes the asset. Every step is
idempotent, so duplicate or out-of-order events, and a sweep that finds the
same operation done, record the clip once and charge it once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from shared.core import clock, log
from shared.core.errors import Busy, PermanentError, TransientError
from shared.core.retry import with_retries
from shared.core.settings import get_settings
from shared.domain.asset import Asset
from shared.domain.clip import Clip, ClipState
from shared.domain.ids import is_scope_id
from shared.domain.paths import gs_uri, split_gs_uri, video_object
from shared.domain.polling import next_check_s
from shared.domain.pricing import micros_to_usd
from shared.domain.status import Reason, Status
from shared.pipeline import dispatch, hiding
from shared.pipeline.adoption import refusal_of_output
from shared.pipeline.checks import checkpoint, expired
from shared.pipeline.lifecycle import (
    close_expired,
    fail_video,
    stored_plan,
    transition,
    unbilled,
)
from shared.store import assets, clips, spend, storage
from shared.store.media_models import ClipResult, GenaiVideoModel, VideoModel

# veo-out/{campaign}/{asset}/{operation folder}/sample_{n}.mp4
_OUTPUT = re.compile(r"^veo-out/([^/]+)/([^/]+)/[^/]+/sample_\d+\.mp4$")
# Veo writes the object a moment before its operation reads done.
RECHECK_S = 0.25


def written_at(data: bytes) -> float | None:
    """When the object was written (the event's timeCreated), for the
    completion-lag figure: Veo writes it as its operation finishes."""
    from datetime import datetime

    try:
        stamp = json.loads(data).get("timeCreated")
        return datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).timestamp()
    except (ValueError, AttributeError, TypeError):
        return None


def parse_finalize(data: bytes) -> tuple[str, str, str] | None:
    """(campaign_id, asset_id, gs uri) of a Veo output object, from a Cloud
    Storage notification's payload (the object's JSON resource)."""
    try:
        body = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(body, dict):
        return None
    name, bucket = body.get("name"), body.get("bucket")
    if not isinstance(name, str) or not isinstance(bucket, str):
        return None
    found = _OUTPUT.match(name)
    if found is None or not (is_scope_id(found[1]) and is_scope_id(found[2])):
        return None
    return found[1], found[2], gs_uri(bucket, name)


def handle_finalize(
    data: bytes, delivery_id: str, published_at: object = None, model: VideoModel | None = None
) -> None:
    parsed = parse_finalize(data)
    if parsed is None:
        log.info("finish_ignored", "not a Veo output object; acked")
        return
    cid, aid, uri = parsed
    log.bind(campaign_id=cid, asset_id=aid, delivery_id=delivery_id)
    doc = assets.load(cid, aid)
    if doc is None:
        storage.delete_quietly(split_gs_uri(uri)[1])  # nothing will ever claim it
        return
    log.bind(request_id=doc.get("request_id"), session_id=doc.get("session_id"))
    if doc.get("status") != Status.ANIMATING:
        late_output(doc, uri)
        return
    if doc.get("hidden"):  # hidden while Veo worked: end it, the clip is a loss
        hidden_output(doc, uri)
        return
    if not uri.startswith(gs_uri(get_settings().MEDIA_BUCKET, "veo-out/")):
        return
    clip = Clip.from_doc(doc)
    if clip.operation:
        what = finish_operation(
            doc,
            clip.operation,
            model or GenaiVideoModel(),
            wait_done=True,
            output_at=written_at(data),
        )
    elif clip.state == ClipState.UNCERTAIN or (
        clip.state == ClipState.INTENT and not assets.lease_live(doc)
    ):
        # A start whose answer was lost, or whose worker died after writing
        # its intent (a recovered intent is uncertain): adopt, never restart.
        what = adopt_output(doc, uri, written_at(data))
    elif clip.state == ClipState.INTENT:
        # Veo answered before its starter recorded the name: retry shortly.
        raise TransientError("output arrived before its operation was recorded")
    else:
        # No start was ever made for this attempt (an earlier attempt's late
        # clip, or an object nobody asked for): never attached or charged.
        log.warning("veo_output_unclaimed", f"{uri}: no start of this attempt wrote it; deleted")
        storage.delete_quietly(split_gs_uri(uri)[1])
        return
    if what in ("timeout", "closed", "refused"):
        # Closed while Veo worked (or not this clip): delete the object now,
        # not at the stale sweep a deadline later.
        late_output(assets.load(cid, aid) or doc, uri)
    redispatch(model)


def hidden_output(doc: Asset, uri: str) -> None:
    """An owner hid the asset while its clip rendered: end it (holds released,
    objects deleted: shared/pipeline/hiding.py) and log the clip as a loss, deleted."""
    hiding.stop(doc)
    micros = stored_plan(doc)[0].video_micros if doc.get("plan") else 0
    late_clip(micros, uri, None)


@dataclass(frozen=True)
class Held:
    doc: Asset | None  # the asset as it is now; None: nothing to record
    outcome: str = ""  # with no doc: what happened instead ("timeout", "closed")


@contextmanager
def animating(doc: Asset, operation: str | None = None) -> Iterator[Held]:
    """How both ways of recording a clip begin: past the deadline the asset is
    closed instead; otherwise hold its "animating" lease (Busy if another
    delivery has it) and read it again, for it may have moved on meanwhile.

    A check of `operation` that finds the lease held and the clip already
    past that operation is stale whoever holds it (a clip never goes back
    to an earlier operation): "stale" at once, not a Busy redelivery."""
    cid, aid = doc["campaign_id"], doc["asset_id"]
    if expired(doc):
        close_expired(doc)
        yield Held(None, "timeout")
        return
    owner = f"finish/{assets.new_owner()[:8]}"
    with ExitStack() as lease:
        try:
            lease.enter_context(
                assets.leased(cid, aid, owner, get_settings().MEDIA_VIDEO_LEASE_S, Status.ANIMATING)
            )
        except Busy:
            now = assets.load(cid, aid) if operation else None
            if now is None or Clip.from_doc(now).operation == operation:
                raise
            log.warning("check_stale", "the asset's clip moved on; stale check ignored")
            yield Held(None, "stale")
            return
        fresh = assets.load(cid, aid)
        if fresh is None or fresh.get("status") != Status.ANIMATING:
            yield Held(None, "closed")
        else:
            yield Held(fresh)


def adopt_output(doc: Asset, uri: str, output_at: float | None) -> str:
    """The clip of a start whose answer was lost (UNCERTAIN, or a recovered
    INTENT): it landed under this asset's own output folder, so it is this
    attempt's paid job, if it is a clip at all. Recorded without asking Veo
    (we never got the operation's name) once the object is checked (an MP4
    of about the asked duration, of a plausible size): anything else is
    deleted and logged, never attached or charged.
    See docs/decisions/0011-veo-start-retries.md."""
    with animating(doc) as held:
        if held.doc is None:
            return held.outcome
        clip = Clip.from_doc(held.doc)
        if clip.state not in (ClipState.UNCERTAIN, ClipState.INTENT):
            return "closed"
        asked_s = int((held.doc.get("plan") or {}).get("duration_seconds") or 0)
        why = refusal_of_output(uri, asked_s)
        if why is not None:
            log.warning("veo_output_refused", f"{uri} not adopted: {why}", uri=uri)
            storage.delete_quietly(split_gs_uri(uri)[1])
            return "refused"
        log.info("veo_output_adopted", f"found {uri} from the uncertain start")
        return record(held.doc, ClipResult(done=True, uri=uri), output_at)


def redispatch(model: VideoModel | None) -> None:
    """A clip finished: a good moment to start waiting ones (paced starts)."""
    try:
        dispatch.dispatch(model)
    except Exception as exc:  # noqa: BLE001 - the janitor's tick dispatches too
        log.warning("dispatch_failed", f"dispatch after a finish failed: {exc}")


def finish_operation(
    doc: Asset,
    operation: str,
    model: VideoModel,
    wait_done: bool = False,
    output_at: float | None = None,
) -> str:
    """Ask Veo once about `operation` and record the outcome; returns what
    happened ("pending", "complete", "video_failed", ...). Shared by the
    bucket event and the sweep."""
    cid, aid = doc["campaign_id"], doc["asset_id"]
    with animating(doc, operation) as held:
        if held.doc is None:
            return held.outcome
        fresh = held.doc
        if Clip.from_doc(fresh).operation != operation:
            # Read before an owner's retry (or another worker) moved the
            # clip on: this check is stale and may change nothing.
            log.warning("check_stale", "the asset's clip moved on; stale check ignored")
            return "stale"
        if fresh.get("hidden"):  # the sweep's look at a clip still rendering
            hiding.stop(fresh)
            return "hidden"
        try:
            result = with_retries(lambda: model.poll(operation), what="Veo check")
            if not result.done and wait_done:
                clock.sleep(RECHECK_S)
                result = with_retries(lambda: model.poll(operation), what="Veo check")
        except PermanentError as exc:
            # Veo does not know the operation (404) or refuses to say: no
            # later check can end it otherwise.
            fail_video(fresh, Reason.VIDEO_FAILED, f"Veo check failed for good: {exc}")
            return "video_failed"
        if not wait_done:  # a sweep's check: counted, and the next one backs off
            checks = int(fresh.get("video_checks") or 0) + 1
            fresh = fresh.with_fields(video_checks=checks)
            if not result.done:
                settings = get_settings()
                wait = next_check_s(
                    checks, settings.MEDIA_VIDEO_SWEEP_FIRST_S, settings.MEDIA_VIDEO_SWEEP_MAX_S
                )
                clips.note(
                    cid,
                    aid,
                    Clip.from_doc(fresh),
                    video_checks=checks,
                    video_check_failures=0,
                    video_check_at=clock.time() + wait,
                )
                return "pending"
        if not result.done:
            raise TransientError("output seen, operation not done yet")
        return record(fresh, result, output_at)


def record(doc: Asset, result: ClipResult, output_at: float | None = None) -> str:
    """Record a finished operation on its asset (the caller holds the lease)."""
    cid, aid = doc["campaign_id"], doc["asset_id"]
    plan, _ = stored_plan(doc)
    checks = int(doc.get("video_checks") or 0)
    if result.blocked:
        fail_video(
            doc,
            Reason.VIDEO_BLOCKED,
            result.error or "clip blocked by safety filters",
            video_checks=checks,
        )
        return "video_blocked"
    if result.error or not result.uri:
        fail_video(doc, Reason.VIDEO_FAILED, result.error or "no video", video_checks=checks)
        return "video_failed"
    name = video_object(cid, aid)
    try:
        storage.move_into_place(result.uri, name)
    except Exception as exc:  # noqa: BLE001
        if storage.stat(name) is None:
            raise TransientError(f"could not store the clip: {exc}") from exc
    checkpoint("mp4_recorded")
    if not spend.settle(doc, "video", plan.video_micros):
        # Closed between the look above and the settle: its hold is gone.
        late_clip(plan.video_micros, None, name)
        return "late"
    started = doc.get("video_started_at")
    done_ms = int((clock.time() - float(started)) * 1000) if started else None
    # From the MP4 landing in the bucket to the asset complete: the pipeline's
    # own share of a clip's wait (the dashboard charts it).
    landed_ms = max(0, int((clock.time() - output_at) * 1000)) if output_at else None
    timings = {"video_wait": done_ms, "landed_to_complete": landed_ms}
    transition(
        cid,
        aid,
        Status.COMPLETE,
        video={
            "uri": gs_uri(get_settings().MEDIA_BUCKET, name),
            "mime_type": "video/mp4",
            "duration_seconds": plan.duration_seconds,
        },
        cost_usd=micros_to_usd(plan.image_micros + plan.video_micros),
        stage_ms={k: v for k, v in timings.items() if v is not None} or None,
        video_checks=checks,
        video_output_at=output_at,
        attempt=Clip.from_doc(doc).attempt,
    )
    log.info("video_recorded", "clip recorded and settled", video_checks=checks)
    return "complete"


def late_output(doc: Asset, uri: str) -> None:
    """Veo's object for an asset that is no longer animating: a duplicate
    event of a finished clip (its source is already moved) or a clip that
    landed after the asset was closed (deleted, not charged)."""
    if doc.get("status") == Status.COMPLETE:
        return
    if assets.is_terminal(doc):
        micros = stored_plan(doc)[0].video_micros if doc.get("plan") else 0
        late_clip(micros, uri, None)


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
