"""Crash points and deadlines shared by the pipeline stages."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from shared import log
from shared.settings import get_settings

CRASH_POINTS = ("reserved", "image_made", "png_stored", "veo_started", "mp4_recorded")


def checkpoint(step: str) -> None:
    """Die here if a crash test asked for it (emulators only): a real kill,
    not an exception, so the platform's redelivery is what gets tested."""
    settings = get_settings()
    if settings.emulated and settings.MEDIA_CRASH_AFTER == step:
        log.warning("crash_injected", f"killing the process after {step}")
        os._exit(17)


def past_deadline(since: datetime) -> bool:
    """Whether MEDIA_DEADLINE_S has passed since `since`."""
    return (datetime.now(UTC) - since).total_seconds() > get_settings().MEDIA_DEADLINE_S


def expired(asset: dict[str, Any]) -> bool:
    created = asset.get("created_at")
    return isinstance(created, datetime) and past_deadline(created)
