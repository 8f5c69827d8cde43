"""Fault injection: the next N calls of a method fail a given way.

Which kinds each method accepts (anything else is refused at registration
with 400, so a test never silently injects a no-op):

- generateContent: `http` (that status and Google's error JSON), `blocked`
  (200 with no image: alternately `promptFeedback.blockReason: SAFETY` with no
  candidates, then a candidate with `finishReason: IMAGE_SAFETY` and no
  content; pin one with `"variant": "prompt"` or `"variant": "finish"`),
  `hang` (the call does not answer until faults are cleared / the emulator is
  reset, or `hang_s` seconds pass (default 3600), then answers 504).
- predictLongRunning: `http` (no operation is created; with `"created": true`
  the operation IS created and finishes normally, but the caller gets the
  error after `delay_s` seconds (default 0): the lost answer of a start that
  timed out or got a 5xx, docs/decisions/0011-veo-start-retries.md), `blocked` (the
  operation finishes with raiMediaFilteredCount 1 and no videos), `op_error`
  (finishes with `error: {code: 13}`), `no_video` (finishes with a response
  holding no videos), `hang` (the operation never finishes), `slow` (the
  operation is created and finishes normally, but its name is answered only
  after `delay_s` seconds: a start that takes Veo long to accept; past the
  caller's timeout it is the lost answer of a job that exists).
- fetchPredictOperation: `http` (that poll fails; the operation is untouched);
  `blocked`, `op_error`, `no_video` (the polled operation finishes that way at
  this poll, for good, even if it had already finished otherwise), `hang` (the
  polled operation never finishes from then on).

Faults are consumed in registration order (FIFO per method); every call of the
method, faulted or not, counts in GET /_emulator/calls. `status` defaults to
500 for `http`; `count` defaults to 1.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

METHODS = ("generateContent", "predictLongRunning", "fetchPredictOperation")
KINDS = ("http", "blocked", "op_error", "no_video", "hang", "slow")
ALLOWED: dict[str, tuple[str, ...]] = {
    "generateContent": ("http", "blocked", "hang"),
    "predictLongRunning": ("http", "blocked", "op_error", "no_video", "hang", "slow"),
    "fetchPredictOperation": ("http", "blocked", "op_error", "no_video", "hang"),
}
BLOCK_VARIANTS = ("prompt", "finish")

# HTTP status -> google.rpc status name, as Google APIs send them.
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    412: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
MESSAGES = {
    429: "Quota exceeded for aiplatform.googleapis.com/generate_content_requests_per_minute"
    " (emulated fault).",
    500: "Internal error encountered (emulated fault).",
    503: "The service is currently unavailable (emulated fault).",
    504: "Deadline exceeded (emulated fault).",
}


def status_name(code: int) -> str:
    if code in STATUS_NAMES:
        return STATUS_NAMES[code]
    return "UNKNOWN" if code >= 500 else "FAILED_PRECONDITION"


def error_body(code: int, message: str | None = None) -> dict:
    """Google's error JSON: {"error": {"code", "message", "status"}}."""
    return {
        "error": {
            "code": code,
            "message": message or MESSAGES.get(code, f"{status_name(code)} (emulated fault)."),
            "status": status_name(code),
        }
    }


class FaultSpecError(ValueError):
    pass


@dataclass
class Fault:
    method: str
    kind: str
    status: int = 500
    remaining: int = 1
    variant: str | None = None  # blocked on generateContent: "prompt" | "finish"
    hang_s: float = 3600.0
    message: str | None = None
    created: bool = False  # http on predictLongRunning: the job exists anyway
    delay_s: float = 0.0  # ... and its answer comes this late (also `slow`)


def parse_fault(body: object) -> Fault:
    """Validate a POST /_emulator/faults body; raise FaultSpecError with a clear reason."""
    if not isinstance(body, dict):
        raise FaultSpecError("body must be a JSON object")
    unknown = set(body) - {
        "method",
        "kind",
        "status",
        "count",
        "variant",
        "hang_s",
        "message",
        "created",
        "delay_s",
    }
    if unknown:
        raise FaultSpecError(f"unknown keys: {sorted(unknown)}")
    method = body.get("method")
    if method not in METHODS:
        raise FaultSpecError(f"method must be one of {list(METHODS)}, got {method!r}")
    kind = body.get("kind")
    if kind not in KINDS:
        raise FaultSpecError(f"kind must be one of {list(KINDS)}, got {kind!r}")
    if kind not in ALLOWED[method]:
        raise FaultSpecError(
            f"kind {kind!r} does not apply to {method}; allowed: {list(ALLOWED[method])}"
        )
    count = body.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise FaultSpecError(f"count must be a positive integer, got {count!r}")
    status = body.get("status", 500 if kind == "http" else None)
    if kind == "http":
        if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
            raise FaultSpecError(f"status must be an integer from 400 to 599, got {status!r}")
    elif status is not None and (
        isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599
    ):
        raise FaultSpecError(f"status must be an integer from 400 to 599, got {status!r}")
    variant = body.get("variant")
    if variant is not None:
        if method != "generateContent" or kind != "blocked":
            raise FaultSpecError("variant applies only to blocked faults on generateContent")
        if variant not in BLOCK_VARIANTS:
            raise FaultSpecError(f"variant must be one of {list(BLOCK_VARIANTS)}, got {variant!r}")
    hang_s = body.get("hang_s", 3600.0)
    if isinstance(hang_s, bool) or not isinstance(hang_s, int | float) or hang_s < 0:
        raise FaultSpecError(f"hang_s must be a non-negative number, got {hang_s!r}")
    message = body.get("message")
    if message is not None and not isinstance(message, str):
        raise FaultSpecError("message must be a string")
    created = body.get("created", False)
    if not isinstance(created, bool):
        raise FaultSpecError("created must be a boolean")
    if created and (method != "predictLongRunning" or kind != "http"):
        raise FaultSpecError("created applies only to http faults on predictLongRunning")
    delay_s = body.get("delay_s", 0.0)
    if isinstance(delay_s, bool) or not isinstance(delay_s, int | float) or delay_s < 0:
        raise FaultSpecError(f"delay_s must be a non-negative number, got {delay_s!r}")
    if kind == "slow" and not delay_s:
        raise FaultSpecError("a slow fault needs delay_s, the seconds before the answer")
    if delay_s and not created and kind != "slow":
        raise FaultSpecError("delay_s applies only with created or to a slow fault")
    return Fault(
        method=method,
        kind=kind,
        status=status or 500,
        remaining=count,
        variant=variant,
        hang_s=float(hang_s),
        message=message,
        created=created,
        delay_s=float(delay_s),
    )


@dataclass
class FaultBook:
    """FIFO of pending faults per method; thread-safe."""

    _lock: threading.Lock = field(default_factory=threading.Lock)
    _queues: dict[str, list[Fault]] = field(default_factory=lambda: {m: [] for m in METHODS})
    # Set when faults are cleared, to release calls parked by `hang`.
    release: threading.Event = field(default_factory=threading.Event)

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._queues[fault.method].append(fault)

    def take(self, method: str) -> Fault | None:
        """Consume one call's worth of the first pending fault for `method`."""
        with self._lock:
            q = self._queues[method]
            if not q:
                return None
            f = q[0]
            f.remaining -= 1
            if f.remaining <= 0:
                q.pop(0)
            return f

    def clear(self) -> None:
        with self._lock:
            for q in self._queues.values():
                q.clear()
            old, self.release = self.release, threading.Event()
        old.set()

    def pending(self) -> dict[str, list[dict]]:
        with self._lock:
            return {
                m: [{"kind": f.kind, "status": f.status, "remaining": f.remaining} for f in q]
                for m, q in self._queues.items()
            }
