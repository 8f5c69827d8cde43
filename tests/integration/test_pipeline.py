"""A request goes from Pub/Sub to a PNG and an MP4 in the bucket, for real."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from shared.domain.ids import asset_id_for
from shared.store import ledger
from tests.integration.helpers import (
    answers,
    bucket_names,
    calls,
    cutscene,
    delivery_lines,
    emulator,
    enable,
    invalid_deliveries,
    object_bytes,
    probe_video,
    publish,
    publish_raw,
    wait_terminal,
)


def test_cli_trigger_wait_makes_a_complete_cutscene(stack, tmp_path):
    env = {**os.environ, **stack.env}
    cli = [sys.executable, "-m", "cutscenes.cli"]
    subprocess.run(
        [*cli, "configure", "--campaign", "c1", "--enable", "--budget", "5", "--member", "alice"],
        env=env,
        check=True,
        capture_output=True,
    )
    # A still that takes half a second, so --wait's progress report (polled
    # every 0.1 s) is sure to see rendering_image.
    emulator(stack, "POST", "/_emulator/latency", {"image_s": 0.5})
    started = time.monotonic()
    done = subprocess.run(
        [
            *cli,
            "trigger",
            "--campaign",
            "c1",
            "--session",
            "s1",
            "--turn",
            "3",
            "--kind",
            "cutscene",
            "--type",
            "action_climax",
            "--duration",
            "6",
            "--image-prompt",
            "Rei's blade meets the demon's claw",
            "--motion-prompt",
            "camera orbits the clash, sparks trail",
            "--wait",
            "--timeout",
            "90",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    asset = json.loads(done.stdout)
    assert asset["status"] == "complete", asset
    assert "rendering_image" in done.stderr and "animating" in done.stderr  # progress shown
    aid = asset["asset_id"]
    assert sorted(bucket_names("media/")) == [f"media/c1/{aid}.mp4", f"media/c1/{aid}.png"]
    assert bucket_names("veo-out/") == []  # Veo's temporary output was moved into place
    png = object_bytes(asset["image"]["uri"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert (asset["image"]["width"], asset["image"]["height"]) == (1024, 576)
    mp4 = tmp_path / "clip.mp4"
    mp4.write_bytes(object_bytes(asset["video"]["uri"]))
    info = probe_video(str(mp4))
    assert info["codec"] == "h264" and (info["width"], info["height"]) == (1280, 720)
    assert abs(info["duration"] - 6) < 0.15, info
    assert asset["video"]["duration_seconds"] == 6
    # standard quality: a 1K flash still and 6 s of fast Veo at 720p, charged at
    # the higher of its two quotes ($0.15/s)
    assert asset["cost_usd"] == 0.967
    balance = ledger.read_balance("c1", "s1")
    assert (balance.spent_micros, balance.reserved_micros) == (967_000, 0)
    counted = calls(stack)
    assert (counted["generateContent"], counted["predictLongRunning"]) == (1, 1)
    assert counted["rejected"] == dict.fromkeys(counted["rejected"], 0)
    assert set(asset["stage_ms"]) >= {"reserve", "image", "video_wait"}
    print(f"\ncli trigger --wait: complete in {elapsed:.2f} s")


def test_stills_complete_without_a_clip(stack):
    enable()
    portrait = cutscene(
        1,
        kind="npc_portrait",
        cutscene_type=None,
        motion_prompt=None,
        subject="Captain Mireille",
        aspect_ratio="1:1",
    )
    location = cutscene(
        2,
        kind="location_visual",
        cutscene_type=None,
        motion_prompt=None,
        subject="The Drowned Spire",
        aspect_ratio="9:16",
    )
    publish(portrait)
    publish(location)
    a = wait_terminal("c1", portrait["request_id"])
    b = wait_terminal("c1", location["request_id"])
    assert (a["status"], b["status"]) == ("complete", "complete")
    assert a["video"] is None and b["video"] is None
    assert (a["image"]["width"], a["image"]["height"]) == (1024, 1024)
    assert (b["image"]["width"], b["image"]["height"]) == (576, 1024)
    assert object_bytes(a["image"]["uri"]) != object_bytes(b["image"]["uri"])
    assert calls(stack)["predictLongRunning"] == 0
    assert ledger.read_balance("c1", "s1").spent_micros == 2 * 67_000


def test_disabled_campaign_is_rejected_and_costs_nothing(stack):
    from shared.client import configure_campaign

    configure_campaign("c1", enabled=False)
    msg = cutscene(1)
    publish(msg)
    asset = wait_terminal("c1", msg["request_id"])
    assert (asset["status"], asset["status_reason"]) == ("rejected", "disabled")
    assert calls(stack)["generateContent"] == 0


def test_invalid_message_with_readable_ids_leaves_a_rejected_asset(stack):
    enable()
    bad = cutscene(1, cutscene_type="none")
    publish(bad)
    asset = wait_terminal("c1", bad["request_id"])
    assert (asset["status"], asset["status_reason"]) == ("rejected", "invalid")
    assert "cutscene_type" in asset["error"]
    unreadable = publish_raw(b"\x00not json")  # logged and dropped, never retried
    good = cutscene(2, kind="location_visual", cutscene_type=None, motion_prompt=None, subject="x")
    publish(good)
    wait_terminal("c1", good["request_id"])
    assert calls(stack)["generateContent"] == 1
    deadline = time.monotonic() + 30  # so no delivery of it outlives this test
    while not invalid_deliveries(stack, {unreadable}) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert invalid_deliveries(stack, {unreadable})[unreadable] >= 1  # at least once
    assert set(answers(delivery_lines(stack, {unreadable}))) <= {200, 204}  # acked


def test_still_fits_but_clip_does_not_degrades_to_partial(stack):
    enable(budget=0.30)  # a still is 0.067, a 4 s clip 0.60
    msg = cutscene(1)
    publish(msg)
    asset = wait_terminal("c1", msg["request_id"])
    assert (asset["status"], asset["status_reason"]) == ("partial", "budget")
    assert asset["image"]["uri"].endswith(f"{asset_id_for(msg['request_id'])}.png")
    assert calls(stack)["predictLongRunning"] == 0
    balance = ledger.read_balance("c1", "s1")
    assert (balance.spent_micros, balance.reserved_micros) == (67_000, 0)


def test_duplicate_deliveries_make_one_still_one_clip_one_charge(stack):
    enable()
    msg = cutscene(1)
    for _ in range(5):
        publish(msg)
    asset = wait_terminal("c1", msg["request_id"])
    time.sleep(1.0)  # let any straggling duplicate finish its (no-op) work
    assert asset["status"] == "complete"
    counted = calls(stack)
    assert (counted["generateContent"], counted["predictLongRunning"]) == (1, 1)
    balance = ledger.read_balance("c1", "s1")
    assert (balance.spent_micros, balance.reserved_micros) == (667_000, 0)


def test_concurrent_duplicates_under_image_latency_make_one_still(stack):
    # A slow still widens the window in which duplicates overlap.
    enable()
    emulator(stack, "POST", "/_emulator/latency", {"image_s": 0.5})
    msg = cutscene(
        1, kind="location_visual", cutscene_type=None, motion_prompt=None, subject="The Spire"
    )
    for _ in range(8):
        publish(msg)
    doc = wait_terminal("c1", msg["request_id"])
    time.sleep(1.5)
    assert doc["status"] == "complete"
    assert calls(stack)["generateContent"] == 1
    assert ledger.read_balance("c1", "s1").spent_micros == 67_000
