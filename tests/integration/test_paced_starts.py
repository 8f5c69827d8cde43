"""Veo starts paced to a project-wide budget (MEDIA_VEO_STARTS_PER_MIN), fair
across campaigns, and a clip whose start would come too late degraded early."""

from __future__ import annotations

import time

from shared.core.settings import get_settings
from shared.domain.ids import asset_id_for
from shared.store import assets, ledger, pacing
from shared.store.connections import firestore_client
from tests.integration.helpers import calls, cutscene, emulator, enable, publish, wait_terminal

PACED_FUNCTIONS = ("animate_still", "finish_clip", "janitor")
# The default (standard) tier's Veo model: its start log is the one these
# tests fill and read (each model has its own, shared/store/pacing.veo_log).
FAST = "veo-3.1-fast-generate-001"


def fast_log_ref():
    return firestore_client().collection("pacing").document(pacing.veo_log(FAST).doc_id)


def restart_paced(stack, env: dict[str, str]) -> None:
    stack.restart_functions(PACED_FUNCTIONS, env)


def wait_waiting(messages: list[dict], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    for msg in messages:
        aid = asset_id_for(msg["request_id"])
        while not (assets.load(msg["campaign_id"], aid) or {}).get("video_waiting"):
            assert time.monotonic() < deadline, f"{aid} never waited for a start"
            time.sleep(0.1)


def hold_budget(budget: int, ahead_s: float) -> None:
    """Fill the start log with `budget` starts `ahead_s` from now: every start
    waits until then, or until release_budget()."""
    held = [time.time() + ahead_s] * budget
    fast_log_ref().set({"starts": held})


def release_budget() -> None:
    fast_log_ref().delete()


# The functions that dispatch while clips only wait: animate_still after each
# enqueue, the janitor on each operations tick (finish_clip only after a clip
# finishes).
WAITING_DISPATCHERS = ("animate_still", "janitor")


def fence_dispatchers(stack, env: dict[str, str], messages: list[dict]) -> None:
    """From here on, every dispatch pass began with all of `messages` waiting.

    A pass orders the clips waiting when it queries them and takes each start
    token a second or more later (the lease, two reads and the still's
    download come first: shared/pipeline/starts.start_job). A pass that began
    while only the first clip waited (the janitor's operations tick, every
    2 s, or that clip's own animate_still) can still be on its way to the
    token when a test frees the budget, and give that clip the first start
    whatever the order says. Restarting the functions that dispatch ends
    every such pass: SIGTERM gives an open one GRACEFUL_S to finish, and with
    the budget held it can only find no token. A pass killed holding a clip's
    lease leaves the lease to run out (MEDIA_VIDEO_LEASE_S): waited for, so
    no clip is held back when the budget is freed."""
    stack.restart_functions(WAITING_DISPATCHERS, env)
    deadline = time.monotonic() + get_settings().MEDIA_VIDEO_LEASE_S + 30
    for msg in messages:
        aid = asset_id_for(msg["request_id"])
        while assets.lease_live(assets.load(msg["campaign_id"], aid) or {}):
            assert time.monotonic() < deadline, f"{aid}'s lease never ran out"
            time.sleep(0.1)


def test_starts_keep_to_the_budget_and_a_burst_does_not_hold_others_back(stack):
    # At most 5 starts in any 4 s window (counted over 4.8 s), round-robin
    # (the default order's turns are unit-tested: tests/unit/test_dispatch.py).
    five_per_window = {
        "MEDIA_VEO_STARTS_PER_MIN": "5",
        "MEDIA_VEO_PACING_WINDOW_S": "4",
        "MEDIA_VEO_FAIRNESS": "round_robin",
    }
    restart_paced(stack, five_per_window)
    try:
        enable("big", budget=20.0)
        enable("small", budget=20.0)
        # Clips render long enough that the started ones are still in flight.
        emulator(stack, "POST", "/_emulator/latency", {"video_s": 20.0})
        # Hold every start until both campaigns' clips wait for Veo: the burst
        # first, the small campaign's two after it.
        # Held until released (600 s: a slow machine's waits and the fence fit
        # in it), well within the 900 s deadline: they wait, none is degraded.
        hold_budget(5, 600.0)
        big = [cutscene(n, campaign_id="big") for n in range(1, 13)]
        small = [cutscene(n, campaign_id="small") for n in range(1, 3)]
        for batch in (big, small):
            for msg in batch:
                publish(msg)
            wait_waiting(batch)
        # A pass begun before the small campaign's clips waited would give
        # the burst's clips the freed starts (see fence_dispatchers).
        fence_dispatchers(stack, five_per_window, big + small)
        release_budget()
        docs = {
            m["request_id"]: wait_terminal(m["campaign_id"], m["request_id"], timeout=180)
            for m in big + small
        }
        assert {d["status"] for d in docs.values()} == {"complete"}, docs
        # Never more than the budget in a window, whatever the dispatcher.
        tokens = sorted(float(d["video_token_at"]) for d in docs.values())
        assert max(sum(1 for u in tokens if t <= u < t + 4.0) for t in tokens) <= 5, tokens
        assert calls(stack)["predictLongRunning"] == len(docs)
        big_starts = sorted(float(docs[m["request_id"]]["video_started_at"]) for m in big)
        small_last = max(float(docs[m["request_id"]]["video_started_at"]) for m in small)
        # Round-robin: the small campaign goes second and fifth, not last.
        assert small_last < big_starts[3], (small_last, big_starts)
        for campaign in ("big", "small"):
            assert ledger.read_balance(campaign, "s1").reserved_micros == 0
    finally:
        restart_paced(stack, {})


def test_starts_nobody_dispatched_in_time_are_taken_later(stack, monkeypatch):
    # 5 starts per 4 s (at most 3 in any half span). After one start, no
    # dispatch for 3 s (no arrival, no finished clip, no tick): the starts
    # unused meanwhile are not lost, only spread over the Firestore log.
    monkeypatch.setenv("MEDIA_VEO_STARTS_PER_MIN", "5")
    monkeypatch.setenv("MEDIA_VEO_PACING_WINDOW_S", "4")
    get_settings.cache_clear()
    try:
        t0 = float(int(time.time()) + 1000)
        fast = pacing.veo_log(FAST)
        assert pacing.take_start(fast, now=t0) is not None
        later = [pacing.take_start(fast, now=t0 + 3.0) for _ in range(4)]
        assert [t is not None for t in later] == [True] * 3 + [False]
        latest = [pacing.take_start(fast, now=t0 + 5.41) for _ in range(3)]
        assert [t is not None for t in latest] == [True] * 2 + [False]
    finally:
        get_settings.cache_clear()


def test_a_clip_whose_start_would_pass_the_deadline_degrades_to_busy(stack):
    # One start an hour, already taken.
    env = {
        "MEDIA_VEO_STARTS_PER_MIN": "1",
        "MEDIA_VEO_PACING_WINDOW_S": "3600",
        "MEDIA_DEADLINE_S": "60",
        "MEDIA_VIDEO_EXPECTED_S": "3",
    }
    restart_paced(stack, env)
    try:
        hold_budget(1, 3600.0)  # the next start is free past the deadline
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


def test_the_default_order_starts_the_campaign_that_has_waited_longest(stack):
    # One start per 4 s window (span 8 s, the half-span limit 1 in 4 s), the
    # default order. The start log remembers that "lucky" had five starts
    # with no wait and "patient" two of 50 s each: their clips, waiting
    # together, start patient's first although lucky's was queued first.
    #
    # Both clips must wait together before the start is freed: in the full
    # suite, or alone on a loaded machine, a dispatch pass begun while only
    # lucky's clip waited took the freed start for it (see fence_dispatchers).
    one_per_window = {"MEDIA_VEO_STARTS_PER_MIN": "1", "MEDIA_VEO_PACING_WINDOW_S": "4"}
    restart_paced(stack, one_per_window)
    try:
        enable("lucky", budget=20.0)
        enable("patient", budget=20.0)
        now = time.time()
        log = fast_log_ref()
        log.set(
            {
                # Held until released (as above, 600 s): both clips wait.
                "starts": [now + 600.0],
                "waits": {"lucky": [0.0, 5.0, now], "patient": [100.0, 2.0, now]},
            }
        )
        lucky, patient = cutscene(1, campaign_id="lucky"), cutscene(1, campaign_id="patient")
        for msg in (lucky, patient):
            publish(msg)
            wait_waiting([msg])
        fence_dispatchers(stack, one_per_window, [lucky, patient])
        log.update({"starts": []})  # released, the history kept
        docs = [
            wait_terminal(m["campaign_id"], m["request_id"], timeout=120) for m in (lucky, patient)
        ]
        assert [d["status"] for d in docs] == ["complete", "complete"], docs
        lucky_at, patient_at = (float(d["video_token_at"]) for d in docs)
        assert patient_at < lucky_at, (patient_at, lucky_at)
        # Each start added its wait to its campaign's history in the log.
        waits = log.get().to_dict()["waits"]
        assert waits["lucky"][1] == 6.0 and waits["patient"][1] == 3.0, waits
    finally:
        restart_paced(stack, {})
