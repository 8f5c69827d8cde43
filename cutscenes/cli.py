"""`cutscenes`: run the local stack, configure campaigns, trigger and inspect media.

Answers (JSON, or CSV for `spend --format csv`) go to stdout; progress, log
lines and errors to stderr. Exit codes: 0 done; 1 an error (no reachable
stack or project, an unknown campaign, `--wait` giving up); 2 a bad argument;
3 `--wait` ended `partial`; 4 `--wait` ended `failed` or `rejected`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from cutscenes.args import (
    USAGE,
    CliError,
    Parser,
    int_range,
    number_range,
    one_line,
    request_id,
    require_backend,
    require_campaign,
    scope_id,
    text,
    user_id,
)
from shared.domain.request import CUTSCENE_TYPES, KINDS

REPO_ROOT = Path(__file__).resolve().parent.parent
STATE_DIR = REPO_ROOT / ".local"


def state_dir() -> Path:
    """Where `local up --detach` records its stack (CUTSCENES_STATE_DIR, for a
    second stack or a test, else .local in the repository)."""
    return Path(os.environ.get("CUTSCENES_STATE_DIR") or STATE_DIR)


def state_file() -> Path:
    return state_dir() / "stack.json"

# --wait's exit codes (docs/interface.md section 7).
EXIT_FOR_STATUS = {"complete": 0, "partial": 3, "failed": 4, "rejected": 4}
EXIT_GAVE_UP = 1
PROGRESS_EVERY_S = 5.0  # a line this often while a stage (Veo, mostly) is working
STAGE_WORK = {"animating": "Veo is making the clip",
              "rendering_image": "the image model is drawing the still"}


def _load_local_env() -> None:
    """After `local up --detach`, commands find the stack without exports.
    Variables already in the environment always win."""
    if os.environ.get("FIRESTORE_EMULATOR_HOST") or os.environ.get("CUTSCENES_NO_LOCAL"):
        return
    if not state_file().exists():
        return
    try:
        recorded = json.loads(state_file().read_text())
    except (OSError, ValueError):
        return
    if recorded.get("ready") is False:
        return  # still starting (or failed to): require_backend says so
    env = recorded.get("env", {})
    for key, value in env.items():
        os.environ.setdefault(key, str(value))


def _print(obj: Any) -> None:
    from shared.domain.asset_view import jsonable

    print(json.dumps(jsonable(obj), indent=2, sort_keys=True))


def cmd_local(args: argparse.Namespace) -> int:
    from infra.local import stack

    if args.action == "logs":
        from infra.local.logs import show

        return show(state_dir(), follow=args.follow, request_id=args.request_id,
                    as_json=args.json)
    base = ["--root", str(REPO_ROOT), "--state-dir", str(state_dir())]
    if args.action == "down":
        return stack.main([*base, "down"])
    return stack.main([*base, "up", *(["--detach"] if args.detach else [])])


def no_check(_: argparse.Namespace) -> None:
    """Most commands' arguments are checked by their types alone."""


def check_configure(args: argparse.Namespace) -> None:
    added = set(args.member or []) | set(args.owner or [])
    both = added & set(args.remove_member or []) or \
        set(args.owner or []) & set(args.remove_owner or [])
    if both:
        raise CliError(f"user {sorted(both)[0]!r} is both added and removed (see cutscenes "
                       "configure --help)", USAGE)


def trigger_message(args: argparse.Namespace) -> dict[str, Any]:
    from shared.client import build_message

    return build_message(
        request_id=args.request_id, campaign_id=args.campaign, session_id=args.session,
        turn_number=args.turn, kind=args.kind, cutscene_type=args.type,
        image_prompt=args.image_prompt, motion_prompt=args.motion_prompt,
        subject=args.subject, aspect_ratio=args.aspect, duration_seconds=args.duration,
        characters=args.character or None,
    )


def check_trigger(args: argparse.Namespace) -> None:
    """The request message's own rules (a cutscene needs --type and
    --motion-prompt, ...), before anything is reached or published."""
    from shared.core.errors import InvalidRequest
    from shared.core.settings import get_settings
    from shared.domain.request import parse_request

    args.message = trigger_message(args)
    try:
        parse_request(args.message, get_settings().MEDIA_BUCKET)
    except InvalidRequest as exc:
        raise CliError(f"invalid request: {exc} (see cutscenes trigger --help)", USAGE) from None


def cmd_configure(args: argparse.Namespace) -> int:
    from shared.client import configure_campaign

    enabled = True if args.enable else False if args.disable else None
    try:
        doc = configure_campaign(args.campaign, enabled=enabled, budget_usd=args.budget,
                                 members=args.member, quality=args.quality, owners=args.owner,
                                 remove_members=args.remove_member,
                                 remove_owners=args.remove_owner)
    except ValueError as exc:
        raise CliError(str(exc), USAGE) from None
    _print({"campaign_id": args.campaign, **doc})
    return 0


def _status_line(doc: dict[str, Any] | None) -> str:
    if not doc:
        return "waiting for the pipeline to pick it up"
    status, reason = doc.get("status"), doc.get("status_reason")
    return f"{status} ({reason})" if reason else str(status)


def follow(campaign_id: str, asset_id: str, timeout_s: float) -> dict[str, Any] | None:
    """Watch the asset until it is terminal, reporting each status change (with
    its reason) and, while a stage works (Veo takes a minute), how long so far."""
    from shared.domain.status import TERMINAL
    from shared.store.assets import load

    started = time.monotonic()
    deadline = started + timeout_s
    last, since, told = None, started, started
    while time.monotonic() < deadline:
        doc = load(campaign_id, asset_id)
        line = _status_line(doc)
        now = time.monotonic()
        if line != last:
            print(f"[{now - started:6.1f}s] {line}", file=sys.stderr, flush=True)
            last, since, told = line, now, now
        elif now - told >= PROGRESS_EVERY_S:
            what = STAGE_WORK.get(str((doc or {}).get("status")), "waiting")
            print(f"[{now - started:6.1f}s] {line}: {what}, {now - since:.0f} s so far",
                  file=sys.stderr, flush=True)
            told = now
        if doc and doc.get("status") in TERMINAL:
            return doc
        time.sleep(0.1)
    return None


def _wait_exit(doc: dict[str, Any] | None, timeout_s: float) -> int:
    from shared.domain.asset_view import public_asset

    if doc is None:
        print(f"gave up: no terminal state within {timeout_s:g} s (the request goes on; "
              "`cutscenes gallery` shows how it ends)", file=sys.stderr)
        return EXIT_GAVE_UP
    _print(public_asset(doc))
    return EXIT_FOR_STATUS.get(str(doc.get("status")), 1)


def cmd_trigger(args: argparse.Namespace) -> int:
    from shared.client import publish_request

    require_campaign(args.campaign)
    result = publish_request(getattr(args, "message", None) or trigger_message(args))
    if not result.accepted:
        reason = result.reason or "unknown"
        raise CliError(f"not published: {reason}",
                       USAGE if reason.startswith("invalid") else 1)
    print(f"published {result.request_id} -> asset {result.asset_id}", file=sys.stderr)
    if not args.wait:
        _print({"request_id": result.request_id, "asset_id": result.asset_id,
                "message_id": result.message_id})
        return 0
    return _wait_exit(follow(args.campaign, result.asset_id or "", args.timeout), args.timeout)


def _take(call: Any) -> Any:
    """Run an owner's move; its refusal is one line (a bad prompt: exit 2)."""
    from shared.pipeline.takes import TakeRefused

    try:
        return call()
    except TakeRefused as exc:
        raise CliError(exc.message, USAGE if exc.code == 400 else 1) from None


def cmd_regenerate(args: argparse.Namespace) -> int:
    from shared.pipeline.takes import regenerate

    require_campaign(args.campaign)
    made = _take(lambda: regenerate(args.campaign, args.asset, image_prompt=args.image_prompt,
                                    motion_prompt=args.motion_prompt))
    print(f"regenerated {args.asset} -> asset {made['asset_id']}", file=sys.stderr)
    if not args.wait:
        _print(made)
        return 0
    return _wait_exit(follow(args.campaign, made["asset_id"], args.timeout), args.timeout)


def cmd_animate(args: argparse.Namespace) -> int:
    from shared.pipeline.takes import reanimate

    require_campaign(args.campaign)
    made = _take(lambda: reanimate(args.campaign, args.asset))
    print(f"animating {args.asset} again", file=sys.stderr)
    if not args.wait:
        _print(made)
        return 0
    return _wait_exit(follow(args.campaign, args.asset, args.timeout), args.timeout)


def cmd_hide(args: argparse.Namespace) -> int:
    from shared.pipeline.takes import hide

    require_campaign(args.campaign)
    _take(lambda: hide(args.campaign, args.asset))
    _print({"asset_id": args.asset, "hidden": True})
    return 0


def cmd_cost(args: argparse.Namespace) -> int:
    from shared.client import remaining_budget

    require_campaign(args.campaign)
    _print(remaining_budget(args.campaign, args.session).as_usd())
    return 0


def cmd_gallery(args: argparse.Namespace) -> int:
    from shared.domain.asset_view import public_asset
    from shared.store.gallery import gallery_page

    require_campaign(args.campaign)
    docs, cursor = gallery_page(args.campaign, args.limit, args.cursor)
    _print({"assets": [public_asset(d) for d in docs], "next_cursor": cursor})
    return 0


def cmd_spend(args: argparse.Namespace) -> int:
    from shared.store.spend_report import csv_text, report, spend_rows

    require_campaign(args.campaign)
    if args.format == "csv":
        sys.stdout.write(csv_text(spend_rows(args.campaign, args.by)))
    else:
        _print(report(args.campaign, args.by))
    return 0


def cmd_janitor(_: argparse.Namespace) -> int:
    from shared.pipeline.janitor import sweep

    _print({"closed": sweep()})
    return 0


def cmd_player_token(args: argparse.Namespace) -> int:
    """A custom token on stdout, alone, for a script or a page to sign in with."""
    from shared.client import MediaClient

    require_campaign(args.campaign)
    try:
        token = MediaClient().create_custom_token(args.campaign, args.user)
    except PermissionError as exc:
        raise CliError(str(exc)) from None
    print(token)
    return 0


CAMPAIGN_HELP = "campaign id: 1-128 characters of A-Z a-z 0-9 _ -"


def _campaign(p: argparse.ArgumentParser) -> None:
    p.add_argument("--campaign", required=True, type=scope_id("campaign id"), metavar="C",
                   help=CAMPAIGN_HELP)


def _sub(sub: Any, name: str, help: str, examples: str) -> argparse.ArgumentParser:  # noqa: A002
    return sub.add_parser(name, help=help, description=help,
                          epilog="examples:\n" + examples)


def parser() -> argparse.ArgumentParser:
    p = Parser(prog="cutscenes", description=__doc__)
    # A subcommand that reads no stack or project (a price list, say) sets
    # needs_backend=False and is run without the reachability check.
    p.set_defaults(check=no_check, needs_backend=True)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    local = _sub(sub, "local", "run the whole pipeline on this machine (emulators, functions)",
                 "  cutscenes local up --detach     # prints the stack's environment as JSON\n"
                 "  cutscenes local logs --request-id req-123 --follow\n"
                 "  cutscenes local down")
    local.add_argument("action", choices=["up", "down", "logs"],
                       help="up: start (foreground until Ctrl-C, or --detach); down: stop "
                            "what --detach started; logs: the stack's logs, merged by time")
    local.add_argument("--detach", action="store_true",
                       help="up: start in the background and print the environment as JSON")
    local.add_argument("--follow", action="store_true",
                       help="logs: keep printing new lines until Ctrl-C")
    local.add_argument("--request-id", type=request_id, metavar="R",
                       help="logs: only the lines of this request (and its asset)")
    local.add_argument("--json", action="store_true",
                       help="logs: print the JSON records (with `source`), not text")
    local.set_defaults(func=cmd_local)

    conf = _sub(sub, "configure", "create a campaign or change its settings and members",
                "  cutscenes configure --campaign c1 --enable --budget 5 --member alice bob\n"
                "  cutscenes configure --campaign c1 --owner gm --remove-member mallory")
    _campaign(conf)
    toggle = conf.add_mutually_exclusive_group()
    toggle.add_argument("--enable", action="store_true", help="turn media on")
    toggle.add_argument("--disable", action="store_true", help="turn media off")
    conf.add_argument("--budget", type=number_range(0, 10_000, "--budget", "USD"),
                      metavar="USD", help="cap per game session in US dollars, 0-10000 "
                                          "(e.g. 2.50)")
    conf.add_argument("--member", action="extend", nargs="+", type=user_id, metavar="UID",
                      help="user ids allowed to watch (Firebase uids; several allowed)")
    conf.add_argument("--owner", action="extend", nargs="+", type=user_id, metavar="UID",
                      help="game masters: members who may also read the spend report (and "
                           "regenerate, re-animate, hide); made members too")
    conf.add_argument("--remove-member", action="extend", nargs="+", type=user_id,
                      metavar="UID", help="user ids to take every right from (owner too)")
    conf.add_argument("--remove-owner", action="extend", nargs="+", type=user_id,
                      metavar="UID", help="owners to make plain members again")
    conf.add_argument("--quality", choices=["draft", "standard", "premium"],
                      help="picks cheaper or better models from the pricing catalog")
    conf.set_defaults(func=cmd_configure, check=check_configure)

    trig = _sub(sub, "trigger", "publish one media request (as AIDM's turn loop does)",
                "  cutscenes trigger --campaign c1 --session s1 --turn 3 --kind cutscene \\\n"
                "      --type action_climax --image-prompt \"Rei's blade meets the claw\" \\\n"
                "      --motion-prompt \"camera orbits the clash\" --wait\n"
                "  cutscenes trigger --campaign c1 --session s1 --turn 4 --kind npc_portrait \\\n"
                "      --subject \"Captain Mireille\" --image-prompt \"a scarred captain\"\n"
                "--wait exits 0 complete, 3 partial, 4 failed or rejected, 1 gave up waiting")
    _campaign(trig)
    trig.add_argument("--session", required=True, type=scope_id("session id"), metavar="S",
                      help="game session id (the budget scope): 1-128 of A-Z a-z 0-9 _ -")
    trig.add_argument("--turn", type=int_range(0, 10_000_000, "--turn"), required=True,
                      metavar="N", help="turn number, an integer from 0")
    trig.add_argument("--kind", required=True, choices=KINDS, help="what to make")
    trig.add_argument("--type", choices=CUTSCENE_TYPES,
                      help="cutscene type (required with --kind cutscene)")
    trig.add_argument("--image-prompt", required=True, type=text("--image-prompt", 4000),
                      metavar="P", help="what the still shows, 1-4000 characters")
    trig.add_argument("--motion-prompt", type=text("--motion-prompt", 2000), metavar="M",
                      help="how the clip moves, 1-2000 characters (required for cutscenes)")
    trig.add_argument("--subject", type=text("--subject", 200), metavar="X",
                      help="location or character name, 1-200 characters (required for "
                           "location_visual, npc_portrait and model_sheet)")
    trig.add_argument("--character", action="append", type=text("--character", 200),
                      metavar="NAME", help="a character in the shot (repeatable, at most 6): "
                                           "their registered model sheet rides along")
    trig.add_argument("--aspect", choices=["16:9", "9:16", "1:1"],
                      help="aspect ratio (default 16:9; 1:1 for stills only)")
    trig.add_argument("--duration", type=int, choices=[4, 6, 8], metavar="SECONDS",
                      help="clip length in seconds: 4, 6 or 8 (default from settings)")
    trig.add_argument("--request-id", type=request_id, metavar="R",
                      help="idempotency key, 8-128 of A-Z a-z 0-9 . _ : - (default: a new one)")
    trig.add_argument("--wait", action="store_true",
                      help="follow it to a terminal state, print the asset as JSON")
    trig.add_argument("--timeout", type=number_range(0, 86_400, "--timeout", "seconds",
                                                     low_open=True),
                      default=900.0, metavar="SECONDS",
                      help="how long --wait waits, in seconds (default 900)")
    trig.set_defaults(func=cmd_trigger, check=check_trigger)

    cost = _sub(sub, "cost", "a game session's budget: cap, spent, reserved, remaining (USD)",
                "  cutscenes cost --campaign c1 --session s1")
    _campaign(cost)
    cost.add_argument("--session", required=True, type=scope_id("session id"), metavar="S",
                      help="game session id: 1-128 of A-Z a-z 0-9 _ -")
    cost.set_defaults(func=cmd_cost)

    gal = _sub(sub, "gallery", "a campaign's media, newest first, as JSON",
               "  cutscenes gallery --campaign c1 --limit 5\n"
               "  cutscenes gallery --campaign c1 --cursor NEXT_CURSOR_FROM_THE_LAST_PAGE")
    _campaign(gal)
    gal.add_argument("--limit", type=int_range(1, 100, "--limit"), default=20, metavar="N",
                     help="assets per page, 1-100 (default 20)")
    gal.add_argument("--cursor", type=scope_id("cursor"), metavar="C",
                     help="next_cursor of the previous page")
    gal.set_defaults(func=cmd_gallery)

    spend = _sub(sub, "spend", "what a campaign spent (settled charges, USD) per session "
                 "or per UTC day, and on how many assets",
                 "  cutscenes spend --campaign c1\n"
                 "  cutscenes spend --campaign c1 --by day --format csv > c1-spend.csv")
    _campaign(spend)
    spend.add_argument("--by", choices=["session", "day"], default="session",
                       help="one row per game session (default) or per UTC day (YYYY-MM-DD)")
    spend.add_argument("--format", choices=["json", "csv"], default="json",
                       help="json (default): {rows, total_usd}; csv: key,spent_usd,assets "
                            "with exact dollars and a last (total) row")
    spend.set_defaults(func=cmd_spend)

    _take_commands(sub)

    jan = _sub(sub, "janitor", "close assets stuck past MEDIA_DEADLINE_S; prints "
               "{\"closed\": N}", "  cutscenes janitor")
    jan.set_defaults(func=cmd_janitor)

    tok = _sub(sub, "player-token", "a Firebase custom token for a campaign member, on stdout "
               "alone: the player's browser signs in with signInWithCustomToken",
               "  cutscenes player-token --campaign c1 --user alice")
    _campaign(tok)
    tok.add_argument("--user", required=True, type=user_id, metavar="UID",
                     help="the member's user id (a Firebase uid, 1-128 characters)")
    tok.set_defaults(func=cmd_player_token)

    from shared.domain.prices_table import add_parser as add_prices

    add_prices(sub)  # `prices`: self-contained, reads only the catalog
    return p


def _asset(p: argparse.ArgumentParser) -> None:
    _campaign(p)
    p.add_argument("--asset", required=True, type=scope_id("asset id"), metavar="A",
                   help="asset id (as `gallery` or `trigger` print it): 1-128 of "
                        "A-Z a-z 0-9 _ -")


def _wait_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--wait", action="store_true",
                   help="follow it to a terminal state, print the asset as JSON")
    p.add_argument("--timeout", type=number_range(0, 86_400, "--timeout", "seconds",
                                                  low_open=True),
                   default=900.0, metavar="SECONDS",
                   help="how long --wait waits, in seconds (default 900)")


def _take_commands(sub: Any) -> None:
    """The game master's moves on one asset (the same code as the owner routes)."""
    regen = _sub(sub, "regenerate", "make a new take of an asset: the same moment (session, "
                 "turn, kind, type, subject) with the same or new prompts, budget-checked",
                 "  cutscenes regenerate --campaign c1 --asset a1b2c3 --wait\n"
                 "  cutscenes regenerate --campaign c1 --asset a1b2c3 \\\n"
                 "      --image-prompt \"the claw shatters the blade\" \\\n"
                 "      --motion-prompt \"slow zoom\"\n"
                 "prints {asset_id, request_id} of the new take (its regenerated_from is A);\n"
                 "--wait exits 0 complete, 3 partial, 4 failed or rejected, 1 gave up waiting")
    _asset(regen)
    regen.add_argument("--image-prompt", type=text("--image-prompt", 4000), metavar="P",
                       help="what the still shows, 1-4000 characters (default: the old one)")
    regen.add_argument("--motion-prompt", type=text("--motion-prompt", 2000), metavar="M",
                       help="how the clip moves, 1-2000 characters, cutscenes only "
                            "(default: the old one)")
    _wait_options(regen)
    regen.set_defaults(func=cmd_regenerate)

    anim = _sub(sub, "animate", "try the clip of a partial cutscene again on its still "
                "(reserves and charges the clip only)",
                "  cutscenes animate --campaign c1 --asset a1b2c3 --wait\n"
                "exits 1 if the asset is not partial; --wait exits 0 complete, 3 partial "
                "again, 1 gave up waiting")
    _asset(anim)
    _wait_options(anim)
    anim.set_defaults(func=cmd_animate)

    hide = _sub(sub, "hide", "hide an asset (moderation): gone from every listing and URL, "
                "its files deleted; a request in flight stops and releases its holds",
                "  cutscenes hide --campaign c1 --asset a1b2c3")
    _asset(hide)
    hide.set_defaults(func=cmd_hide)


# Commands that need Pub/Sub as well as Firestore.
PUBLISHES = frozenset({"trigger", "regenerate", "animate", "hide"})


def _error_line(exc: BaseException) -> str:
    """One line for an error the checks did not foresee."""
    name = type(exc).__name__
    if name == "DefaultCredentialsError":
        from cutscenes.args import CREDENTIALS_HINT, LOCAL_HINT

        return f"no Google Cloud credentials: {LOCAL_HINT}, {CREDENTIALS_HINT}"
    if name in ("ServiceUnavailable", "RetryError", "DeadlineExceeded"):
        return f"cannot reach Firestore or Pub/Sub ({name}): is the stack up? " \
               "`cutscenes local up --detach`"
    return f"{name}: {exc}"


def main(argv: list[str] | None = None) -> int:
    from shared.core import log

    args = parser().parse_args(argv)
    if args.command != "local":
        log.to_stderr()  # stdout carries only the command's answer
        _load_local_env()
    try:
        if args.command != "local":
            args.check(args)  # arguments that only make sense together
            if args.needs_backend:
                require_backend(state_file(), pubsub=args.command in PUBLISHES)
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except CliError as exc:
        print(f"cutscenes {args.command}: error: {exc}", file=sys.stderr)
        return exc.code
    except Exception as exc:  # noqa: BLE001 - a CLI answers with a message, not a trace
        if os.environ.get("CUTSCENES_DEBUG"):
            raise
        print(f"cutscenes {args.command}: error: {one_line(_error_line(exc))}", file=sys.stderr)
        return 1
    finally:
        log.to_stderr(False)


if __name__ == "__main__":
    sys.exit(main())
