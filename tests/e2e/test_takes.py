"""The game master's takes in Chromium: regenerate and flip, retry a clip,
download from the viewer; and a member who is not an owner gets no buttons.

The demo table signs in for real (custom tokens); `alice` owns the campaign,
`bob` is only a member. The owner's buttons come from media_api's
`GET /campaigns/{cid}/me`; the actions are media_api's owner routes.
"""

from __future__ import annotations

import time

import pytest

from shared.client import configure_campaign
from shared.pipeline import takes
from shared.store.assets import load
from tests.e2e.conftest import set_faults, set_latency
from tests.e2e.test_player import CAMPAIGN, card, open_table, timeline
from tests.integration.helpers import cutscene, publish, wait_terminal

pytestmark = pytest.mark.e2e
OWNER_BUTTONS = ".cs-regenerate, .cs-retry-clip, .cs-hide"


def moment(asset_id: str) -> str:
    return f'.cs-moment[data-moment-id="{asset_id}"]'


def table_of_two() -> None:
    configure_campaign(
        CAMPAIGN, enabled=True, budget_usd=5.0, members=["alice", "bob"], owners=["alice"]
    )


def made(n: int, **over) -> dict:
    message = cutscene(n, campaign_id=CAMPAIGN, **over)
    publish(message)
    return wait_terminal(CAMPAIGN, message["request_id"])


def wait_role(page, owner: bool) -> None:
    page.wait_for_selector(f'.cs-player[data-owner="{str(owner).lower()}"]', timeout=30_000)


def test_the_dm_regenerates_a_cutscene_and_flips_between_takes(e2e_stack, context, artifacts):
    e2e_stack.wipe()
    set_latency(e2e_stack, image_s=0.0, video_s=0.0)
    table_of_two()
    first = made(31, cutscene_type="action_climax")
    assert first["status"] == "complete"
    original = first["asset_id"]

    page, errors = open_table(context, e2e_stack, "alice")
    wait_role(page, owner=True)
    page.wait_for_selector(f"{moment(original)} {card(original)}.cs-playing", timeout=30_000)
    assert page.is_hidden(f"{moment(original)} .cs-takes")  # one take: nothing to flip
    page.click(f"{moment(original)} .cs-regenerate")
    new_prompt = "The same clash, seen from above, sparks raining on the stones"
    page.fill(f"{moment(original)} .cs-regen-form textarea[name=image_prompt]", new_prompt)
    started = time.monotonic()
    page.click(f"{moment(original)} .cs-regen-form .cs-regen-go")
    page.wait_for_function(
        "window.cutsceneTimeline.some(e => e.event === 'cutscene:regenerated')", timeout=30_000
    )
    retake = timeline(page, "cutscene:regenerated")[0]["asset_id"]
    assert retake != original

    # The new take joins the same moment and shows first, playing its clip.
    page.wait_for_selector(f"{moment(original)} {card(retake)}.cs-playing", timeout=60_000)
    shown_ms = round((time.monotonic() - started) * 1000)
    print(f"\nregenerate click -> new take playing in the owner's browser: {shown_ms} ms")
    assert page.inner_text(f"{moment(original)} .cs-take-label") == "Take 2 of 2"
    assert page.query_selector(card(original)) is None
    assert len(page.query_selector_all(".cs-moment")) == 1  # one moment, not two cards
    doc = load(CAMPAIGN, retake) or {}
    assert doc["regenerated_from"] == original and doc["image_prompt"] == new_prompt
    assert doc["motion_prompt"] == first["motion_prompt"]  # unedited: kept
    page.screenshot(path=str(artifacts / "08-take-2-of-2.png"))

    page.click(f"{moment(original)} .cs-take-prev")
    page.wait_for_selector(f"{moment(original)} {card(original)} img.cs-still", timeout=15_000)
    assert page.inner_text(f"{moment(original)} .cs-take-label") == "Take 1 of 2"
    assert page.query_selector(card(retake)) is None
    assert page.is_disabled(f"{moment(original)} .cs-take-prev")
    page.screenshot(path=str(artifacts / "09-take-1-of-2.png"))
    page.click(f"{moment(original)} .cs-take-next")
    page.wait_for_selector(f"{moment(original)} {card(retake)}", timeout=15_000)
    assert page.inner_text(f"{moment(original)} .cs-take-label") == "Take 2 of 2"
    assert not errors, errors


def test_a_member_who_is_not_an_owner_flips_takes_but_has_no_buttons(e2e_stack, context, artifacts):
    e2e_stack.wipe()
    set_latency(e2e_stack, image_s=0.0, video_s=0.0)
    table_of_two()
    first = made(
        41, kind="npc_portrait", cutscene_type=None, motion_prompt=None, subject="Captain Mireille"
    )
    regenerated = takes.regenerate(CAMPAIGN, first["asset_id"])  # as the CLI does
    retake = regenerated["asset_id"]
    wait_terminal(CAMPAIGN, regenerated["request_id"])

    page, errors = open_table(context, e2e_stack, "bob", member=True)
    wait_role(page, owner=False)
    at = moment(first["asset_id"])
    page.wait_for_selector(f"{at} {card(retake)} img.cs-still", timeout=30_000)
    assert page.inner_text(f"{at} .cs-take-label") == "Take 2 of 2"
    page.click(f"{at} .cs-take-prev")
    page.wait_for_selector(f"{at} {card(first['asset_id'])} img.cs-still", timeout=15_000)
    assert not [b for b in page.query_selector_all(OWNER_BUTTONS) if b.is_visible()]
    assert page.is_hidden(f"{at} .cs-owner-actions")
    page.screenshot(path=str(artifacts / "10-member-no-buttons.png"))
    assert not errors, errors


def test_retry_clip_on_a_partial_cutscene_ends_with_the_clip(e2e_stack, context, artifacts):
    e2e_stack.wipe()
    set_latency(e2e_stack, image_s=0.0, video_s=0.0)
    table_of_two()
    set_faults(e2e_stack, {"method": "predictLongRunning", "kind": "op_error", "count": 1})
    partial = made(51)
    assert partial["status"] == "partial"
    asset_id = partial["asset_id"]

    page, errors = open_table(context, e2e_stack, "alice")
    wait_role(page, owner=True)
    page.wait_for_selector(f"{card(asset_id)}.cs-drift img.cs-still", timeout=30_000)
    page.wait_for_selector(f"{moment(asset_id)} .cs-retry-clip", state="visible", timeout=10_000)
    page.screenshot(path=str(artifacts / "11-partial-retry.png"))
    started = time.monotonic()
    page.click(f"{moment(asset_id)} .cs-retry-clip")
    page.wait_for_selector(f'{card(asset_id)}[data-status="complete"].cs-playing', timeout=60_000)
    print(f"\nretry clip click -> clip playing: {round((time.monotonic() - started) * 1000)} ms")
    assert page.is_hidden(f"{moment(asset_id)} .cs-retry-clip")
    assert page.query_selector(f"{card(asset_id)}.cs-drift") is None
    page.screenshot(path=str(artifacts / "12-retried-clip.png"))
    assert not errors, errors


def test_the_viewer_downloads_the_clip_and_the_still_with_a_caption(e2e_stack, context, artifacts):
    e2e_stack.wipe()
    set_latency(e2e_stack, image_s=0.0, video_s=0.0)
    table_of_two()
    doc = made(61, cutscene_type="power_awakening")
    assert doc["status"] == "complete"
    asset_id = doc["asset_id"]

    page, errors = open_table(context, e2e_stack, "bob", member=True)  # any member may
    page.wait_for_selector(f"{card(asset_id)}.cs-playing", timeout=30_000)
    page.click(f"{card(asset_id)} .cs-frame")
    page.wait_for_selector(".cs-viewer video.cs-viewer-media", timeout=10_000)
    assert page.inner_text(".cs-viewer-type") == "Power awakening"
    assert page.inner_text(".cs-viewer-image-prompt") == doc["image_prompt"]
    assert page.inner_text(".cs-viewer-motion-prompt") == doc["motion_prompt"]
    page.wait_for_timeout(700)  # let the letterbox bars settle for the picture
    page.screenshot(path=str(artifacts / "13-viewer-caption.png"))

    for button, name, magic in (
        (".cs-download-clip", f"power_awakening-{asset_id}.mp4", None),
        (".cs-download-still", f"power_awakening-{asset_id}.png", b"\x89PNG"),
    ):
        with page.expect_download(timeout=30_000) as info:
            page.click(button)
        download = info.value
        assert download.suggested_filename == name
        data = open(download.path(), "rb").read()
        if magic is None:
            assert data[4:8] == b"ftyp", data[:16]
        else:
            assert data.startswith(magic), data[:16]
        print(f"\n{name}: {len(data)} bytes")
    assert not [e for e in timeline(page, "cutscene:download") if e.get("direct")]
    assert not errors, errors


def test_the_dm_hides_a_take_and_it_leaves_a_members_table(e2e_stack, context, browser, artifacts):
    e2e_stack.wipe()
    set_latency(e2e_stack, image_s=0.0, video_s=0.0)
    table_of_two()
    first = made(
        71, kind="npc_portrait", cutscene_type=None, motion_prompt=None, subject="Brother Anselm"
    )
    asset_id = first["asset_id"]
    dm, dm_errors = open_table(context, e2e_stack, "alice")
    member_context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        member, member_errors = open_table(member_context, e2e_stack, "bob", member=True)
        for page in (dm, member):
            page.wait_for_selector(f"{card(asset_id)} img.cs-still", timeout=30_000)
        wait_role(dm, owner=True)
        hide = f"{moment(asset_id)} .cs-hide"
        dm.click(hide)  # the first click only asks
        assert dm.inner_text(hide) == "Hide for everyone?"
        assert (load(CAMPAIGN, asset_id) or {}).get("hidden") is False
        dm.screenshot(path=str(artifacts / "14-hide-confirm.png"))
        started = time.monotonic()
        dm.click(hide)
        member.wait_for_selector(card(asset_id), state="detached", timeout=30_000)
        print(
            f"\nDM's second Hide click -> gone at the member's table: "
            f"{round((time.monotonic() - started) * 1000)} ms"
        )
        dm.wait_for_selector(moment(asset_id), state="detached", timeout=30_000)
        assert (load(CAMPAIGN, asset_id) or {}).get("hidden") is True
        assert not member_errors, member_errors
    finally:
        member_context.close()
    assert not dm_errors, dm_errors
