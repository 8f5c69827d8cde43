"""JSON log lines, one named helper per event.

Each line is what Cloud Logging's structured logging reads as it is:
`severity`, `message`, an RFC 3339 `timestamp` (a float would be kept as an
ordinary field, and the entry stamped with the time the agent read the line),
and `logging.googleapis.com/trace` (+ `spanId`) so one request's lines group
under its trace. The ids let an operator follow one request through every
function (`cutscenes local logs --request-id R` does that locally).

Lines go to stdout, where the functions' runtime collects them; the CLI sends
them to stderr (`to_stderr`) so its stdout carries only its JSON answer.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

_context: ContextVar[dict[str, Any] | None] = ContextVar("log_context", default=None)
# Where lines go: "stdout" or "stderr", looked up in `sys` at each write (a
# stream object kept here would outlive a replaced sys.stderr, as in tests).
_target = ["stdout"]

TRACE_FIELD = "logging.googleapis.com/trace"
SPAN_FIELD = "logging.googleapis.com/spanId"
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")
_CLOUD_TRACE = re.compile(r"^([0-9a-fA-F]{32})(?:/(\d{1,20}))?")


def to_stderr(on: bool = True) -> None:
    """Send later lines to stderr (False: back to stdout)."""
    _target[0] = "stderr" if on else "stdout"


def bind(**ids: Any) -> None:
    """Attach ids (request_id, campaign_id, asset_id, trace, span) to later lines."""
    merged = dict(_context.get() or {})
    merged.update({k: v for k, v in ids.items() if v is not None})
    _context.set(merged)


def clear() -> None:
    _context.set(None)


def rfc3339(epoch_s: float | None = None) -> str:
    """`2026-11-26T17:03:04.123456Z`: UTC, microseconds, as Cloud Logging parses it."""
    stamp = datetime.now(UTC) if epoch_s is None else datetime.fromtimestamp(epoch_s, UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def trace_from_headers(headers: Any, project: str) -> tuple[str | None, str | None]:
    """(trace, span) from an HTTP request's `traceparent` or `X-Cloud-Trace-Context`
    header, the trace in the `projects/P/traces/T` form Cloud Logging wants."""
    parent = (headers.get("traceparent") or "").strip().lower()
    match = _TRACEPARENT.match(parent)
    if match:
        return f"projects/{project}/traces/{match.group(1)}", match.group(2)
    match = _CLOUD_TRACE.match((headers.get("X-Cloud-Trace-Context") or "").strip())
    if match:
        span = f"{int(match.group(2)):016x}" if match.group(2) else None
        return f"projects/{project}/traces/{match.group(1).lower()}", span
    return None, None


def emit(severity: str, event: str, message: str, **fields: Any) -> None:
    record: dict[str, Any] = {
        "severity": severity,
        "message": message,
        "event": event,
        "timestamp": rfc3339(),
    }
    ctx = dict(_context.get() or {})
    trace, span = ctx.pop("trace", None), ctx.pop("span", None)
    record.update(ctx)
    if trace:
        record[TRACE_FIELD] = trace
    if span:
        record[SPAN_FIELD] = span
    record.update(fields)
    stream = sys.stderr if _target[0] == "stderr" else sys.stdout
    stream.write(json.dumps(record, default=str, ensure_ascii=False) + "\n")
    stream.flush()


def info(event: str, message: str, **fields: Any) -> None:
    emit("INFO", event, message, **fields)


def warning(event: str, message: str, **fields: Any) -> None:
    emit("WARNING", event, message, **fields)


class _JsonLines(logging.Handler):
    """The standard `logging` module's records (the Google SDKs', urllib3's,
    gunicorn's) as the same JSON lines, with the ids bound to the request."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            fields: dict[str, Any] = {"logger": record.name}
            if record.exc_info:
                import traceback

                fields["stack_trace"] = "".join(traceback.format_exception(*record.exc_info))
            emit(record.levelname, "library", record.getMessage(), **fields)
        except Exception:  # noqa: BLE001 - logging must never fail its caller
            self.handleError(record)


def capture_std_logging(level: int = logging.WARNING) -> None:
    """Route the standard logging module's records at `level` and above into
    these JSON lines, once per process (the functions' entry points call it):
    a library's plain-text warning otherwise lands between the JSON lines as
    text Cloud Logging cannot parse and `cutscenes local logs` cannot follow."""
    root = logging.getLogger()
    if any(isinstance(h, _JsonLines) for h in root.handlers):
        return
    handler = _JsonLines(level)
    root.addHandler(handler)
    if root.level > level or root.level == logging.NOTSET:
        root.setLevel(level)


def error(event: str, message: str, exc_info: bool = False, **fields: Any) -> None:
    if exc_info:
        import traceback

        fields["stack_trace"] = traceback.format_exc()
    emit("ERROR", event, message, **fields)
