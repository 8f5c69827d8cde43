"""Money for one asset: the session ledger and, when set, the daily cap.

The stages call only these three verbs. Each is keyed by (asset, stage), so a
redelivered message repeats them harmlessly. A charge is announced on
MEDIA_CHARGES_TOPIC (shared/store/charges.py) each time settle or release
finds it made, so a message lost to a crash is sent by the next one that looks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

from shared.core.settings import get_settings
from shared.domain.pricing import usd_to_micros
from shared.store import charges, daily, ledger

STAGES = ("image", "video")


class DailyHold(TypedDict):
    """Where a hold against the day's cap lives (MEDIA_DAILY_CAP_USD)."""

    day: str
    shard: int


def reserve(
    campaign_id: str, session_id: str, asset_id: str, cap_micros: int, options: list[dict[str, int]]
) -> tuple[int | None, DailyHold | None]:
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


def clip_stage(asset: Mapping[str, Any]) -> str:
    """The ledger stage of the asset's current clip attempt: "video" for the
    first, "video.N" for an owner's N-th try (re-animate), so each attempt can
    be charged once and a duplicate of one attempt never twice."""
    attempt = int(asset.get("video_attempt") or 1)
    return "video" if attempt <= 1 else f"video.{attempt}"


def _key_and_day(asset: Mapping[str, Any], stage: str) -> tuple[str, DailyHold | None]:
    """The ledger key of a stage ("video" means the current attempt) and the
    daily shard that holds it (a retried clip's hold lives in its own day's)."""
    if stage == "video" and clip_stage(asset) != "video":
        return ledger.hold_key(asset["asset_id"], clip_stage(asset)), asset.get("clip_daily")
    return ledger.hold_key(asset["asset_id"], stage), (asset.get("plan") or {}).get("daily")


def settle(asset: Mapping[str, Any], stage: str, micros: int) -> bool:
    """Charge the stage's hold ("video" means the current clip attempt). False:
    it was not held (the asset was closed and its hold released first), so
    nothing is charged, here or in the day."""
    key, where = _key_and_day(asset, stage)
    charged = ledger.settle_charge(asset["campaign_id"], asset["session_id"], key, micros)
    if charged is None:
        return False
    if where:
        daily.settle(where["day"], where["shard"], key, micros)
    # Made now or found made (a redelivery): announced either way, the same message.
    charges.announce(asset, key, charged)
    return True


def release(asset: Mapping[str, Any], stages: tuple[str, ...] = STAGES) -> dict[str, int]:
    """Drop whatever is still held for these stages (failure, block, timeout).
    Returns the stages already charged (stage -> micros): a closer must not
    leave an asset without a charge it carries."""
    if not asset.get("session_id"):
        return {}
    found = {s: _key_and_day(asset, s) for s in stages}
    charged = ledger.release_charged(
        asset["campaign_id"], asset["session_id"], [k for k, _ in found.values()]
    )
    shards: dict[tuple[str, int], list[str]] = {}
    for key, where in found.values():
        if where:
            shards.setdefault((where["day"], where["shard"]), []).append(key)
    for (day, shard), keys in shards.items():
        daily.release(day, shard, keys)
    for key, charge in charged.items():
        # A closer finds what a worker charged: that worker may have died
        # before announcing it.
        charges.announce(asset, key, charge)
    return {s: charged[k].micros for s, (k, _) in found.items() if k in charged}
