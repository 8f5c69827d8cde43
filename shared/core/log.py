"""JSON log lines, one named helper per event.

Each line is what Cloud Logging's structured logging reads as it is:
`severity`, `message`, an RFC 3339 `timestamp` (a float would be kept as an
ordinary field, and the entry stamped with the time the agent read the line),
and `logging.googleapis.com/trace` (+ `spanId`) so one request's lines group
under its trace. The ids let an operator follow one request through every
function (`cutscenes local logs --request-id R` does that locally).

Every line goes through the standard logging module: the project's own
events through the "cutscenes" logger (`emit` and its helpers), libraries'
records through the root logger once `capture_std_logging` ran; one
`CloudLoggingFormatter` shapes both. Lines go to stdout, where the functions'
runtime collects them; the CLI sends them to stderr (`to_stderr`) so its
stdout carries only its JSON answer.
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


# Cloud Logging's severities that the logging module has no level for.
_LEVELS = {"DEBUG": 10, "INFO": 20, "NOTICE": 25, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}


class CloudLoggingFormatter(logging.Formatter):
    """A `logging.LogRecord` as one Cloud Logging structured line (see above).

    Records from `emit` carry their event, severity and fields in `extra`;
    any other logger's record (the Google SDKs', urllib3's, gunicorn's) is an
    event "library" with the logger's name. Both take the ids bound to the
    request that is being served (`bind`)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "severity": getattr(record, "cl_severity", None) or record.levelname,
            "message": record.getMessage(),
            "event": getattr(record, "cl_event", None) or "library",
            "timestamp": rfc3339(record.created),
        }
        ctx = dict(_context.get() or {})
        trace, span = ctx.pop("trace", None), ctx.pop("span", None)
        line.update(ctx)
        if trace:
            line[TRACE_FIELD] = trace
        if span:
            line[SPAN_FIELD] = span
        if record.name != _LOGGER_NAME:
            line["logger"] = record.name
        if record.exc_info:
            line["stack_trace"] = self.formatException(record.exc_info)
        line.update(getattr(record, "cl_fields", None) or {})
        return json.dumps(line, default=str, ensure_ascii=False)


class _JsonLines(logging.Handler):
    """Writes formatted records to the `sys` stream chosen by `to_stderr`,
    looked up at each record (see `_target`)."""

    def __init__(self, level: int = logging.NOTSET) -> None:
        super().__init__(level)
        self.setFormatter(CloudLoggingFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
            stream = sys.stderr if _target[0] == "stderr" else sys.stdout
            stream.write(text + "\n")
            stream.flush()
        except Exception:  # noqa: BLE001 - logging must never fail its caller
            self.handleError(record)


_LOGGER_NAME = "cutscenes"


def _logger() -> logging.Logger:
    """The project's own logger: every level, its own handler, not propagated
    (the root handler of `capture_std_logging` would write each line twice)."""
    logger = logging.getLogger(_LOGGER_NAME)
    if not any(isinstance(h, _JsonLines) for h in logger.handlers):
        logger.addHandler(_JsonLines())
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
    return logger


def emit(severity: str, event: str, message: str, **fields: Any) -> None:
    """One line through the logging module (`info`, `warning`, `error` are the
    usual ways in); `fields` are added to the line as they are."""
    extra = {"cl_severity": severity, "cl_event": event, "cl_fields": fields}
    _logger().log(_LEVELS.get(severity, logging.INFO), message, extra=extra)


def info(event: str, message: str, **fields: Any) -> None:
    emit("INFO", event, message, **fields)


def warning(event: str, message: str, **fields: Any) -> None:
    emit("WARNING", event, message, **fields)


def capture_std_logging(level: int = logging.WARNING) -> None:
    """Route the standard logging module's records at `level` and above into
    these JSON lines, once per process (the functions' entry points call it):
    a library's plain-text warning otherwise lands between the JSON lines as
    text Cloud Logging cannot parse and `cutscenes local logs` cannot follow."""
    root = logging.getLogger()
    if any(isinstance(h, _JsonLines) for h in root.handlers):
        return
    root.addHandler(_JsonLines(level))
    if root.level > level or root.level == logging.NOTSET:
        root.setLevel(level)


def error(event: str, message: str, exc_info: bool = False, **fields: Any) -> None:
    if exc_info:
        import traceback

        fields["stack_trace"] = traceback.format_exc()
    emit("ERROR", event, message, **fields)
