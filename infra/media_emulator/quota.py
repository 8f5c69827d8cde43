"""Per-method request quotas: at most N served calls in any rolling 60 s.

Copies Vertex's per-minute quotas (Veo 3.1 -001 about 50/min per project,
preview ids 10; https://cloud.google.com/vertex-ai/generative-ai/docs/quotas):
beyond the limit a call answers 429 RESOURCE_EXHAUSTED and does no work.
Refused calls do not use up the quota. A time-compressed benchmark shortens
the window (`window_s`) with the rest of its clock.
"""

from __future__ import annotations

import threading
import time
from collections import deque

WINDOW_S = 60.0


class QuotaBook:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._limits: dict[str, int] = {}
        self._windows: dict[str, float] = {}
        self._served: dict[str, deque[float]] = {}

    def set(self, method: str, per_minute: int, window_s: float = WINDOW_S) -> None:
        with self._lock:
            if per_minute <= 0:
                self._limits.pop(method, None)
            else:
                self._limits[method] = per_minute
            self._windows[method] = window_s
            self._served[method] = deque()

    def limits(self) -> dict[str, int]:
        with self._lock:
            return dict(self._limits)

    def clear(self) -> None:
        with self._lock:
            self._limits.clear()
            self._windows.clear()
            self._served.clear()

    def admit(self, method: str) -> bool:
        """Count one call against the quota; False if it must be refused."""
        with self._lock:
            limit = self._limits.get(method)
            if limit is None:
                return True
            served = self._served.setdefault(method, deque())
            now = time.monotonic()
            window = self._windows.get(method, WINDOW_S)
            while served and now - served[0] >= window:
                served.popleft()
            if len(served) >= limit:
                return False
            served.append(now)
            return True
