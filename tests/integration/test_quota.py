"""30 cutscenes at once under a 10/min Veo quota: every one ends complete or
partial, nothing is overspent, every clip Veo served is either attached and
charged or logged as unbilled, and the 429s are counted.

The quota's minute is compressed to WINDOW_S on the media emulator, and the
deadline with it: the pipeline waits out a 429 the same way whatever the
window (shared/pipeline/starts.within_quota), and the stage tests check
that decision on the clock seam (tests/unit/stages/test_clip.py). At 60 s
of Veo's minute and a 90 s deadline the test waited 90 s; now about 60."""

from __future__ import annotations

import json
import time
from collections import Counter

from shared.store import ledger
from tests.integration.helpers import calls, cutscene, emulator, enable, publish, wait_terminal

WINDOW_S = 30.0  # the emulator's "minute" for the quota
DEADLINE_S = 60
# A clip needs this long before its deadline to start: the first ten start at
# once, the next ten after the quota's window with time to spare, the rest
# wait out 429s until it is too late and end partial (timeout) unstarted.
EXPECTED_S = 10


def late_results(stack, asset_ids: set[str]) -> list[dict]:
    """`late_result` log lines (a clip that landed after its asset was closed:
    deleted, not charged) of these assets, from every function's log."""
    found = []
    for path in sorted(stack.log_dir.glob("*.log")):
        for line in path.read_text(errors="replace").splitlines():
            if '"late_result"' not in line:
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("event") == "late_result" and record.get("asset_id") in asset_ids:
                found.append(record)
    return found


def test_thirty_cutscenes_under_a_ten_per_minute_quota(stack):
    short = {"MEDIA_DEADLINE_S": str(DEADLINE_S)}
    stack.restart_functions(
        ("render_still", "janitor", "animate_still"),
        short,
        only={"animate_still": {"MEDIA_VIDEO_EXPECTED_S": str(EXPECTED_S)}},
    )
    try:
        emulator(
            stack,
            "POST",
            "/_emulator/quota",
            {"method": "predictLongRunning", "per_minute": 10, "window_s": WINDOW_S},
        )
        enable(budget=1.0)
        messages = [cutscene(n, session_id=f"s{n}") for n in range(30)]
        started = time.monotonic()
        for msg in messages:
            publish(msg)
        docs = [
            wait_terminal(
                "c1", m["request_id"], timeout=DEADLINE_S + 120 - (time.monotonic() - started)
            )
            for m in messages
        ]
        took = time.monotonic() - started
        outcome = Counter((d["status"], d["status_reason"]) for d in docs)
        assert set(outcome) <= {("complete", None), ("partial", "timeout")}, outcome
        assert outcome[("complete", None)] >= 10, outcome
        for n, doc in enumerate(docs):
            balance = ledger.read_balance("c1", f"s{n}")
            assert balance.reserved_micros == 0, (n, balance)
            assert balance.spent_micros + balance.reserved_micros <= balance.cap_micros
            expected = 667_000 if doc["status"] == "complete" else 67_000
            assert balance.spent_micros == expected, (n, doc["status"], balance)
        # Every clip Veo served is accounted for: attached to a complete asset,
        # or (started in time but landing after the deadline on a slow
        # machine) deleted and logged unbilled once its output lands.
        ids = {d["asset_id"] for d in docs}
        give_up = time.monotonic() + 90
        while True:
            counted = calls(stack)
            served = counted["predictLongRunning"] - counted["rejected"]["predictLongRunning"]
            late = late_results(stack, ids)
            if served == outcome[("complete", None)] + len(late) or time.monotonic() > give_up:
                break
            time.sleep(1.0)
        assert served == outcome[("complete", None)] + len(late), (counted, outcome, late)
        assert all(x["unbilled_usd"] > 0 for x in late), late
        print(
            f"\n30 cutscenes under 10/min: {dict(outcome)} in {took:.0f} s;"
            f" {counted['rejected']['predictLongRunning']} answers 429 RESOURCE_EXHAUSTED"
            f" of {counted['predictLongRunning']} predictLongRunning calls;"
            f" {len(late)} clips landed after their deadline (unbilled)"
        )
    finally:
        stack.restart_functions(("render_still", "animate_still", "janitor"))


def test_a_clip_that_cannot_finish_before_its_deadline_is_not_started(stack):
    """Google bills a clip whatever happens to its asset: a start with less
    runway than MEDIA_VIDEO_EXPECTED_S before the deadline is not made."""
    stack.restart_function(
        "animate_still", {"MEDIA_DEADLINE_S": "60", "MEDIA_VIDEO_EXPECTED_S": "120"}
    )
    try:
        enable(budget=1.0)
        before = calls(stack)["predictLongRunning"]
        msg = cutscene(1)
        publish(msg)
        doc = wait_terminal("c1", msg["request_id"], timeout=120)
        assert (doc["status"], doc["status_reason"]) == ("partial", "timeout"), doc
        assert "to start the clip" in doc["error"]  # ended before its deadline, not by it
        assert calls(stack)["predictLongRunning"] == before  # Veo never asked
        balance = ledger.read_balance("c1", "s1")
        assert (balance.spent_micros, balance.reserved_micros) == (67_000, 0)  # the still only
    finally:
        stack.restart_function("animate_still")
