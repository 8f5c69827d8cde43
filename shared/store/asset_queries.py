"""The queries over assets: a turn's assets, a campaign's live updates, and the
sweeps' and dispatch's collection-group scans.

Keyword filters throughout: the positional form prints a UserWarning, a
two-line text entry in the middle of the JSON logs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from shared.core import clock
from shared.core.settings import get_settings
from shared.domain.asset import Asset
from shared.domain.paths import MEDIA, media_collection
from shared.domain.status import Status
from shared.store import connections


def media(campaign_id: str) -> Any:
    return connections.firestore_client().collection(media_collection(campaign_id))


def turn_assets(campaign_id: str, turn: int, limit: int = 50) -> list[dict[str, Any]]:
    """This turn's assets, oldest first (the order they were asked for)."""
    from google.cloud.firestore_v1.base_query import FieldFilter

    query = media(campaign_id).where(filter=FieldFilter("turn_number", "==", turn)).limit(limit)
    docs = [snap.to_dict() or {} for snap in query.stream()]
    return sorted(docs, key=lambda d: (str(d.get("created_at") or ""), d.get("asset_id") or ""))


def turn_id_assets(
    campaign_id: str, session_id: str, turn_id: str, limit: int = 50
) -> list[dict[str, Any]]:
    """The assets of one session asked for under the host's turn id, oldest first.

    Two equality filters: Firestore merges their single-field indexes, so
    no composite index is needed (terraform firestore.tf says so too)."""
    from google.cloud.firestore_v1.base_query import FieldFilter

    query = (
        media(campaign_id)
        .where(filter=FieldFilter("session_id", "==", session_id))
        .where(filter=FieldFilter("turn_id", "==", turn_id))
        .limit(limit)
    )
    docs = [snap.to_dict() or {} for snap in query.stream()]
    return sorted(docs, key=lambda d: (str(d.get("created_at") or ""), d.get("asset_id") or ""))


def session_assets_after(
    campaign_id: str, session_id: str, turn: int, page: int = 200
) -> Iterator[Asset]:
    """Every asset of the session whose turn_number is above `turn`, hidden
    ones too, page by page (index media_session_turns: an equality and a range
    on two fields). Callers may change the assets between pages: the cursor is
    the turn number and the document id, which nothing changes."""
    from google.cloud.firestore_v1.base_query import FieldFilter

    query = (
        media(campaign_id)
        .where(filter=FieldFilter("session_id", "==", session_id))
        .where(filter=FieldFilter("turn_number", ">", turn))
        .order_by("turn_number")
        .limit(page)
    )
    last = None
    while True:
        snaps = list((query.start_after(last) if last is not None else query).stream())
        for snap in snaps:
            yield Asset(snap.to_dict() or {})
        if len(snaps) < page:
            return
        last = snaps[-1]


def watch_updates(
    campaign_id: str, since: datetime, on_change: Callable[[list[dict[str, Any]]], None]
) -> Any:
    """Call `on_change` with the assets added or changed since `since`, first
    with what exists, then on every change; returns the watch (`.unsubscribe()`)."""
    from google.cloud.firestore_v1.base_query import FieldFilter

    def on_snapshot(_snaps: Any, changes: Any, _read_time: Any) -> None:
        on_change(
            [
                change.document.to_dict() or {}
                for change in changes
                if change.type.name in ("ADDED", "MODIFIED")
            ]
        )

    query = media(campaign_id).where(filter=FieldFilter("updated_at", ">=", since))
    return query.on_snapshot(on_snapshot)


def _across_campaigns(
    status: tuple[str, Any], field: str, op: str, value: Any, limit: int
) -> list[Asset]:
    """Assets of every campaign matching a status filter and one other field:
    each pair is served by a composite index (terraform firestore.tf)."""
    from google.cloud.firestore_v1.base_query import FieldFilter

    query = (
        connections.firestore_client()
        .collection_group(MEDIA)
        .where(filter=FieldFilter("status", *status))
        .where(filter=FieldFilter(field, op, value))
        .limit(limit)
    )
    return [Asset(snap.to_dict() or {}) for snap in query.stream()]


def open_before(statuses: list[str], field: str, cutoff: Any, limit: int) -> list[Asset]:
    """Assets in one of `statuses` whose `field` is before `cutoff`, any campaign."""
    return _across_campaigns(("in", statuses), field, "<", cutoff, limit)


def animating_checks_due(now_s: float, limit: int) -> list[Asset]:
    """Animating assets whose `video_check_at` has passed, any campaign."""
    return _across_campaigns(("==", Status.ANIMATING), "video_check_at", "<", now_s, limit)


def animating(limit: int = 2000) -> list[Asset]:
    """Every animating asset: waiting for a start, or rendering at Veo.

    Those updated in the last two deadlines: updated_at, not created_at, as an
    owner's re-animate of an old asset moves it to animating now
    (shared/pipeline/takes.py), and an asset animating longer than one deadline
    is closed (index stuck_by_updated)."""
    since = datetime.fromtimestamp(clock.time() - 2 * get_settings().MEDIA_DEADLINE_S, UTC)
    return _across_campaigns(("==", Status.ANIMATING), "updated_at", ">", since, limit)


def in_image_stage(within_s: float, limit: int = 2000) -> list[Asset]:
    """Assets whose still is being made, any campaign, updated in the last
    `within_s` seconds: the requests on their way to the start queue that a
    fair dispatch counts (dispatch.published_order). The same index as
    animating()'s: status and updated_at."""
    since = datetime.fromtimestamp(clock.time() - within_s, UTC)
    return _across_campaigns(("==", Status.RENDERING_IMAGE), "updated_at", ">", since, limit)
