"""`python -m bench.player [--runs N] [--cutscenes N]`: what a player waits for.

- stack start: `LocalStack.start` N times, with the Firebase Auth emulator
  (the slowest part) among the parts; target under 10 s.
- complete -> playing: the demo page in real Chromium, signed in as a member
  with a custom token (the production path), N cutscenes one after another;
  for each, the time from `completed_at` in Firestore to the video element
  playing (the player's own `cutscene:playing` event).

Not part of `python -m bench` (it needs Chromium and starts stacks of its own).
"""

from __future__ import annotations

import argparse
import json
import time
import urllib.request
from pathlib import Path

from bench.common import ROOT, Table, start_stack, summary

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CAMPAIGN = "bench-player"


def stack_start(table: Table, runs: int) -> None:
    from infra.local.stack import LocalStack

    totals, auth = [], []
    for _ in range(runs):
        stack = LocalStack.start(ROOT, log=lambda _line: None)
        totals.append(stack.timings["total"])
        auth.append(stack.timings["auth"])
        stack.stop(log=lambda _line: None)
    s = summary(totals)
    table.add("stack start", f"total x{runs} p50 s", s["p50"], "< 10 s", s["p50"] < 10)
    table.add("stack start", f"total x{runs} max s", s["max"])
    table.add("stack start", f"auth emulator x{runs} p50 s", summary(auth)["p50"])


def _latency(stack, image_s: float, video_s: float) -> None:
    req = urllib.request.Request(
        stack.env["GENAI_EMULATOR_URL"] + "/_emulator/latency",
        data=json.dumps({"image_s": image_s, "video_s": video_s}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(req, timeout=10).close()


def complete_to_playing(table: Table, stack, n: int) -> None:
    from playwright.sync_api import sync_playwright

    from shared.client import MediaClient, configure_campaign
    from tests.integration.helpers import cutscene, publish, wait_terminal

    configure_campaign(CAMPAIGN, enabled=True, budget_usd=50.0, members=["alice"])
    token = MediaClient().create_custom_token(CAMPAIGN, "alice")
    _latency(stack, 0.2, 1.0)
    values: list[float] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(
                f"{stack.env['DEMO_URL']}?user=alice&campaign={CAMPAIGN}&session=s1#token={token}"
            )
            page.wait_for_function("window.cutsceneReady === true", timeout=60_000)
            for i in range(n):
                message = cutscene(100 + i, campaign_id=CAMPAIGN)
                publish(message)
                doc = wait_terminal(CAMPAIGN, message["request_id"])
                page.wait_for_selector(
                    f'.cs-card[data-asset-id="{doc["asset_id"]}"].cs-playing', timeout=60_000
                )
                events = page.evaluate("window.cutsceneTimeline")
                played = [
                    e
                    for e in events
                    if e["event"] == "cutscene:playing" and e["assetId"] == doc["asset_id"]
                ]
                values.append(float(played[0]["msFromCompletedAt"]))
        finally:
            browser.close()
    s = summary(values)
    table.add("complete->playing", f"x{n} p50 ms", s["p50"], "< 10000 ms", s["p50"] < 10_000)
    table.add("complete->playing", f"x{n} p95 ms", s["p95"])
    table.add("complete->playing", f"x{n} max ms", s["max"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.player", description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="stack starts to time")
    parser.add_argument("--cutscenes", type=int, default=10)
    args = parser.parse_args(argv)
    table = Table()
    print(f"== stack start (x{args.runs})", flush=True)
    stack_start(table, args.runs)
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} missing: no browser figures", flush=True)
    else:
        stack = start_stack()
        try:
            print(f"== complete -> video playing in Chromium (x{args.cutscenes})", flush=True)
            complete_to_playing(table, stack, args.cutscenes)
        finally:
            stack.stop()
    started = time.strftime("%H:%M:%S")
    print(f"wrote {table.write('bench-player')} at {started}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
