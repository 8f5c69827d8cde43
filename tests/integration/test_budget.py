"""The cap is the feature: exact under bursts, released on failure, daily kill switch."""

from __future__ import annotations

import time
from collections import Counter

from shared.store import daily, ledger
from tests.integration.helpers import calls, cutscene, emulator, enable, publish, wait_terminal


def test_burst_of_50_charges_exactly_what_the_cap_affords(stack):
    # A 4 s cutscene costs 0.067 + 4 * 0.15 = 0.667: 2.10 buys three of them,
    # then 0.099 is left, which buys one still (0.067) and nothing after that.
    enable(budget=2.10)
    messages = [cutscene(n) for n in range(50)]
    started = time.monotonic()
    from shared.core.settings import get_settings
    from shared.store.connections import publisher, topic_path

    topic = topic_path(get_settings().MEDIA_REQUESTS_TOPIC)
    import json

    futures = [publisher().publish(topic, json.dumps(m).encode()) for m in messages]
    for f in futures:
        f.result(timeout=30)
    docs = [
        wait_terminal("c1", m["request_id"], timeout=20 - (time.monotonic() - started))
        for m in messages
    ]
    drained = time.monotonic() - started
    outcome = Counter((d["status"], d["status_reason"]) for d in docs)
    assert outcome == {
        ("complete", None): 3,
        ("partial", "budget"): 1,
        ("rejected", "budget"): 46,
    }, outcome
    balance = ledger.read_balance("c1", "s1")
    assert balance.spent_micros == 3 * 667_000 + 67_000
    assert balance.reserved_micros == 0
    assert balance.spent_micros + balance.reserved_micros <= balance.cap_micros == 2_100_000
    counted = calls(stack)
    assert (counted["generateContent"], counted["predictLongRunning"]) == (4, 3)
    print(f"\nburst of 50: drained in {drained:.2f} s, outcome {dict(outcome)}")


def test_same_request_id_in_many_messages_is_one_charge(stack):
    enable()
    msg = cutscene(7)
    for turn in range(4):  # different bodies, one request id: the id is what counts
        publish({**msg, "turn_number": 7 + turn})
    doc = wait_terminal("c1", msg["request_id"])
    time.sleep(1.0)
    assert doc["status"] == "complete"
    assert ledger.read_balance("c1", "s1").spent_micros == 667_000
    assert calls(stack)["predictLongRunning"] == 1


def test_blocked_still_is_released_and_not_billed(stack):
    enable()
    emulator(
        stack,
        "POST",
        "/_emulator/faults",
        {"method": "generateContent", "kind": "blocked", "count": 5},
    )
    msg = cutscene(1)
    publish(msg)
    doc = wait_terminal("c1", msg["request_id"])
    assert (doc["status"], doc["status_reason"]) == ("failed", "image_blocked")
    balance = ledger.read_balance("c1", "s1")
    assert (balance.spent_micros, balance.reserved_micros) == (0, 0)
    assert calls(stack)["generateContent"] == 2  # one try plus MEDIA_IMAGE_BLOCK_RETRIES=1


def test_failed_and_blocked_clips_charge_only_the_still(stack):
    enable()
    outcomes = {}
    for n, kind in enumerate(["op_error", "blocked", "no_video"]):
        emulator(
            stack,
            "POST",
            "/_emulator/faults",
            {"method": "predictLongRunning", "kind": kind, "count": 1},
        )
        msg = cutscene(n, session_id=f"s-{kind.replace('_', '-')}")
        publish(msg)
        doc = wait_terminal("c1", msg["request_id"])
        balance = ledger.read_balance("c1", msg["session_id"])
        outcomes[kind] = (
            doc["status"],
            doc["status_reason"],
            balance.spent_micros,
            balance.reserved_micros,
            doc["cost_usd"],
        )
    assert outcomes == {
        "op_error": ("partial", "video_failed", 67_000, 0, 0.067),
        "blocked": ("partial", "video_blocked", 67_000, 0, 0.067),
        "no_video": ("partial", "video_failed", 67_000, 0, 0.067),
    }


def test_daily_cap_bounds_spend_across_sessions(stack):
    # 1.00 a day over 10 shards: each shard holds one still (0.067 of 0.10).
    stack.restart_function("render_still", {"MEDIA_DAILY_CAP_USD": "1.00"})
    try:
        enable(budget=5)
        msgs = [
            cutscene(
                n,
                session_id=f"s{n % 3}",
                kind="location_visual",
                cutscene_type=None,
                motion_prompt=None,
                subject="The Spire",
            )
            for n in range(15)
        ]
        for m in msgs:
            publish(m)
        docs = [wait_terminal("c1", m["request_id"]) for m in msgs]
        outcome = Counter((d["status"], d["status_reason"]) for d in docs)
        assert outcome == {("complete", None): 10, ("rejected", "budget"): 5}, outcome
        spent, reserved = daily.spent_today(daily.today())
        assert (spent, reserved) == (10 * 67_000, 0)
        sessions = sum(ledger.read_balance("c1", f"s{i}").spent_micros for i in range(3))
        assert sessions == spent  # refused by the day: the session hold was released
        reserved = sum(ledger.read_balance("c1", f"s{i}").reserved_micros for i in range(3))
        assert reserved == 0
    finally:
        stack.restart_function("render_still")
