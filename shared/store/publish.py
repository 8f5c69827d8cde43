"""Publishing one request to the requests topic: validated, bounded, never raising."""

from __future__ import annotations

import json
import time
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from shared.core.errors import InvalidRequest
from shared.core.settings import get_settings
from shared.domain.ids import asset_id_for
from shared.domain.messages import animate_message
from shared.domain.request import parse_request
from shared.store import connections
from shared.store.connections import publisher, topic_path

# The turn loop waits at most this long for Pub/Sub's answer. A healthy publish
# takes a few milliseconds (see tests/integration/test_client.py); two seconds
# covers a cold channel in the cloud (TLS, token fetch) and nothing more.
PUBLISH_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class PublishResult:
    accepted: bool
    request_id: str | None
    asset_id: str | None
    reason: str | None = None
    message_id: str | None = None
    elapsed_ms: float | None = None


def _publish_retry(timeout_s: float) -> Any:
    """Retry transient errors only, and never past the caller's deadline, so a
    message the caller was told failed is not still being sent a minute later."""
    from google.api_core import exceptions as gexc
    from google.api_core import retry

    transient = retry.if_exception_type(
        gexc.Aborted,
        gexc.DeadlineExceeded,
        gexc.InternalServerError,
        gexc.ResourceExhausted,
        gexc.ServiceUnavailable,
        gexc.Unknown,
    )
    return retry.Retry(
        predicate=transient, initial=0.05, maximum=0.5, multiplier=2.0, timeout=timeout_s
    )


def _failure(exc: BaseException, timeout_s: float) -> str:
    if isinstance(exc, (FutureTimeout, TimeoutError)):
        return (
            f"publish timed out after {timeout_s:g} s; it may still be delivered, "
            "and publishing again with the same request_id is safe"
        )
    text = str(exc).splitlines()[0][:300] if str(exc) else ""
    return f"publish failed: {type(exc).__name__}: {text}"


def publish_request(
    message: dict[str, Any], wait: bool = True, timeout: float = PUBLISH_TIMEOUT_S
) -> PublishResult:
    """Validate and publish one request message (docs/interface.md section 1). Never raises.

    With `wait`, the answer is Pub/Sub's: accepted means stored by Pub/Sub.
    Without it, accepted means handed to the client's batch (no message id).
    """
    started = time.monotonic()

    def ms() -> float:
        return round((time.monotonic() - started) * 1000, 3)

    request_id = message.get("request_id") if isinstance(message, dict) else None
    try:
        request = parse_request(message, get_settings().MEDIA_BUCKET)
    except InvalidRequest as exc:
        return PublishResult(False, request_id, None, f"invalid: {exc}", elapsed_ms=ms())
    except Exception as exc:  # noqa: BLE001 - e.g. a broken environment; never raise
        return PublishResult(False, request_id, None, _failure(exc, timeout), elapsed_ms=ms())
    asset_id = asset_id_for(request.request_id)
    try:
        future = publisher().publish(
            topic_path(get_settings().MEDIA_REQUESTS_TOPIC),
            json.dumps(request.to_message()).encode("utf-8"),
            retry=_publish_retry(timeout),
            timeout=timeout,
            campaign_id=request.campaign_id,
            kind=request.kind,
        )
        # A little slack over the RPC deadline: the batch thread reports it.
        message_id = future.result(timeout=timeout + 0.25) if wait else None
    except BaseException as exc:  # noqa: BLE001 - the turn loop must never see this
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        return PublishResult(
            False, request.request_id, asset_id, _failure(exc, timeout), elapsed_ms=ms()
        )
    return PublishResult(True, request.request_id, asset_id, None, message_id, elapsed_ms=ms())


def publish_animate(campaign_id: str, asset_id: str) -> None:
    body = animate_message(campaign_id, asset_id)
    publisher().publish(
        topic_path(get_settings().MEDIA_ANIMATE_TOPIC),
        json.dumps(body).encode("utf-8"),
        campaign_id=campaign_id,
    ).result(timeout=30)


def warm_clients() -> None:
    """Build the Pub/Sub and Firestore clients now (imports, channels)."""
    publisher()
    connections.firestore_client()
