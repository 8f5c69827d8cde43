"""Writes of an asset's clip state: each a compare-and-set on the expected
states and the attempt (shared/domain/clip.py has the state diagram).

A write whose expectation no longer holds (another worker moved the clip
on, an owner's retry started a new attempt, the asset was closed) is
refused and logged, never applied: a worker acting on a stale copy of the
asset changes nothing."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from shared.core import log
from shared.domain.clip import Clip, ClipState, attempt_of, may_move, state_of
from shared.domain.status import Status
from shared.store.assets import asset_ref
from shared.store.optimistic import Fields, now, read_modify_write


def move(
    campaign_id: str,
    asset_id: str,
    attempt: int,
    expect: Iterable[ClipState],
    to: ClipState,
    **fields: Any,
) -> Clip | None:
    """Move the animating asset's clip of `attempt` from one of `expect` to
    `to`, writing `fields` with it; the clip as written, or None (refused)."""
    expected = frozenset(expect)

    def mutate(doc: Fields | None) -> tuple[Fields | None, Clip | None]:
        why = refusal(doc, attempt, expected, to)
        if why is not None:
            log.warning(
                "clip_write_refused",
                f"clip {to} for attempt {attempt} refused: {why}",
                attempt=attempt,
                to=str(to),
            )
            return None, None
        assert doc is not None
        update = {**fields, "video_state": str(to), "updated_at": now()}
        if "stage_ms" in fields:
            update["stage_ms"] = {**(doc.get("stage_ms") or {}), **fields["stage_ms"]}
        return update, Clip.from_doc({**doc, **update})

    return read_modify_write(asset_ref(campaign_id, asset_id), mutate, reuse_version=True)


def refusal(
    doc: Fields | None, attempt: int, expected: frozenset[ClipState], to: ClipState
) -> str | None:
    """Why a clip move may not be written to `doc` (None: it may)."""
    if doc is None:
        return "no such asset"
    if doc.get("status") != Status.ANIMATING:
        return f"the asset is {doc.get('status')}"
    if attempt_of(doc) != attempt:
        return f"the asset is at attempt {attempt_of(doc)}"
    current = state_of(doc)
    if current not in expected:
        return f"the clip is {current}, not {'/'.join(sorted(expected))}"
    if current != to and not may_move(current, to):
        return f"{current} cannot move to {to}"
    if to == ClipState.INTENT and doc.get("hidden"):
        return "the asset was hidden"  # checked in the same write as the intent
    return None


def note(campaign_id: str, asset_id: str, clip: Clip, **fields: Any) -> Clip | None:
    """Record progress on the clip (checks, their next time) without moving
    it: refused, like a move, if it is no longer in `clip`'s state and attempt."""
    return move(campaign_id, asset_id, clip.attempt, {clip.state}, clip.state, **fields)
