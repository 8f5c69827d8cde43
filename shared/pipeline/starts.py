"""Starting a clip: the one place Veo is paid to start a job.

Every start (the first attempt, its redeliveries, paced starts and an
owner's re-animate) comes through `start_clip`, and every start writes its
intent first (shared/domain/clip.py): the clip moves to INTENT, a
compare-and-set on its attempt and state, before the call goes out. From
then on no other worker starts this attempt again: a redelivery, a second
dispatcher or a lapsed lease finds the intent and leaves it. The call ends
in STARTED (the operation's name recorded), UNCERTAIN (Veo may have
started the job: adopted or ended, never started again), or back where it
was when Veo said for certain that nothing started (a 429, a refused
connection). The caller holds the asset's "animating" lease, renewed for
the whole call (assets.leased).
"""

from __future__ import annotations

import random
from collections.abc import Callable

from shared.core import clock, log
from shared.core.errors import (
    Busy,
    PermanentError,
    QuotaExceeded,
    RetriesSpent,
    StartUncertain,
    TransientError,
)
from shared.core.retry import with_retries
from shared.core.settings import get_settings
from shared.domain.asset import Asset
from shared.domain.clip import UNCALLED, Clip, ClipState
from shared.domain.paths import gs_uri, split_gs_uri, video_output_prefix
from shared.domain.status import Reason, Status
from shared.pipeline import attempts, hiding
from shared.pipeline.checks import checkpoint, expected_s, expired, too_late
from shared.pipeline.lifecycle import fail_video, ms_since, stored_plan
from shared.store import assets, clips, storage
from shared.store.media_models import VideoModel


class NoStartToken(Exception):
    """A paced start found the start budget used up: not started, left waiting.
    (Its hold stays; a later dispatch reserves the same key again as a no-op.)"""


class TooLate(Exception):
    """The clip would still be rendering at the asset's deadline: not started."""


class NotStarted(Exception):
    """The intent could not be written: another worker has this attempt's
    clip, or the asset moved on (hidden, closed, retried)."""


class AdoptInstead(Exception):
    """start_job could not tell whether Veo started: adopt, do not restart."""

    def __init__(self, since: float) -> None:
        super().__init__("Veo start outcome unknown")
        self.since = since


def start_clip(
    doc: Asset, model: VideoModel, owner: str, gate: Callable[[], bool] | None = None
) -> str | None:
    """Start the clip for this asset (the caller holds its "animating" lease
    as `owner`) and record the operation; returns its name, or None if it was
    not started: Veo refused the job for good (closed `partial`), the asset
    was hidden, an owner's retry did not fit the budget, another worker has
    the clip, or the start's outcome was lost (finished by its output or by
    the sweep, never restarted). A paced start passes `gate`, which takes
    the start token just before the call goes out; without one it raises
    NoStartToken."""
    fresh = assets.load(doc.campaign_id, doc.asset_id) or doc
    clip = fresh.clip
    if clip.operation:
        return clip.operation
    if clip.called or fresh.get("status") != Status.ANIMATING:
        return None
    if fresh.get("hidden"):  # checked before Veo is paid
        hiding.stop(fresh)
        return None
    held = attempts.reserve_retry(fresh)
    if held is None:
        return None  # an owner's retry the budget refused: ended partial (budget)
    fresh = held
    try:
        return start_job(fresh, clip, model, owner, gate)
    except (AdoptInstead, NotStarted):
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


def within_quota(doc: Asset, owner: str, start: Callable[[], str]) -> str:
    """Start, waiting out 429s in this invocation (renewing the lease) rather
    than spending Pub/Sub delivery attempts on them: under a 10/min quota a
    burst would otherwise dead-letter clips that only had to wait a minute.
    The SDK's HttpRetryOptions cannot do this for us: it would also retry a
    timed-out start, which may already be a paid job. Paced starts
    (MEDIA_VEO_STARTS_PER_MIN) make this rare."""
    settings = get_settings()
    cid, aid = doc["campaign_id"], doc["asset_id"]
    budget_end = clock.monotonic() + settings.MEDIA_VEO_QUOTA_WAIT_S
    attempt = 0
    while True:
        if too_late(doc, clock.time()):
            raise TooLate()
        try:
            return start()
        except QuotaExceeded as exc:
            attempt += 1
            pause = random.uniform(0.5, min(15.0, 2.0**attempt))
            if clock.monotonic() + pause > budget_end or expired(doc):
                raise RetriesSpent(f"Veo quota still exhausted after {attempt} tries") from exc
            log.info("veo_quota_wait", f"{exc}; trying again in {pause:.1f} s", attempt=attempt)
            if not assets.claim(cid, aid, owner, settings.MEDIA_VIDEO_LEASE_S, Status.ANIMATING):
                raise Busy("lost the lease while waiting for Veo quota") from exc
            clock.sleep(pause)


def start_job(
    doc: Asset,
    clip: Clip,
    model: VideoModel,
    owner: str,
    gate: Callable[[], bool] | None = None,
) -> str:
    cid, aid = doc["campaign_id"], doc["asset_id"]
    plan, _ = stored_plan(doc)
    t0 = clock.monotonic()
    _, image_name = split_gs_uri(doc["image"]["uri"])
    image_png = storage.download(image_name)
    output = gs_uri(get_settings().MEDIA_BUCKET, video_output_prefix(cid, aid))
    video_model = plan.video_model
    if video_model is None:
        # Only an asset whose plan includes a clip is ever sent to animate.
        raise RuntimeError(f"asset {aid} reached animate without a planned video model")
    if too_late(doc, clock.time()):
        raise TooLate()
    # The token is taken last, after the reads and the image download, so the
    # start log's time is within a moment of the call reaching Veo: under load
    # those steps took over a second, more than the log's margin over Veo's
    # own window, and paced starts met 429s (shared/store/pacing.py).
    if gate is not None and not gate():
        raise NoStartToken()
    before = write_intent(doc, clip)
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
        since = clock.time()
        clips.move(
            cid,
            aid,
            clip.attempt,
            {ClipState.INTENT},
            ClipState.UNCERTAIN,
            video_start_uncertain_at=since,
            video_check_at=since + get_settings().MEDIA_VEO_ADOPT_WAIT_S,
            video_checks=0,
            stage_ms={"video_start": ms_since(t0)},
        )
        raise AdoptInstead(since) from exc
    except (TransientError, PermanentError, TooLate):
        # Veo said for certain that nothing started (a 429, a refused
        # connection, a 4xx) or the call never went out: the intent is
        # taken back, so a later delivery or dispatch may start it.
        clips.move(
            cid,
            aid,
            clip.attempt,
            {ClipState.INTENT},
            before,
            video_waiting=before == ClipState.WAITING,
        )
        raise
    checkpoint("veo_accepted")
    now = clock.time()
    recorded = clips.move(
        cid,
        aid,
        clip.attempt,
        {ClipState.INTENT},
        ClipState.STARTED,
        video_operation=name,
        video_started_at=now,
        video_check_at=now + expected_s(plan.duration_seconds),
        video_checks=0,
        stage_ms={"video_start": ms_since(t0)},
    )
    if recorded is None:
        # Closed (hidden, past its deadline) while Veo accepted the job: its
        # clip lands for a closed asset and is deleted, not charged (finish.py).
        log.warning("video_started_late", "Veo started a clip for an asset that moved on")
        return name
    checkpoint("veo_started")
    log.info("video_started", "Veo operation started; the bucket event finishes it", operation=name)
    return name


def write_intent(doc: Asset, clip: Clip) -> ClipState:
    """The write-ahead intent of a Veo start; returns the state it left
    (to go back to if Veo says for certain that nothing started). Raises
    NotStarted if the clip is no longer this worker's to start."""
    settings = get_settings()
    now = clock.time()
    before = clip.state if clip.state in UNCALLED else ClipState.NONE
    written = clips.move(
        doc["campaign_id"],
        doc["asset_id"],
        clip.attempt,
        UNCALLED,
        ClipState.INTENT,
        video_intent_at=now,
        video_waiting=False,
        # When the sweep looks at an intent that got no further: its worker
        # renews the lease every third of it while the call runs, so a lease
        # lapsed by then means the worker died (a recovered intent is
        # UNCERTAIN); a live one is looked at again a lease later.
        video_check_at=now + 2 * settings.MEDIA_VIDEO_LEASE_S,
        video_checks=0,
        video_check_failures=0,
    )
    if written is None:
        raise NotStarted()
    return before
