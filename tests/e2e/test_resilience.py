"""Never a dead end: media_api goes away mid-cutscene and comes back.

The cutscene completes while media_api is down (the pipeline does not need
it), so the player cannot get its signed URLs: it must say so on the card and
keep trying, and show the clip soon after media_api is back. The delay from
the restart to the clip playing is written to test-artifacts/e2e/ (the figure
is reported, not asserted here: timings belong to bench/).
"""

from __future__ import annotations

import json
import time

import pytest

from tests.e2e.conftest import set_latency
from tests.e2e.test_player import CAMPAIGN, card, open_table, timeline
from tests.integration.helpers import cutscene, publish, wait_terminal

pytestmark = pytest.mark.e2e
DOWN_S = 20.0


def test_media_api_down_then_back_shows_a_message_then_the_clip(e2e_stack, context, artifacts):
    e2e_stack.wipe()
    set_latency(e2e_stack, image_s=0.5, video_s=1.0)
    page, errors = open_table(context, e2e_stack, "alice")
    page.wait_for_selector('.cs-player[data-state="live"], .cs-player[data-state="connecting"]')
    e2e_stack.stop_part("media_api")  # an outage: the supervisor leaves it down
    stopped = time.monotonic()
    try:
        message = cutscene(41, campaign_id=CAMPAIGN)
        publish(message)
        doc = wait_terminal(CAMPAIGN, message["request_id"])
        assert doc["status"] == "complete"
        problem = f"{card(doc['asset_id'])} .cs-problem"
        page.wait_for_selector(problem, timeout=30_000)
        said = page.inner_text(problem)
        assert "can't reach the media server" in said.lower(), said
        page.screenshot(path=str(artifacts / "11-media-api-down.png"))
        # The player keeps saying so (and trying) for as long as it is down.
        page.wait_for_timeout(max(0.0, DOWN_S - (time.monotonic() - stopped)) * 1000)
        assert page.query_selector(problem) is not None
        assert page.query_selector(f"{card(doc['asset_id'])}.cs-playing") is None
    finally:
        restarted = time.time()
        e2e_stack.restart_function("media_api")
    page.wait_for_selector(f"{card(doc['asset_id'])}.cs-playing", timeout=60_000)
    playing = timeline(page, "cutscene:playing")[0]
    delay_s = round(playing["at"] / 1000 - restarted, 2)
    assert page.query_selector(problem) is None  # the message goes once it works
    page.screenshot(path=str(artifacts / "12-media-api-back.png"))
    (artifacts / "media_api_restart.json").write_text(
        json.dumps({"down_s": DOWN_S, "restart_to_playing_s": delay_s}, indent=2)
    )
    print(f"\nmedia_api restart -> clip playing: {delay_s} s")
    # The page's console logs each failed fetch to media_api while it was
    # down, and nothing else. Which transport error a fetch meets depends on
    # where the kill caught it (refused, an empty answer, a reset, a body cut
    # short: ERR_CONTENT_LENGTH_MISMATCH), so any net:: failure of media_api's
    # own URLs is the outage; an HTTP status (Chromium logs "the server
    # responded with a status of ..."), a script error, or a failure of any
    # other address is not.
    api = e2e_stack.env["MEDIA_API_URL"]
    unexpected = [
        e
        for e in errors
        if not ("Failed to load resource: net::ERR_" in e and f"[{api}/" in e)
        and "Failed to fetch" not in e
    ]
    assert not unexpected, unexpected
