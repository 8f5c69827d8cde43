"""An owner's takes on the event-finished clip stage: a re-animate goes
through the paced starts, and a hide while Veo renders is seen by finish_clip.

Prices as in test_takes.py: a 1K still and a 4 s Fast clip at $0.15/s.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.domain.ids import asset_id_for
from shared.store.assets import asset_ref, load
from tests.integration.helpers import bucket_names, calls, cutscene, emulator, publish
from tests.integration.test_paced_starts import restart_paced
from tests.integration.test_takes import (
    CLIP,
    STILL,
    act,
    balance,
    charges,
    owners,
    partial_cutscene,
    wait_until,
)

pytestmark = pytest.mark.integration

PACED = {"MEDIA_VEO_STARTS_PER_MIN": "600"}  # a token every 0.1 s: never the bottleneck


def ended(aid: str, timeout: float = 90.0) -> dict:
    return wait_until(
        lambda: (d := load("c1", aid)) and d["status"] != "animating" and d,
        timeout=timeout,
        what="the clip's end",
    )


def test_a_paced_retry_of_an_old_asset_is_dispatched_and_charged_once(stack):
    restart_paced(stack, PACED)
    try:
        owners()
        first = partial_cutscene(stack)  # its failed clip was queued and paced too
        aid = first["asset_id"]
        assert first.get("video_queued_at")
        # Asked for an hour ago: older than any query by creation would look.
        hour_ago = datetime.now(UTC) - timedelta(hours=1)
        asset_ref("c1", aid).update({"created_at": hour_ago, "published_at": hour_ago})
        veo_before = calls(stack)["predictLongRunning"]
        assert act(stack, "POST", "animate", aid).status == 202
        doc = ended(aid)
        assert (doc["status"], doc["video_attempt"]) == ("complete", 2), doc
        assert doc["video_queued_at"] > first["video_queued_at"]  # queued afresh
        assert calls(stack)["predictLongRunning"] == veo_before + 1
        assert balance() == (STILL + CLIP, 0)
        assert charges() == {f"{aid}:image": STILL, f"{aid}:video.2": CLIP}
    finally:
        for name in ("animate_still", "finish_clip", "janitor"):
            stack.restart_function(name)


def test_a_clip_landing_for_an_asset_hidden_while_veo_worked_is_not_charged(stack):
    owners()
    emulator(stack, "POST", "/_emulator/latency", {"video_s": 4.0})
    msg = cutscene(1)
    publish(msg)
    aid = asset_id_for(msg["request_id"])
    wait_until(lambda: (load("c1", aid) or {}).get("video_operation"), what="Veo under way")
    # Hidden as an owner's hide lands while a worker holds the asset: only the
    # flag is written, the clip stage must notice it.
    asset_ref("c1", aid).update({"hidden": True})
    doc = ended(aid)
    assert (doc["status"], doc["status_reason"]) == ("partial", "hidden")
    # The holds are released just after the hidden end is written.
    wait_until(lambda: balance() == (STILL, 0), timeout=30, what="the clip's hold released")
    assert charges() == {f"{aid}:image": STILL}
    wait_until(
        lambda: not bucket_names(f"veo-out/c1/{aid}/") and not bucket_names(f"media/c1/{aid}"),
        timeout=60,
        what="the hidden asset's objects deleted",
    )
