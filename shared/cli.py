"""`cutscenes`: run the local stack, configure campaigns, trigger and inspect media."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from shared.request import CUTSCENE_TYPES, KINDS

REPO_ROOT = Path(__file__).resolve().parent.parent
STATE_DIR = REPO_ROOT / ".local"


def _load_local_env() -> None:
    """After `local up --detach`, commands find the stack without exports.
    Variables already in the environment always win."""
    state = STATE_DIR / "stack.json"
    if os.environ.get("FIRESTORE_EMULATOR_HOST") or os.environ.get("CUTSCENES_NO_LOCAL"):
        return
    if not state.exists():
        return
    recorded = json.loads(state.read_text())
    if recorded.get("ready") is False:
        return  # still starting (or failed to): better an honest error than half a stack
    env = recorded.get("env", {})
    for key, value in env.items():
        os.environ.setdefault(key, str(value))


def _print(obj: Any) -> None:
    from shared.views import jsonable

    print(json.dumps(jsonable(obj), indent=2, sort_keys=True))


def cmd_local(args: argparse.Namespace) -> int:
    from infra.local import stack

    base = ["--root", str(REPO_ROOT), "--state-dir", str(STATE_DIR)]
    if args.action == "down":
        return stack.main([*base, "down"])
    return stack.main([*base, "up", *(["--detach"] if args.detach else [])])


def cmd_configure(args: argparse.Namespace) -> int:
    from shared.client import configure_campaign

    enabled = True if args.enable else False if args.disable else None
    doc = configure_campaign(args.campaign, enabled=enabled, budget_usd=args.budget,
                             members=args.member, quality=args.quality)
    _print({"campaign_id": args.campaign, **doc})
    return 0


def follow(campaign_id: str, asset_id: str, timeout_s: float) -> dict[str, Any] | None:
    """Watch the asset until it is terminal, reporting each status change."""
    from shared.assets import TERMINAL, load

    deadline = time.monotonic() + timeout_s
    last = None
    started = time.monotonic()
    while time.monotonic() < deadline:
        doc = load(campaign_id, asset_id)
        status = doc.get("status") if doc else "waiting"
        if status != last:
            print(f"[{time.monotonic() - started:6.1f}s] {status}", file=sys.stderr)
            last = status
        if doc and status in TERMINAL:
            return doc
        time.sleep(0.1)
    return None


def cmd_trigger(args: argparse.Namespace) -> int:
    from shared.client import build_message, publish_request
    from shared.views import public_asset

    message = build_message(
        request_id=args.request_id, campaign_id=args.campaign, session_id=args.session,
        turn_number=args.turn, kind=args.kind, cutscene_type=args.type,
        image_prompt=args.image_prompt, motion_prompt=args.motion_prompt,
        subject=args.subject, aspect_ratio=args.aspect, duration_seconds=args.duration,
    )
    result = publish_request(message)
    if not result.accepted:
        print(f"not published: {result.reason}", file=sys.stderr)
        return 2
    print(f"published {result.request_id} -> asset {result.asset_id}", file=sys.stderr)
    if not args.wait:
        _print({"request_id": result.request_id, "asset_id": result.asset_id,
                "message_id": result.message_id})
        return 0
    doc = follow(args.campaign, result.asset_id or "", args.timeout)
    if doc is None:
        print(f"no terminal state within {args.timeout:.0f} s", file=sys.stderr)
        return 1
    _print(public_asset(doc))
    return 0


def cmd_cost(args: argparse.Namespace) -> int:
    from shared.client import remaining_budget

    _print(remaining_budget(args.campaign, args.session).as_usd())
    return 0


def cmd_gallery(args: argparse.Namespace) -> int:
    from shared.gallery import gallery_page
    from shared.views import public_asset

    docs, cursor = gallery_page(args.campaign, args.limit, None)
    _print({"assets": [public_asset(d) for d in docs], "next_cursor": cursor})
    return 0


def cmd_janitor(_: argparse.Namespace) -> int:
    from shared.janitor import sweep

    _print({"closed": sweep()})
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cutscenes", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    local = sub.add_parser("local", help="run the whole pipeline on this machine")
    local.add_argument("action", choices=["up", "down"])
    local.add_argument("--detach", action="store_true", help="start in the background")
    local.set_defaults(func=cmd_local)

    conf = sub.add_parser("configure", help="set a campaign's media settings")
    conf.add_argument("--campaign", required=True)
    toggle = conf.add_mutually_exclusive_group()
    toggle.add_argument("--enable", action="store_true")
    toggle.add_argument("--disable", action="store_true")
    conf.add_argument("--budget", type=float, help="USD cap per game session")
    conf.add_argument("--member", action="extend", nargs="+", metavar="UID",
                      help="user ids allowed to watch (repeatable)")
    conf.add_argument("--quality", choices=["draft", "standard", "premium"])
    conf.set_defaults(func=cmd_configure)

    trig = sub.add_parser("trigger", help="publish one media request")
    trig.add_argument("--campaign", required=True)
    trig.add_argument("--session", required=True)
    trig.add_argument("--turn", type=int, required=True)
    trig.add_argument("--kind", required=True, choices=KINDS)
    trig.add_argument("--type", choices=CUTSCENE_TYPES, help="cutscene type")
    trig.add_argument("--image-prompt", required=True)
    trig.add_argument("--motion-prompt")
    trig.add_argument("--subject")
    trig.add_argument("--aspect", choices=["16:9", "9:16", "1:1"])
    trig.add_argument("--duration", type=int, choices=[4, 6, 8])
    trig.add_argument("--request-id")
    trig.add_argument("--wait", action="store_true", help="follow it to a terminal state")
    trig.add_argument("--timeout", type=float, default=900.0)
    trig.set_defaults(func=cmd_trigger)

    cost = sub.add_parser("cost", help="a session's budget")
    cost.add_argument("--campaign", required=True)
    cost.add_argument("--session", required=True)
    cost.set_defaults(func=cmd_cost)

    gal = sub.add_parser("gallery", help="a campaign's media, newest first")
    gal.add_argument("--campaign", required=True)
    gal.add_argument("--limit", type=int, default=20)
    gal.set_defaults(func=cmd_gallery)

    jan = sub.add_parser("janitor", help="close assets stuck past the deadline")
    jan.set_defaults(func=cmd_janitor)

    from shared.prices_table import add_parser as add_prices

    add_prices(sub)  # `prices`: self-contained, reads only the catalog
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command != "local":
        _load_local_env()
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - a CLI answers with a message, not a trace
        if os.environ.get("CUTSCENES_DEBUG"):
            raise
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
