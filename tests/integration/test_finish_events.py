"""Clips are finished by the bucket's own event (fake-gcs-server publishes
finalize notifications to the Pub/Sub emulator, pushed to finish_clip), not by
a function waiting on Veo: a killed finisher, a duplicate event or an event
whose asset is already complete records each clip once and charges it once."""

from __future__ import annotations

import time

from shared.core.settings import get_settings
from shared.domain.ids import asset_id_for
from shared.pipeline.finish import handle_finalize
from shared.store import assets, ledger, storage
from tests.integration.helpers import (
    bucket_names,
    calls,
    cutscene,
    emulator,
    enable,
    publish,
    wait_terminal,
)

CLIP_MICROS = 667_000  # still + clip at the default plan (the 6 s clip)


def test_killing_the_finisher_mid_burst_records_every_clip_once(stack):
    enable(budget=20.0)
    emulator(stack, "POST", "/_emulator/latency", {"video_s": 2.0})
    messages = [cutscene(n) for n in range(1, 9)]
    for msg in messages:
        publish(msg)
    aids = [asset_id_for(m["request_id"]) for m in messages]
    deadline = time.monotonic() + 120
    while not any((assets.load("c1", a) or {}).get("status") == "complete" for a in aids):
        assert time.monotonic() < deadline, "no clip finished"
        time.sleep(0.1)
    stack.restart_function("finish_clip")  # killed by PID mid-burst, then back
    docs = [wait_terminal("c1", m["request_id"], timeout=120) for m in messages]
    assert [d["status"] for d in docs] == ["complete"] * len(messages), docs
    assert calls(stack)["predictLongRunning"] == len(messages)
    balance = ledger.read_balance("c1", "s1")
    assert (balance.spent_micros, balance.reserved_micros) == (CLIP_MICROS * len(messages), 0)
    assert len(bucket_names("media/")) == 2 * len(messages)
    deadline = time.monotonic() + 30
    while bucket_names("veo-out/"):
        assert time.monotonic() < deadline, "Veo's temporary output stayed"
        time.sleep(0.1)


def test_a_duplicate_event_of_a_finished_clip_changes_nothing(stack):
    enable()
    msg = cutscene(1)
    publish(msg)
    done = wait_terminal("c1", msg["request_id"], timeout=60)
    assert done["status"] == "complete"
    aid = done["asset_id"]
    event = (
        f'{{"bucket": "{get_settings().MEDIA_BUCKET}", "name": '
        f'"veo-out/c1/{aid}/123/sample_0.mp4"}}'
    ).encode()
    handle_finalize(event, "dup-1")
    handle_finalize(event, "dup-2")
    after = assets.load("c1", aid)
    assert (after["status"], after["video"], after["cost_usd"]) == (
        "complete",
        done["video"],
        done["cost_usd"],
    )
    balance = ledger.read_balance("c1", "s1")
    assert (balance.spent_micros, balance.reserved_micros) == (CLIP_MICROS, 0)
    assert bucket_names(f"media/c1/{aid}.mp4") == [f"media/c1/{aid}.mp4"]


def test_a_finisher_killed_between_the_copy_and_the_delete_leaves_no_temporary_output(stack):
    # The first try copied Veo's MP4 to its final name and died before it
    # deleted the temporary object; the redelivery's move finds the final
    # object there and must still delete the temporary one.
    bucket = get_settings().MEDIA_BUCKET
    source = "veo-out/c1/killed-asset/123/sample_0.mp4"
    final = "media/c1/killed-asset.mp4"
    storage.upload(source, b"mp4 bytes", "video/mp4")
    storage.upload(final, b"mp4 bytes", "video/mp4")  # the first try's copy
    storage.move_into_place(f"gs://{bucket}/{source}", final)
    assert bucket_names("veo-out/c1/killed-asset/") == []
    assert bucket_names("media/c1/killed-asset") == [final]
    storage.move_into_place(f"gs://{bucket}/{source}", final)  # and again: no error
