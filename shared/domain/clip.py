"""The clip of an asset as a typed record with an explicit state.

A cutscene's clip goes through these states, one attempt at a time (an
owner's re-animate starts attempt N+1 at NONE):

    NONE ──► WAITING ──► INTENT ──► STARTED ──► DONE
      │                    │  ▲                  ▲
      └────────────────────┘  │ (429: not         │
                           │  │  started, same    │
                           ▼  │  intent again)    │
                        UNCERTAIN ────────────────┘ (its MP4 adopted, or ended)

- WAITING: queued for a paced start (MEDIA_VEO_STARTS_PER_MIN).
- INTENT: written *before* Veo is called (a write-ahead intent, as payment
  processors keep): from here on no second start is ever made for this
  attempt. A recovered INTENT with no operation (its worker died, or its
  answer was lost) becomes UNCERTAIN, never a second start.
- STARTED: Veo accepted the job; `operation` is its name.
- UNCERTAIN: Veo may or may not have started the job. Resolved by adopting
  the MP4 that lands under the asset's output folder (checked before it is
  attached or charged) or by ending the attempt `partial`, never by a
  second start.
- DONE: the attempt ended (the asset is terminal, or moved on).

Every write of the clip's state is a compare-and-set on the expected
states and the attempt number (shared/store/clips.py), so a worker acting
on a stale copy (an earlier attempt's check, a lapsed lease) changes
nothing. docs/decisions/0017-clip-state-machine.md has the reasons.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from shared.domain.status import TERMINAL, Status


class ClipState(StrEnum):
    NONE = "none"
    WAITING = "waiting"
    INTENT = "intent"
    STARTED = "started"
    UNCERTAIN = "uncertain"
    DONE = "done"


# Where each state may go next: the one list of legal moves.
MOVES: dict[ClipState, frozenset[ClipState]] = {
    ClipState.NONE: frozenset({ClipState.WAITING, ClipState.INTENT, ClipState.DONE}),
    ClipState.WAITING: frozenset({ClipState.INTENT, ClipState.DONE}),
    # Back to NONE or WAITING only when Veo said for certain that nothing
    # started (a 429, a refused connection): the intent is taken back.
    ClipState.INTENT: frozenset(
        {
            ClipState.NONE,
            ClipState.WAITING,
            ClipState.STARTED,
            ClipState.UNCERTAIN,
            ClipState.DONE,
        }
    ),
    ClipState.STARTED: frozenset({ClipState.DONE}),
    ClipState.UNCERTAIN: frozenset({ClipState.DONE}),
    ClipState.DONE: frozenset(),
}
# Veo was (or may have been) asked for this attempt's clip: never again.
CALLED: frozenset[ClipState] = frozenset({ClipState.INTENT, ClipState.STARTED, ClipState.UNCERTAIN})
# Not called yet: a start may still be made.
UNCALLED: frozenset[ClipState] = frozenset({ClipState.NONE, ClipState.WAITING})


KNOWN = frozenset(state.value for state in ClipState)


def may_move(current: ClipState, to: ClipState) -> bool:
    return to in MOVES[current]


@dataclass(frozen=True)
class Clip:
    """The clip's fields of an asset document, read once, typed."""

    state: ClipState
    attempt: int
    operation: str | None = None
    intent_at: float | None = None
    started_at: float | None = None
    uncertain_at: float | None = None
    queued_at: float | None = None
    check_at: float | None = None
    checks: int = 0
    check_failures: int = 0

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Clip:
        return cls(
            state=state_of(doc),
            attempt=attempt_of(doc),
            operation=str(doc["video_operation"]) if doc.get("video_operation") else None,
            intent_at=_float(doc.get("video_intent_at")),
            started_at=_float(doc.get("video_started_at")),
            uncertain_at=_float(doc.get("video_start_uncertain_at")),
            queued_at=_float(doc.get("video_queued_at")),
            check_at=_float(doc.get("video_check_at")),
            checks=int(doc.get("video_checks") or 0),
            check_failures=int(doc.get("video_check_failures") or 0),
        )

    @property
    def called(self) -> bool:
        """Whether Veo was (or may have been) asked for this attempt's clip."""
        return self.state in CALLED


def attempt_of(doc: Mapping[str, Any]) -> int:
    return int(doc.get("video_attempt") or 1)


def state_of(doc: Mapping[str, Any]) -> ClipState:
    """The stored `video_state`; for documents written before it was kept,
    the state their loose fields imply."""
    if doc.get("status") in TERMINAL:
        return ClipState.DONE
    stored = doc.get("video_state")
    if isinstance(stored, str) and stored in KNOWN:
        return ClipState(stored)
    if doc.get("video_operation"):
        return ClipState.STARTED
    if doc.get("video_start_uncertain_at") is not None:
        return ClipState.UNCERTAIN
    if doc.get("video_waiting") and doc.get("status") == Status.ANIMATING:
        return ClipState.WAITING
    return ClipState.NONE


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None
