"""The per-session budget ledger: reserve before spending, settle after.

One document per (campaign, session) holds the open reservations (`holds`)
and settled charges (`charges`), each keyed by "{asset_id}:{stage}". Keys
make every step idempotent: a redelivered message that reserves or settles a
key already recorded changes nothing, so nothing is charged twice. Totals are
derived from the maps on every write, in integer micro-dollars, so they are
exact. Invariant: spent + reserved <= cap, where cap is the campaign's
configured budget (stored as it is, never raised to fit): a reservation is
the only way money is committed, and it checks the cap; a settle only turns
a hold into a charge (a key that is not held is not charged: its work was
given up on); a release only drops holds. A budget lowered below what is
already committed stops new reservations; what is committed stays.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.core import clock
from shared.domain.paths import ledger_doc, sessions_collection
from shared.domain.pricing import micros_to_usd
from shared.store import connections
from shared.store.optimistic import Fields, now, read_modify_write


@dataclass(frozen=True)
class Balance:
    cap_micros: int
    spent_micros: int
    reserved_micros: int

    @property
    def remaining_micros(self) -> int:
        return max(0, self.cap_micros - self.spent_micros - self.reserved_micros)

    def as_usd(self) -> dict[str, float]:
        return {
            "cap_usd": micros_to_usd(self.cap_micros),
            "spent_usd": micros_to_usd(self.spent_micros),
            "reserved_usd": micros_to_usd(self.reserved_micros),
            "remaining_usd": micros_to_usd(self.remaining_micros),
        }


@dataclass(frozen=True)
class Charged:
    """A key found charged: what it was charged, and when (None for charges
    made before session ledgers kept their times)."""

    micros: int
    settled_at: datetime | None


def hold_key(asset_id: str, stage: str) -> str:
    return f"{asset_id}:{stage}"


def ledger_ref(campaign_id: str, session_id: str) -> Any:
    return connections.firestore_client().document(ledger_doc(campaign_id, session_id))


def held_maps(doc: Fields | None) -> tuple[dict[str, int], dict[str, int]]:
    doc = doc or {}
    return dict(doc.get("holds") or {}), dict(doc.get("charges") or {})


def _fields(cap: int, holds: dict[str, int], charges: dict[str, int]) -> Fields:
    spent, reserved = sum(charges.values()), sum(holds.values())
    return {
        "cap_micros": cap,
        "spent_micros": spent,
        "reserved_micros": reserved,
        "cap_usd": micros_to_usd(cap),
        "spent_usd": micros_to_usd(spent),
        "reserved_usd": micros_to_usd(reserved),
        "holds": holds,
        "charges": charges,
        "updated_at": now(),
    }


def balance_of(doc: Fields | None, default_cap_micros: int = 0) -> Balance:
    if not doc:
        return Balance(default_cap_micros, 0, 0)
    holds, charges = held_maps(doc)
    return Balance(
        int(doc.get("cap_micros", default_cap_micros)), sum(charges.values()), sum(holds.values())
    )


def read_balance(campaign_id: str, session_id: str, default_cap_micros: int = 0) -> Balance:
    snap = ledger_ref(campaign_id, session_id).get()
    return balance_of(snap.to_dict() if snap.exists else None, default_cap_micros)


# How a book (a session ledger, a daily shard, a player) writes its totals back:
# fields_for(doc, holds, charges) -> the fields to store.
FieldsFor = Callable[[Fields | None, dict[str, int], dict[str, int]], Fields]


def reserve_first_fit(
    campaign_id: str, session_id: str, cap_micros: int, options: list[dict[str, int]]
) -> int | None:
    """Reserve the first option (a set of keyed amounts) that fits under the cap.

    Returns the index of the option now held (or held before: a redelivery gets
    the same answer), or None when none fits.
    """

    def fields_for(_doc: Fields | None, holds: dict[str, int], charges: dict[str, int]) -> Fields:
        return _fields(cap_micros, holds, charges)

    ref = ledger_ref(campaign_id, session_id)
    return first_fit_in(ref, options, lambda _doc: cap_micros, fields_for, record_cap=True)


def fitting_option(
    doc: Fields | None, options: list[dict[str, int]], cap: int | None
) -> tuple[int, dict[str, int]] | None:
    """Which option a book takes: the first one it records already (nothing
    new to hold: a redelivery), else the first that fits under `cap` (None:
    no cap). Returns (its index, the amounts to hold now), or None."""
    holds, charges = held_maps(doc)
    recorded = holds.keys() | charges.keys()
    for index, option in enumerate(options):
        if option and option.keys() <= recorded:
            return index, {}
    committed = sum(holds.values()) + sum(charges.values())
    for index, option in enumerate(options):
        new = {k: v for k, v in option.items() if k not in recorded}
        if cap is None or committed + sum(new.values()) <= cap:
            return index, new
    return None


def first_fit_in(
    ref: Any,
    options: list[dict[str, int]],
    cap_for: Callable[[Fields | None], int | None],
    fields_for: FieldsFor,
    record_cap: bool = False,
) -> int | None:
    """reserve_first_fit on any book: `cap_for(doc)` is its cap (None: no
    cap, every option fits). `record_cap`: a new book is written even when
    nothing fits, so it shows its cap."""

    def mutate(doc: Fields | None) -> tuple[Fields | None, int | None]:
        found = fitting_option(doc, options, cap_for(doc))
        holds, charges = held_maps(doc)
        if found is None:
            if doc is None and record_cap:
                return fields_for(doc, holds, charges), None
            return None, None
        index, new = found
        if not new:
            return None, index
        holds.update(new)
        return fields_for(doc, holds, charges), index

    return read_modify_write(ref, mutate)


def settle_in(
    ref: Any, key: str, micros: int, fields_for: FieldsFor, keep_time: bool = False
) -> Charged | None:
    """Turn the hold `key` into a charge of `micros`; a second call is a no-op.

    Returns the charge (made now or before), or None: the key is not held
    (released: its asset was closed meanwhile), so it is not charged: nothing
    was reserved for it, so charging it could break the cap. `keep_time`:
    record when it was charged (`charged_at`, a map like `charges`), so a
    charge announced again (shared/store/charges.py) says the same time."""

    def mutate(doc: Fields | None) -> tuple[Fields | None, Charged | None]:
        holds, charges = held_maps(doc)
        times = dict((doc or {}).get("charged_at") or {})
        if key in charges:
            return None, Charged(int(charges[key]), times.get(key))
        if key not in holds:
            return None, None
        holds.pop(key)
        charges[key] = micros
        fields = fields_for(doc, holds, charges)
        stamp = clock.now() if keep_time else None
        if keep_time:
            fields["charged_at"] = {**times, key: stamp}
        return fields, Charged(micros, stamp)

    return read_modify_write(ref, mutate)


def release_in(ref: Any, keys: list[str], fields_for: FieldsFor) -> dict[str, Charged]:
    """Drop whichever of `keys` are still held; nothing to drop, nothing written.
    Returns those of `keys` that are charged (settled before the release)."""

    def mutate(doc: Fields | None) -> tuple[Fields | None, dict[str, Charged]]:
        holds, charges = held_maps(doc)
        times = (doc or {}).get("charged_at") or {}
        charged = {k: Charged(int(charges[k]), times.get(k)) for k in keys if k in charges}
        if not any(k in holds for k in keys):
            return None, charged
        for key in keys:
            holds.pop(key, None)
        return fields_for(doc, holds, charges), charged

    return read_modify_write(ref, mutate)


def _session_fields(doc: Fields | None, holds: dict[str, int], charges: dict[str, int]) -> Fields:
    return _fields(int((doc or {}).get("cap_micros", 0)), holds, charges)


def settle(campaign_id: str, session_id: str, key: str, actual_micros: int) -> bool:
    """Turn a hold into a charge of the actual cost; a second call is a no-op.
    False: the key was not held, and nothing is charged."""
    return settle_charge(campaign_id, session_id, key, actual_micros) is not None


def settle_charge(
    campaign_id: str, session_id: str, key: str, actual_micros: int
) -> Charged | None:
    """`settle`, returning the charge (made by this call or before) or None."""
    ref = ledger_ref(campaign_id, session_id)
    return settle_in(ref, key, actual_micros, _session_fields, keep_time=True)


def release(campaign_id: str, session_id: str, keys: list[str]) -> dict[str, int]:
    """Drop open holds (failure, block, timeout): blocked work is not billed.
    Returns those of `keys` already charged."""
    return {k: c.micros for k, c in release_charged(campaign_id, session_id, keys).items()}


def release_charged(campaign_id: str, session_id: str, keys: list[str]) -> dict[str, Charged]:
    """`release`, returning the charges found with their times."""
    return release_in(ledger_ref(campaign_id, session_id), keys, _session_fields)


def set_cap(campaign_id: str, cap_micros: int) -> int:
    """Store a changed budget on every session ledger of the campaign, so the
    documents players watch show it at once (not at the next reservation).
    Returns how many ledgers changed."""
    sessions = connections.firestore_client().collection(sessions_collection(campaign_id))
    changed = 0
    for snap in sessions.stream():

        def mutate(doc: Fields | None) -> tuple[Fields | None, bool]:
            if doc is None or int(doc.get("cap_micros", -1)) == cap_micros:
                return None, False
            holds, charges = held_maps(doc)
            return _fields(cap_micros, holds, charges), True

        changed += read_modify_write(snap.reference, mutate)
    return changed
