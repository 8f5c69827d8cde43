"""An owner hid an asset while it was in flight: stop, keep the books exact.

Hiding only sets `hidden` (shared/pipeline/takes.py); the pipeline notices at each
stage boundary (a hidden asset's next transition becomes the hidden end, see
assets.transition) and before each paid call, then ends the asset here: what
was already made (the still) stays charged, every other hold is released,
and the objects are deleted.
"""

from __future__ import annotations

from typing import Any

from shared.core import log
from shared.domain.asset import Asset
from shared.domain.paths import image_object, video_object, video_output_prefix
from shared.domain.status import Reason, hidden_end
from shared.store import assets, spend, storage


def delete_objects(campaign_id: str, asset_id: str) -> None:
    names = [image_object(campaign_id, asset_id), video_object(campaign_id, asset_id)]
    storage.delete_all(names, prefix=video_output_prefix(campaign_id, asset_id))


def finish(doc: Asset) -> None:
    """After the hidden end was written: charge the still if it was made,
    release everything else, delete the objects. Each step is idempotent."""
    plan = doc.get("plan") or {}
    if doc.get("image") and doc.get("session_id") and "image_micros" in plan:
        spend.settle(doc, "image", int(plan["image_micros"]))
    spend.release(doc)
    delete_objects(doc["campaign_id"], doc["asset_id"])
    log.info(
        "asset_hidden_stopped",
        "the asset was hidden in flight; stopped",
        status=doc.get("status"),
        cost_usd=doc.get("cost_usd"),
    )


def transition(
    campaign_id: str,
    asset_id: str,
    status: str,
    reason: str | None = None,
    stage_ms: dict[str, int] | None = None,
    attempt: int | None = None,
    **fields: Any,
) -> Asset | None:
    """`assets.transition`, then, if the move ended a hidden asset (an owner hid
    it in flight), keep the books exact and delete its objects (finish)."""
    updated = assets.transition(
        campaign_id, asset_id, status, reason, stage_ms, attempt=attempt, **fields
    )
    if (
        updated is not None
        and updated.get("status_reason") == Reason.HIDDEN
        and updated.get("hidden")
    ):
        finish(updated)
    return updated


def stop(doc: Asset) -> None:
    """End a hidden asset that is still in flight (the transition calls finish)."""
    transition(doc["campaign_id"], doc["asset_id"], hidden_end(doc), Reason.HIDDEN)


def stop_if_hidden(campaign_id: str, asset_id: str) -> bool:
    """Before a paid call: read the asset, and stop it if it was hidden."""
    doc = assets.load(campaign_id, asset_id)
    if doc is not None and doc.get("hidden") and not assets.is_terminal(doc):
        stop(doc)
        return True
    return bool(doc is not None and doc.get("hidden"))
