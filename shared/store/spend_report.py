"""What a campaign spent, per game session or per day, for an operator's books.

The amounts are the session ledgers' settled charges (integer micro-dollars,
keyed "{asset_id}:{stage}"): the same book the cap is enforced on, so the
report and the budget can never disagree, and sums are exact. Open holds are
not spending and are left out. A day is the UTC day the asset was asked for
(its `created_at`), the same day the daily cap counted its reservation under;
an asset whose document is gone is reported under "unknown".
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from shared.domain.paths import media_collection, sessions_collection
from shared.domain.pricing import MICROS_PER_USD, micros_to_usd
from shared.store import connections
from shared.store.ledger import held_maps

By = Literal["session", "day"]
GROUPINGS: tuple[By, ...] = ("session", "day")
UNKNOWN_DAY = "unknown"
_BATCH = 300  # documents per get_all round trip


@dataclass(frozen=True)
class Row:
    key: str
    spent_micros: int
    assets: int


def charged_assets(campaign_id: str) -> dict[str, tuple[str, int]]:
    """asset id -> (session id, settled micro-dollars) over every session ledger."""
    out: dict[str, tuple[str, int]] = {}
    for snap in (
        connections.firestore_client().collection(sessions_collection(campaign_id)).stream()
    ):
        _, charges = held_maps(snap.to_dict())
        for key, micros in charges.items():
            asset_id = key.rpartition(":")[0] or key
            _, before = out.get(asset_id, (snap.id, 0))
            out[asset_id] = (snap.id, before + int(micros))
    return out


def _days(campaign_id: str, asset_ids: list[str]) -> dict[str, str]:
    media = connections.firestore_client().collection(media_collection(campaign_id))
    days: dict[str, str] = {}
    for start in range(0, len(asset_ids), _BATCH):
        refs = [media.document(a) for a in asset_ids[start : start + _BATCH]]
        for snap in connections.firestore_client().get_all(refs, field_paths=["created_at"]):
            created = (snap.to_dict() or {}).get("created_at") if snap.exists else None
            if isinstance(created, datetime):
                days[snap.id] = created.astimezone(UTC).strftime("%Y-%m-%d")
    return days


def spend_rows(campaign_id: str, by: By = "session") -> list[Row]:
    """One row per session (or day) with any settled charge, ordered by key."""
    if by not in GROUPINGS:
        raise ValueError(f"by must be one of {', '.join(GROUPINGS)}")
    charged = charged_assets(campaign_id)
    if by == "session":
        keys = {asset: session for asset, (session, _) in charged.items()}
    else:
        days = _days(campaign_id, sorted(charged))
        keys = {asset: days.get(asset, UNKNOWN_DAY) for asset in charged}
    spent: dict[str, int] = defaultdict(int)
    count: dict[str, int] = defaultdict(int)
    for asset, (_, micros) in charged.items():
        spent[keys[asset]] += micros
        count[keys[asset]] += 1
    return [Row(k, spent[k], count[k]) for k in sorted(spent)]


def report(campaign_id: str, by: By = "session") -> dict[str, Any]:
    """The JSON answer of `GET /campaigns/{cid}/spend` (docs/interface.md section 5)."""
    rows = spend_rows(campaign_id, by)
    return {
        "rows": [
            {"key": r.key, "spent_usd": micros_to_usd(r.spent_micros), "assets": r.assets}
            for r in rows
        ],
        "total_usd": micros_to_usd(sum(r.spent_micros for r in rows)),
    }


def usd_text(micros: int) -> str:
    """Exact decimal dollars for a spreadsheet: 467000 -> "0.467000"."""
    sign = "-" if micros < 0 else ""
    whole, frac = divmod(abs(micros), MICROS_PER_USD)
    return f"{sign}{whole}.{frac:06d}"


TOTAL_KEY = "(total)"  # outside the id charsets: never a session id or a day


def csv_text(rows: list[Row]) -> str:
    """key,spent_usd,assets lines and a last `(total)` line."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["key", "spent_usd", "assets"])
    for r in rows:
        writer.writerow([r.key, usd_text(r.spent_micros), r.assets])
    writer.writerow(
        [TOTAL_KEY, usd_text(sum(r.spent_micros for r in rows)), sum(r.assets for r in rows)]
    )
    return out.getvalue()
