"""A 429 storm on the image model: a burst of stills over several campaigns,
the image model's quota (media emulator, per model) lowered mid-burst and
kept low, once with image calls unpaced (the design before
docs/decisions/0028: the SDK retries a 429, then the delivery is redelivered,
each delivery one more call intent of MEDIA_IMAGE_MAX_CALLS) and once paced
and adaptive (shared/store/image_pacing.py), on one local stack, side by side.

Time is compressed: the quota and the pacing count calls per `--window`
seconds, not per minute. Per mode: stills complete and failed, the 429s the
emulator answered, image calls served, time from the first publish to the
last terminal still, the most call intents one still wrote, and whether every
session's books are exact (spent = the sum of its assets' cost, nothing held).

    .venv/bin/python -m bench.images [--n 40] [--window 10] [--storm 2]
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from bench.common import Table, session_cost_micros, start_stack, statuses

SESSIONS = ("s1", "s2")


def _messages(mode: str, n: int, campaigns: int) -> list[dict[str, Any]]:
    from shared.client import build_message

    return [
        build_message(
            request_id=f"img-{mode}-{int(time.time())}-{i:04d}",
            campaign_id=f"img-{mode}-{i % campaigns}",
            session_id=SESSIONS[i % len(SESSIONS)],
            turn_number=i,
            kind="npc_portrait",
            subject="Rei",
            image_prompt=f"a lantern-lit face in the rain, take {i}",
        )
        for i in range(n)
    ]


def _publish(messages: list[dict[str, Any]]) -> None:
    from shared.core.settings import get_settings
    from shared.store.connections import publisher, topic_path

    topic = topic_path(get_settings().MEDIA_REQUESTS_TOPIC)
    futures = [publisher().publish(topic, json.dumps(m).encode()) for m in messages]
    for future in futures:
        future.result(timeout=60)


def run_mode(
    stack,
    mode: str,
    env: dict[str, str],
    *,
    n: int,
    campaigns: int,
    window: float,
    before: int,
    storm: int,
    storm_after: int,
    timeout_s: float,
) -> dict[str, Any]:
    from shared.client import configure_campaign
    from shared.domain.ids import asset_id_for
    from shared.domain.pricing import catalog
    from shared.domain.status import TERMINAL
    from shared.store import ledger
    from shared.store.assets import load_fields as load
    from tests.integration.helpers import calls, emulator

    model = catalog().models_for(catalog().defaults["quality"])["image_model"]
    stack.restart_function("render_still", env)
    emulator(stack, "POST", "/_emulator/reset")
    quota = {"model": model, "window_s": window}
    emulator(stack, "POST", "/_emulator/quota", {**quota, "per_minute": before})
    for c in range(campaigns):
        configure_campaign(f"img-{mode}-{c}", enabled=True, budget_usd=100.0, members=["alice"])
    messages = _messages(mode, n, campaigns)
    t0 = time.monotonic()
    _publish(messages[:storm_after])
    # The storm: the shared pool busy from here on, for the rest of the run.
    emulator(stack, "POST", "/_emulator/quota", {**quota, "per_minute": storm})
    _publish(messages[storm_after:])
    keys = {(m["campaign_id"], asset_id_for(m["request_id"])) for m in messages}
    open_keys, last = set(keys), 0.0
    while open_keys and time.monotonic() - t0 < timeout_s:
        for key in list(open_keys):
            doc = load(*key)
            if doc and doc.get("status") in TERMINAL:
                open_keys.discard(key)
                last = time.monotonic() - t0
        time.sleep(0.5)
    docs = [load(*key) or {} for key in keys]
    ended = statuses(docs)
    books = True
    for c in range(campaigns):
        cid = f"img-{mode}-{c}"
        for sid in SESSIONS:
            bal = ledger.read_balance(cid, sid)
            cost = session_cost_micros(docs, cid, sid)
            books = books and bal.spent_micros == cost and bal.reserved_micros == 0
    counted = (calls(stack).get("by_model") or {}).get(model, {})
    intents = [int((d.get("calls") or {}).get("rendering_image") or 0) for d in docs]
    return {
        "mode": mode,
        "stills": n,
        "complete": sum(1 for d in docs if d.get("status") == "complete"),
        "failed": sum(1 for d in docs if d.get("status") == "failed"),
        "open": len(open_keys),
        "statuses": ended,
        "rejected_429": counted.get("rejected", 0),
        "image_calls": counted.get("generateContent", 0),
        "last_still_s": round(last, 1),
        "most_intents": max(intents, default=0),
        "books_exact": books,
    }


FIGURES = (
    ("stills failed", "failed"),
    ("stills complete", "complete"),
    ("stills not terminal", "open"),
    ("429s answered (emulator)", "rejected_429"),
    ("image calls made", "image_calls"),
    ("time to last still (s)", "last_still_s"),
    ("most call intents, one still", "most_intents"),
    ("books exact", "books_exact"),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.images", description=__doc__)
    parser.add_argument("--n", type=int, default=40, help="stills in the burst")
    parser.add_argument("--campaigns", type=int, default=4)
    parser.add_argument("--window", type=float, default=10.0, help="the quota's 'minute' (s)")
    parser.add_argument("--before", type=int, default=40, help="quota per window before")
    parser.add_argument("--storm", type=int, default=2, help="quota per window in the storm")
    parser.add_argument("--storm-after", type=int, default=10, help="stills before the storm")
    parser.add_argument(
        "--ceiling", type=int, default=20, help="MEDIA_IMAGE_CALLS_PER_MIN, per window"
    )
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args(argv)
    modes = {
        "unpaced": {"MEDIA_IMAGE_CALLS_PER_MIN": "0"},
        "adaptive": {
            "MEDIA_IMAGE_CALLS_PER_MIN": str(args.ceiling),
            "MEDIA_VEO_PACING_WINDOW_S": f"{args.window:g}",
        },
    }
    stack = start_stack()
    results = []
    try:
        for mode, env in modes.items():
            print(f"== {mode}: {args.n} stills, quota {args.before} -> {args.storm}", flush=True)
            results.append(
                run_mode(
                    stack,
                    mode,
                    env,
                    n=args.n,
                    campaigns=args.campaigns,
                    window=args.window,
                    before=args.before,
                    storm=args.storm,
                    storm_after=args.storm_after,
                    timeout_s=args.timeout,
                )
            )
            print(json.dumps(results[-1]), flush=True)
    finally:
        stack.stop()
    table = Table()
    print(f"\n  {'':<34}" + "".join(f"{r['mode']:>12}" for r in results))
    for label, key in FIGURES:
        print(f"  {label:<34}" + "".join(f"{r[key]!s:>12}" for r in results))
        for r in results:
            table.add("images", f"{r['mode']}: {label}", r[key])
    adaptive = results[-1]
    met = adaptive["failed"] == 0 and adaptive["open"] == 0 and adaptive["books_exact"]
    table.add("images", "adaptive: stills failed in the storm", adaptive["failed"], "0", met)
    print(f"wrote {table.write('images')}", flush=True)
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
