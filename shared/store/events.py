"""Status events (docs/interface.md section 4), for backends that forward progress."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
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


# Futures of messages published during this invocation (status events,
# charges), each with what to do if it failed, waited for at its end: the
# still reaches the player without waiting on event round trips, and the
# invocation still does not return (and lose its CPU) before they are sent.
Failed = Callable[[Exception], None]
_pending: ContextVar[list[tuple[Any, Failed]] | None] = ContextVar("pending_events", default=None)


def publish_status(asset: Mapping[str, Any]) -> None:
    """Publish one status change. Firestore is the source of truth, so a
    failed publish is logged, never raised into the pipeline."""
    event = event_for(asset)
    status = str(event["status"])

    def failed(exc: Exception) -> None:
        log.warning("event_publish_failed", f"status event not published: {exc}", status=status)

    try:
        future = publisher().publish(
            topic_path(get_settings().MEDIA_EVENTS_TOPIC),
            json.dumps(event).encode("utf-8"),
            campaign_id=str(event["campaign_id"]),
            status=status,
        )
    except Exception as exc:  # noqa: BLE001 - events are best effort by design
        failed(exc)
        return
    deliver(future, failed)


def deliver(future: Any, failed: Failed) -> None:
    """See a publish through: now, or at the invocation's end (collect)."""
    pending = _pending.get()
    if pending is None:
        _wait(future, failed)
    else:
        pending.append((future, failed))


def collect() -> None:
    """From here on in this context, publishes do not wait; flush() does."""
    _pending.set([])


def flush(timeout_s: float = 10.0) -> None:
    for future, failed in _pending.get() or []:
        _wait(future, failed, timeout_s)
    _pending.set(None)


def _wait(future: Any, failed: Failed, timeout_s: float = 10.0) -> None:
    try:
        future.result(timeout=timeout_s)
    except Exception as exc:  # noqa: BLE001
        failed(exc)
