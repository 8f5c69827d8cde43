"""The emulator's state, shared by the handler threads: operations, counters,
faults, quotas, latency and options."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from . import storage
from .faults import METHODS, FaultBook
from .quota import QuotaBook
from .recorder import Recorder


@dataclass
class Operation:
    name: str  # .../operations/{uuid}, as Vertex names them
    output_id: str  # numeric: the clip's folder under storageUri
    started: float
    delay_s: float
    result: dict | None = None  # {"response": {...}} or {"error": {...}}
    hang: bool = False
    created_wall: float = field(default_factory=time.time)

    @property
    def short_name(self) -> str:
        """The name's last segment (its UUID), for log lines."""
        return self.name.rsplit("/", 1)[-1]


class Emulator:
    """All state, shared by the handler threads."""

    def __init__(
        self,
        storage_url: str | None = None,
        image_latency: float = 0.0,
        video_latency: float = 0.0,
        thought_parts: bool = False,
    ):
        self.storage_url = storage.normalize_url(storage_url)
        self._defaults = (float(image_latency), float(video_latency), bool(thought_parts))
        self.lock = threading.Lock()
        self.faults = FaultBook()
        self.ops: dict[str, Operation] = {}
        self.image_s, self.video_s, self.thought_parts = self._defaults
        self.calls = dict.fromkeys(METHODS, 0)
        self.rejected = dict.fromkeys(METHODS, 0)
        # Veo jobs made (and so paid for), by their storageUri: a job whose
        # answer was lost or came late counts too, a refused start does not.
        self.jobs: dict[str, int] = {}
        self.quotas = QuotaBook()
        # Calls per model named in the URL: {model: {method: n, "rejected": n}}.
        self.by_model: dict[str, dict[str, int]] = {}
        # Blocks answered with no variant named: odd ones block the prompt.
        self.blocked_n = 0
        self.recorded = Recorder()

    # ---- counters and reset --------------------------------------------------

    def reset(self) -> None:
        self.faults.clear()
        self.recorded.clear()
        self.quotas.clear()
        with self.lock:
            self.image_s, self.video_s, self.thought_parts = self._defaults
            self.calls = dict.fromkeys(METHODS, 0)
            self.rejected = dict.fromkeys(METHODS, 0)
            self.jobs = {}
            self.by_model = {}
            self.blocked_n = 0

    def _model_counts(self, model: str) -> dict[str, int]:
        """(lock held)"""
        return self.by_model.setdefault(model, {**dict.fromkeys(METHODS, 0), "rejected": 0})

    def count(self, method: str, model: str | None = None) -> None:
        with self.lock:
            self.calls[method] += 1
            if model:
                self._model_counts(model)[method] += 1

    def count_rejected(self, method: str, model: str | None = None) -> None:
        with self.lock:
            self.rejected[method] += 1
            if model:
                self._model_counts(model)["rejected"] += 1

    def counters(self) -> dict:
        with self.lock:
            return {
                **self.calls,
                "rejected": dict(self.rejected),
                "jobs": dict(self.jobs),
                "by_model": {m: dict(n) for m, n in self.by_model.items()},
            }

    def prune_locked(self) -> None:
        """Forget operations over an hour old once there are many (lock held)."""
        if len(self.ops) < 1000:
            return
        cutoff = time.time() - 3600
        for key in [k for k, o in self.ops.items() if o.created_wall < cutoff]:
            del self.ops[key]
