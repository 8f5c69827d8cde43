"""AIDM's backend in front of media_api, for a browser without Firebase Auth.

AIDM's frontend polls its own backend (`/api/game/turn/{campaign}/{turn}/media`)
and puts each row's `file_url` straight into `<img src>` / `<video src>`,
which cannot carry an Authorization header. So AIDM's backend calls media_api
with the player's ID token and hands the browser addresses under its own
prefix (e.g. `/api/media`), which it answers by asking media_api for the
stable address's redirect and passing it on (docs/aidm.md, docs/decisions/0004-stable-addresses.md).
Sync functions (httpx); from AIDM's async routes call them through
`asyncio.to_thread`.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from shared.core import log
from shared.domain.paths import stable_path  # noqa: F401 - AIDM imports it from here (docs/aidm.md)

TIMEOUT = httpx.Timeout(10.0, connect=3.0)
# Only stable addresses pass through, never any other media_api path.
_STABLE = re.compile(
    r"^/campaigns/[A-Za-z0-9_-]{1,128}/media/[A-Za-z0-9_-]{1,128}/"
    r"(image|video)(\.png|\.mp4)?$"
)


def _public(url: str | None, public_prefix: str) -> str | None:
    if not url or "/campaigns/" not in url:
        return url
    return public_prefix.rstrip("/") + url[url.index("/campaigns/") :]


def fetch_turn_media(
    api_url: str,
    campaign_id: str,
    turn: int,
    id_token: str,
    *,
    public_prefix: str,
    progressive: bool = False,
) -> dict[str, Any]:
    """media_api's turn rows with file URLs under AIDM's `public_prefix`.

    Any failure answers `{"assets": []}`: AIDM's poller then simply asks again
    at its next tick."""
    url = f"{api_url.rstrip('/')}/campaigns/{campaign_id}/turns/{int(turn)}/media"
    try:
        response = httpx.get(
            url,
            params={"progressive": "1"} if progressive else None,
            headers={"Authorization": f"Bearer {id_token}"},
            timeout=TIMEOUT,
        )
        response.raise_for_status()
        rows = response.json()["assets"]
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        log.warning(
            "aidm_turn_media_failed", f"turn media unavailable: {exc}", campaign_id=campaign_id
        )
        return {"assets": []}
    return {
        "assets": [{**row, "file_url": _public(row.get("file_url"), public_prefix)} for row in rows]
    }


def file_location(api_url: str, path: str, id_token: str) -> tuple[int, str | None]:
    """(302, a fresh signed URL) for a stable address `path` (as stable_path
    gives it), or (media_api's status, None): 404 missing, 401/403 not allowed."""
    if not _STABLE.fullmatch(path):
        return 404, None
    try:
        response = httpx.get(
            f"{api_url.rstrip('/')}{path}",
            follow_redirects=False,
            headers={"Authorization": f"Bearer {id_token}"},
            timeout=TIMEOUT,
        )
    except httpx.HTTPError as exc:
        log.warning("aidm_media_file_failed", f"media file unavailable: {exc}")
        return 503, None
    if response.status_code == 302 and response.headers.get("Location"):
        return 302, response.headers["Location"]
    return response.status_code, None
