"""The demo page's own controls: its status line follows the triggered asset to
the end, its turn counter goes on after a reload, and a disabled Trigger button
looks disabled. And the player's Spend tab, which the demo's game master (an
owner) sees: bar charts of the campaign's spend per day and per session."""

from __future__ import annotations

import time

import pytest

from tests.e2e.conftest import set_latency

pytestmark = pytest.mark.e2e
TERMINAL = ("complete", "partial", "failed", "rejected")


def open_demo(context, stack, campaign: str, user: str = "alice"):
    """The page as a visitor opens it: the demo backend sets the campaign up
    and mints alice's token, as a hosted AIDM's backend would."""
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{stack.env['DEMO_URL']}?user={user}&campaign={campaign}&session=s1")
    page.wait_for_function("window.cutsceneReady === true", timeout=60_000)
    return page, errors


def button_style(page) -> dict[str, str]:
    return page.evaluate(
        """() => {
          const style = getComputedStyle(document.getElementById("go"));
          return { background: style.backgroundImage + " " + style.backgroundColor,
                   color: style.color, cursor: style.cursor };
        }"""
    )


def test_status_follows_the_asset_and_the_turn_goes_on_after_a_reload(
    e2e_stack, context, artifacts
):
    set_latency(e2e_stack, image_s=0.2, video_s=1.0)
    campaign = f"demo-turns-{int(time.time())}"
    page, errors = open_demo(context, e2e_stack, campaign)
    assert page.inner_text("#turn") == "turn 1"  # a new session starts at 1

    # Every text the status line shows, in order.
    page.evaluate(
        """() => {
          window.statusLine = [];
          const line = document.getElementById("status");
          new MutationObserver(() => window.statusLine.push(line.textContent))
            .observe(line, { childList: true, characterData: true, subtree: true });
        }"""
    )
    page.click("#go")
    page.wait_for_function(
        "['complete', 'partial', 'failed', 'rejected']"
        ".includes(document.getElementById('status').dataset.assetStatus)",
        timeout=120_000,
    )
    final = page.get_attribute("#status", "data-asset-status")
    shown = page.evaluate("window.statusLine")
    page.screenshot(path=str(artifacts / "demo-status-terminal.png"))
    assert final == "complete", shown
    assert shown[-1].startswith("complete (")
    assert any(text.startswith("sending") for text in shown), shown
    assert page.inner_text("#turn") == "turn 2"

    page.reload()
    page.wait_for_function("window.cutsceneReady === true", timeout=60_000)
    assert page.inner_text("#turn") == "turn 2"  # asked of the server, not 1 again

    check_spend_chart(page, campaign, artifacts)
    assert not errors, errors


def check_spend_chart(page, campaign: str, artifacts) -> None:
    """One bar per row of the report media_api gives, by day and by session."""
    from shared.store.spend_report import report

    deadline = time.monotonic() + 30
    while not report(campaign, "day")["rows"] and time.monotonic() < deadline:
        time.sleep(0.5)  # the charge settles just after the asset completes
    expected = {by: report(campaign, by)["rows"] for by in ("day", "session")}
    assert expected["day"] and [r["key"] for r in expected["session"]] == ["s1"]
    page.wait_for_selector(".cs-tab-spend", state="visible", timeout=30_000)  # owner
    page.click(".cs-tab-spend")
    page.wait_for_selector('.cs-spend[data-state="shown"]', timeout=30_000)
    page.locator(".cs-spend").screenshot(path=str(artifacts / "demo-spend-chart.png"))
    for by, rows in expected.items():
        bars = page.eval_on_selector_all(
            f'.cs-spend-by[data-by="{by}"] .cs-spend-bar',
            "bars => bars.map(b => [b.dataset.key, Number(b.dataset.usd),"
            " b.getBoundingClientRect().height])",
        )
        assert [b[0] for b in bars] == [r["key"] for r in rows], (by, bars, rows)
        assert [b[1] for b in bars] == [r["spent_usd"] for r in rows]
        assert all(b[2] > 0 for b in bars)  # drawn, not just in the markup


def test_a_disabled_trigger_button_looks_disabled(e2e_stack, context, artifacts):
    page, _ = open_demo(context, e2e_stack, "demo-look")
    assert page.is_enabled("#go")
    enabled = button_style(page)
    # A visitor who is not a member gets the same page with the button off.
    other, _ = open_demo(context, e2e_stack, "demo-look", user="mallory")
    assert other.is_disabled("#go")
    disabled = button_style(other)
    other.screenshot(path=str(artifacts / "demo-disabled-button.png"))
    assert disabled["background"] != enabled["background"], (enabled, disabled)
    assert disabled["cursor"] == "not-allowed" and enabled["cursor"] == "pointer"
    assert disabled["color"] != enabled["color"]
    # Nor does a visitor who owns nothing get the owner's Spend tab.
    assert other.locator(".cs-tab-spend").is_hidden()
