"""A campaign's media, newest first, paged with an opaque cursor."""

from __future__ import annotations

from typing import Any

from shared.clients import firestore_client


def gallery_page(campaign_id: str, limit: int,
                 cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    from google.cloud import firestore

    media = firestore_client().collection("campaigns").document(campaign_id).collection("media")
    query = media.order_by("created_at", direction=firestore.Query.DESCENDING).order_by(
        "__name__", direction=firestore.Query.DESCENDING)
    if cursor:
        start = media.document(cursor).get()
        if start.exists:
            query = query.start_after(start)
    docs = [snap.to_dict() or {} for snap in query.limit(limit + 1).stream()]
    next_cursor = docs[limit - 1]["asset_id"] if len(docs) > limit else None
    return docs[:limit], next_cursor
