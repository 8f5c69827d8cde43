"""Kill the function process after each step; redelivery must finish the job
with one image call, one Veo job and one charge."""

from __future__ import annotations

import time

import pytest

from shared.pipeline.checks import CRASH_POINTS
from shared.store import ledger
from tests.integration.helpers import (
    bucket_names,
    calls,
    cutscene,
    enable,
    publish,
    wait_terminal,
)

FAST_LEASES = {"MEDIA_IMAGE_LEASE_S": "2", "MEDIA_VIDEO_LEASE_S": "2"}
FUNCTION_OF = {
    "reserved": "render_still",
    "image_made": "render_still",
    "png_stored": "render_still",
    "veo_accepted": "animate_still",
    "veo_started": "animate_still",
    "mp4_recorded": "finish_clip",
}


def wait_replaced(stack, name: str, before: int, timeout: float = 60.0) -> None:
    """Until the stack's supervisor has replaced the crashed process (as Cloud
    Run replaces a dead instance); no manual restart."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stack.restarts(name) > before:
            return
        time.sleep(0.05)
    raise AssertionError(f"{name} did not crash and come back within {timeout} s")


@pytest.mark.parametrize("step", CRASH_POINTS)
def test_killed_after_step_then_redelivered_finishes_once(stack, step):
    name = FUNCTION_OF[step]
    other = "animate_still" if name == "render_still" else "render_still"
    stack.restart_functions((name, other), FAST_LEASES, only={name: {"MEDIA_CRASH_AFTER": step}})
    try:
        enable()
        before = stack.restarts(name)
        msg = cutscene(1)
        publish(msg)
        wait_replaced(stack, name, before)  # the same port, without the fault; Pub/Sub redelivers
        doc = wait_terminal("c1", msg["request_id"], timeout=60)
        time.sleep(0.5)
        assert doc["status"] == "complete", doc
        counted = calls(stack)
        assert (counted["generateContent"], counted["predictLongRunning"]) == (1, 1), counted
        balance = ledger.read_balance("c1", "s1")
        assert (balance.spent_micros, balance.reserved_micros) == (667_000, 0)
        assert len(bucket_names("media/")) == 2 and bucket_names("veo-out/") == []
    finally:
        stack.restart_functions((name, other))
