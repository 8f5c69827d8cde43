"""Open event streams on this instance, kept below its server threads.

In the cloud media_api runs under gunicorn's gthread worker: THREADS threads,
each request holds one until it ends, and an event stream lasts up to
MEDIA_API_SSE_MAX_S (300 s). With every thread held by a stream, any other
request waits in gunicorn's queue until a stream ends: the instance looks
alive and answers nothing. So this instance holds at most
`Settings.sse_per_instance` streams (below THREADS and below the concurrency
Cloud Run sends it), and the next is answered 503 with Retry-After at once,
from one of the threads kept free. The per-user limit (streams.py) counts
across instances; this one counts the threads of one process, so it lives in
memory. docs/decisions/0021-threads-and-streams.md.
"""

from __future__ import annotations

import threading

from shared.api.responses import ApiError
from shared.core.settings import get_settings

# A browser's page opens a new EventSource after a failed one; a few seconds
# lets a stream end here or the platform start another instance.
RETRY_AFTER_S = 5

_lock = threading.Lock()
_open = 0


class Slot:
    """One stream's place on this instance; `release` gives it back once."""

    def __init__(self) -> None:
        self._held = True

    def release(self) -> None:
        global _open
        with _lock:
            if self._held:
                self._held = False
                _open -= 1


def take() -> Slot:
    """A place for one more stream, or 503 when this instance holds its limit."""
    global _open
    limit = get_settings().sse_per_instance
    with _lock:
        if _open >= limit:
            raise ApiError(
                503,
                f"this server holds its {limit} event streams; try again shortly",
                {"Retry-After": str(RETRY_AFTER_S)},
            )
        _open += 1
    return Slot()


def open_count() -> int:
    with _lock:
        return _open
