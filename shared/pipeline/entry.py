"""What every Pub/Sub-triggered entry point does around its handler.

Returning acks the message; raising makes the platform redeliver it. Only
transient errors (and unexpected bugs, bounded by the dead-letter policy)
raise; bad input never does.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from shared.core import log
from shared.core.errors import Busy, TransientError
from shared.core.settings import get_settings
from shared.core.transient import describe, transport_error
from shared.store import events
from shared.store.optimistic import forget_versions


def pubsub_payload(cloud_event: Any) -> tuple[bytes, str, datetime | None]:
    data = cloud_event.data if isinstance(cloud_event.data, dict) else {}
    raw_message = data.get("message")
    message = raw_message if isinstance(raw_message, dict) else {}
    return (
        decode_data(message.get("data")),
        str(cloud_event["id"]),
        parse_time(message.get("publishTime") or message.get("publish_time")),
    )


def trace_of(cloud_event: Any) -> str | None:
    """Cloud Logging's trace field from a W3C traceparent, so one request's
    lines group under one trace in the console."""

    try:
        parent = cloud_event.get("traceparent") if hasattr(cloud_event, "get") else None
    except Exception:  # noqa: BLE001 - a missing extension is not an error
        parent = None
    parts = parent.split("-") if isinstance(parent, str) else []
    if len(parts) == 4 and len(parts[1]) == 32:
        return f"projects/{get_settings().GOOGLE_CLOUD_PROJECT}/traces/{parts[1]}"
    return None


def decode_data(raw: Any) -> bytes:
    try:
        return base64.b64decode(raw, validate=True) if isinstance(raw, str) else b""
    except (binascii.Error, ValueError):
        return b""


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def run_pubsub(
    cloud_event: Any, function: str, handler: Callable[[bytes, str, datetime | None], None]
) -> None:
    log.capture_std_logging()
    log.clear()
    payload, delivery_id, published_at = pubsub_payload(cloud_event)
    log.bind(function=function, delivery_id=delivery_id, trace=trace_of(cloud_event))
    events.collect()
    forget_versions()
    try:
        handler(payload, delivery_id, published_at)
    except Busy as exc:
        log.info("busy", f"{exc}; the delivery will be retried")
        raise
    except TransientError as exc:
        log.warning("transient", f"{exc}; the delivery will be retried")
        raise
    except Exception as exc:
        if transport_error(exc) is not None:
            # Firestore, Storage or Pub/Sub unreachable or too slow: an outage,
            # not a bug, so no stack trace; the redelivery tries again.
            log.warning("transient", f"{describe(exc)}; the delivery will be retried")
            raise TransientError(describe(exc)) from exc
        log.error("unexpected", f"{type(exc).__name__}: {exc}", exc_info=True)
        raise
    finally:
        events.flush()
