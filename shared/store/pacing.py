"""A project-wide budget of Veo starts: MEDIA_VEO_STARTS_PER_MIN per window.

Vertex's Veo quota is per project and per minute (about 50 starts for 3.1
-001), counted over a rolling window. Starting faster only buys 429s and
spent delivery attempts, so a start takes a token first. Time is cut into
slots of window / (budget - 1) seconds with one token each, one Firestore
document per slot (`pacing/veo-{slot}`): any rolling window then touches at
most `budget` slots, so starts never exceed the quota, while a backlog still
starts at (budget - 1) / budget of it (97% at 30/min, 98% at 50). Each
document takes one successful write per slot (1.2 s at 50/min), under
Firestore's sustained one write per second per document. (A first version
put a tenth of the budget in each of ten slots: a rolling window could then
see 11 slots' worth, and the scale benchmark measured 7.5% over the quota.)
MEDIA_VEO_PACING_WINDOW_S shortens the window for time-compressed benchmarks.
"""

from __future__ import annotations

import time
from typing import Any

from shared.core.settings import get_settings
from shared.domain.asset_state import waiting
from shared.domain.paths import pacing_doc
from shared.store.connections import firestore_client
from shared.store.optimistic import read_modify_write


def enabled() -> bool:
    return bool(get_settings().MEDIA_VEO_STARTS_PER_MIN)


def slot_shape() -> tuple[float, int]:
    """(seconds per slot, tokens per slot)."""
    settings = get_settings()
    rate = int(settings.MEDIA_VEO_STARTS_PER_MIN or 0)
    return settings.MEDIA_VEO_PACING_WINDOW_S / max(1, rate - 1), 1


def take_start(now: float | None = None) -> int | None:
    """Take one start token from the current slot: the slot's number, or None
    when it is used up. Unpaced: always -1."""
    if not enabled():
        return -1
    slot_s, per_slot = slot_shape()
    slot = int((now if now is not None else time.time()) // slot_s)
    ref = firestore_client().document(pacing_doc(str(slot)))

    def mutate(doc: dict[str, Any] | None) -> tuple[dict[str, Any] | None, bool]:
        used = int((doc or {}).get("used", 0))
        if used >= per_slot:
            return None, False
        return {"used": used + 1, "slot_s": slot_s, "expires_at": time.time() + 3600}, True

    return slot if read_modify_write(ref, mutate) else None


def starts_per_s() -> float:
    slot_s, per_slot = slot_shape()
    return per_slot / slot_s


def next_slot_at(now: float | None = None) -> float:
    """When the next slot (and its tokens) begins."""
    slot_s, _ = slot_shape()
    t = now if now is not None else time.time()
    return (int(t // slot_s) + 1) * slot_s


def queue_minutes() -> float | None:
    """How long a clip asked for now would wait for its start, in minutes
    (None when starts are unpaced). One query."""
    from shared.store.asset_queries import animating

    if not enabled():
        return None
    return len(waiting(animating())) / starts_per_s() / 60.0
