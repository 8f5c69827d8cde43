"""Money for one asset: the session ledger and, when set, the daily cap.

The stages call only these three verbs. Each is keyed by (asset, stage), so a
redelivered message repeats them harmlessly."""

from __future__ import annotations

from typing import Any

from shared import daily, ledger
from shared.pricing import usd_to_micros
from shared.settings import get_settings

STAGES = ("image", "video")


def reserve(campaign_id: str, session_id: str, asset_id: str, cap_micros: int,
            options: list[dict[str, int]]) -> tuple[int | None, dict[str, Any] | None]:
    """Reserve the first option (stage -> micros) that fits the session cap and,
    if MEDIA_DAILY_CAP_USD is set, the day's cap. Returns the option's index
    (None: refused) and where the daily hold lives (kept on the asset)."""
    keyed = [{ledger.hold_key(asset_id, s): m for s, m in o.items()} for o in options]
    choice = ledger.reserve_first_fit(campaign_id, session_id, cap_micros, keyed)
    daily_cap = get_settings().MEDIA_DAILY_CAP_USD
    if choice is None or daily_cap is None:
        return choice, None
    day = daily.today()
    shard = daily.reserve(day, usd_to_micros(daily_cap), asset_id, keyed[choice])
    if shard is None:
        ledger.release(campaign_id, session_id, list(keyed[choice]))
        return None, None
    return choice, {"day": day, "shard": shard}


def settle(asset: dict[str, Any], stage: str, micros: int) -> bool:
    """Charge the stage's hold. False: it was not held (the asset was closed
    and its hold released first), so nothing is charged, here or in the day."""
    key = ledger.hold_key(asset["asset_id"], stage)
    if not ledger.settle(asset["campaign_id"], asset["session_id"], key, micros):
        return False
    where = (asset.get("plan") or {}).get("daily")
    if where:
        daily.settle(where["day"], where["shard"], key, micros)
    return True


def release(asset: dict[str, Any], stages: tuple[str, ...] = STAGES) -> dict[str, int]:
    """Drop whatever is still held for these stages (failure, block, timeout).
    Returns the stages already charged (stage -> micros): a closer must not
    leave an asset without a charge it carries."""
    if not asset.get("session_id"):
        return {}
    keys = [ledger.hold_key(asset["asset_id"], s) for s in stages]
    charged = ledger.release(asset["campaign_id"], asset["session_id"], keys)
    where = (asset.get("plan") or {}).get("daily")
    if where:
        daily.release(where["day"], where["shard"], keys)
    return {key.rsplit(":", 1)[1]: micros for key, micros in charged.items()}
