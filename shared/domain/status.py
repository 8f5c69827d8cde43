"""The asset's status machine as types (docs/interface.md section 2).

`Status` and `Reason` are `StrEnum`s: each member *is* its string, so the
stored documents, the status events and the JSON answers are unchanged, and a
value read back from Firestore (a plain str) compares equal to its member.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    QUEUED = "queued"
    RENDERING_IMAGE = "rendering_image"
    ANIMATING = "animating"
    COMPLETE = "complete"
    PARTIAL = "partial"
    FAILED = "failed"
    REJECTED = "rejected"


class Reason(StrEnum):
    """Why an asset ended where it did (`status_reason`)."""

    # rejected: never started
    INVALID = "invalid"
    DISABLED = "disabled"
    BUDGET = "budget"  # also partial: the clip was not affordable
    # partial: the still exists, the clip does not
    DISABLED_VIDEO = "disabled_video"
    VIDEO_FAILED = "video_failed"
    VIDEO_BLOCKED = "video_blocked"
    BUSY = "busy"  # paced starts: the start budget is taken until past the deadline
    # failed: nothing usable
    IMAGE_BLOCKED = "image_blocked"
    IMAGE_FAILED = "image_failed"
    MODEL_UNAVAILABLE = "model_unavailable"
    # either
    TIMEOUT = "timeout"
    HIDDEN = "hidden"  # an owner hid it in flight


# Forward-only: a move to a lower rank (or to the same status) is a repeat.
RANK: dict[str, int] = {
    Status.QUEUED: 0,
    Status.RENDERING_IMAGE: 1,
    Status.ANIMATING: 2,
    Status.COMPLETE: 3,
    Status.PARTIAL: 3,
    Status.FAILED: 3,
    Status.REJECTED: 3,
}
TERMINAL: frozenset[Status] = frozenset(Status(s) for s, r in RANK.items() if r == 3)
OPEN: tuple[Status, ...] = tuple(Status(s) for s, r in RANK.items() if r < 3)
# Terminal states that have files to show.
SHOWN: tuple[Status, ...] = (Status.COMPLETE, Status.PARTIAL)


def moves_forward(current: str, to: str) -> bool:
    """Whether `current` -> `to` is a move forward (not a repeat of one made)."""
    return to != current and RANK[to] >= RANK[current]


def hidden_end(doc: Mapping[str, Any]) -> Status:
    """A hidden asset ends `partial` if its still was made (and paid), else `failed`."""
    return Status.PARTIAL if doc.get("image") else Status.FAILED


def is_terminal(doc: Mapping[str, Any] | None) -> bool:
    if not doc:
        return False
    return doc.get("status") in TERMINAL
