"""An owner's retried clip (re-animate): the worker reserves the attempt's clip.

The owner's POST moves a `partial` cutscene back to `animating` with
`video_attempt` N (shared/pipeline/takes.py); the animate worker reserves the clip under
the ledger key "{asset_id}:video.N" just before Veo is paid, so a duplicate
delivery of attempt N finds its hold already recorded, and attempt N+1 can be
charged once more.
"""

from __future__ import annotations

from shared.core import log
from shared.domain.asset import Asset
from shared.domain.pricing import usd_to_micros
from shared.domain.status import Reason, Status
from shared.pipeline.lifecycle import transition
from shared.store import assets, spend
from shared.store.campaigns import load_campaign


def reserve_retry(doc: Asset) -> Asset | None:
    """The asset when Veo may be called: the first attempt (reserved at
    admission) or a retry whose clip is now held (with the day's shard that
    holds it, for settle and release). None: a retry that cannot be held,
    ended `partial` (budget, or disabled_video when media was turned off)."""
    if spend.clip_stage(doc) == "video":
        return doc
    cid, aid = doc["campaign_id"], doc["asset_id"]
    campaign = load_campaign(cid)
    if campaign is None or not campaign.media.enabled:
        transition(cid, aid, Status.PARTIAL, Reason.DISABLED_VIDEO)
        return None
    micros = int((doc.get("plan") or {}).get("video_micros") or 0)
    cap = usd_to_micros(campaign.media.budget_per_session_usd)
    choice, daily = spend.reserve(
        cid, doc["session_id"], aid, cap, [{spend.clip_stage(doc): micros}], spend.player_of(doc)
    )
    if choice is None:
        log.info("retry_refused", "the retried clip does not fit the budget")
        transition(cid, aid, Status.PARTIAL, Reason.BUDGET)
        return None
    if daily and doc.get("clip_daily") != daily:
        assets.update_fields(cid, aid, clip_daily=daily)
        return doc.with_fields(clip_daily=daily)
    return doc
