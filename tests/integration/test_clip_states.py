"""The clip's states on the real stack (docs/clip.md): checks that fail end
the clip instead of stalling it, and an uncertain start adopts only a clip.
Each was reproduced from outside before the fix (issue 22)."""

from __future__ import annotations

import os
import time

from shared.core.settings import get_settings
from shared.domain.ids import asset_id_for
from shared.domain.paths import video_output_prefix
from shared.store import assets, ledger
from shared.store.connections import storage_client
from tests.integration.helpers import (
    bucket_names,
    calls,
    cutscene,
    emulator,
    enable,
    fault,
    publish,
    wait_terminal,
)


def still_only(stack) -> None:
    balance = ledger.read_balance("c1", "s1")
    assert (balance.spent_micros, balance.reserved_micros) == (67_000, 0)
    assert calls(stack)["predictLongRunning"] == 1


def test_a_paced_start_slower_than_the_lease_is_started_once(stack):
    # The dispatcher's lease is renewed for the whole call; before, the next
    # tick took the lapsed lease and started a second job.
    paced = {"MEDIA_VEO_STARTS_PER_MIN": "60", "MEDIA_VIDEO_LEASE_S": "2"}
    stack.restart_functions(("animate_still", "finish_clip", "janitor"), paced)
    try:
        enable()
        emulator(
            stack,
            "POST",
            "/_emulator/faults",
            {"method": "predictLongRunning", "kind": "slow", "delay_s": 8},
        )
        msg = cutscene(1)
        publish(msg)
        doc = wait_terminal("c1", msg["request_id"], timeout=90)
        assert doc["status"] == "complete", doc
        time.sleep(3)  # a second start, if one were made, would be counted by now
        assert calls(stack)["predictLongRunning"] == 1
        balance = ledger.read_balance("c1", "s1")
        assert (balance.spent_micros, balance.reserved_micros) == (667_000, 0)
    finally:
        stack.restart_functions(("animate_still", "finish_clip", "janitor"))


def test_a_check_veo_answers_404_ends_the_clip_at_once(stack):
    enable()
    fault(stack, "predictLongRunning", "hang", 1)  # no MP4 ever lands: the sweep checks
    fault(stack, "fetchPredictOperation", "http", 50, 404)
    msg = cutscene(1)
    publish(msg)
    doc = wait_terminal("c1", msg["request_id"], timeout=60)
    assert (doc["status"], doc["status_reason"]) == ("partial", "video_failed"), doc
    assert "404" in doc["error"]
    still_only(stack)


def test_checks_that_keep_failing_back_off_and_end_the_clip(stack):
    # Three tries, not the default five: the pauses between them (2, 4 s)
    # are the same code, and the default's 8 and 16 s more only made the test
    # wait (tests/unit/stages/test_intent.py backs off on the pipeline's clock).
    tries = 3
    stack.restart_function("janitor", {"MEDIA_VIDEO_CHECK_TRIES": str(tries)})
    try:
        enable()
        fault(stack, "predictLongRunning", "hang", 1)
        fault(stack, "fetchPredictOperation", "http", 10_000, 503)
        msg = cutscene(1)
        publish(msg)
        doc = wait_terminal("c1", msg["request_id"], timeout=180)
        assert (doc["status"], doc["status_reason"]) == ("partial", "video_failed"), doc
        assert doc["video_check_failures"] == tries - 1
        # Backed off: a handful of checks (each tried by the SDK and in-process),
        # not one every sweep tick for the whole time.
        assert calls(stack)["fetchPredictOperation"] <= 9 * tries
        emulator(stack, "DELETE", "/_emulator/faults")
        still_only(stack)
    finally:
        stack.restart_function("janitor")


def test_an_uncertain_start_never_adopts_bytes_that_are_no_clip(stack):
    wait = {"MEDIA_VEO_ADOPT_WAIT_S": "6"}
    stack.restart_functions(("animate_still", "finish_clip", "janitor"), wait)
    try:
        enable()
        # A 503 on the start: Veo may have made the job (here it did not).
        fault(stack, "predictLongRunning", "http", 1, 503)
        msg = cutscene(1)
        publish(msg)
        aid = asset_id_for(msg["request_id"])
        deadline = time.monotonic() + 60
        while (assets.load("c1", aid) or {}).get("video_state") != "uncertain":
            assert time.monotonic() < deadline, assets.load("c1", aid)
            time.sleep(0.1)
        # Something lands where the lost job's clip would: random bytes.
        junk = f"{video_output_prefix('c1', aid)}/4242/sample_0.mp4"
        bucket = storage_client().bucket(get_settings().MEDIA_BUCKET)
        bucket.blob(junk).upload_from_string(os.urandom(40_000), content_type="video/mp4")
        doc = wait_terminal("c1", msg["request_id"], timeout=60)
        assert (doc["status"], doc["status_reason"]) == ("partial", "video_failed"), doc
        assert doc.get("video") is None
        assert bucket_names(f"media/c1/{aid}.mp4") == [] and bucket_names("veo-out/") == []
        still_only(stack)
    finally:
        stack.restart_functions(("animate_still", "finish_clip", "janitor"))


def test_a_stale_check_of_attempt_one_leaves_the_owners_retry_alone(stack):
    from shared.pipeline.finish import finish_operation
    from shared.pipeline.lifecycle import close_expired
    from shared.pipeline.takes import reanimate
    from shared.store.media_models import GenaiVideoModel

    enable()
    fault(stack, "predictLongRunning", "op_error", 1)  # attempt 1 fails: partial
    fault(stack, "predictLongRunning", "hang", 1)  # attempt 2 renders on
    msg = cutscene(1)
    publish(msg)
    aid = asset_id_for(msg["request_id"])
    first = wait_terminal("c1", msg["request_id"], timeout=60)
    assert (first["status"], first["status_reason"]) == ("partial", "video_failed"), first
    stale = assets.load("c1", aid)  # what a check read of attempt 1 ...
    assert stale is not None
    reanimate("c1", aid)  # ... before the owner's retry started attempt 2
    deadline = time.monotonic() + 60
    while (assets.load("c1", aid) or {}).get("video_state") != "started":
        assert time.monotonic() < deadline, assets.load("c1", aid)
        time.sleep(0.1)
    # The stale copy's check and close act now: neither touches attempt 2.
    retry = assets.asset_ref("c1", aid)
    stale_running = stale.with_fields(status="animating")
    assert finish_operation(stale_running, stale["video_operation"], GenaiVideoModel()) == "stale"
    assert close_expired(stale_running) is None
    doc = retry.get().to_dict()
    assert (doc["status"], doc["video_attempt"], doc["video_state"]) == ("animating", 2, "started")
    balance = ledger.read_balance("c1", "s1")
    # Attempt 2's hold is still held (0.600), nothing of it charged or leaked.
    assert (balance.spent_micros, balance.reserved_micros) == (67_000, 600_000)
    assert calls(stack)["predictLongRunning"] == 2
