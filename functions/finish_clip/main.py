"""finish_clip: Veo's MP4 landed in the bucket (a Storage notification) -> asset complete."""

import functions_framework

from shared.pipeline.entry import run_pubsub


@functions_framework.cloud_event
def finish_clip(cloud_event):
    from shared.pipeline.finish import handle_finalize

    run_pubsub(cloud_event, "finish_clip", handle_finalize)
