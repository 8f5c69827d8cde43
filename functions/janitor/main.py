"""janitor: closes assets stuck past the deadline (Cloud Scheduler, HTTP)."""

import json

import functions_framework


@functions_framework.http
def janitor(request):
    from shared.janitor import sweep

    closed = sweep()
    return json.dumps({"closed": closed}), 200, {"Content-Type": "application/json"}
