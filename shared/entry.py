"""What every Pub/Sub-triggered entry point does around its handler.

Returning acks the message; raising makes the platform redeliver it. Only
transient errors (and unexpected bugs, bounded by the dead-letter policy)
raise; bad input never does.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

from shared import log
from shared.errors import Busy, TransientError


def pubsub_payload(cloud_event: Any) -> tuple[bytes, str]:
    data = cloud_event.data if isinstance(cloud_event.data, dict) else {}
    message = data.get("message") if isinstance(data.get("message"), dict) else {}
    raw = message.get("data") or ""
    try:
        payload = base64.b64decode(raw, validate=True) if isinstance(raw, str) else b""
    except (binascii.Error, ValueError):
        payload = b""
    return payload, str(cloud_event["id"])


def run_pubsub(cloud_event: Any, function: str,
               handler: Callable[[bytes, str], None]) -> None:
    log.clear()
    payload, delivery_id = pubsub_payload(cloud_event)
    log.bind(function=function, delivery_id=delivery_id)
    try:
        handler(payload, delivery_id)
    except Busy as exc:
        log.info("busy", f"{exc}; the delivery will be retried")
        raise
    except TransientError as exc:
        log.warning("transient", f"{exc}; the delivery will be retried")
        raise
    except Exception as exc:
        log.error("unexpected", f"{type(exc).__name__}: {exc}", exc_info=True)
        raise
