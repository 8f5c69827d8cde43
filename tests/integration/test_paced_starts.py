"""Veo starts paced to a project-wide budget (MEDIA_VEO_STARTS_PER_MIN), fair
across campaigns, and a clip whose start would come too late degraded early."""

from __future__ import annotations

import time

from shared.domain.ids import asset_id_for
from shared.store import assets, ledger
from shared.store.connections import firestore_client
from tests.integration.helpers import calls, cutscene, emulator, enable, publish, wait_terminal

PACED_FUNCTIONS = ("animate_still", "finish_clip", "janitor")


def restart_paced(stack, env: dict[str, str]) -> None:
    for name in PACED_FUNCTIONS:
        stack.restart_function(name, env)


def wait_waiting(messages: list[dict], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    for msg in messages:
        aid = asset_id_for(msg["request_id"])
        while not (assets.load(msg["campaign_id"], aid) or {}).get("video_waiting"):
            assert time.monotonic() < deadline, f"{aid} never waited for a start"
            time.sleep(0.1)


def test_starts_keep_to_the_budget_and_a_burst_does_not_hold_others_back(stack):
    # One start per 1 s slot: at most 5 in any 4 s window.
    restart_paced(stack, {"MEDIA_VEO_STARTS_PER_MIN": "5", "MEDIA_VEO_PACING_WINDOW_S": "4"})
    try:
        enable("big", budget=20.0)
        enable("small", budget=20.0)
        # Clips render long enough that the started ones are still in flight.
        emulator(stack, "POST", "/_emulator/latency", {"video_s": 20.0})
        # Hold every start until both campaigns' clips wait for Veo: the burst
        # first, the small campaign's two after it.
        pacing = firestore_client().collection("pacing")
        now = int(time.time())
        held = [pacing.document(f"veo-{slot}") for slot in range(now, now + 120)]
        for ref in held:
            ref.set({"used": 1})
        big = [cutscene(n, campaign_id="big") for n in range(1, 13)]
        small = [cutscene(n, campaign_id="small") for n in range(1, 3)]
        for batch in (big, small):
            for msg in batch:
                publish(msg)
            wait_waiting(batch)
        for ref in held:
            ref.delete()
        docs = {m["request_id"]: wait_terminal(m["campaign_id"], m["request_id"], timeout=180)
                for m in big + small}
        assert {d["status"] for d in docs.values()} == {"complete"}, docs
        # Never two starts in one slot (the budget), whatever the dispatcher,
        # and each token taken within its slot.
        slots = [int(d["video_slot"]) for d in docs.values()]
        assert len(set(slots)) == len(slots), slots
        assert all(int(float(d["video_token_at"]) // 1.0) == d["video_slot"]
                   for d in docs.values())
        assert calls(stack)["predictLongRunning"] == len(docs)
        big_starts = sorted(float(docs[m["request_id"]]["video_started_at"]) for m in big)
        small_last = max(float(docs[m["request_id"]]["video_started_at"]) for m in small)
        # Round-robin: the small campaign goes second and fifth, not last.
        assert small_last < big_starts[3], (small_last, big_starts)
        for campaign in ("big", "small"):
            assert ledger.read_balance(campaign, "s1").reserved_micros == 0
    finally:
        restart_paced(stack, {})


def test_a_clip_whose_start_would_pass_the_deadline_degrades_to_busy(stack):
    # One start per hour-long slot, and this slot's start is already taken.
    env = {"MEDIA_VEO_STARTS_PER_MIN": "1", "MEDIA_VEO_PACING_WINDOW_S": "3600",
           "MEDIA_DEADLINE_S": "60", "MEDIA_VIDEO_EXPECTED_S": "3"}
    while 3600 - time.time() % 3600 < 120:  # the next slot must be past the deadline
        time.sleep(1)
    restart_paced(stack, env)
    try:
        slot = int(time.time() // 3600)
        firestore_client().collection("pacing").document(f"veo-{slot}").set({"used": 1})
        enable()
        msg = cutscene(1)
        publish(msg)
        doc = wait_terminal("c1", msg["request_id"], timeout=60)
        assert (doc["status"], doc["status_reason"]) == ("partial", "busy"), doc
        assert doc["image"] and not doc.get("video")
        assert calls(stack)["predictLongRunning"] == 0
        balance = ledger.read_balance("c1", "s1")
        assert (balance.spent_micros, balance.reserved_micros) == (67_000, 0)
        assert not assets.load("c1", asset_id_for(msg["request_id"])).get("video_waiting")
    finally:
        restart_paced(stack, {})
