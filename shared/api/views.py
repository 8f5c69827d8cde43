"""The JSON the API answers with: assets with signed URLs, AIDM's turn shape."""

from __future__ import annotations

from typing import Any

from shared.api.signing import signed_urls
from shared.views import jsonable, public_asset

CATEGORY = {"cutscene": "cutscenes", "location_visual": "locations", "npc_portrait": "portraits"}


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


def turn_rows(docs: list[dict[str, Any]], campaign_id: str) -> list[dict[str, Any]]:
    """AIDM's shape: one row per file (a cutscene with both files has two).

    `id` is the asset id, so (id, asset_type) is unique and `id` works with
    GET /media/{id}. An asset with no file yet (or never one) is one row with
    `file_url` null, so a poller sees it is pending or has failed.
    """
    rows = []
    for asset in assets_with_urls(docs, campaign_id):
        base = {"id": asset.get("asset_id"), "cutscene_type": asset.get("cutscene_type"),
                "category": CATEGORY.get(asset.get("kind") or ""),
                "status": asset.get("status")}
        files = [(kind, asset[f"{kind}_url"]) for kind in ("image", "video")
                 if asset.get(f"{kind}_url")]
        if not files:
            rows.append({**base, "asset_type": "image", "file_url": None})
        rows.extend({**base, "asset_type": kind, "file_url": url} for kind, url in files)
    return jsonable(rows)
