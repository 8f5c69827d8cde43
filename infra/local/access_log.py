"""Access lines of the local web servers as JSON, the shape Cloud Run logs them.

gunicorn's and http.server's own access lines are Apache-style text mixed
into the same file as the function's JSON lines; a log reader (Cloud
Logging's agent, `cutscenes local logs`) would take them for messages. Here
each request is one JSON line with Cloud Logging's `httpRequest` field, and
the trace of the request when it carried one, so an access line groups with
the function's own lines for that request.

An access line also carries the ids the handler bound while it served the
request (`shared.core.log.bind`: request_id, asset_id, campaign_id,
delivery_id), so `cutscenes local logs --request-id R` shows the Pub/Sub push
that ran each stage. For a push to render_still and animate_still the handler
read the request id from the message data; finish_clip's data is a Storage
notification, and its handler finds the request id on the asset the object
belongs to. media_api's lines take the request's trace from its `traceparent`
(or `X-Cloud-Trace-Context`) header, and the asset id from the route; its
callers send no request id of their own, so none is invented (an
X-Request-Id header would name the HTTP call, not the cutscene). The runner
clears the bound ids before each request (function_runner.py), so an access
line never takes the ids of the request served before it on that thread.
"""

from __future__ import annotations

import os
from typing import Any

from shared.core import log
from shared.core.log import SPAN_FIELD, TRACE_FIELD, trace_from_headers

PROJECT = os.environ.get("GOOGLE_CLOUD_PROJECT", "demo-cutscenes")


def write(severity: str, message: str, event: str, **fields: Any) -> None:
    """One line through the logging module, with the ids bound to the request."""
    log.emit(severity, event, message, **fields)


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
