"""The project-wide daily spend cap (MEDIA_DAILY_CAP_USD), without a hot document.

The day's cap is split into SHARDS equal allowances, one document each
(`spend_days/{day}/shards/{n}`). A reservation goes to one shard with room, so
writers spread over the shards, and the sum of the shards' allowances is the
cap: the bound is exact. The price is fragmentation: near the cap a request
can be refused while the day as a whole still has a little room spread over
several shards; for a kill switch that is the right side to err on.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any

from shared.core import clock
from shared.domain.paths import spend_shard_doc
from shared.store import connections
from shared.store.ledger import held_maps, release_in, settle_in
from shared.store.optimistic import Fields, now, read_modify_write

SHARDS = 10


def today() -> str:
    return clock.now().strftime("%Y-%m-%d")


def shard_ref(day: str, shard: int) -> Any:
    return connections.firestore_client().document(spend_shard_doc(day, shard))


def allowance(cap_micros: int, shard: int) -> int:
    base, extra = divmod(cap_micros, SHARDS)
    return base + (1 if shard < extra else 0)


def _fields(holds: dict[str, int], charges: dict[str, int]) -> Fields:
    return {
        "holds": holds,
        "charges": charges,
        "reserved_micros": sum(holds.values()),
        "spent_micros": sum(charges.values()),
        "updated_at": now(),
    }


def _shard_fields(_doc: Fields | None, holds: dict[str, int], charges: dict[str, int]) -> Fields:
    return _fields(holds, charges)


def reserve(day: str, cap_micros: int, asset_id: str, items: dict[str, int]) -> int | None:
    """Hold `items` in one shard; returns the shard, or None if none has room.

    A redelivery finds its earlier hold (all shards are read in one call) and
    gets the same shard back, so nothing is held twice."""
    refs = [shard_ref(day, n) for n in range(SHARDS)]
    snaps = {int(s.reference.id): s for s in connections.firestore_client().get_all(refs)}
    for n, snap in snaps.items():
        holds, charges = held_maps(snap.to_dict() if snap.exists else None)
        if items.keys() & (holds.keys() | charges.keys()):
            return n
    order = list(range(SHARDS))
    random.Random(hashlib.sha256(asset_id.encode()).digest()).shuffle(order)
    for n in order:

        def mutate(doc: Fields | None, n: int = n) -> tuple[Fields | None, bool]:
            holds, charges = held_maps(doc)
            used = sum(holds.values()) + sum(charges.values())
            if used + sum(items.values()) > allowance(cap_micros, n):
                return None, False
            holds.update(items)
            return _fields(holds, charges), True

        if read_modify_write(shard_ref(day, n), mutate):
            return n
    return None


def settle(day: str, shard: int, key: str, micros: int) -> bool:
    return settle_in(shard_ref(day, shard), key, micros, _shard_fields) is not None


def release(day: str, shard: int, keys: list[str]) -> None:
    release_in(shard_ref(day, shard), keys, _shard_fields)


def spent_today(day: str) -> tuple[int, int]:
    """(spent, reserved) micro-dollars over all shards of a day."""
    refs = [shard_ref(day, n) for n in range(SHARDS)]
    spent = reserved = 0
    for snap in connections.firestore_client().get_all(refs):
        holds, charges = held_maps(snap.to_dict() if snap.exists else None)
        spent += sum(charges.values())
        reserved += sum(holds.values())
    return spent, reserved
