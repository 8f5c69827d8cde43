"""Terminal within MEDIA_DEADLINE_S, counted from the publish, not a sweep
period later and not from whenever the asset happened to be created."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from infra.local.scheduler import SweepTimer
from shared.domain.ids import asset_id_for
from shared.store import assets, ledger
from tests.integration.helpers import (
    bucket_names,
    cutscene,
    emulator,
    enable,
    http_json,
    publish,
    wait_terminal,
)


def stuck_asset(aid: str, published_s_ago: float, created_s_ago: float) -> object:
    now = datetime.now(UTC)
    ref = assets.asset_ref("c1", aid)
    ref.set(
        {
            "asset_id": aid,
            "campaign_id": "c1",
            "session_id": "s1",
            "request_id": f"req-{aid}",
            "status": "animating",
            "image": {"uri": "gs://x/y.png"},
            "kind": "cutscene",
            "published_at": now - timedelta(seconds=published_s_ago),
            "created_at": now - timedelta(seconds=created_s_ago),
        }
    )
    ledger.reserve_first_fit("c1", "s1", 5_000_000, [{ledger.hold_key(aid, "video"): 400_000}])
    return ref


def test_the_sweep_counts_from_publish_and_closes_before_the_deadline_passes(stack):
    enable()
    # Published 870 s ago (the deadline is 900 s), its asset created only 10 s
    # ago after a backlog: the next sweep would be too late.
    ref = stuck_asset("abacklog0000000000000000000000001", 870, 10)
    fresh = stuck_asset("afresh000000000000000000000000001", 30, 30)
    assert http_json("POST", stack.env["JANITOR_URL"], {}) == {"closed": 1}
    doc = ref.get().to_dict()
    assert (doc["status"], doc["status_reason"]) == ("partial", "timeout")
    assert fresh.get().to_dict()["status"] == "animating"
    assert ledger.read_balance("c1", "s1").reserved_micros == 400_000  # the fresh one's


def test_the_local_stack_runs_the_sweep_on_its_own(stack):
    assert stack.sweeps is not None  # on MEDIA_SWEEP_EVERY_S (an hour in this session)
    enable()
    ref = stuck_asset("aforgotten00000000000000000000001", 3600, 3600)
    timer = SweepTimer(stack.env["JANITOR_URL"], every_s=0.5).start()
    try:
        deadline = time.monotonic() + 60
        while ref.get().to_dict()["status"] == "animating" and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        timer.stop()
    assert ref.get().to_dict()["status"] == "partial"
    assert ledger.read_balance("c1", "s1").reserved_micros == 0


def test_veo_output_landing_after_a_timeout_is_removed_by_the_sweep(stack):
    short = {"MEDIA_DEADLINE_S": "5"}
    # No runway asked of a start: this clip must start, then outlive its deadline.
    stack.restart_functions(
        ("animate_still", "janitor"), short, only={"animate_still": {"MEDIA_VIDEO_EXPECTED_S": "0"}}
    )
    try:
        enable()
        # The clip takes longer than the 5 s deadline whatever the load: its
        # 12 s start counting only once Veo is called, after the publish.
        emulator(stack, "POST", "/_emulator/latency", {"video_s": 12.0})
        msg = cutscene(1)
        publish(msg)
        # finish_clip deletes a late clip on its event at once (test_late_results.py,
        # whether the asset was closed before the clip landed or by that event):
        # with the event lost (finish_clip down before the clip lands), the
        # sweep is what removes it.
        aid = asset_id_for(msg["request_id"])
        started = time.monotonic() + 60
        while not (assets.load("c1", aid) or {}).get("video_operation"):
            assert time.monotonic() < started, "Veo was never started"
            time.sleep(0.1)
        stack.stop_part("finish_clip")
        doc = wait_terminal("c1", msg["request_id"], timeout=60)
        assert (doc["status"], doc["status_reason"]) == ("partial", "timeout")
        # Veo finishes anyway and writes its clip, which nobody moves into place.
        landed = time.monotonic() + 120
        while not bucket_names("veo-out/") and time.monotonic() < landed:
            time.sleep(0.2)
        assert bucket_names("veo-out/")
        cleared = time.monotonic() + 60
        while bucket_names("veo-out/") and time.monotonic() < cleared:
            http_json("POST", stack.env["JANITOR_URL"], {})  # once older than the deadline
            time.sleep(1.0)
        assert bucket_names("veo-out/") == []
        assert len(bucket_names("media/")) == 1  # the still stays
    finally:
        if "finish_clip" in stack.outages:
            stack.start_part("finish_clip")
        stack.restart_functions(("animate_still", "janitor"))
