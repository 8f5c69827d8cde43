"""Budgets of Veo starts, one per model and region (MEDIA_MODEL_QUOTAS, else
MEDIA_VEO_STARTS_PER_MIN per window).

Vertex's Veo quotas are per base model and region and per minute (about 50
starts for each 3.1 -001 model), counted over a rolling window. Starting
faster only buys 429s and spent delivery attempts, so a start takes a token
from its own model's log first; a mixed workload (draft, standard and
premium campaigns, three Veo models) gets each model's whole quota, not one
shared among them (docs/decisions/0020-pacing-per-model.md).

The tokens are a rolling log: one Firestore document per model and region
(`pacing/veo-log:{location}:{model}`, see veo_log) holds the times of that
model's starts of the last `span` seconds, and a start is admitted while
fewer than the budget are in it. `span` is the window plus one start
interval (window / budget), a margin for the time between taking the token
and the call reaching Veo, so Veo's own rolling window never sees more than
the budget; under a backlog starts run at budget / (budget + 1) of the quota
(97% at 30/min, 98% at 50).

Why a log and not fixed slots: the first design cut time into slots of one
token each, and a slot's token was lost whenever no dispatch (an arrival, a
finished clip, the janitor's tick) happened to run during it; the scale
benchmark measured 83% of the quota. A log keeps every unused start until a
later dispatch takes it. A document takes one write per start (0.83 a
second at 50/min), under Firestore's sustained one write per second per
document; one model's budget above 60/min would need its log sharded.
MEDIA_VEO_PACING_WINDOW_S shortens the window for time-compressed benchmarks.

Image calls can take the same kind of token from their own, project-wide
log (`pacing/image-log`, MEDIA_IMAGE_CALLS_PER_MIN, off by default): see
wait_for_image_call.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from shared.core import clock
from shared.core.errors import RetriesSpent
from shared.core.settings import get_settings
from shared.domain.asset import Asset
from shared.domain.asset_state import waiting
from shared.domain.locations import location_for
from shared.domain.paths import pacing_doc
from shared.store import connections
from shared.store.asset_queries import animating
from shared.store.optimistic import Fields, read_modify_write, ttl_timestamp

LOG_DOC = "veo-log"
IMAGE_LOG_DOC = "image-log"


@dataclass(frozen=True)
class StartLog:
    """One rolling log of starts: its document and its budget per window."""

    doc_id: str
    per_min: int  # 0: unpaced, every start admitted at once
    model: str | None = None  # the Veo model it paces (None: image calls)

    @property
    def enabled(self) -> bool:
        return self.per_min > 0

    def budget_and_span(self) -> tuple[int, float]:
        """(starts allowed, seconds they are counted over)."""
        budget = max(1, self.per_min)
        window = get_settings().MEDIA_VEO_PACING_WINDOW_S
        return budget, window + window / budget

    def starts_per_s(self) -> float:
        budget, span = self.budget_and_span()
        return budget / span


def veo_log(model: str) -> StartLog:
    """The start log of one Veo model where the pipeline calls it: Vertex
    counts a quota per base model and region, so the document is named by
    both (a model moved to another region by MEDIA_MODEL_LOCATIONS starts a
    fresh log, as its quota there is fresh too)."""
    per_min = get_settings().veo_starts_per_min(model)
    return StartLog(f"{LOG_DOC}:{location_for(model)}:{model}", per_min, model)


def image_log() -> StartLog:
    return StartLog(IMAGE_LOG_DOC, get_settings().MEDIA_IMAGE_CALLS_PER_MIN or 0)


def clip_log(doc: Asset) -> StartLog:
    """The start log a waiting clip takes its token from: its planned model's."""
    model = doc.video_model
    if model is None:
        # Only an asset whose plan includes a clip is ever sent to animate.
        raise RuntimeError(f"asset {doc.asset_id} has no planned video model")
    return veo_log(model)


def _recent(starts: list[float], now: float, span: float) -> list[float]:
    """The starts still counted at `now`, oldest first."""
    return sorted(t for t in starts if t > now - span)


def _starts(doc: Fields | None) -> list[float]:
    return [float(s) for s in (doc or {}).get("starts", [])]


def half_budget(budget: int) -> int:
    """Starts allowed in any half span: half the budget, rounded up, so two
    halves still make the whole budget."""
    return -(-budget // 2)


def admit(starts: list[float], now: float, budget: int, span: float) -> list[float] | None:
    """The log after one more start at `now`, or None when the last `span`
    seconds already hold `budget` starts, or the last span / 2 hold
    half_budget. Entries later than `now` (another instance's clock, or a
    test holding the budget) count too.

    The half-span limit spreads a backlog's first window: without it the
    whole minute went to whoever arrived in its first seconds (the scale
    benchmark's first 29 clips started with no wait, then every later one
    waited half a minute), which no order could even out afterwards. Replays
    of the benchmark's arrivals: the same starts per window, Jain's index of
    campaign mean wait 0.89 -> 0.92 on its seed (docs/decisions/0016)."""
    kept = _recent(starts, now, span)
    if len(kept) >= budget or len(_recent(kept, now, span / 2)) >= half_budget(budget):
        return None
    return [*kept, now]


def free_at(starts: list[float], now: float, budget: int, span: float) -> float:
    """When the log admits its next start (now if it has room)."""
    kept = _recent(starts, now, span)
    half = _recent(kept, now, span / 2)
    at = now
    if len(kept) >= budget:
        at = max(at, kept[len(kept) - budget] + span)
    if len(half) >= half_budget(budget):
        at = max(at, half[len(half) - half_budget(budget)] + span / 2)
    return at


def _log_ref(log: StartLog) -> Any:
    return connections.firestore_client().document(pacing_doc(log.doc_id))


def take_start(
    log: StartLog,
    now: float | None = None,
    campaign_id: str | None = None,
    queued_at: float | None = None,
) -> float | None:
    """Take one start token from `log`: its time, or None when the budget is
    used up. Unpaced: always the current time. With `campaign_id` and
    `queued_at`, the start's wait joins the campaign's history in the same
    write (see wait_history)."""
    if not log.enabled:
        return now if now is not None else clock.time()
    budget, span = log.budget_and_span()
    taken: list[float] = []

    def mutate(doc: Fields | None) -> tuple[Fields | None, bool]:
        # The clock is read on each try: a retry after contention starts later.
        t = now if now is not None else clock.time()
        starts = admit(_starts(doc), t, budget, span)
        if starts is None:
            return None, False
        taken[:] = [t]
        fields: Fields = {"starts": starts, "delete_after": ttl_timestamp(span + 3600)}
        if campaign_id is not None and queued_at is not None:
            fields["waits"] = add_wait(_waits(doc), campaign_id, max(0.0, t - queued_at), t)
        return fields, True

    return taken[0] if read_modify_write(_log_ref(log), mutate) else None


# A campaign's wait history: [sum of waits, starts, last start], halved once
# it counts HISTORY_HALVE_AT starts (recent starts weigh more) and dropped
# after MEDIA_DEADLINE_S without a start (every clip it covered has ended).
HISTORY_HALVE_AT = 64


def _waits(doc: Fields | None) -> dict[str, list[float]]:
    return {str(k): list(v) for k, v in ((doc or {}).get("waits") or {}).items()}


def _live(waits: dict[str, list[float]], now: float) -> dict[str, list[float]]:
    """The entries of campaigns with a start within MEDIA_DEADLINE_S."""
    idle = get_settings().MEDIA_DEADLINE_S
    return {c: v for c, v in waits.items() if len(v) == 3 and v[2] > now - idle}


def add_wait(
    waits: dict[str, list[float]], campaign_id: str, waited_s: float, now: float
) -> dict[str, list[float]]:
    kept = _live(waits, now)
    total, count, _ = kept.get(campaign_id, [0.0, 0.0, now])
    if count >= HISTORY_HALVE_AT:
        total, count = total / 2, count / 2
    kept[campaign_id] = [total + waited_s, count + 1, now]
    return kept


def wait_history(log: StartLog, now: float | None = None) -> dict[str, tuple[float, float]]:
    """Each campaign's (sum of waits, starts) over its recent paced starts of
    this log's model, for the dispatcher's order (dispatch.equalized)."""
    t = now if now is not None else clock.time()
    snap = _log_ref(log).get()
    return history(_waits(snap.to_dict() if snap.exists else None), t)


def history(waits: dict[str, list[float]], now: float) -> dict[str, tuple[float, float]]:
    """The log's `waits` as the order reads them: (sum, starts) per live campaign."""
    return {c: (v[0], v[1]) for c, v in _live(waits, now).items()}


def free_starts(starts: list[float], now: float, budget: int, span: float) -> int:
    """How many starts the log admits at `now`, one after another."""
    n = 0
    while n < budget:
        after = admit(starts, now, budget, span)
        if after is None:
            break
        starts, n = after, n + 1
    return n


def log_state(
    log: StartLog, now: float | None = None
) -> tuple[dict[str, tuple[float, float]], int]:
    """wait_history and the starts free now, from one read of the log (for
    dispatch.published_order)."""
    t = now if now is not None else clock.time()
    budget, span = log.budget_and_span()
    snap = _log_ref(log).get()
    fields = snap.to_dict() if snap.exists else None
    return history(_waits(fields), t), free_starts(_starts(fields), t, budget, span)


def next_start_at(log: StartLog, now: float | None = None) -> float:
    """When `log`'s next start token is free."""
    t = now if now is not None else clock.time()
    budget, span = log.budget_and_span()
    snap = _log_ref(log).get()
    return free_at(_starts(snap.to_dict() if snap.exists else None), t, budget, span)


def queue_minutes() -> float | None:
    """How long a clip asked for now would wait for its start, in minutes: the
    longest of the paced models' queues, each its waiting clips over its own
    rate (None when no start is paced). One query."""
    if not get_settings().veo_paced:
        return None
    counts: dict[str, int] = {}
    for doc in waiting(animating()):
        if doc.video_model is not None:
            counts[doc.video_model] = counts.get(doc.video_model, 0) + 1
    longest = 0.0
    for model, n in counts.items():
        log = veo_log(model)
        if log.enabled:
            longest = max(longest, n / log.starts_per_s() / 60.0)
    return longest


def wait_for_image_call() -> None:
    """Take an image-call token, waiting in this invocation for one to free up
    (MEDIA_IMAGE_CALLS_PER_MIN; nothing to do when it is 0).

    Unlike Veo starts, a still is made inside its own delivery (the player
    waits for it, and an image call takes seconds, not minutes), so there is
    no queue to dispatch from: the render waits for its turn, as it would
    wait out a 429, but without spending the call. Past
    MEDIA_IMAGE_PACING_WAIT_S the delivery is handed back (RetriesSpent, not
    retried in-process) for the platform to redeliver later."""
    log = image_log()
    if not log.enabled:
        return
    give_up = clock.monotonic() + get_settings().MEDIA_IMAGE_PACING_WAIT_S
    while take_start(log) is None:
        pause = max(0.05, next_start_at(log) - clock.time())
        if clock.monotonic() + pause > give_up:
            raise RetriesSpent("image-call budget (MEDIA_IMAGE_CALLS_PER_MIN) used up")
        # A little jitter: instances woken for the same token spread out.
        clock.sleep(pause + random.uniform(0, 0.05))
