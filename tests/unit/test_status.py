"""The status machine's types: members are their stored strings, and the
forward-only rule the store's transitions apply."""

from __future__ import annotations

import json

from shared.domain.status import (
    OPEN,
    RANK,
    SHOWN,
    TERMINAL,
    Reason,
    Status,
    hidden_end,
    is_terminal,
    moves_forward,
)


def test_members_are_the_stored_strings() -> None:
    assert (
        json.dumps({"status": Status.RENDERING_IMAGE, "status_reason": Reason.DISABLED_VIDEO})
        == '{"status": "rendering_image", "status_reason": "disabled_video"}'
    )
    assert f"{Status.PARTIAL}/{Reason.BUSY}" == "partial/busy"
    assert "animating" == Status.ANIMATING and Status("failed") is Status.FAILED


def test_every_status_has_a_rank_and_a_place() -> None:
    assert set(RANK) == set(Status)
    assert set(OPEN) | TERMINAL == set(Status) and not set(OPEN) & TERMINAL
    assert OPEN == (Status.QUEUED, Status.RENDERING_IMAGE, Status.ANIMATING)
    assert set(SHOWN) <= TERMINAL


def test_moves_only_forward() -> None:
    assert moves_forward("queued", "rendering_image")
    assert moves_forward("rendering_image", "failed")
    assert moves_forward(Status.QUEUED, "rejected")
    assert not moves_forward("animating", "animating")  # a repeat
    assert not moves_forward("animating", "rendering_image")  # a late duplicate


def test_terminal_reads_a_stored_document() -> None:
    assert is_terminal({"status": "partial"}) and not is_terminal({"status": "queued"})
    assert not is_terminal(None) and not is_terminal({})
    assert hidden_end({"image": {"uri": "gs://b/x.png"}}) == "partial"
    assert hidden_end({"image": None}) is Status.FAILED
