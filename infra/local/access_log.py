"""Access lines of the local web servers as JSON, the shape Cloud Run logs them.

gunicorn's and http.server's own access lines are Apache-style text mixed
into the same file as the function's JSON lines; a log reader (Cloud
Logging's agent, `cutscenes local logs`) would take them for messages. Here
each request is one JSON line with Cloud Logging's `httpRequest` field, and
the trace of the request when it carried one, so an access line groups with
the function's own lines for that request.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from shared.core.log import SPAN_FIELD, TRACE_FIELD, rfc3339, trace_from_headers

PROJECT = os.environ.get("GOOGLE_CLOUD_PROJECT", "demo-cutscenes")


def write(severity: str, message: str, **fields: Any) -> None:
    record = {"severity": severity, "message": message, "timestamp": rfc3339(), **fields}
    sys.stdout.write(json.dumps(record, default=str) + "\n")
    sys.stdout.flush()


def http_request(
    method: str, path: str, status: int, size: Any, latency_s: float, remote: str, headers: Any
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "event": "http_access",
        "httpRequest": {
            "requestMethod": method,
            "requestUrl": path,
            "status": status,
            "responseSize": str(size) if str(size).isdigit() else None,
            "latency": f"{latency_s:.6f}s",
            "remoteIp": remote,
            "userAgent": headers.get("User-Agent"),
            "protocol": "HTTP/1.1",
        },
    }
    trace, span = trace_from_headers(headers, PROJECT)
    if trace:
        fields[TRACE_FIELD] = trace
    if span:
        fields[SPAN_FIELD] = span
    return fields
