"""A part of the stack goes away for a few seconds: requests wait it out.

A refused or dropped connection is an outage, not a verdict on the request:
the delivery is retried and the request ends as if nothing had happened.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from shared.store import ledger
from tests.integration.helpers import cutscene, enable, publish, wait_terminal


def still(n: int) -> dict:
    return cutscene(
        n,
        kind="npc_portrait",
        cutscene_type=None,
        motion_prompt=None,
        subject=f"Guard {n}",
        aspect_ratio="1:1",
    )


def log_lines(path: str, since: int) -> list[dict]:
    with open(path, "rb") as handle:
        handle.seek(since)
        raw = handle.read().decode("utf-8", "replace")
    lines = []
    for text in raw.splitlines():
        if text.startswith("{"):
            try:
                lines.append(json.loads(text))
            except json.JSONDecodeError:
                continue
    return lines


def test_stills_requested_during_a_media_emulator_outage_complete(stack):
    enable()
    log_path = stack.procs["render_still"].log
    log_start = Path(log_path).stat().st_size
    stack.stop_part("media_emulator")
    try:
        messages = [still(n) for n in range(1, 6)]
        for message in messages:
            publish(message)
        # The outage itself: these requests meet a refused connection. Longer
        # than the SDK's own retries (3 tries over about 3 s), so the pipeline
        # sees the error itself.
        time.sleep(8)
    finally:
        stack.start_part("media_emulator")
    docs = [wait_terminal("c1", m["request_id"], timeout=120) for m in messages]
    assert [d["status"] for d in docs] == ["complete"] * 5, [
        (d["status"], d.get("status_reason"), d.get("error")) for d in docs
    ]
    balance = ledger.read_balance("c1", "s1")
    assert (balance.spent_micros, balance.reserved_micros) == (5 * 67_000, 0)
    lines = log_lines(log_path, log_start)
    # Retried in-process ("retry") or handed back for redelivery ("transient"):
    # either way classed as transient, never a permanent image_failed.
    transient = [x for x in lines if x.get("event") in ("transient", "retry")]
    assert transient, "the outage was never seen: the test did not test anything"
    assert not [x for x in lines if x.get("event") == "unexpected"]
