"""`GET /campaigns/{cid}/events`: status changes as server-sent events.

A Firestore listener on the campaign's media, limited to documents updated
since the stream opened, feeds a queue; the response generator writes one
`event: media` per status change, a comment line as a heartbeat, and ends
after MEDIA_API_SSE_MAX_S so no instance holds a connection forever (the
browser's EventSource reconnects by itself). The listener is unsubscribed
whenever the generator ends, including when the client goes away (the next
write fails and the server closes the generator).

Membership is checked when the stream opens (media_api's authorize), again
before each batch of changes is sent, and at least every
MEDIA_API_STREAM_RECHECK_S (30 s) while nothing happens: a member removed
from the campaign, or a campaign deleted, ends the stream, and no change
written after the removal reaches it.
"""

from __future__ import annotations

import json
import queue
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from flask import Response

from shared.api import stream_slots, streams
from shared.core import log
from shared.core.settings import get_settings
from shared.store.asset_queries import watch_updates
from shared.store.campaigns import load_campaign
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


def _take(changes: queue.Queue, timeout: float) -> list[Any]:
    """What the listener has delivered: wait up to timeout for the first item,
    then take whatever else is already there (one membership read per batch)."""
    try:
        items = [changes.get(timeout=timeout)]
    except queue.Empty:
        return []
    while True:
        try:
            items.append(changes.get_nowait())
        except queue.Empty:
            return items


def _still_member(campaign_id: str, uid: str) -> bool:
    """Whether uid is still a member of a campaign that still exists. A read
    that fails counts as no: the stream ends and the client reconnects, which
    checks again, rather than sending on unchecked."""
    try:
        campaign = load_campaign(campaign_id)
    except Exception as exc:  # noqa: BLE001 - fail closed, logged
        log.warning(
            "sse_recheck_failed",
            f"could not check membership, ending the stream: {exc}",
            campaign_id=campaign_id,
        )
        return False
    return campaign is not None and uid in campaign.members


def stream(campaign_id: str, uid: str, stream_id: str) -> Iterator[str]:
    settings = get_settings()
    heartbeat, max_s = settings.MEDIA_API_SSE_HEARTBEAT_S, settings.MEDIA_API_SSE_MAX_S
    recheck = settings.MEDIA_API_STREAM_RECHECK_S
    started = time.monotonic()
    changes: queue.Queue = queue.Queue()
    watch = _listen(campaign_id, datetime.now(UTC), changes)
    last_status: dict[str, str] = {}
    ready = False
    reason = "client_left"  # unless the loop below says otherwise
    try:
        yield f"retry: {RETRY_MS}\n: listening to campaign {campaign_id}\n\n"
        next_beat = time.monotonic() + heartbeat
        next_check = time.monotonic() + recheck
        while (left := max_s - (time.monotonic() - started)) > 0:
            now = time.monotonic()
            items = _take(changes, max(0.0, min(left, next_beat - now, next_check - now)))
            if _READY in items and not ready:
                ready = True
                yield ": ready\n\n"  # the listener is attached: no change is missed now
            frames: list[str] = []
            for item in items:
                if item is _READY:
                    continue
                # A hide is news too: the player drops the asset.
                aid, status = item.get("asset_id"), item.get("status")
                seen = f"{status}{'/hidden' if item.get('hidden') else ''}"
                if aid and status and last_status.get(aid) != seen:
                    last_status[aid] = seen
                    frames.append(frame(item))
            # A member removed (or a campaign deleted) while the stream is open
            # gets nothing more: membership is read again before anything is
            # sent, and at least every `recheck` seconds so an idle stream ends.
            if frames or time.monotonic() >= next_check:
                if not _still_member(campaign_id, uid):
                    reason = "not_a_member"
                    break
                next_check = time.monotonic() + recheck
            yield from frames
            if time.monotonic() >= next_beat:
                yield ": heartbeat\n\n"
                next_beat = time.monotonic() + heartbeat
        else:
            reason = "max_duration"
            yield ": stream closed after the maximum duration; reconnect\n\n"
        if reason == "not_a_member":
            yield ": stream closed: not a member of this campaign (or it is gone)\n\n"
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
            reason=reason,
        )


class _Held:
    """The stream's body, holding its place on this instance until the server
    closes it: WSGI servers call close() when the response ends, also when the
    client left before the generator started (its `finally` never runs then)."""

    def __init__(self, body: Iterator[str], slot: stream_slots.Slot) -> None:
        self._body = body
        self._slot = slot

    def __iter__(self) -> Iterator[str]:
        return self._body

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._slot.release()


def response(campaign_id: str, uid: str) -> Response:
    slot = stream_slots.take()  # 503 at once when this instance is full
    try:
        stream_id = streams.open_stream(uid)  # 429 past the per-user limit
    except BaseException:
        slot.release()
        raise
    body = _Held(stream(campaign_id, uid, stream_id), slot)
    out = Response(body, mimetype="text/event-stream")
    out.headers["Cache-Control"] = "no-cache, no-store"
    out.headers["X-Accel-Buffering"] = "no"  # proxies must not buffer the stream
    return out
