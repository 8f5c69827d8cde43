"""Image-model calls paced on their own, project-wide log (`pacing/image-log`,
MEDIA_IMAGE_CALLS_PER_MIN, off by default): see wait_for_image_call. The log
is the same kind of rolling log as a Veo model's (shared/store/pacing.py)."""

from __future__ import annotations

import random

from shared.core import clock
from shared.core.errors import RetriesSpent
from shared.core.settings import get_settings
from shared.store.pacing import StartLog, next_start_at, take_start

IMAGE_LOG_DOC = "image-log"


def image_log() -> StartLog:
    return StartLog(IMAGE_LOG_DOC, get_settings().MEDIA_IMAGE_CALLS_PER_MIN or 0)


def wait_for_image_call() -> None:
    """Take an image-call token, waiting in this invocation for one to free up
    (MEDIA_IMAGE_CALLS_PER_MIN; nothing to do when it is 0).

    Unlike Veo starts, a still is made inside its own delivery (the player
    waits for it, and an image call takes seconds, not minutes), so there is
    no queue to dispatch from: the render waits for its turn, as it would
    wait out a 429, but without spending the call. Past
    MEDIA_IMAGE_PACING_WAIT_S the delivery is handed back (RetriesSpent, not
    retried in-process) for the platform to redeliver later."""
    log = image_log()
    if not log.enabled:
        return
    give_up = clock.monotonic() + get_settings().MEDIA_IMAGE_PACING_WAIT_S
    while take_start(log) is None:
        pause = max(0.05, next_start_at(log) - clock.time())
        if clock.monotonic() + pause > give_up:
            raise RetriesSpent("image-call budget (MEDIA_IMAGE_CALLS_PER_MIN) used up")
        # A little jitter: instances woken for the same token spread out.
        clock.sleep(pause + random.uniform(0, 0.05))
