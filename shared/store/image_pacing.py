"""Image-model calls paced per model and location, at a rate that adapts to 429s.

Gemini's image models have no fixed per-project quota on Vertex: they draw on
a dynamic shared quota, and a 429 means the shared pool is busy right now
(DESIGN.md). So there is no number to pace to once and for all. Each model,
where the pipeline calls it (`location_for`), has one Firestore document
(`pacing/image-log:{location}:{model}`) holding the rate calls go out at,
and the rate follows what the model answers, as TCP's window does (AIMD):

- it starts at MEDIA_IMAGE_CALLS_PER_MIN, the ceiling (calls per
  MEDIA_VEO_PACING_WINDOW_S, a minute but in time-compressed benchmarks);
- a 429 halves it (multiplicative decrease), down to a floor of a twentieth
  of the ceiling. Only the first 429 of calls sent at a rate cuts it: each
  cut starts a new `epoch`, and a 429 of a call paced in an older epoch (sent
  before the cut, at the old rate) says nothing about the new rate;
- a whole window of calls at the current rate with no cut (a slot a window
  or more after the rate last changed) raises it by a twentieth of the
  ceiling (additive increase), up to the ceiling. Counted in slot times,
  not reservations: slots reserved ahead in a queue have not been answered
  yet, so they prove nothing about the rate.

A call takes a slot, not a poll: one transaction reserves the next free time
(`next_at`), moves it on by window / rate and returns the slot; the caller
sleeps until its slot. One write a call (Firestore sustains about one a
second per document: a ceiling of 60 a minute keeps under it), none for a
success and one for a 429 that cuts the rate.

A call answered 429 did no work and cost nothing, so it is taken again in
the same delivery, in a new slot at the lower rate, without writing another
call intent (render.image_intent counts calls that may have been paid). Past
MEDIA_IMAGE_PACING_WAIT_S of waiting the delivery is handed back
(RetriesSpent) for the platform to redeliver. MEDIA_IMAGE_CALLS_PER_MIN=0
turns all of this off: the SDK retries a 429 itself and the delivery is
redelivered after that (the design before docs/decisions/0028).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from shared.core import clock, log
from shared.core.errors import QuotaExceeded, RetriesSpent
from shared.core.settings import get_settings
from shared.domain.locations import location_for
from shared.domain.paths import pacing_doc
from shared.store import connections
from shared.store.optimistic import Fields, read_modify_write, ttl_timestamp

T = TypeVar("T")

LOG_DOC = "image-log"
DECREASE = 0.5  # a 429 halves the rate
SHARE = 20  # the floor and the additive step: a twentieth of the ceiling


@dataclass(frozen=True)
class Limits:
    """One model's pacing: calls per window, from `floor` up to `ceiling`."""

    ceiling: float  # 0: unpaced
    window_s: float

    @property
    def enabled(self) -> bool:
        return self.ceiling > 0

    @property
    def floor(self) -> float:
        return self.ceiling / SHARE

    @property
    def step(self) -> float:
        return self.ceiling / SHARE


@dataclass(frozen=True)
class Slot:
    """A reserved call: when it may go out, and the epoch whose rate paced it."""

    at: float
    epoch: int


def limits() -> Limits:
    settings = get_settings()
    return Limits(float(settings.MEDIA_IMAGE_CALLS_PER_MIN), settings.MEDIA_VEO_PACING_WINDOW_S)


def log_id(model: str) -> str:
    """Vertex counts a model's calls per base model and region: one log each."""
    return f"{LOG_DOC}:{location_for(model)}:{model}"


def rate_of(doc: Fields | None, lim: Limits) -> float:
    """The log's current rate, calls per window, within [floor, ceiling]
    (a lowered ceiling applies at once)."""
    rate = float((doc or {}).get("rate") or lim.ceiling)
    return min(lim.ceiling, max(lim.floor, rate))


def reserve(
    doc: Fields | None, now: float, lim: Limits, wait_s: float
) -> tuple[Fields, Slot] | None:
    """The log after one more call, and that call's slot; None when the next
    free slot is more than `wait_s` away (nothing is written then)."""
    state = doc or {}
    rate = rate_of(doc, lim)
    at = max(now, float(state.get("next_at") or 0.0))
    if at - now > wait_s:
        return None
    epoch = int(state.get("epoch") or 0)
    changed_at = float(state.get("changed_at") or at)
    if at - changed_at >= lim.window_s and rate < lim.ceiling:
        rate, changed_at = min(lim.ceiling, rate + lim.step), at
    fields: Fields = {
        "rate": rate,
        "next_at": at + lim.window_s / rate,
        "epoch": epoch,
        "changed_at": changed_at,
        "delete_after": ttl_timestamp(lim.window_s + 3600),
    }
    return fields, Slot(at, epoch)


def cut(doc: Fields | None, now: float, lim: Limits, slot: Slot) -> Fields | None:
    """The log after a 429 on a call paced in `slot`: the rate halved and a
    new epoch, or None when the rate was cut since that call was paced."""
    state = doc or {}
    epoch = int(state.get("epoch") or 0)
    if slot.epoch != epoch:
        return None
    rate = max(lim.floor, rate_of(doc, lim) * DECREASE)
    return {
        "rate": rate,
        # Slots already handed out keep their times; the next one waits a
        # whole interval at the new rate from now at least.
        "next_at": max(float(state.get("next_at") or 0.0), now + lim.window_s / rate),
        "epoch": epoch + 1,
        "changed_at": now,
        "delete_after": ttl_timestamp(lim.window_s + 3600),
    }


def _ref(model: str) -> Any:
    return connections.firestore_client().document(pacing_doc(log_id(model)))


def take_slot(model: str, lim: Limits, wait_s: float) -> Slot | None:
    """Reserve the model's next call slot (None: none within `wait_s`)."""
    taken: list[Slot] = []

    def mutate(doc: Fields | None) -> tuple[Fields | None, bool]:
        found = reserve(doc, clock.time(), lim, wait_s)
        if found is None:
            return None, False
        taken[:] = [found[1]]
        return found[0], True

    return taken[0] if read_modify_write(_ref(model), mutate) else None


def throttled(model: str, lim: Limits, slot: Slot) -> bool:
    """Record a 429 on a call paced in `slot`; True if it cut the rate."""

    def mutate(doc: Fields | None) -> tuple[Fields | None, bool]:
        fields = cut(doc, clock.time(), lim, slot)
        return fields, fields is not None

    return bool(read_modify_write(_ref(model), mutate))


def paced_call(
    model: str,
    call: Callable[[], T],
    before_each: Callable[[], None] = lambda: None,
    before_first: Callable[[], None] = lambda: None,
) -> T:
    """Make `call` (one image call of `model`) in its turn, again in a later
    turn after each 429, for up to MEDIA_IMAGE_PACING_WAIT_S of waiting.
    `before_each` runs before every try (the lease check), `before_first`
    once (the call intent: a 429 is not a paid call). Unpaced: both, then
    the call, once."""
    lim = limits()
    if not lim.enabled:
        before_each()
        before_first()
        return call()
    give_up = clock.monotonic() + get_settings().MEDIA_IMAGE_PACING_WAIT_S
    first = True
    while True:
        slot = take_slot(model, lim, max(0.0, give_up - clock.monotonic()))
        if slot is None:
            raise RetriesSpent(f"no {model} call slot within MEDIA_IMAGE_PACING_WAIT_S")
        pause = slot.at - clock.time()
        if pause > 0:
            clock.sleep(pause)
        before_each()
        if first:
            before_first()
            first = False
        try:
            return call()
        except QuotaExceeded as exc:
            slowed = throttled(model, lim, slot)
            log.warning(
                "image_quota",
                f"{model} answered 429; taken again in a later slot"
                + (" at half the rate" if slowed else ""),
                error=str(exc)[:200],
            )
