"""Crash points and deadlines shared by the pipeline stages."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from shared.core import clock, log
from shared.core.settings import get_settings

# veo_accepted: Veo took the job, its name not yet written (the intent is).
CRASH_POINTS = (
    "reserved",
    "image_made",
    "png_stored",
    "veo_accepted",
    "veo_started",
    "mp4_recorded",
)


def checkpoint(step: str) -> None:
    """Die here if a crash test asked for it (emulators only): a real kill,
    not an exception, so the platform's redelivery is what gets tested."""
    settings = get_settings()
    if settings.emulated and settings.MEDIA_CRASH_AFTER == step:
        log.warning("crash_injected", f"killing the process after {step}")
        os._exit(17)


def past_deadline(since: datetime) -> bool:
    """Whether MEDIA_DEADLINE_S has passed since `since`."""
    return (clock.now() - since).total_seconds() > get_settings().MEDIA_DEADLINE_S


def deadline_start(asset: Mapping[str, Any]) -> datetime | None:
    """When the request's MEDIA_DEADLINE_S started: an owner's retried clip
    (re-animate) from the retry, else its first publish (a backlog before the
    asset existed counts), else the asset's creation."""
    for key in ("restarted_at", "published_at", "created_at"):
        stamp = asset.get(key)
        if isinstance(stamp, datetime):
            return stamp
    return None


def expired(asset: Mapping[str, Any]) -> bool:
    start = deadline_start(asset)
    return start is not None and past_deadline(start)


def sweep_cutoff() -> datetime:
    """Open assets that started before this are closed by the sweep now: their
    deadline falls before the next sweep would see them."""
    settings = get_settings()
    lead = min(settings.MEDIA_SWEEP_EVERY_S, settings.MEDIA_DEADLINE_S // 2)
    return clock.now() - timedelta(seconds=settings.MEDIA_DEADLINE_S - lead)


def expected_s(duration_seconds: int) -> float:
    """How long a clip is expected to take from its start: when the sweep first
    asks Veo about an operation that wrote nothing, and the least time before
    its deadline a clip may still start with."""
    settings = get_settings()
    return settings.MEDIA_VIDEO_EXPECTED_S + settings.MEDIA_VIDEO_EXPECTED_PER_S * duration_seconds


def too_late(doc: Mapping[str, Any], start_at: float) -> bool:
    """Whether a clip that starts at `start_at` would still be rendering at
    its deadline: Google would bill a clip the asset can no longer take."""
    start = deadline_start(doc)  # the publish, or an owner's retry
    if start is None:
        return False
    deadline = start.timestamp() + get_settings().MEDIA_DEADLINE_S
    duration = int((doc.get("plan") or {}).get("duration_seconds") or 0)
    return start_at + expected_s(duration) > deadline
