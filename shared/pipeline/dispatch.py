"""Which waiting clip starts next, when starts are paced to Veo's quotas.

With its model's starts paced (MEDIA_MODEL_QUOTAS, else
MEDIA_VEO_STARTS_PER_MIN), animate_still does not start its own clip: it
marks the asset waiting and dispatches. Each Veo model has its own start log
(shared/store/pacing.py) and its own queue: a dispatch orders and starts each
model's waiting clips against that model's log, so clips waiting for a model
whose budget is used up never hold back another model's. A dispatch (animate_still after
enqueueing, finish_clip after a clip completes, the janitor's tick) starts
the waiting clips of the campaign that has waited longest on average since
publishing first, and keeps part of the free starts for campaigns whose
requests are still in the image stage (published_order, fair_share.py), so
one campaign's burst cannot hold the others back, even when its stills are
ready first (MEDIA_VEO_FAIRNESS=waiting: the same order from queueing, with
nothing kept; first_come: first come, first served with each burst
spread at the quota's rate; round_robin: round-robin across campaigns). A
clip that would miss its deadline behind the whole queue goes first
whatever the order. Each start takes the asset's lease first and a pacing token
second; when a model's tokens run out its queue stops (nothing waits), except
the janitor's tick, which takes each start as the log frees it for a while
(dispatch_held, MEDIA_VEO_DISPATCH_HOLD_S) so none sits unused. A clip
whose expected start would come too late for its deadline degrades at once
to its still: `partial`, reason `busy`.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from enum import Enum

from shared.core import clock, log
from shared.core.errors import Busy
from shared.core.settings import get_settings
from shared.domain.asset import Asset
from shared.domain.asset_state import A, started, waiting
from shared.domain.clip import Clip, ClipState
from shared.domain.status import Reason, Status
from shared.pipeline import fair_share
from shared.pipeline.checks import too_late
from shared.pipeline.lifecycle import fail_video
from shared.pipeline.starts import NoStartToken, start_clip
from shared.store import asset_queries, assets, clips, pacing
from shared.store.media_models import GenaiVideoModel, VideoModel


class Outcome(Enum):
    """What one dispatch did with one waiting clip."""

    NOTHING = "nothing"  # another dispatcher has it, or it moved on
    DEGRADED = "degraded"  # its turn comes too late: partial (busy)
    STARTED = "started"
    NO_TOKEN = "no_token"  # the start budget is used up for now


def enqueue(doc: Asset) -> None:
    clip = Clip.from_doc(doc)
    if clip.state == ClipState.NONE and not doc.get("video_queued_at"):
        clips.move(
            doc["campaign_id"],
            doc["asset_id"],
            clip.attempt,
            {ClipState.NONE},
            ClipState.WAITING,
            video_waiting=True,
            video_queued_at=clock.time(),
        )


def fair_order(docs: list[A], in_flight: dict[str, int] | None = None) -> list[A]:
    """Round-robin across campaigns that remembers (MEDIA_VEO_FAIRNESS=
    round_robin): a campaign's k-th waiting clip ranks k + its clips already
    rendering at Veo, so a campaign holding many starts yields to one holding
    none, across dispatch calls too; ties go to the campaign whose oldest clip
    has waited longest, and each campaign's clips go oldest first. The other
    orders: virtual_clock() (first_come) and equalized() (the default)."""
    flying = in_flight or {}
    by_campaign: dict[str, list[A]] = {}
    for doc in sorted(docs, key=_queued):
        by_campaign.setdefault(str(doc["campaign_id"]), []).append(doc)
    ranked: list[tuple[tuple[float, float], A]] = []
    for campaign, queue in by_campaign.items():
        head = _queued(queue[0])
        for k, doc in enumerate(queue):
            ranked.append(((float(flying.get(campaign, 0) + k), head), doc))
    ranked.sort(key=lambda pair: pair[0])
    return [doc for _, doc in ranked]


def virtual_clock(docs: list[A], rendering: list[A], interval_s: float) -> list[A]:
    """First come, first served (MEDIA_VEO_FAIRNESS=first_come), with each
    campaign's burst spread out at the quota's rate: a campaign's clips, in
    the order they were queued (those already rendering included), take
    turns at max(queued, the campaign's previous turn + one start interval),
    and turns go earliest first.

    A campaign publishing no faster than the quota keeps its place in line,
    however many clips it has waiting or at Veo; one that publishes a burst
    holds the others back no longer than if it had published at the quota's
    rate. (Round-robin made every clip of a campaign with clips rendering
    wait behind every quiet campaign's, even ones queued long after it, so
    busy campaigns' mean waits drifted far above quiet ones': the scale
    benchmark's Jain index of per-campaign mean wait was 0.74.)"""
    waiting_ids = {id(doc) for doc in docs}
    by_campaign: dict[str, list[A]] = {}
    for doc in [*docs, *(d for d in rendering if d.get("video_queued_at") is not None)]:
        by_campaign.setdefault(str(doc["campaign_id"]), []).append(doc)
    ranked: list[tuple[float, float, A]] = []
    for queue in by_campaign.values():
        turn: float | None = None
        for doc in sorted(queue, key=_queued):
            queued = _queued(doc)
            turn = queued if turn is None else max(queued, turn + interval_s)
            if id(doc) in waiting_ids:
                ranked.append((turn, queued, doc))
    ranked.sort(key=lambda row: (row[0], row[1]))
    return [doc for _, _, doc in ranked]


def equalized(
    docs: list[A],
    history: dict[str, tuple[float, float]],
    now: float,
    since: Callable[[A], float] | None = None,
) -> list[A]:
    """Weighted by waiting time (MEDIA_VEO_FAIRNESS=waiting; from publishing,
    published_order, the default):
    the next start goes to the campaign whose mean wait is highest, counting
    its recent starts' waits (`history`, pacing.wait_history) and each of its
    waiting clips as waiting as long as its oldest; within a campaign, oldest
    first. Each pick adds its wait to its campaign, so a burst takes turns
    with the others instead of holding them back, and a campaign whose clips
    went through at once while others waited gives way next time.

    Why: the scale benchmark's index of per-campaign mean wait was capped by
    first-come order (0.80-0.90 on its arrivals, 0015); replays of the same
    arrivals over eight seeds (`python -m bench.fairness`) give this order
    0.89-0.97. Counting every waiting clip at its oldest's wait matters: at
    its own wait the replays gave 0.85-0.92 (docs/decisions/0016).

    `since` is when a clip's wait began: its queueing by default, its
    publishing for published_order."""
    began = since or _queued
    queues: dict[str, list[A]] = {}
    for doc in sorted(docs, key=began):
        queues.setdefault(str(doc["campaign_id"]), []).append(doc)
    totals = {c: list(history.get(c, (0.0, 0.0))) for c in queues}

    def entry(campaign: str) -> tuple[float, float, str]:
        queue = queues[campaign]
        total, count = totals[campaign]
        mean = (total + (now - began(queue[0])) * len(queue)) / (count + len(queue))
        return (-mean, began(queue[0]), campaign)  # heapq pops the smallest

    heap = [entry(c) for c in queues]
    heapq.heapify(heap)
    order: list[A] = []
    while heap:
        campaign = heapq.heappop(heap)[2]
        doc = queues[campaign].pop(0)
        order.append(doc)
        totals[campaign][0] += max(0.0, now - began(doc))
        totals[campaign][1] += 1
        if queues[campaign]:
            heapq.heappush(heap, entry(campaign))
    return order


def published_order(
    docs: list[A],
    coming: dict[str, int],
    rendering: dict[str, int],
    history: dict[str, tuple[float, float]],
    now: float,
    free: int,
    per_s: float,
) -> tuple[list[A], int | None]:
    """Fair from publishing (MEDIA_VEO_FAIRNESS=published, the default):
    equalized on the waits since publishing (`history` measured the same
    way), urgent clips first, and how many may start now (fair_share.limit;
    None when nothing is held: as many as the log admits, and past them the
    usual check of who would start too late)."""
    queue = urgent_first(equalized(docs, history, now, since=fair_share.published_at), now, per_s)
    limit = fair_share.limit(queue, coming, rendering, free, now + len(queue) / per_s)
    return queue, limit if limit < free else None


def urgent_first(queue: list[A], now: float, per_s: float) -> list[A]:
    """Clips that would be too late if the whole queue started before them go
    first, oldest first: a fair order must not cost a clip its start."""
    horizon = now + len(queue) / per_s
    urgent = sorted((d for d in queue if too_late(d, horizon)), key=_queued)
    picked = {id(d) for d in urgent}
    return urgent + [d for d in queue if id(d) not in picked]


def _updated(doc: Asset) -> float:
    stamp = doc.stamp("updated_at")
    return stamp.timestamp() if stamp else 0.0


def _queued(doc: A) -> float:
    return float(doc.get("video_queued_at") or 0)


def in_flight(docs: list[A]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for doc in docs:
        if started(doc):
            counts[str(doc["campaign_id"])] = counts.get(str(doc["campaign_id"]), 0) + 1
    return counts


def dispatch(model: VideoModel | None = None) -> dict[str, int]:
    """Start as many waiting clips as each model's pacing budget allows right
    now; once one is used up, degrade that model's clips whose turn would come
    too late."""
    return _pass(model)[0]


def dispatch_held(model: VideoModel | None = None, hold_s: float | None = None) -> dict[str, int]:
    """dispatch(), then again each time a model's start log frees its next
    start, for up to `hold_s` (MEDIA_VEO_DISPATCH_HOLD_S) while clips still
    wait.

    The janitor's tick calls this. Without it a freed start waits for the
    next arrival, finished clip or tick to take it; on a busy machine that was
    about 2 s a start (the scale benchmark's 88% of the quota, 0015). The
    hold costs one instance while a backlog lasts, whatever its size (45 s
    of each minute at 50 starts a minute: about 0.9 s a clip), and nothing when
    no clip waits: the first pass finds none and returns. With several
    models it sleeps until the first of their logs frees a start and passes
    over the models whose start is free by then, so a model with no free
    start costs no lease or token try."""
    hold = get_settings().MEDIA_VEO_DISPATCH_HOLD_S if hold_s is None else hold_s
    until = clock.monotonic() + hold
    totals, left = _pass(model)
    while left and hold > 0:
        now = clock.time()
        # A floor: when other dispatchers hold the waiting clips the log has
        # room, and the next pass should not follow at once.
        frees = {
            name: max(pacing.next_start_at(start_log, now) - now, 0.25 / start_log.starts_per_s())
            for name, start_log in ((m, pacing.veo_log(m)) for m in left)
        }
        pause = min(frees.values())
        if clock.monotonic() + pause >= until:
            break
        clock.sleep(pause)
        due = {name for name, free in frees.items() if free <= pause}
        counts, left_due = _pass(model, due)
        left = {**{m: n for m, n in left.items() if m not in due}, **left_due}
        for what, n in counts.items():
            totals[what] = totals.get(what, 0) + n
    return totals


def _pass(
    model: VideoModel | None, models: set[str] | None = None
) -> tuple[dict[str, int], dict[str, int]]:
    """One dispatch over every model's queue (or only `models`'): its counts,
    and how many clips still wait, per model."""
    if not get_settings().veo_paced:
        return {}, {}
    model = model or GenaiVideoModel()
    counts = {"started": 0, "busy": 0}
    left: dict[str, int] = {}
    queues = by_model(asset_queries.animating())
    # The extra query only when some clip waits: most passes find none.
    coming = fair_share.on_the_way() if queues else {}
    for name, current in queues.items():
        if models is not None and name not in models:
            continue
        start_log = pacing.veo_log(name)
        # Now, not at the pass's start: earlier models' starts took time.
        queue, limit = planned(current, coming.get(name, []), clock.time(), start_log)
        n_started, n_busy = _pass_model(queue, model, start_log, limit)
        counts["started"] += n_started
        counts["busy"] += n_busy
        if len(queue) - n_started - n_busy:
            left[name] = len(queue) - n_started - n_busy
        if n_started or n_busy:
            log.info(
                "video_dispatch", "paced Veo starts", model=name, started=n_started, busy=n_busy
            )
    return counts, left


def _pass_model(
    queue: list[Asset], model: VideoModel, start_log: pacing.StartLog, limit: int | None = None
) -> tuple[int, int]:
    """Start one model's waiting clips in order while its log admits them,
    the first `limit` of them at most (the rest wait for a later pass: their
    starts are held for requests still in the image stage); from the first
    refused token on, degrade those whose turn would come too late. Returns
    (started, degraded)."""
    n_started = n_busy = 0
    next_free: float | None = None  # when starts resume, once the tokens ran out
    ahead = 0  # clips that will start before this one from then on
    for position, doc in enumerate(queue):
        if limit is not None and position >= limit and next_free is None:
            break
        if next_free is not None:
            start_at = next_free + ahead / start_log.starts_per_s()
            ahead += 1
            if too_late(doc, start_at):
                n_busy += _one(doc, model, start_log, start_at, may_start=False) is Outcome.DEGRADED
            continue
        outcome = _one(doc, model, start_log, clock.time(), may_start=True)
        if outcome is Outcome.NO_TOKEN:  # the budget is used up for now
            next_free = pacing.next_start_at(start_log)
            ahead = 1
            if too_late(doc, next_free):
                n_busy += (
                    _one(doc, model, start_log, next_free, may_start=False) is Outcome.DEGRADED
                )
        elif outcome is Outcome.STARTED:
            n_started += 1
        elif outcome is Outcome.DEGRADED:
            n_busy += 1
    return n_started, n_busy


def by_model(current: list[Asset]) -> dict[str, list[Asset]]:
    """The animating assets grouped by their clip's Veo model, for the models
    that have a clip waiting (each model's queue is ordered on its own)."""
    groups: dict[str, list[Asset]] = {}
    for doc in current:
        if doc.video_model is not None:
            groups.setdefault(doc.video_model, []).append(doc)
    return {name: docs for name, docs in groups.items() if waiting(docs)}


def planned(
    current: list[Asset], coming: list[Asset], now: float, start_log: pacing.StartLog
) -> tuple[list[Asset], int | None]:
    """ordered(), and how many of the queue may start now (None: as many as
    the log admits). With MEDIA_VEO_FAIRNESS=published the history and the
    free starts come from one read of the model's log."""
    if get_settings().MEDIA_VEO_FAIRNESS != "published":
        return ordered(current, now, start_log), None
    docs = waiting(current)
    if not docs:
        return [], None
    history, free = pacing.log_state(start_log, now)
    if not start_log.enabled:
        free = len(docs)
    rendering = in_flight(current)
    # Stills made but clips not queued yet (animate_still on its way) are
    # on their way too, for one window as the image stage's are.
    queued = {id(d) for d in docs}
    recent = now - get_settings().MEDIA_VEO_PACING_WINDOW_S
    ready = [d for d in current if id(d) not in queued and not started(d) and _updated(d) > recent]
    counts = fair_share.counts([*coming, *ready])
    return published_order(docs, counts, rendering, history, now, free, start_log.starts_per_s())


def ordered(current: list[Asset], now: float, start_log: pacing.StartLog) -> list[Asset]:
    """The waiting clips among `current` (the animating assets of the model
    `start_log` paces), in the order MEDIA_VEO_FAIRNESS gives, urgent ones
    first. The history and the rates are that model's own."""
    policy = get_settings().MEDIA_VEO_FAIRNESS
    per_s = start_log.starts_per_s()
    docs = waiting(current)
    if policy == "published":
        return planned(current, [], now, start_log)[0]
    if policy == "waiting":
        queue = equalized(docs, pacing.wait_history(start_log, now), now) if docs else []
    elif policy == "first_come":
        rendering = [doc for doc in current if started(doc)]
        queue = virtual_clock(docs, rendering, 1 / per_s)
    else:
        queue = fair_order(docs, in_flight(current))
    return urgent_first(queue, now, per_s)


def _one(
    doc: Asset, model: VideoModel, start_log: pacing.StartLog, start_at: float, may_start: bool
) -> Outcome:
    """Under the asset's lease (renewed for the whole Veo call, which can
    outlast MEDIA_VIDEO_LEASE_S): degrade it if `start_at` is too late, or
    start it, or nothing."""
    cid, aid = doc["campaign_id"], doc["asset_id"]
    owner = f"dispatch/{assets.new_owner()[:8]}"
    try:
        with assets.leased(cid, aid, owner, get_settings().MEDIA_VIDEO_LEASE_S, Status.ANIMATING):
            return _one_held(cid, aid, model, start_log, owner, start_at, may_start)
    except Busy:
        return Outcome.NOTHING  # another dispatcher has it


def _one_held(
    cid: str,
    aid: str,
    model: VideoModel,
    start_log: pacing.StartLog,
    owner: str,
    start_at: float,
    may_start: bool,
) -> Outcome:
    fresh = assets.load(cid, aid)
    if fresh is None or fresh.get("status") != Status.ANIMATING or started(fresh):
        return Outcome.NOTHING
    if too_late(fresh, start_at):
        fail_video(
            fresh,
            Reason.BUSY,
            "Veo's start budget is taken until past the deadline",
            video_waiting=False,
        )
        return Outcome.DEGRADED
    if not may_start:
        return Outcome.NOTHING
    taken: list[float] = []

    # The history the order reads measures waits from where its order does.
    if get_settings().MEDIA_VEO_FAIRNESS == "published":
        began = fair_share.published_at(fresh)
    else:
        began = float(fresh.get("video_queued_at") or clock.time())

    def gate() -> bool:
        token_at = pacing.take_start(start_log, campaign_id=cid, queued_at=began)
        if token_at is not None:
            taken.append(token_at)
        return token_at is not None

    try:
        operation = start_clip(fresh, model, owner, gate)
    except NoStartToken:
        return Outcome.NO_TOKEN
    if not taken:
        return Outcome.NOTHING  # ended before Veo (hidden, or a retry over budget)
    if operation is not None:
        queued = float(fresh.get("video_queued_at") or taken[0])
        assets.update_fields(
            cid,
            aid,
            video_waiting=False,
            video_token_at=taken[0],
            video_wait_ms=int((taken[0] - queued) * 1000),
        )
    return Outcome.STARTED
