"""AIDM's turn shape (docs/interface.md section 5): what its frontend poller can show.

AIDM's poller (web/js/app.js pollForTurnMedia) stops at the first non-empty
answer, shows only rows whose status is `complete` or `partial`, stops on a
row whose `cutscene_type` it does not know (portraits have none), inserts
each row right after the turn's entry (so the last listed shows first),
de-duplicates on the whole URL and calls a URL ending in `.mp4` a video.
So: only cutscenes; nothing until every cutscene of the turn is terminal;
each cutscene's clip listed before its still (the still then shows first);
and stable addresses (section 5) instead of signed URLs, which change on
every poll and end in a query string.
"""

from __future__ import annotations

from typing import Any

from shared.domain.asset_view import jsonable
from shared.domain.paths import stable_path
from shared.domain.status import SHOWN, TERMINAL


def stable_url(base_url: str, campaign_id: str, asset_id: str, kind: str) -> str:
    """The permanent address of one file: a 302 to a fresh signed URL."""
    return base_url.rstrip("/") + stable_path(campaign_id, asset_id, kind)


def _has(doc: dict[str, Any], kind: str) -> bool:
    media = doc.get(kind)
    return isinstance(media, dict) and bool(media.get("uri"))


def _rows_of(doc: dict[str, Any], base_url: str, progressive: bool) -> list[dict[str, Any]]:
    """One cutscene's rows in display order (still, then clip)."""
    status = doc.get("status")
    if status not in SHOWN and not (progressive and status not in TERMINAL):
        return []  # failed or rejected: nothing usable
    base = {
        "id": doc.get("asset_id"),
        "cutscene_type": doc.get("cutscene_type"),
        "category": "cutscenes",
        "status": status,
    }
    files = [k for k in ("image", "video") if _has(doc, k)]
    if not files:
        return [{**base, "asset_type": "image", "file_url": None}] if progressive else []
    return [
        {
            **base,
            "asset_type": kind,
            "file_url": stable_url(base_url, doc["campaign_id"], doc["asset_id"], kind),
        }
        for kind in files
    ]


def turn_rows(
    docs: list[dict[str, Any]], base_url: str, progressive: bool = False
) -> list[dict[str, Any]]:
    """`docs`: the turn's assets, oldest first. Returns the rows, listed so that
    AIDM's insert-after-the-turn shows them oldest first, each still before its
    clip: the display order reversed."""
    cutscenes = [d for d in docs if d.get("kind") == "cutscene" and not d.get("hidden")]
    if not progressive and any(d.get("status") not in TERMINAL for d in cutscenes):
        return []
    shown = [row for d in cutscenes for row in _rows_of(d, base_url, progressive)]
    return jsonable(list(reversed(shown)))
