"""Where an asset stands, read from its document: pure questions the stages,
the dispatcher and the AIDM guidance all ask."""

from __future__ import annotations

from typing import Any


def started(doc: dict[str, Any]) -> bool:
    """Whether Veo was (or may have been) asked for this attempt's clip: a
    recorded operation, or a start whose outcome was lost (never restarted)."""
    return bool(doc.get("video_operation")) or doc.get("video_start_uncertain_at") is not None


def waiting(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The clips queued for a paced start and not started yet."""
    return [d for d in docs if d.get("video_waiting") and not started(d)]
