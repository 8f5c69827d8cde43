"""`GET /campaigns/{cid}/events`: status changes as server-sent events.

A Firestore listener on the campaign's media, limited to documents updated
since the stream opened, feeds a queue; the response generator writes one
`event: media` per status change, a comment line as a heartbeat, and ends
after MEDIA_API_SSE_MAX_S so no instance holds a connection forever (the
browser's EventSource reconnects by itself). The listener is unsubscribed
whenever the generator ends, including when the client goes away (the next
write fails and the server closes the generator).
"""

from __future__ import annotations

import json
import queue
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from flask import Response

from shared.api import streams
from shared.core import log
from shared.core.settings import get_settings
from shared.store.asset_queries import watch_updates
from shared.store.events import event_for

RETRY_MS = 2000
_READY = object()


def _listen(campaign_id: str, since: datetime, out: queue.Queue) -> Any:
    def on_change(docs: list[dict[str, Any]]) -> None:
        for doc in docs:
            out.put(doc)
        out.put(_READY)

    return watch_updates(campaign_id, since, on_change)


def frame(asset: dict[str, Any]) -> str:
    event = event_for(asset)
    ident = f"{event['asset_id']}:{event['status']}{':hidden' if event.get('hidden') else ''}"
    return f"id: {ident}\nevent: media\ndata: {json.dumps(event, default=str)}\n\n"


def stream(campaign_id: str, uid: str, stream_id: str) -> Iterator[str]:
    settings = get_settings()
    heartbeat, max_s = settings.MEDIA_API_SSE_HEARTBEAT_S, settings.MEDIA_API_SSE_MAX_S
    started = time.monotonic()
    changes: queue.Queue = queue.Queue()
    watch = _listen(campaign_id, datetime.now(UTC), changes)
    last_status: dict[str, str] = {}
    ready = False
    try:
        yield f"retry: {RETRY_MS}\n: listening to campaign {campaign_id}\n\n"
        next_beat = time.monotonic() + heartbeat
        while (left := max_s - (time.monotonic() - started)) > 0:
            try:
                item = changes.get(timeout=max(0.0, min(left, next_beat - time.monotonic())))
            except queue.Empty:
                item = None
            if item is _READY:
                if not ready:
                    ready = True
                    yield ": ready\n\n"  # the listener is attached: no change is missed now
                continue
            if item is not None:
                # A hide is news too: the player drops the asset.
                aid, status = item.get("asset_id"), item.get("status")
                seen = f"{status}{'/hidden' if item.get('hidden') else ''}"
                if aid and status and last_status.get(aid) != seen:
                    last_status[aid] = seen
                    yield frame(item)
            if time.monotonic() >= next_beat:
                yield ": heartbeat\n\n"
                next_beat = time.monotonic() + heartbeat
        yield ": stream closed after the maximum duration; reconnect\n\n"
    finally:
        watch.unsubscribe()
        try:
            streams.close_stream(uid, stream_id)
        except Exception as exc:  # noqa: BLE001 - the slot expires by itself
            log.warning(
                "sse_release_failed",
                f"could not release a stream slot: {exc}",
                campaign_id=campaign_id,
            )
        log.info(
            "sse_closed",
            f"event stream for {campaign_id} closed",
            campaign_id=campaign_id,
            open_s=round(time.monotonic() - started, 1),
            assets=len(last_status),
        )


def response(campaign_id: str, uid: str) -> Response:
    stream_id = streams.open_stream(uid)  # 429 past the per-user limit
    out = Response(stream(campaign_id, uid, stream_id), mimetype="text/event-stream")
    out.headers["Cache-Control"] = "no-cache, no-store"
    out.headers["X-Accel-Buffering"] = "no"  # proxies must not buffer the stream
    return out
