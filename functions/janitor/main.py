"""janitor: closes stuck assets (Cloud Scheduler) and dead-lettered ones (Pub/Sub push)."""

import json

import functions_framework


@functions_framework.http
def janitor(request):
    from shared import log
    from shared.janitor import handle_http, parse_body
    from shared.settings import get_settings

    log.clear()
    trace, span = log.trace_from_headers(request.headers, get_settings().GOOGLE_CLOUD_PROJECT)
    log.bind(function="janitor", trace=trace, span=span)
    answer = handle_http(parse_body(request.get_data()))
    return json.dumps(answer), 200, {"Content-Type": "application/json"}
