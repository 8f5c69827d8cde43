"""render_still: a media request from Pub/Sub -> a still (and an animate request)."""

import functions_framework

from shared.pipeline.entry import run_pubsub


@functions_framework.cloud_event
def render_still(cloud_event):
    from shared.pipeline.render import handle_request

    run_pubsub(cloud_event, "render_still", handle_request)
