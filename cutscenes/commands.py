"""What each `cutscenes` command does, once its arguments are checked
(`cutscenes/parser.py` declares them, `cutscenes/cli.py` runs them)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from cutscenes.args import USAGE, CliError, require_campaign

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
STAGE_WORK = {
    "animating": "Veo is making the clip",
    "rendering_image": "the image model is drawing the still",
}


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
    from infra.local import cli

    if args.action == "logs":
        from infra.local.logs import show

        return show(state_dir(), follow=args.follow, request_id=args.request_id, as_json=args.json)
    base = ["--root", str(REPO_ROOT), "--state-dir", str(state_dir())]
    if args.action == "down":
        return cli.main([*base, "down"])
    return cli.main([*base, "up", *(["--detach"] if args.detach else [])])


def no_check(_: argparse.Namespace) -> None:
    """Most commands' arguments are checked by their types alone."""


def check_configure(args: argparse.Namespace) -> None:
    added = set(args.member or []) | set(args.owner or [])
    both = added & set(args.remove_member or []) or set(args.owner or []) & set(
        args.remove_owner or []
    )
    if both:
        raise CliError(
            f"user {sorted(both)[0]!r} is both added and removed (see cutscenes configure --help)",
            USAGE,
        )


def trigger_message(args: argparse.Namespace) -> dict[str, Any]:
    from shared.client import build_message

    return build_message(
        request_id=args.request_id,
        campaign_id=args.campaign,
        session_id=args.session,
        turn_number=args.turn,
        kind=args.kind,
        cutscene_type=args.type,
        image_prompt=args.image_prompt,
        motion_prompt=args.motion_prompt,
        subject=args.subject,
        aspect_ratio=args.aspect,
        duration_seconds=args.duration,
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
    from pydantic import ValidationError

    from shared.client import configure_campaign
    from shared.core.errors import validation_message

    enabled = True if args.enable else False if args.disable else None
    try:
        doc = configure_campaign(
            args.campaign,
            enabled=enabled,
            budget_usd=args.budget,
            members=args.member,
            quality=args.quality,
            owners=args.owner,
            remove_members=args.remove_member,
            remove_owners=args.remove_owner,
        )
    except ValidationError as exc:  # a ValueError too, but its text is pydantic's
        raise CliError(f"invalid media settings: {validation_message(exc)}", USAGE) from None
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
    from shared.store.assets import load_fields as load

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
            print(
                f"[{now - started:6.1f}s] {line}: {what}, {now - since:.0f} s so far",
                file=sys.stderr,
                flush=True,
            )
            told = now
        if doc and doc.get("status") in TERMINAL:
            return doc
        time.sleep(0.1)
    return None


def _wait_exit(doc: dict[str, Any] | None, timeout_s: float) -> int:
    from shared.domain.asset_view import public_asset

    if doc is None:
        print(
            f"gave up: no terminal state within {timeout_s:g} s (the request goes on; "
            "`cutscenes gallery` shows how it ends)",
            file=sys.stderr,
        )
        return EXIT_GAVE_UP
    _print(public_asset(doc))
    return EXIT_FOR_STATUS.get(str(doc.get("status")), 1)


def cmd_trigger(args: argparse.Namespace) -> int:
    from shared.client import publish_request

    require_campaign(args.campaign)
    result = publish_request(getattr(args, "message", None) or trigger_message(args))
    if not result.accepted:
        reason = result.reason or "unknown"
        raise CliError(f"not published: {reason}", USAGE if reason.startswith("invalid") else 1)
    print(f"published {result.request_id} -> asset {result.asset_id}", file=sys.stderr)
    if not args.wait:
        _print(
            {
                "request_id": result.request_id,
                "asset_id": result.asset_id,
                "message_id": result.message_id,
            }
        )
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
    made = _take(
        lambda: regenerate(
            args.campaign,
            args.asset,
            image_prompt=args.image_prompt,
            motion_prompt=args.motion_prompt,
        )
    )
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


def cmd_rewind(args: argparse.Namespace) -> int:
    from shared.pipeline.takes import rewind

    require_campaign(args.campaign)
    hidden = _take(lambda: rewind(args.campaign, args.session, args.after_turn))
    _print({"hidden": hidden})
    return 0


def cmd_cost(args: argparse.Namespace) -> int:
    from shared.client import remaining_budget

    if args.player is not None:  # a player's lifetime budget (cutscenes/players.py)
        from shared.store.players import read_balance

        _print(read_balance(args.player).as_usd())
        return 0
    require_campaign(args.campaign)
    _print(remaining_budget(args.campaign, args.session).as_usd())
    return 0


def cmd_player_budget(args: argparse.Namespace) -> int:
    from shared.client import MediaClient

    _print(MediaClient().set_player_budget(args.user, args.cap))
    return 0


def cmd_gallery(args: argparse.Namespace) -> int:
    from shared.domain.asset_view import public_asset
    from shared.store.assets import load
    from shared.store.gallery import gallery_page

    require_campaign(args.campaign)
    # An unknown cursor would page from the start: refuse it, as media_api does
    if args.cursor is not None and load(args.campaign, args.cursor) is None:
        raise CliError(
            f"--cursor {args.cursor!r} is not a next_cursor of campaign "
            f"{args.campaign!r}'s gallery (see cutscenes gallery --help)",
            USAGE,
        )
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


def cmd_preflight(args: argparse.Namespace) -> int:
    from infra.preflight.rows import Unusable
    from infra.preflight.run import run

    try:
        return run(args.format)
    except Unusable as exc:
        raise CliError(str(exc)) from None
