"""The fields an asset document starts with (docs/interface.md section 2): one
builder for the asset of a valid request and for the rejected asset of an
invalid one, so both documents carry the same core fields."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.domain.request import MediaRequest
from shared.domain.status import TERMINAL, Reason, Status


def _asset(
    asset_id: str,
    request_id: str,
    campaign_id: str,
    stamp: datetime,
    status: Status,
    reason: Reason | None,
    **fields: Any,
) -> dict[str, Any]:
    return {
        "asset_id": asset_id,
        "request_id": request_id,
        "campaign_id": campaign_id,
        "session_id": None,
        "turn_number": None,
        # The host's turn id and player (section 1), null when the request had none.
        "turn_id": None,
        "player_id": None,
        "kind": None,
        "cutscene_type": None,
        "subject": None,
        "status": status,
        "status_reason": reason,
        "image": None,
        "video": None,
        "models": {},
        "estimated_cost_usd": None,
        "cost_usd": 0.0,
        "stage_ms": {},
        "created_at": stamp,
        "updated_at": stamp,
        "completed_at": stamp if status in TERMINAL else None,
        # Always present: the security rules let members list only
        # `hidden == false`, and a missing field matches no such query.
        "hidden": False,
        **fields,
    }


def queued_asset(
    request: MediaRequest, asset_id: str, stamp: datetime, published_at: datetime | None = None
) -> dict[str, Any]:
    """A valid request's asset, before any stage ran."""
    return _asset(
        asset_id,
        request.request_id,
        request.campaign_id,
        stamp,
        Status.QUEUED,
        None,
        session_id=request.session_id,
        turn_number=request.turn_number,
        turn_id=request.turn_id,
        player_id=request.player_id,
        kind=request.kind,
        cutscene_type=request.cutscene_type,
        subject=request.subject,
        image_prompt=request.image_prompt,
        motion_prompt=request.motion_prompt,
        aspect_ratio=request.aspect_ratio,
        request=request.to_message(),
        models={"image": None, "video": None},
        # The deadline counts from here (shared/pipeline/checks.deadline_start).
        published_at=min(published_at, stamp) if published_at else stamp,
        regenerated_from=request.regenerated_from,
    )


def rejected_asset(
    asset_id: str, request_id: str, campaign_id: str, stamp: datetime, error: str
) -> dict[str, Any]:
    """An invalid request's asset: only its ids could be read."""
    return _asset(
        asset_id,
        request_id,
        campaign_id,
        stamp,
        Status.REJECTED,
        Reason.INVALID,
        error=error[:1000],
        estimated_cost_usd=0.0,
    )
