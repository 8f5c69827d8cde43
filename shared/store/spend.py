"""Money for one asset: the session ledger, the player's book when the request
names a player (shared/store/players.py), and, when set, the daily cap.

The stages call only these three verbs. Each is keyed by (asset, stage), so a
redelivered message repeats them harmlessly. A charge is announced on
MEDIA_CHARGES_TOPIC (shared/store/charges.py) each time settle or release
finds it made, so a message lost to a crash is sent by the next one that looks.

The session ledger decides: the player's book is reserved after it, charged
after it and released with it, each step idempotent, so a crash between the
two is repaired by whoever repeats the step (a redelivery) or closes the asset
(the janitor's sweep releases both books by the asset's player_id). See
docs/decisions/0025-player-budgets.md."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

from shared.core.settings import get_settings
from shared.domain.ids import is_player_id
from shared.domain.pricing import usd_to_micros
from shared.store import charges, daily, ledger, players

STAGES = ("image", "video")


class DailyHold(TypedDict):
    """Where a hold against the day's cap lives (MEDIA_DAILY_CAP_USD)."""

    day: str
    shard: int


def reserve(
    campaign_id: str,
    session_id: str,
    asset_id: str,
    cap_micros: int,
    options: list[dict[str, int]],
    player_id: str | None = None,
) -> tuple[int | None, DailyHold | None]:
    """Reserve the first option (stage -> micros) that fits the session cap,
    the player's remaining cap when `player_id` is given, and, if
    MEDIA_DAILY_CAP_USD is set, the day's cap. Returns the option's index
    (None: refused) and where the daily hold lives (kept on the asset)."""
    keyed = [{ledger.hold_key(asset_id, s): m for s, m in o.items()} for o in options]
    # A look at the player's book first (a read): what it cannot afford now
    # is not held in the session only to be given back (as with the session's
    # own refusals, a spent player's requests write nothing). The hold on the
    # player's book below is what counts.
    first = players.could_fit(player_id, keyed) if player_id else 0
    if first is None:
        return None, None
    choice = ledger.reserve_first_fit(campaign_id, session_id, cap_micros, keyed[first:])
    choice = None if choice is None else choice + first
    if choice is not None and first:
        # A delivery that died after the player refused the clip but before the
        # session gave its hold back left it held: give it back now.
        stale = {k for option in keyed[:first] for k in option} - keyed[choice].keys()
        ledger.release(campaign_id, session_id, sorted(stale))
    if choice is not None and player_id:
        choice = _reserve_player(campaign_id, session_id, player_id, keyed, choice)
    daily_cap = get_settings().MEDIA_DAILY_CAP_USD
    if choice is None or daily_cap is None:
        return choice, None
    day = daily.today()
    shard = daily.reserve(day, usd_to_micros(daily_cap), asset_id, keyed[choice])
    if shard is None:
        ledger.release(campaign_id, session_id, list(keyed[choice]))
        if player_id:
            players.release(player_id, list(keyed[choice]))
        return None, None
    return choice, {"day": day, "shard": shard}


def _reserve_player(
    campaign_id: str, session_id: str, player_id: str, keyed: list[dict[str, int]], choice: int
) -> int | None:
    """With the session's option `choice` held, hold the first option from it
    on that fits the player too and is part of it (a cutscene's still is part
    of still + clip); give the session back what the player cannot afford."""
    held = keyed[choice]
    within = [i for i in range(choice, len(keyed)) if keyed[i].keys() <= held.keys()]
    picked = players.reserve_first_fit(player_id, [keyed[i] for i in within])
    if picked is None:
        ledger.release(campaign_id, session_id, list(held))
        return None
    index = within[picked]
    extra = [k for k in held if k not in keyed[index]]
    if extra:
        ledger.release(campaign_id, session_id, extra)
    return index


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


def player_of(asset: Mapping[str, Any]) -> str | None:
    """The asset's player, whose book holds its stages. An asset written before
    player ids had to be document ids may carry one that is not: it has no book."""
    player_id = asset.get("player_id")
    return player_id if is_player_id(player_id) else None


def settle(asset: Mapping[str, Any], stage: str, micros: int) -> bool:
    """Charge the stage's hold ("video" means the current clip attempt). False:
    it was not held (the asset was closed and its hold released first), so
    nothing is charged, here or in the day."""
    key, where = _key_and_day(asset, stage)
    player_id = player_of(asset)
    charged = ledger.settle_charge(asset["campaign_id"], asset["session_id"], key, micros)
    if charged is None:
        if player_id:  # the session gave it up: the player's hold goes too
            players.release(player_id, [key])
        return False
    if player_id:
        players.settle(player_id, key, charged.micros)
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
    player_id = player_of(asset)
    if player_id:
        _release_player(player_id, [k for k, _ in found.values()], charged)
    for key, charge in charged.items():
        # A closer finds what a worker charged: that worker may have died
        # before announcing it.
        charges.announce(asset, key, charge)
    return {s: charged[k].micros for s, (k, _) in found.items() if k in charged}


def _release_player(player_id: str, keys: list[str], charged: dict[str, ledger.Charged]) -> None:
    """The player's book follows the session's: what the session charged is
    charged to the player too (its worker may have died between the two
    settles), the rest released."""
    players.release(player_id, [k for k in keys if k not in charged])
    for key, charge in charged.items():
        players.settle(player_id, key, charge.micros)
