"""JSON log lines on stdout, one named helper per event.

Cloud Logging reads `severity`, `message` and
`logging.googleapis.com/trace` from each line; the ids let an operator follow
one request through every function.
"""

from __future__ import annotations

import json
import sys
import time
from contextvars import ContextVar
from typing import Any

_context: ContextVar[dict[str, Any] | None] = ContextVar("log_context", default=None)


def bind(**ids: Any) -> None:
    """Attach ids (request_id, campaign_id, asset_id, trace) to later lines."""
    merged = dict(_context.get() or {})
    merged.update({k: v for k, v in ids.items() if v is not None})
    _context.set(merged)


def clear() -> None:
    _context.set(None)


def emit(severity: str, event: str, message: str, **fields: Any) -> None:
    record: dict[str, Any] = {"severity": severity, "message": message, "event": event,
                              "time": time.time()}
    ctx = _context.get() or {}
    trace = ctx.get("trace")
    record.update({k: v for k, v in ctx.items() if k != "trace"})
    if trace:
        record["logging.googleapis.com/trace"] = trace
    record.update(fields)
    sys.stdout.write(json.dumps(record, default=str, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def info(event: str, message: str, **fields: Any) -> None:
    emit("INFO", event, message, **fields)


def warning(event: str, message: str, **fields: Any) -> None:
    emit("WARNING", event, message, **fields)


def error(event: str, message: str, exc_info: bool = False, **fields: Any) -> None:
    if exc_info:
        import traceback

        fields["stack_trace"] = traceback.format_exc()
    emit("ERROR", event, message, **fields)
