"""Status events (docs/interface.md section 4), for backends that forward progress."""

from __future__ import annotations

import json
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

from shared.core import log
from shared.core.settings import get_settings
from shared.store.connections import publisher, topic_path

EVENT_FIELDS = (
    "campaign_id",
    "session_id",
    "asset_id",
    "request_id",
    "turn_number",
    "kind",
    "cutscene_type",
    "status",
    "status_reason",
)


def event_for(asset: Mapping[str, Any]) -> dict[str, Any]:
    event = {"schema": "media.event.v1", **{k: asset.get(k) for k in EVENT_FIELDS}}
    if asset.get("hidden"):
        event["hidden"] = True  # an owner hid it: listeners drop it
    return event


# Futures of events published during this invocation, waited for at its end:
# the still reaches the player without waiting on event round trips, and the
# invocation still does not return (and lose its CPU) before they are sent.
_pending: ContextVar[list[Any] | None] = ContextVar("pending_events", default=None)


def publish_status(asset: Mapping[str, Any]) -> None:
    """Publish one status change. Firestore is the source of truth, so a
    failed publish is logged, never raised into the pipeline."""
    event = event_for(asset)
    try:
        future = publisher().publish(
            topic_path(get_settings().MEDIA_EVENTS_TOPIC),
            json.dumps(event).encode("utf-8"),
            campaign_id=str(event["campaign_id"]),
            status=str(event["status"]),
        )
    except Exception as exc:  # noqa: BLE001 - events are best effort by design
        _failed(exc, event["status"])
        return
    pending = _pending.get()
    if pending is None:
        _wait(future, event["status"])
    else:
        pending.append((future, event["status"]))


def collect() -> None:
    """From here on in this context, publish_status does not wait; flush() does."""
    _pending.set([])


def flush(timeout_s: float = 10.0) -> None:
    for future, status in _pending.get() or []:
        _wait(future, status, timeout_s)
    _pending.set(None)


def _wait(future: Any, status: str, timeout_s: float = 10.0) -> None:
    try:
        future.result(timeout=timeout_s)
    except Exception as exc:  # noqa: BLE001
        _failed(exc, status)


def _failed(exc: Exception, status: str) -> None:
    log.warning("event_publish_failed", f"status event not published: {exc}", status=status)
