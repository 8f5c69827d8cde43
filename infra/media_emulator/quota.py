"""Request quotas: at most N served calls in any rolling 60 s, per method, or
per method, base model and region.

Copies Vertex's per-minute quotas (Veo 3.1 -001 about 50/min per project,
preview ids 10; https://cloud.google.com/vertex-ai/generative-ai/docs/quotas):
beyond the limit a call answers 429 RESOURCE_EXHAUSTED and does no work.
Vertex counts them per base model and region, so a quota set with a model is
that model's alone: calls of other models never use it up, and with no
location named it holds in each region separately, as a Vertex quota does.
A quota set with no model is the old per-method one, over every model (the
emulator's own simplification, kept for the tests and benchmarks that set
it). A call must fit every quota that applies to it. Refused calls do not use
up any quota. A time-compressed benchmark shortens the window (`window_s`)
with the rest of its clock.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

WINDOW_S = 60.0
ANY = "*"  # a quota set for a model with no location: each region its own


@dataclass(frozen=True)
class Limit:
    per_minute: int
    window_s: float


# (method, model, location): model None for a per-method quota.
Key = tuple[str, str | None, str | None]


class QuotaBook:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._limits: dict[Key, Limit] = {}
        # Served calls counted per quota and, for a model's quota, per region.
        self._served: dict[tuple[Key, str | None], deque[float]] = {}

    def set(
        self,
        method: str,
        per_minute: int,
        window_s: float = WINDOW_S,
        model: str | None = None,
        location: str | None = None,
    ) -> None:
        key: Key = (method, model, (location or ANY) if model else None)
        with self._lock:
            if per_minute <= 0:
                self._limits.pop(key, None)
            else:
                self._limits[key] = Limit(per_minute, window_s)
            for counted in [k for k in self._served if k[0] == key]:
                del self._served[counted]

    def limits(self) -> dict[str, int]:
        """The per-method limits (the old shape of GET /_emulator/quota)."""
        with self._lock:
            return {m: lim.per_minute for (m, model, _), lim in self._limits.items() if not model}

    def model_limits(self) -> list[dict]:
        """The per-model limits, sorted: model, location (None: each region), method."""
        with self._lock:
            rows = [
                {
                    "model": model,
                    "location": None if location == ANY else location,
                    "method": method,
                    "per_minute": lim.per_minute,
                    "window_s": lim.window_s,
                }
                for (method, model, location), lim in self._limits.items()
                if model
            ]
        return sorted(rows, key=lambda r: (r["model"], r["location"] or "", r["method"]))

    def clear(self) -> None:
        with self._lock:
            self._limits.clear()
            self._served.clear()

    def _applying(
        self, method: str, model: str | None, location: str | None
    ) -> list[tuple[Limit, tuple[Key, str | None]]]:
        """(the quota's limit, its served deque's key) for each quota over this call."""
        found: list[tuple[Key, str | None]] = []
        if (method, None, None) in self._limits:
            found.append(((method, None, None), None))
        if model:
            for where in (location, ANY):
                key: Key = (method, model, where)
                if key in self._limits:
                    found.append((key, location))
                    break  # a region's own quota wins over the every-region one
        return [(self._limits[key], (key, region)) for key, region in found]

    def admit(self, method: str, model: str | None = None, location: str | None = None) -> bool:
        """Count one call against every quota over it; False if one must refuse it."""
        with self._lock:
            now = time.monotonic()
            windows = []
            for limit, counted in self._applying(method, model, location):
                served = self._served.setdefault(counted, deque())
                while served and now - served[0] >= limit.window_s:
                    served.popleft()
                if len(served) >= limit.per_minute:
                    return False
                windows.append(served)
            for served in windows:
                served.append(now)
            return True
