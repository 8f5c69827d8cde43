"""A player's lifetime budget across every campaign: `players/{player_id}`.

The document is a book like a session ledger (shared/store/ledger.py): open
reservations (`holds`) and settled charges (`charges`) keyed
"{asset_id}:{stage}", totals derived from the maps in integer micro-dollars.
Its cap is the host's (`set_cap`); `cap_micros` null (or no document) means
no cap, and the book still records what the player spends, so a cap set later
counts everything spent before it. Invariant, when capped: spent + reserved
<= cap. A lowered cap stops new reservations; what is committed stays.
shared/store/spend.py keeps this book and the session's in step
(docs/decisions/0025-player-budgets.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from shared.domain.paths import player_doc
from shared.domain.pricing import micros_to_usd, usd_to_micros
from shared.store import connections
from shared.store.ledger import (
    Charged,
    first_fit_in,
    fitting_option,
    held_maps,
    release_in,
    settle_in,
)
from shared.store.optimistic import Fields, now, read_modify_write

# A lifetime cap: far above a session's (MediaSettings allows 10,000 USD), still a bound.
MAX_PLAYER_CAP_USD = 100_000


def player_cap_micros(cap_usd: float | str | Decimal | None) -> int | None:
    """A cap in USD as micro-dollars (None stays None: no cap), or ValueError."""
    if cap_usd is None:
        return None
    try:
        value = Decimal(str(cap_usd)) if not isinstance(cap_usd, bool) else None
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or not 0 <= value <= MAX_PLAYER_CAP_USD:
        raise ValueError(f"cap must be a number of USD from 0 to {MAX_PLAYER_CAP_USD}")
    return usd_to_micros(value)


@dataclass(frozen=True)
class PlayerBalance:
    cap_micros: int | None  # None: no cap
    spent_micros: int
    reserved_micros: int

    @property
    def remaining_micros(self) -> int | None:
        if self.cap_micros is None:
            return None
        return max(0, self.cap_micros - self.spent_micros - self.reserved_micros)

    def as_usd(self) -> dict[str, float | None]:
        """The session cost route's shape; cap and remaining null without a cap."""
        remaining = self.remaining_micros
        return {
            "cap_usd": None if self.cap_micros is None else micros_to_usd(self.cap_micros),
            "spent_usd": micros_to_usd(self.spent_micros),
            "reserved_usd": micros_to_usd(self.reserved_micros),
            "remaining_usd": None if remaining is None else micros_to_usd(remaining),
        }


def player_ref(player_id: str) -> Any:
    return connections.firestore_client().document(player_doc(player_id))


def cap_of(doc: Fields | None) -> int | None:
    cap = (doc or {}).get("cap_micros")
    return None if cap is None else int(cap)


def _fields(cap: int | None, holds: dict[str, int], charges: dict[str, int]) -> Fields:
    spent, reserved = sum(charges.values()), sum(holds.values())
    return {
        "cap_micros": cap,
        "cap_usd": None if cap is None else micros_to_usd(cap),
        "spent_micros": spent,
        "reserved_micros": reserved,
        "spent_usd": micros_to_usd(spent),
        "reserved_usd": micros_to_usd(reserved),
        "holds": holds,
        "charges": charges,
        "updated_at": now(),
    }


def _player_fields(doc: Fields | None, holds: dict[str, int], charges: dict[str, int]) -> Fields:
    return _fields(cap_of(doc), holds, charges)


def reserve_first_fit(player_id: str, options: list[dict[str, int]]) -> int | None:
    """The first option (keyed amounts) that fits the player's remaining cap,
    now held (or held before: a redelivery gets the same answer); None when
    none fits. Without a cap every option fits, and is recorded all the same."""
    return first_fit_in(player_ref(player_id), options, cap_of, _player_fields)


def could_fit(player_id: str, options: list[dict[str, int]]) -> int | None:
    """The first option the player's book would take now (one read, no
    write), or None: so a player out of money costs no session a write."""
    snap = player_ref(player_id).get()
    doc = snap.to_dict() if snap.exists else None
    found = fitting_option(doc, options, cap_of(doc))
    return None if found is None else found[0]


def settle(player_id: str, key: str, micros: int) -> Charged | None:
    """Turn the hold into a charge; None if it is not held (nothing charged)."""
    return settle_in(player_ref(player_id), key, micros, _player_fields)


def release(player_id: str, keys: list[str]) -> None:
    """Drop whichever of `keys` are still held; charges stay."""
    release_in(player_ref(player_id), keys, _player_fields)


def set_cap(player_id: str, cap_micros: int | None) -> PlayerBalance:
    """Store the player's lifetime cap (None: no cap), keeping every hold and
    charge. Returns the balance as the next reservation will see it."""

    def mutate(doc: Fields | None) -> tuple[Fields | None, PlayerBalance]:
        holds, charges = held_maps(doc)
        balance = PlayerBalance(cap_micros, sum(charges.values()), sum(holds.values()))
        if doc is not None and cap_of(doc) == cap_micros:
            return None, balance
        return _fields(cap_micros, holds, charges), balance

    return read_modify_write(player_ref(player_id), mutate)


def balance_of(doc: Fields | None) -> PlayerBalance:
    holds, charges = held_maps(doc)
    return PlayerBalance(cap_of(doc), sum(charges.values()), sum(holds.values()))


def read_balance(player_id: str) -> PlayerBalance:
    """No document: no cap, nothing spent."""
    snap = player_ref(player_id).get()
    return balance_of(snap.to_dict() if snap.exists else None)
