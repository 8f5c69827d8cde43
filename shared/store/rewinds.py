"""A session's recent rewinds: `campaigns/{cid}/rewinds/{sid}`, `marks`, a list
of `{"after_turn", "at"}`.

A rewind hides the assets that exist when it queries them. A request
published before the rewind whose first delivery comes after that query
(a Pub/Sub backlog) would escape it, so both sides write, then read:
the rewind records its mark before it queries, and a first delivery creates
its asset before it reads the marks (render.handle_request). Firestore is
strongly consistent, so either the rewind's query sees the asset, or the
delivery sees the mark and hides its own asset.

Marks older than two deadlines are dropped: a request published before them
is closed by the deadline anyway, never generated.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from shared.core import clock
from shared.core.settings import get_settings
from shared.domain.paths import rewinds_doc
from shared.store import connections
from shared.store.optimistic import Fields, read_modify_write


def rewinds_ref(campaign_id: str, session_id: str) -> Any:
    return connections.firestore_client().document(rewinds_doc(campaign_id, session_id))


def _fresh(marks: Any, now: datetime) -> list[dict[str, Any]]:
    oldest = now - timedelta(seconds=2 * get_settings().MEDIA_DEADLINE_S)
    return [
        m
        for m in (marks if isinstance(marks, list) else [])
        if isinstance(m, dict) and isinstance(m.get("at"), datetime) and m["at"] >= oldest
    ]


def record(campaign_id: str, session_id: str, after_turn: int) -> datetime:
    """Write down a rewind of the session to `after_turn`; returns its time."""
    at = clock.now()

    def mutate(cur: Fields | None) -> tuple[Fields | None, None]:
        marks = _fresh((cur or {}).get("marks"), at)
        return {"marks": [*marks, {"after_turn": after_turn, "at": at}], "updated_at": at}, None

    read_modify_write(rewinds_ref(campaign_id, session_id), mutate)
    return at


def rewound_past(
    campaign_id: str, session_id: str, turn_number: int, published_at: datetime
) -> bool:
    """Whether a rewind recorded after `published_at` abandoned `turn_number`."""
    snap = rewinds_ref(campaign_id, session_id).get()
    marks = _fresh((snap.to_dict() or {}).get("marks") if snap.exists else None, clock.now())
    return any(turn_number > m["after_turn"] and published_at < m["at"] for m in marks)
