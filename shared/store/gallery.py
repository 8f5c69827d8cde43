"""A campaign's media, newest first, paged with an opaque cursor.

Hidden assets are skipped here rather than in the query (an inequality on
`hidden` would need a composite index and reorder the page): a page reads on
until it has `limit` visible assets or the collection ends.
"""

from __future__ import annotations

from typing import Any

from shared.domain.paths import media_collection
from shared.store import connections


def gallery_page(
    campaign_id: str, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    from google.cloud import firestore

    media = connections.firestore_client().collection(media_collection(campaign_id))
    query = media.order_by("created_at", direction=firestore.Query.DESCENDING).order_by(
        "__name__", direction=firestore.Query.DESCENDING
    )
    start = media.document(cursor).get() if cursor else None
    shown: list[dict[str, Any]] = []
    while len(shown) <= limit:
        page = query.start_after(start) if start is not None and start.exists else query
        snaps = list(page.limit(limit + 1).stream())
        shown += [d for d in (s.to_dict() or {} for s in snaps) if not d.get("hidden")]
        if len(snaps) <= limit:
            break  # the collection ended
        start = snaps[-1]
    next_cursor = shown[limit - 1]["asset_id"] if len(shown) > limit else None
    return shown[:limit], next_cursor
