"""The Firestore reads behind the routes."""

from __future__ import annotations

from typing import Any

from shared.store.connections import firestore_client


def media(campaign_id: str) -> Any:
    return firestore_client().collection("campaigns").document(campaign_id).collection("media")


def turn_assets(campaign_id: str, turn: int, limit: int = 50) -> list[dict[str, Any]]:
    """This turn's assets, oldest first (the order they were asked for)."""
    from google.cloud.firestore_v1.base_query import FieldFilter

    query = media(campaign_id).where(filter=FieldFilter("turn_number", "==", turn)).limit(limit)
    docs = [snap.to_dict() or {} for snap in query.stream()]
    return sorted(docs, key=lambda d: (str(d.get("created_at") or ""), d.get("asset_id") or ""))
