"""Issue 14 against the strict media emulator: per-model locations, a wrong
location failing loudly, no second paid clip from an uncertain Veo start."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.domain.pricing import catalog
from shared.store import ledger
from tests.integration.helpers import (
    calls,
    cutscene,
    emulator,
    enable,
    publish,
    wait_terminal,
)


def log_events(stack, function: str) -> list[dict]:
    lines = Path(stack.procs[function].log).read_text(errors="replace").splitlines()
    out = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            out.append(record)
    return out


def still(n: int, kind: str, **over) -> dict:
    msg = cutscene(n, kind=kind, subject=f"Subject {n}", **over)
    for key in ("cutscene_type", "motion_prompt", "duration_seconds"):
        msg.pop(key, None)
    return msg


@pytest.mark.parametrize("quality", ["draft", "standard", "premium"])
def test_every_quality_completes_a_cutscene_and_each_still(stack, quality):
    enable(budget=10.0, quality=quality)
    messages = [cutscene(1), still(2, "npc_portrait"), still(3, "location_visual")]
    for msg in messages:
        msg.pop("duration_seconds", None)  # the catalog's default clip length
        publish(msg)
    docs = [wait_terminal("c1", m["request_id"], timeout=180) for m in messages]
    assert [d["status"] for d in docs] == ["complete"] * 3, docs
    # The tier's own default clip length, else the catalog's.
    tier = catalog().tier(quality)
    expected = tier.get("video_duration_seconds") or catalog().defaults["video_duration_seconds"]
    assert docs[0]["video"]["duration_seconds"] == expected
    counted = calls(stack)
    assert counted["rejected"] == dict.fromkeys(counted["rejected"], 0)
    balance = ledger.read_balance("c1", "s1")
    assert balance.reserved_micros == 0
    assert balance.spent_micros == sum(round(d["cost_usd"] * 1_000_000) for d in docs)


def test_a_wrong_image_location_fails_with_a_clear_reason_and_log(stack):
    stack.restart_function(
        "render_still", {"MEDIA_MODEL_LOCATIONS": "gemini-3.1-flash-image-preview=us-central1"}
    )
    try:
        enable()
        msg = still(1, "location_visual")
        publish(msg)
        doc = wait_terminal("c1", msg["request_id"], timeout=60)
        assert (doc["status"], doc["status_reason"]) == ("failed", "model_unavailable"), doc
        assert (
            "gemini-3.1-flash-image-preview is not served in location 'us-central1'" in doc["error"]
        )
        assert "MEDIA_MODEL_LOCATIONS" in doc["error"]
        events = [
            e for e in log_events(stack, "render_still") if e.get("event") == "model_unavailable"
        ]
        assert events and events[-1]["severity"] == "ERROR", events
        assert events[-1]["location"] == "us-central1"
        balance = ledger.read_balance("c1", "s1")
        assert (balance.spent_micros, balance.reserved_micros) == (0, 0)
    finally:
        stack.restart_function("render_still")


def test_a_wrong_video_location_ends_partial_with_the_reason(stack):
    stack.restart_function(
        "animate_still", {"MEDIA_MODEL_LOCATIONS": "veo-3.1-fast-generate-001=global"}
    )
    try:
        enable()
        msg = cutscene(1)
        publish(msg)
        doc = wait_terminal("c1", msg["request_id"], timeout=60)
        assert (doc["status"], doc["status_reason"]) == ("partial", "video_failed"), doc
        assert "veo-3.1-fast-generate-001 is not served in location 'global'" in doc["error"]
        assert any(
            e.get("event") == "model_unavailable" for e in log_events(stack, "animate_still")
        )
        assert ledger.read_balance("c1", "s1").spent_micros == 67_000  # the still only
    finally:
        stack.restart_function("animate_still")


def test_a_start_lost_to_a_5xx_is_adopted_not_restarted(stack):
    enable()
    emulator(
        stack,
        "POST",
        "/_emulator/faults",
        {"method": "predictLongRunning", "kind": "http", "status": 503, "created": True},
    )
    msg = cutscene(1)
    publish(msg)
    doc = wait_terminal("c1", msg["request_id"], timeout=90)
    assert doc["status"] == "complete", (doc["status_reason"], doc.get("error"))
    assert calls(stack)["predictLongRunning"] == 1  # one paid job, never a second
    assert ledger.read_balance("c1", "s1").spent_micros == 667_000
    assert any(e.get("event") == "veo_output_adopted" for e in log_events(stack, "finish_clip"))


def test_a_start_that_timed_out_is_adopted_not_restarted(stack):
    stack.restart_function("animate_still", {"MEDIA_VEO_START_TIMEOUT_S": "1"})
    try:
        enable()
        emulator(
            stack,
            "POST",
            "/_emulator/faults",
            {
                "method": "predictLongRunning",
                "kind": "http",
                "status": 504,
                "created": True,
                "delay_s": 4,
            },
        )
        msg = cutscene(1)
        publish(msg)
        doc = wait_terminal("c1", msg["request_id"], timeout=90)
        assert doc["status"] == "complete", (doc["status_reason"], doc.get("error"))
        assert calls(stack)["predictLongRunning"] == 1
        assert ledger.read_balance("c1", "s1").spent_micros == 667_000
    finally:
        stack.restart_function("animate_still")


def test_an_uncertain_start_with_no_clip_gives_up_without_a_second_start(stack):
    stack.restart_function("animate_still", {"MEDIA_VEO_ADOPT_WAIT_S": "3"})
    try:
        enable()
        # A 500 that in fact created nothing: we cannot know, so we only watch.
        emulator(
            stack,
            "POST",
            "/_emulator/faults",
            {"method": "predictLongRunning", "kind": "http", "status": 500},
        )
        msg = cutscene(1)
        publish(msg)
        doc = wait_terminal("c1", msg["request_id"], timeout=90)
        assert (doc["status"], doc["status_reason"]) == ("partial", "video_failed"), doc
        assert "not started again" in doc["error"]
        assert calls(stack)["predictLongRunning"] == 1
        balance = ledger.read_balance("c1", "s1")
        assert (balance.spent_micros, balance.reserved_micros) == (67_000, 0)
    finally:
        stack.restart_function("animate_still")


def test_a_quota_refusal_is_retried_because_it_created_nothing(stack):
    enable()
    emulator(
        stack,
        "POST",
        "/_emulator/faults",
        {"method": "predictLongRunning", "kind": "http", "status": 429, "count": 2},
    )
    msg = cutscene(1)
    publish(msg)
    doc = wait_terminal("c1", msg["request_id"], timeout=90)
    assert doc["status"] == "complete", (doc["status_reason"], doc.get("error"))
    counted = calls(stack)
    assert counted["predictLongRunning"] == 3 and counted["rejected"]["predictLongRunning"] == 2
    assert ledger.read_balance("c1", "s1").spent_micros == 667_000
