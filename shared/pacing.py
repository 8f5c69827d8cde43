"""A project-wide budget of Veo starts: MEDIA_VEO_STARTS_PER_MIN per window.

Vertex's Veo quota is per project and per minute (about 50 starts for 3.1
-001). Starting faster only buys 429s and spent delivery attempts, so starts
take a token first. Tokens live in Firestore in one document per slot of a
tenth of the window (`pacing/veo-{slot}`), each holding a tenth of the
budget: about five writes per six seconds per document at 50/min, under
Firestore's sustained one write per second per document, and no document is
contended by more than the starts of its own slot. A rolling window of the
quota spans at most ten full slots, so starts stay at or under the budget.
MEDIA_VEO_PACING_WINDOW_S shortens the window for time-compressed benchmarks.
"""

from __future__ import annotations

import time
from typing import Any

from shared.clients import firestore_client
from shared.docs import read_modify_write
from shared.settings import get_settings

SLOTS = 10


def enabled() -> bool:
    return bool(get_settings().MEDIA_VEO_STARTS_PER_MIN)


def slot_shape() -> tuple[float, int]:
    """(seconds per slot, tokens per slot)."""
    settings = get_settings()
    rate = int(settings.MEDIA_VEO_STARTS_PER_MIN or 0)
    window = settings.MEDIA_VEO_PACING_WINDOW_S
    if rate >= SLOTS:
        return window / SLOTS, rate // SLOTS
    return window / max(1, rate), 1


def take_start(now: float | None = None) -> bool:
    """Take one start token from the current slot; False when it is used up."""
    if not enabled():
        return True
    slot_s, per_slot = slot_shape()
    slot = int((now if now is not None else time.time()) // slot_s)
    ref = firestore_client().collection("pacing").document(f"veo-{slot}")

    def mutate(doc: dict[str, Any] | None) -> tuple[dict[str, Any] | None, bool]:
        used = int((doc or {}).get("used", 0))
        if used >= per_slot:
            return None, False
        return {"used": used + 1, "slot_s": slot_s, "expires_at": time.time() + 3600}, True

    return read_modify_write(ref, mutate)


def starts_per_s() -> float:
    slot_s, per_slot = slot_shape()
    return per_slot / slot_s
