"""30 cutscenes at once under a 10/min Veo quota: every one ends complete or
partial/timeout, nothing is overspent, and the 429s are counted."""

from __future__ import annotations

import time
from collections import Counter

from shared.store import ledger
from tests.integration.helpers import calls, cutscene, emulator, enable, publish, wait_terminal

DEADLINE_S = 75  # short, so the run takes about two minutes


def test_thirty_cutscenes_under_a_ten_per_minute_quota(stack):
    short = {"MEDIA_DEADLINE_S": str(DEADLINE_S)}
    for name in ("render_still", "animate_still", "janitor"):
        stack.restart_function(name, short)
    try:
        emulator(stack, "POST", "/_emulator/quota",
                 {"method": "predictLongRunning", "per_minute": 10})
        enable(budget=1.0)
        messages = [cutscene(n, session_id=f"s{n}") for n in range(30)]
        started = time.monotonic()
        for msg in messages:
            publish(msg)
        docs = [wait_terminal("c1", m["request_id"],
                              timeout=DEADLINE_S + 120 - (time.monotonic() - started))
                for m in messages]
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
        counted = calls(stack)
        # Only clips that completed were ever started: no orphan paid jobs.
        served = counted["predictLongRunning"] - counted["rejected"]["predictLongRunning"]
        assert served == outcome[("complete", None)], (counted, outcome)
        print(f"\n30 cutscenes under 10/min: {dict(outcome)} in {took:.0f} s;"
              f" {counted['rejected']['predictLongRunning']} answers 429 RESOURCE_EXHAUSTED"
              f" of {counted['predictLongRunning']} predictLongRunning calls")
    finally:
        for name in ("render_still", "animate_still", "janitor"):
            stack.restart_function(name)
