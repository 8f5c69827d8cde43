"""The player as a host page embeds it, and what a player notices around it.

Signing out stops the listener; a phone-sized screen shows the newest cutscene
without scrolling; a page without a bundler uses the standalone build; no
request the page makes is answered with an error (favicon included).
"""

from __future__ import annotations

import pytest

from shared.client import configure_campaign
from tests.e2e.test_player import CAMPAIGN, card, open_table, player_token
from tests.integration.helpers import cutscene, publish, wait_terminal

pytestmark = pytest.mark.e2e


def finished(stack, n: int) -> dict:
    configure_campaign(CAMPAIGN, enabled=True, budget_usd=5.0, members=["alice"])
    message = cutscene(n, campaign_id=CAMPAIGN)
    publish(message)
    doc = wait_terminal(CAMPAIGN, message["request_id"])
    assert doc["status"] == "complete"
    return doc


def test_signing_out_stops_the_listener(e2e_stack, context, artifacts):
    e2e_stack.wipe()
    first = finished(e2e_stack, 31)
    page, errors = open_table(context, e2e_stack, "alice")
    page.wait_for_selector(f"{card(first['asset_id'])} img.cs-still", timeout=20_000)
    page.evaluate("window.cutsceneAuth.signOut()")
    page.wait_for_selector('.cs-player[data-state="signed-out"]', timeout=10_000)
    assert page.query_selector(".cs-card") is None
    second = finished(e2e_stack, 32)  # a change the page would show if it still listened
    page.wait_for_timeout(1500)
    assert page.query_selector(f"{card(second['asset_id'])}") is None
    assert page.query_selector(".cs-card") is None
    page.screenshot(path=str(artifacts / "08-signed-out.png"))
    assert not errors, errors


def test_the_newest_cutscene_is_on_a_390_px_screen(e2e_stack, browser, artifacts):
    e2e_stack.wipe()
    doc = finished(e2e_stack, 33)
    # 390 x 664: what a phone browser shows of a page below its toolbars.
    phone = browser.new_context(viewport={"width": 390, "height": 664}, is_mobile=True)
    try:
        page, errors = open_table(phone, e2e_stack, "alice")
        selector = f"{card(doc['asset_id'])}.cs-playing"
        page.wait_for_selector(selector, timeout=30_000)
        box = page.locator(card(doc["asset_id"])).bounding_box()
        assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= 664, box
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
        page.screenshot(path=str(artifacts / "09-phone.png"))
        assert not errors, errors
    finally:
        phone.close()


def test_a_page_without_a_bundler_uses_the_standalone_build(e2e_stack, context, artifacts):
    e2e_stack.wipe()
    doc = finished(e2e_stack, 34)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    base = e2e_stack.env["DEMO_URL"].rsplit("/", 1)[0]
    page.goto(
        f"{base}/standalone.html?campaign={CAMPAIGN}&session=s1"
        f"&token={player_token(e2e_stack, 'alice')}"
    )
    page.wait_for_selector(f"{card(doc['asset_id'])}.cs-playing", timeout=30_000)
    page.screenshot(path=str(artifacts / "10-standalone.png"))
    assert not errors, errors
