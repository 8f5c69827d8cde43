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
document; a model's budget past 40/min is split over shards of the log
(shared/store/start_shards.py, docs/decisions/0027-sharded-start-log.md).
MEDIA_VEO_PACING_WINDOW_S shortens the window for time-compressed benchmarks.

Image calls are paced on their own logs: shared/store/image_pacing.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.core import clock
from shared.core.settings import get_settings
from shared.domain.asset import Asset
from shared.domain.asset_state import waiting
from shared.domain.locations import location_for
from shared.domain.paths import pacing_doc
from shared.store import connections, start_shards
from shared.store.asset_queries import animating
from shared.store.optimistic import Fields, read_modify_write, ttl_timestamp

LOG_DOC = "veo-log"


@dataclass(frozen=True)
class Shard:
    """One document of a start log, with its share of the budget."""

    doc_id: str
    budget: int  # starts allowed over `span`
    span: float  # seconds they are counted over
    gap: float = 0.0  # least seconds between two of its starts (0: none)


@dataclass(frozen=True)
class StartLog:
    """One rolling log of starts: its document and its budget per window."""

    doc_id: str
    per_min: int  # 0: unpaced, every start admitted at once
    model: str | None = None  # the Veo model it was asked for
    shards: int = 1  # documents the budget is split over (start_shards.py)
    spaced: bool = False  # its starts one start_shards.gap_s apart on each document

    @property
    def enabled(self) -> bool:
        return self.per_min > 0

    def budget_and_span(self) -> tuple[int, float]:
        """(starts allowed, seconds they are counted over)."""
        budget = max(1, self.per_min)
        window = get_settings().MEDIA_VEO_PACING_WINDOW_S
        return budget, window + window / budget

    def starts_per_s(self) -> float:
        return sum(s.budget / s.span for s in self.parts())

    def parts(self) -> list[Shard]:
        """The log's documents, each with its budget: the log's own document
        alone when it is not sharded. Each shard's span is the window plus one
        of its own start intervals, the same margin over Veo's window."""
        window = get_settings().MEDIA_VEO_PACING_WINDOW_S
        gap = start_shards.gap_s(window) if self.spaced else 0.0
        if self.shards == 1:
            budget, span = self.budget_and_span()
            return [Shard(self.doc_id, budget, span, gap)]
        budgets = start_shards.split(max(1, self.per_min), self.shards)
        ids = start_shards.shard_doc_ids(self.doc_id, self.shards)
        return [Shard(d, b, window + window / b, gap) for d, b in zip(ids, budgets, strict=True)]


def veo_log(model: str) -> StartLog:
    """The start log of one Veo model where the pipeline calls it: Vertex
    counts a quota per base model and region, so the document is named by
    both (a model moved to another region by MEDIA_MODEL_LOCATIONS starts a
    fresh log, as its quota there is fresh too). MEDIA_VEO_PACING_SCOPE=project:
    one log, `veo-log`, for every model (the design before 0020)."""
    settings = get_settings()
    if settings.MEDIA_VEO_PACING_SCOPE == "project":  # one log for every model
        per_min, doc_id = settings.MEDIA_VEO_STARTS_PER_MIN, LOG_DOC
    else:
        per_min = settings.veo_starts_per_min(model)
        doc_id = f"{LOG_DOC}:{location_for(model)}:{model}"
    shards = start_shards.shard_count(per_min)
    return StartLog(doc_id, per_min, model, shards, start_shards.spaced(per_min))


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


def admit(
    starts: list[float], now: float, budget: int, span: float, gap: float = 0.0
) -> list[float] | None:
    """The log after one more start at `now`, or None when the last `span`
    seconds already hold `budget` starts, or the last span / 2 hold
    half_budget. Entries later than `now` (another instance's clock, or a
    test holding the budget) count too.

    The half-span limit spreads a backlog's first window: without it the
    whole minute went to whoever arrived in its first seconds (the scale
    benchmark's first 29 clips started with no wait, then every later one
    waited half a minute), which no order could even out afterwards. Replays
    of the benchmark's arrivals: the same starts per window, Jain's index of
    campaign mean wait 0.89 -> 0.92 on its seed (docs/decisions/0016).

    `gap` (a shard's, start_shards.gap_s): None too while the latest start
    is less than `gap` before `now`."""
    kept = _recent(starts, now, span)
    if len(kept) >= budget or len(_recent(kept, now, span / 2)) >= half_budget(budget):
        return None
    if gap and kept and kept[-1] > now - gap:
        return None
    return [*kept, now]


def free_at(starts: list[float], now: float, budget: int, span: float, gap: float = 0.0) -> float:
    """When the log admits its next start (now if it has room)."""
    kept = _recent(starts, now, span)
    half = _recent(kept, now, span / 2)
    at = now
    if gap and kept:
        at = max(at, kept[-1] + gap)
    if len(kept) >= budget:
        at = max(at, kept[len(kept) - budget] + span)
    if len(half) >= half_budget(budget):
        at = max(at, half[len(half) - half_budget(budget)] + span / 2)
    return at


def _doc_ref(doc_id: str) -> Any:
    return connections.firestore_client().document(pacing_doc(doc_id))


def take_start(
    log: StartLog,
    now: float | None = None,
    campaign_id: str | None = None,
    queued_at: float | None = None,
) -> float | None:
    """Take one start token from `log`: its time, or None when the budget is
    used up. Unpaced: always the current time. With `campaign_id` and
    `queued_at`, the start's wait joins the campaign's history in the same
    write (see wait_history). A sharded log's shards are tried from a random
    one round the ring; the start takes the first with room."""
    if not log.enabled:
        return now if now is not None else clock.time()
    parts = log.parts()
    for i in start_shards.try_order(len(parts)):
        taken = _take_from(parts[i], now, campaign_id, queued_at)
        if taken is not None:
            return taken
    return None


def _take_from(
    shard: Shard, now: float | None, campaign_id: str | None, queued_at: float | None
) -> float | None:
    budget, span = shard.budget, shard.span
    taken: list[float] = []

    def mutate(doc: Fields | None) -> tuple[Fields | None, bool]:
        # The clock is read on each try: a retry after contention starts later.
        t = now if now is not None else clock.time()
        starts = admit(_starts(doc), t, budget, span, shard.gap)
        if starts is None:
            return None, False
        taken[:] = [t]
        fields: Fields = {"starts": starts, "delete_after": ttl_timestamp(span + 3600)}
        if campaign_id is not None and queued_at is not None:
            fields["waits"] = add_wait(_waits(doc), campaign_id, max(0.0, t - queued_at), t)
        return fields, True

    return taken[0] if read_modify_write(_doc_ref(shard.doc_id), mutate) else None


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
    this log's model, for the dispatcher's order (dispatch.equalized); a
    sharded log's shards' histories added up."""
    return log_state(log, now)[0]


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
    """wait_history and the starts free now, from one read of each of the
    log's documents (for dispatch.published_order)."""
    t = now if now is not None else clock.time()
    histories, free = [], 0
    for shard in log.parts():  # one read a shard; a sharded log's parts added up
        snap = _doc_ref(shard.doc_id).get()
        fields = snap.to_dict() if snap.exists else None
        histories.append(history(_waits(fields), t))
        free += free_starts(_starts(fields), t, shard.budget, shard.span)
    return (histories[0] if len(histories) == 1 else start_shards.merge(histories)), free


def next_start_at(log: StartLog, now: float | None = None) -> float:
    """When `log`'s next start token is free (on its first free shard)."""
    t = now if now is not None else clock.time()
    at: list[float] = []
    for s in log.parts():
        snap = _doc_ref(s.doc_id).get()
        at.append(
            free_at(_starts(snap.to_dict() if snap.exists else None), t, s.budget, s.span, s.gap)
        )
    return min(at)


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
