"""animate_still: an animate request from Pub/Sub -> a Veo clip in the bucket."""

import functions_framework

from shared.pipeline.entry import run_pubsub


@functions_framework.cloud_event
def animate_still(cloud_event):
    from shared.pipeline.animate import handle_animate

    run_pubsub(cloud_event, "animate_still", handle_animate)
