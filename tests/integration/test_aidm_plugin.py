"""AIDM plugs in for real, following docs/aidm.md step by step against the
local stack: configure the campaign from AIDM's own settings, register the
tools in a registry shaped like AIDM's, proxy the turn route with a member's
token, and play AIDM's frontend poller against it.

Time is compressed by four: a 5 s still is 1.25 s, a 40 s clip 10 s, AIDM's
10 s poll interval 2.5 s; the poller still gets AIDM's 12 tries.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
import urllib.request
from typing import Any

import pytest

from shared.aidm import (
    AIDM_DEFAULT_MODELS,
    TurnContext,
    budget_guidance,
    configure_from_aidm,
    media_settings_from_aidm,
    register_tools,
)
from shared.aidm.declarations import _estimates
from shared.aidm.proxy import fetch_turn_media, file_location, stable_path
from shared.client import MediaClient, usd
from shared.core.settings import get_settings
from shared.domain.pricing import micros_to_usd
from shared.domain.request import CUTSCENE_TYPES
from shared.store import model_sheets
from shared.store.assets import load
from tests.auth_tokens import id_token
from tests.integration.helpers import emulator, wait_terminal
from tests.unit.test_aidm_registry import ToolDefinition, ToolRegistry

pytestmark = pytest.mark.integration

SCALE = 0.25
POLL_INTERVAL_S, POLL_TRIES = 10 * SCALE, 12
PUBLIC_PREFIX = "/api/media"  # where AIDM's backend serves media to its browser
# AIDM's frontend list of the types it shows lacks action_climax and plot_twist.
AIDM_SHOWS = set(CUTSCENE_TYPES) - {"action_climax", "plot_twist"}
AIDM_SETTINGS = {
    "media_enabled": True,
    "media_budget_enabled": False,
    "media_budget_per_session_usd": 2.0,
    "media_auto_play": True,
    "media_image_model": AIDM_DEFAULT_MODELS["image"],
    "media_video_model": AIDM_DEFAULT_MODELS["video"],
}


def api_url() -> str:
    return os.environ["MEDIA_API_URL"]  # set by the local stack for this process


def member_token(stack: Any, uid: str) -> str:
    """The player's ID token from a real sign-in on the stack's Auth emulator
    (docs/aidm.md step 5: AIDM's backend mints, the browser signs in)."""
    return id_token(stack, uid)


def configure(campaign: str = "c1") -> None:
    """docs/aidm.md step 1: the campaign from AIDM's untouched settings."""
    configure_from_aidm(MediaClient(), campaign, AIDM_SETTINGS, members=["alice"])


def turn_context(turn: int, **over: Any) -> TurnContext:
    fields: dict[str, Any] = dict(
        campaign_id="c1",
        session_id="s1",
        turn_number=turn,
        art_style="cel-shaded",
        npcs={"Captain Mireille": "silver braid, crimson naval coat"},
        party={"Rei": "short blue hair, white plugsuit"},
        settings=AIDM_SETTINGS,
    )
    fields.update(over)
    return TurnContext(**fields)


def aidm_registry(ctx: TurnContext) -> ToolRegistry:
    """docs/aidm.md step 2: AIDM's registry with its own tools, ours installed."""
    registry = ToolRegistry()
    registry.register(ToolDefinition("upsert_location", "AIDM's own", [], lambda **_: "ok"))
    register_tools(registry, ctx)
    return registry


def run(registry: ToolRegistry, name: str, **args: Any) -> dict[str, Any]:
    answer = asyncio.run(registry.async_execute(name, args))
    assert answer["status"] == "queued", answer
    return answer


def browser_get(public_url: str, token: str) -> bytes:
    """What AIDM's browser gets for `<img src>`: AIDM's backend answers the public
    address with media_api's redirect (docs/aidm.md step 3), the browser follows."""
    assert public_url.startswith(PUBLIC_PREFIX + "/")
    status, location = file_location(api_url(), public_url[len(PUBLIC_PREFIX) :], token)
    assert status == 302 and location, status
    with urllib.request.urlopen(location, timeout=30) as resp:
        return resp.read()


def aidm_poller(turn: int, token: str) -> tuple[list[dict[str, Any]], int]:
    """AIDM's pollForTurnMedia: every interval, at most 12 tries; stops at the
    first non-empty answer; stops on a type it does not know; shows only
    complete/partial rows, each inserted right after the turn's entry; keys
    its de-duplication on the whole URL. Returns (shown, top first; tries)."""
    shown: list[dict[str, Any]] = []
    seen: set[str] = set()
    for attempt in range(1, POLL_TRIES + 1):
        time.sleep(POLL_INTERVAL_S)
        rows = fetch_turn_media(api_url(), "c1", turn, token, public_prefix=PUBLIC_PREFIX)["assets"]
        if not rows:
            continue
        for row in rows:
            if row["cutscene_type"] not in AIDM_SHOWS:
                break  # AIDM logs and stops here
            if row["status"] in ("complete", "partial") and row["file_url"] not in seen:
                seen.add(row["file_url"])
                shown.insert(0, row)
        return shown, attempt
    return shown, POLL_TRIES


def test_aidms_poller_sees_the_still_then_the_clip_beside_a_portrait(stack):
    configure()
    emulator(stack, "POST", "/_emulator/latency", {"image_s": 5 * SCALE, "video_s": 40 * SCALE})
    ctx = turn_context(7)
    registry = aidm_registry(ctx)
    cutscene = run(
        registry,
        "trigger_cutscene",
        cutscene_type="power_awakening",
        image_prompt="Rei's aura ignites on the bridge",
        motion_prompt="slow push in",
        characters="Rei",
    )
    portrait = run(registry, "generate_npc_portrait", npc_name="Captain Mireille")

    alice = member_token(stack, "alice")
    shown, tries = aidm_poller(7, alice)

    assert [(r["id"], r["asset_type"]) for r in shown] == [
        (cutscene["asset_id"], "image"),
        (cutscene["asset_id"], "video"),
    ], shown
    assert tries > 1  # it kept polling while the clip was being made
    still, clip = shown
    assert clip["file_url"].endswith(".mp4") and not still["file_url"].endswith(".mp4")
    assert browser_get(still["file_url"], alice).startswith(b"\x89PNG")
    assert browser_get(clip["file_url"], alice)[4:8] == b"ftyp"
    # The portrait finished too, and keeps a permanent address of its own.
    assert wait_terminal("c1", portrait["request_id"])["status"] == "complete"
    portrait_url = PUBLIC_PREFIX + stable_path("c1", portrait["asset_id"])
    assert browser_get(portrait_url, alice).startswith(b"\x89PNG")
    # A reload shows the same URLs, so AIDM's de-duplication holds.
    again = fetch_turn_media(
        api_url(), "c1", 7, member_token(stack, "alice"), public_prefix=PUBLIC_PREFIX
    )["assets"]
    assert {r["file_url"] for r in again} == {still["file_url"], clip["file_url"]}


def test_a_scripted_model_turn_through_aidms_registry_keeps_the_loop_free(stack):
    configure()
    ctx = turn_context(3)
    registry = aidm_registry(ctx)
    loop_threads: set[int] = set()
    worker_threads: set[int] = set()
    client = ctx.media_client()
    publish = client.publish

    def spying_publish(message: dict[str, Any]) -> Any:
        worker_threads.add(threading.get_ident())
        return publish(message)

    client.publish = spying_publish  # type: ignore[method-assign]

    async def model_turn() -> tuple[list[dict[str, Any]], int]:
        """The provider answered with two function calls; AIDM executes each on
        its loop while a heartbeat task shows the loop keeps running."""
        loop_threads.add(threading.get_ident())
        beats = 0
        stop = asyncio.Event()

        async def heartbeat() -> None:
            nonlocal beats
            while not stop.is_set():
                beats += 1
                await asyncio.sleep(0.001)

        task = asyncio.create_task(heartbeat())
        await asyncio.sleep(0)
        before = beats
        answers = [
            await registry.async_execute(
                "trigger_cutscene",
                {
                    "cutscene_type": "emotional_peak",
                    "image_prompt": "Rei weeps in the rain",
                    "motion_prompt": "rain falls, camera holds",
                },
            ),
            await registry.async_execute("upsert_location", {"name": "Bridge"}),
        ]
        stop.set()
        await task
        return answers, beats - before

    answers, beats_during_calls = asyncio.run(model_turn())
    queued, own = answers
    assert own == "ok" and queued["status"] == "queued"
    assert worker_threads and not worker_threads & loop_threads  # network work off the loop
    assert beats_during_calls > 0  # the loop ran other tasks while the call was in flight
    doc = wait_terminal("c1", queued["request_id"])
    assert doc["status"] == "complete" and doc["video"]


def test_aidms_default_settings_buy_two_cutscenes_from_two_dollars(stack):
    configure()
    media = media_settings_from_aidm(AIDM_SETTINGS).media_settings
    assert "image_model" not in media and "video_model" not in media
    still, clip, _ = _estimates(MediaClient().remaining_budget("c1", "s1").media)
    guidance = budget_guidance(turn_context(1))
    assert f"costs about {usd(still + clip)}" in guidance and "about 2 more cutscenes" in guidance
    finished = []
    for turn in range(1, 4):
        ctx = turn_context(turn)
        answer = asyncio.run(
            aidm_registry(ctx).async_execute(
                "trigger_cutscene",
                {
                    "cutscene_type": "arc_transition",
                    "image_prompt": f"dawn over the city, {turn}",
                    "motion_prompt": "camera rises",
                },
            )
        )
        if answer["status"] == "queued":
            finished.append(wait_terminal("c1", answer["request_id"]))
    clips = [d for d in finished if d["status"] == "complete" and d["video"]]
    assert len(clips) >= 2
    assert all(d["cost_usd"] == micros_to_usd(still + clip) for d in clips)
    assert all(d["models"]["video"] != "veo-3.1-generate-001" for d in clips)


def test_a_model_sheet_of_rei_rides_along_with_a_later_cutscene_naming_her(stack):
    configure()
    sheet = run(aidm_registry(turn_context(1)), "generate_model_sheet", character_name="Rei")
    assert wait_terminal("c1", sheet["request_id"])["status"] == "complete"
    bucket = get_settings().MEDIA_BUCKET
    ref_uri = f"gs://{bucket}/refs/c1/characters/rei.png"
    assert model_sheets.registered("c1")["rei"] == {
        "name": "Rei",
        "ref_uri": ref_uri,
        "asset_id": sheet["asset_id"],
    }

    prompt = "Rei vaults over the barricade, coat flaring"
    cutscene = run(
        aidm_registry(turn_context(2)),
        "trigger_cutscene",
        cutscene_type="character_intro",
        image_prompt=prompt,
        motion_prompt="track alongside",
        characters="Rei",
    )
    assert wait_terminal("c1", cutscene["request_id"])["status"] in ("complete", "partial")
    recorded = emulator(stack, "GET", "/_emulator/requests")["requests"]
    (made,) = [r for r in recorded if r["method"] == "generateContent" and prompt in r["prompt"]]
    assert made["file_uris"] == [ref_uri]
    # Stills are asked for as PNG, so the functions read the size without Pillow.
    assert made["output_mime_type"] == "image/png"
    assert load("c1", cutscene["asset_id"])["request"]["characters"] == ["Rei"]
