"""The documents behind the HTTP API's event streams: one-use tickets, and
each user's open streams (for the per-user limit)."""

from __future__ import annotations

import hashlib
from typing import Any

from shared.domain.paths import sse_streams_doc, sse_ticket_doc
from shared.store import connections


def ticket_ref(ticket: str) -> Any:
    return connections.firestore_client().document(sse_ticket_doc(ticket))


def streams_ref(uid: str) -> Any:
    key = hashlib.sha256(uid.encode()).hexdigest()  # any uid, a safe document id
    return connections.firestore_client().document(sse_streams_doc(key))
