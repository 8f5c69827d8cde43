"""Where an asset stands, read from its document: pure questions the stages,
the dispatcher and the AIDM guidance all ask (through the typed Clip)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from shared.domain.clip import Clip, ClipState

A = TypeVar("A", bound=Mapping[str, Any])


def started(doc: Mapping[str, Any]) -> bool:
    """Whether Veo was (or may have been) asked for this attempt's clip: an
    intent written, a recorded operation, or a start whose outcome was lost
    (never restarted)."""
    return Clip.from_doc(doc).called


def waiting(docs: Iterable[A]) -> list[A]:
    """The clips queued for a paced start and not started yet."""
    return [d for d in docs if Clip.from_doc(d).state == ClipState.WAITING]
