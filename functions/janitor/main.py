"""janitor: closes stuck assets (Cloud Scheduler) and dead-lettered ones (Pub/Sub push)."""

import json

import functions_framework


@functions_framework.http
def janitor(request):
    from shared.core import log
    from shared.core.settings import get_settings
    from shared.core.transient import describe, transport_error
    from shared.pipeline.janitor import handle_http, parse_body

    log.capture_std_logging()
    log.clear()
    trace, span = log.trace_from_headers(request.headers, get_settings().GOOGLE_CLOUD_PROJECT)
    log.bind(function="janitor", trace=trace, span=span)
    try:
        answer = handle_http(parse_body(request.get_data()))
    except Exception as exc:
        if transport_error(exc) is None:
            raise
        # An outage: 503 so the scheduler or Pub/Sub retries; no stack trace.
        log.warning("transient", f"janitor: {describe(exc)}")
        return json.dumps({"error": "unavailable"}), 503, {"Content-Type": "application/json"}
    return json.dumps(answer), 200, {"Content-Type": "application/json"}
