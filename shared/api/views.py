"""The JSON the API answers with: assets with signed URLs (AIDM's turn rows are
in turn_rows.py)."""

from __future__ import annotations

from typing import Any

from shared.domain.asset_view import public_asset
from shared.store.signing import signed_urls


def _uri(doc: dict[str, Any], field: str) -> str | None:
    media = doc.get(field)
    return media.get("uri") if isinstance(media, dict) else None


def assets_with_urls(docs: list[dict[str, Any]], campaign_id: str) -> list[dict[str, Any]]:
    uris = [u for d in docs for u in (_uri(d, "image"), _uri(d, "video"))]
    urls = iter(signed_urls(uris, campaign_id))
    out = []
    for doc in docs:
        image_url, video_url = next(urls), next(urls)
        out.append({**public_asset(doc), "image_url": image_url, "video_url": video_url})
    return out
