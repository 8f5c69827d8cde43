"""media_api: signed URLs, turn media, gallery, cost and live events (HTTP)."""

import functions_framework


@functions_framework.http
def media_api(request):
    from shared.api.app import handle

    return handle(request)
