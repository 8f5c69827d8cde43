"""JSON views of documents for the CLI and the HTTP API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

PUBLIC_ASSET_FIELDS = (
    "asset_id",
    "request_id",
    "campaign_id",
    "session_id",
    "turn_number",
    "kind",
    "cutscene_type",
    "subject",
    "status",
    "status_reason",
    "image",
    "video",
    "image_prompt",
    "motion_prompt",
    "models",
    "estimated_cost_usd",
    "cost_usd",
    "created_at",
    "updated_at",
    "completed_at",
    "stage_ms",
    "aspect_ratio",
    "error",
    "regenerated_from",
    "video_attempt",
)


def jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def public_asset(doc: dict[str, Any]) -> dict[str, Any]:
    return jsonable({k: doc.get(k) for k in PUBLIC_ASSET_FIELDS if k in doc})
