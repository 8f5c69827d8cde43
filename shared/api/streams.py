"""Event-stream tickets and the per-user limit on open streams.

A browser's EventSource cannot send an Authorization header, and an ID token
in a URL would land in every access log. So a signed-in member first asks
`GET /campaigns/{cid}/events/ticket` (with the header, like any route) for a
ticket: random, single use, for that campaign only, valid TICKET_TTL_S. The
stream is then opened as `.../events?ticket=T`; a ticket that reaches a log
has already been spent or is about to expire. docs/decisions/0007-sse-tickets.md.

Tickets and open streams live in Firestore (`sse_tickets/`, `sse_streams/`,
which the rules let no client read), so every media_api instance sees the same
ones. An open stream is recorded with its end time (the stream lasts at most
MEDIA_API_SSE_MAX_S), so one whose instance died is forgotten by itself.
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Any

from shared.api.responses import ApiError
from shared.core.settings import get_settings
from shared.store.optimistic import read_modify_write, ttl_timestamp
from shared.store.stream_docs import streams_ref, ticket_ref

TICKET_TTL_S = 60
TICKET_RE = re.compile(r"[A-Za-z0-9_-]{32}")


def issue_ticket(campaign_id: str, uid: str) -> dict[str, Any]:
    ticket = secrets.token_urlsafe(24)  # 32 characters
    ticket_ref(ticket).create(
        {
            "uid": uid,
            "campaign_id": campaign_id,
            "expires_at": time.time() + TICKET_TTL_S,
            "used": False,
            "delete_after": ttl_timestamp(TICKET_TTL_S + 3600),
        }
    )
    return {"ticket": ticket, "expires_in_s": TICKET_TTL_S}


def redeem_ticket(campaign_id: str, ticket: str) -> str:
    """The uid the ticket was issued to; 401 if it is unknown, spent, expired or
    for another campaign. Spends it (exactly once, even when raced)."""
    if not TICKET_RE.fullmatch(ticket):
        raise ApiError(401, "invalid ticket")
    ref = ticket_ref(ticket)

    def spend(doc: dict[str, Any] | None) -> tuple[dict[str, Any] | None, str | None]:
        if (
            doc is None
            or doc.get("used")
            or doc.get("campaign_id") != campaign_id
            or float(doc.get("expires_at") or 0) < time.time()
        ):
            return None, None
        return {"used": True}, str(doc["uid"])

    uid = read_modify_write(ref, spend)
    if uid is None:
        raise ApiError(401, "ticket unknown, spent or expired; ask for a new one")
    return uid


def open_stream(uid: str) -> str:
    """Record one more open stream for uid (429 past the limit); its id."""
    settings = get_settings()
    stream_id = secrets.token_hex(8)
    limit = settings.MEDIA_API_SSE_PER_USER

    def add(doc: dict[str, Any] | None) -> tuple[dict[str, Any] | None, bool]:
        now = time.time()
        live = {k: v for k, v in ((doc or {}).get("open") or {}).items() if float(v) > now}
        if len(live) >= limit:
            return None, False
        # A little past the stream's own end: the generator closes it then.
        live[stream_id] = now + settings.MEDIA_API_SSE_MAX_S + 30
        return {"open": live}, True

    if not read_modify_write(streams_ref(uid), add):
        raise ApiError(429, f"at most {limit} event streams at once per user; close one")
    return stream_id


def close_stream(uid: str, stream_id: str) -> None:
    def remove(doc: dict[str, Any] | None) -> tuple[dict[str, Any] | None, None]:
        current = (doc or {}).get("open") or {}
        if stream_id not in current:
            return None, None
        return {"open": {k: v for k, v in current.items() if k != stream_id}}, None

    read_modify_write(streams_ref(uid), remove)
