"""The per-session budget ledger: reserve before spending, settle after.

One document per (campaign, session) holds the open reservations (`holds`)
and settled charges (`charges`), each keyed by "{asset_id}:{stage}". Keys
make every step idempotent: a redelivered message that reserves or settles a
key already recorded changes nothing, so nothing is charged twice. Totals are
derived from the maps on every write, in integer micro-dollars, so they are
exact. Invariant, checked on every write: spent + reserved <= cap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.clients import firestore_client
from shared.docs import now, read_modify_write
from shared.pricing import micros_to_usd


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


def hold_key(asset_id: str, stage: str) -> str:
    return f"{asset_id}:{stage}"


def ledger_ref(campaign_id: str, session_id: str) -> Any:
    return (firestore_client().collection("campaigns").document(campaign_id)
            .collection("sessions").document(session_id))


def _maps(doc: dict[str, Any] | None) -> tuple[dict[str, int], dict[str, int]]:
    doc = doc or {}
    return dict(doc.get("holds") or {}), dict(doc.get("charges") or {})


def _fields(cap: int, holds: dict[str, int], charges: dict[str, int]) -> dict[str, Any]:
    spent, reserved = sum(charges.values()), sum(holds.values())
    # A cap lowered below what is already committed means "nothing more",
    # and the stored cap never reads below spent + reserved.
    cap = max(cap, spent + reserved)
    return {
        "cap_micros": cap, "spent_micros": spent, "reserved_micros": reserved,
        "cap_usd": micros_to_usd(cap), "spent_usd": micros_to_usd(spent),
        "reserved_usd": micros_to_usd(reserved),
        "holds": holds, "charges": charges, "updated_at": now(),
    }


def balance_of(doc: dict[str, Any] | None, default_cap_micros: int = 0) -> Balance:
    if not doc:
        return Balance(default_cap_micros, 0, 0)
    holds, charges = _maps(doc)
    return Balance(int(doc.get("cap_micros", default_cap_micros)),
                   sum(charges.values()), sum(holds.values()))


def read_balance(campaign_id: str, session_id: str, default_cap_micros: int = 0) -> Balance:
    snap = ledger_ref(campaign_id, session_id).get()
    return balance_of(snap.to_dict() if snap.exists else None, default_cap_micros)


def reserve_first_fit(campaign_id: str, session_id: str, cap_micros: int,
                      options: list[dict[str, int]]) -> int | None:
    """Reserve the first option (a set of keyed amounts) that fits under the cap.

    Returns the index of the option now held (or held before: a redelivery gets
    the same answer), or None when none fits.
    """

    def mutate(doc: dict[str, Any] | None) -> tuple[dict[str, Any] | None, int | None]:
        holds, charges = _maps(doc)
        recorded = holds.keys() | charges.keys()
        for index, option in enumerate(options):
            if option and option.keys() <= recorded:
                return None, index
        committed = sum(holds.values()) + sum(charges.values())
        for index, option in enumerate(options):
            new = {k: v for k, v in option.items() if k not in recorded}
            if committed + sum(new.values()) <= cap_micros:
                holds.update(new)
                return _fields(cap_micros, holds, charges), index
        if doc is None:
            return _fields(cap_micros, holds, charges), None  # record the cap anyway
        return None, None

    return read_modify_write(ledger_ref(campaign_id, session_id), mutate)


def settle(campaign_id: str, session_id: str, key: str, actual_micros: int) -> None:
    """Turn a hold into a charge of the actual cost; a second call is a no-op."""

    def mutate(doc: dict[str, Any] | None) -> tuple[dict[str, Any] | None, None]:
        holds, charges = _maps(doc)
        if key in charges:
            return None, None
        holds.pop(key, None)
        charges[key] = actual_micros
        cap = int((doc or {}).get("cap_micros", 0))
        return _fields(cap, holds, charges), None

    read_modify_write(ledger_ref(campaign_id, session_id), mutate)


def release(campaign_id: str, session_id: str, keys: list[str]) -> None:
    """Drop open holds (failure, block, timeout): blocked work is not billed."""

    def mutate(doc: dict[str, Any] | None) -> tuple[dict[str, Any] | None, None]:
        holds, charges = _maps(doc)
        if doc is None or not any(k in holds for k in keys):
            return None, None
        for key in keys:
            holds.pop(key, None)
        return _fields(int(doc.get("cap_micros", 0)), holds, charges), None

    read_modify_write(ledger_ref(campaign_id, session_id), mutate)


def charged_micros(campaign_id: str, session_id: str, asset_id: str) -> int:
    snap = ledger_ref(campaign_id, session_id).get()
    _, charges = _maps(snap.to_dict() if snap.exists else None)
    return sum(v for k, v in charges.items() if k.startswith(asset_id + ":"))
