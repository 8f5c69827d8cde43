"""`cutscenes`: run the local stack, configure campaigns, trigger and inspect media.

Answers (JSON, or CSV for `spend --format csv`) go to stdout; progress, log
lines and errors to stderr. Exit codes: 0 done; 1 an error (no reachable
stack or project, an unknown campaign, `--wait` giving up); 2 a bad argument;
3 `--wait` ended `partial`; 4 `--wait` ended `failed` or `rejected`.
"""

# This module declares the commands and their arguments; its docstring is
# the top-level `cutscenes --help`. cli.py runs them, commands.py does them.

from __future__ import annotations

import argparse
from typing import Any

from cutscenes.args import (
    Parser,
    int_range,
    number_range,
    request_id,
    scope_id,
    text,
    user_id,
)
from cutscenes.commands import (
    check_configure,
    check_trigger,
    cmd_animate,
    cmd_configure,
    cmd_cost,
    cmd_gallery,
    cmd_hide,
    cmd_janitor,
    cmd_local,
    cmd_player_token,
    cmd_preflight,
    cmd_regenerate,
    cmd_rewind,
    cmd_spend,
    cmd_trigger,
    no_check,
)
from cutscenes.players import add_parser as add_player_budget
from cutscenes.players import cost_conflicts, player_id
from shared.domain.request import CUTSCENE_TYPES, KINDS

CAMPAIGN_HELP = "campaign id: 1-128 characters of A-Z a-z 0-9 _ -"


def _campaign(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--campaign", required=True, type=scope_id("campaign id"), metavar="C", help=CAMPAIGN_HELP
    )


def _session(p: argparse.ArgumentParser, required: bool = True, what: str = "") -> None:
    p.add_argument(
        "--session",
        required=required,
        type=scope_id("session id"),
        metavar="S",
        help=f"game session id{what}: 1-128 of A-Z a-z 0-9 _ -",
    )


def _sub(sub: Any, name: str, help: str, examples: str) -> argparse.ArgumentParser:  # noqa: A002
    return sub.add_parser(name, help=help, description=help, epilog="examples:\n" + examples)


def parser() -> argparse.ArgumentParser:
    p = Parser(prog="cutscenes", description=__doc__)
    # A subcommand that reads no stack or project (a price list, say) sets
    # needs_backend=False and is run without the reachability check.
    p.set_defaults(check=no_check, needs_backend=True)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    local = _sub(
        sub,
        "local",
        "run the whole pipeline on this machine (emulators, functions)",
        "  cutscenes local up --detach     # prints the stack's environment as JSON\n"
        "  cutscenes local logs --request-id req-123 --follow\n"
        "  cutscenes local down",
    )
    local.add_argument(
        "action",
        choices=["up", "down", "logs"],
        help="up: start (foreground until Ctrl-C, or --detach); down: stop "
        "what --detach started; logs: the stack's logs, merged by time",
    )
    local.add_argument(
        "--detach",
        action="store_true",
        help="up: start in the background and print the environment as JSON",
    )
    local.add_argument(
        "--follow", action="store_true", help="logs: keep printing new lines until Ctrl-C"
    )
    local.add_argument(
        "--request-id",
        type=request_id,
        metavar="R",
        help="logs: only the lines of this request (and its asset)",
    )
    local.add_argument(
        "--json", action="store_true", help="logs: print the JSON records (with `source`), not text"
    )
    local.set_defaults(func=cmd_local)

    conf = _sub(
        sub,
        "configure",
        "create a campaign or change its settings and members",
        "  cutscenes configure --campaign c1 --enable --budget 5 --member alice bob\n"
        "  cutscenes configure --campaign c1 --owner gm --remove-member mallory",
    )
    _campaign(conf)
    toggle = conf.add_mutually_exclusive_group()
    toggle.add_argument("--enable", action="store_true", help="turn media on")
    toggle.add_argument("--disable", action="store_true", help="turn media off")
    conf.add_argument(
        "--budget",
        type=number_range(0, 10_000, "--budget", "USD"),
        metavar="USD",
        help="cap per game session in US dollars, 0-10000 (e.g. 2.50)",
    )
    conf.add_argument(
        "--member",
        action="extend",
        nargs="+",
        type=user_id,
        metavar="UID",
        help="user ids allowed to watch (Firebase uids; several allowed)",
    )
    conf.add_argument(
        "--owner",
        action="extend",
        nargs="+",
        type=user_id,
        metavar="UID",
        help="game masters: members who may also read the spend report (and "
        "regenerate, re-animate, hide); made members too",
    )
    conf.add_argument(
        "--remove-member",
        action="extend",
        nargs="+",
        type=user_id,
        metavar="UID",
        help="user ids to take every right from (owner too)",
    )
    conf.add_argument(
        "--remove-owner",
        action="extend",
        nargs="+",
        type=user_id,
        metavar="UID",
        help="owners to make plain members again",
    )
    conf.add_argument(
        "--quality",
        choices=["draft", "standard", "premium"],
        help="picks cheaper or better models from the pricing catalog",
    )
    conf.set_defaults(func=cmd_configure, check=check_configure)

    trig = _sub(
        sub,
        "trigger",
        "publish one media request (as AIDM's turn loop does)",
        "  cutscenes trigger --campaign c1 --session s1 --turn 3 --kind cutscene \\\n"
        '      --type action_climax --image-prompt "Rei\'s blade meets the claw" \\\n'
        '      --motion-prompt "camera orbits the clash" --wait\n'
        "  cutscenes trigger --campaign c1 --session s1 --turn 4 --kind npc_portrait \\\n"
        '      --subject "Captain Mireille" --image-prompt "a scarred captain"\n'
        "--wait exits 0 complete, 3 partial, 4 failed or rejected, 1 gave up waiting",
    )
    _campaign(trig)
    _session(trig, what=" (the budget scope)")
    trig.add_argument(
        "--turn",
        type=int_range(0, 10_000_000, "--turn"),
        required=True,
        metavar="N",
        help="turn number, an integer from 0",
    )
    trig.add_argument("--kind", required=True, choices=KINDS, help="what to make")
    trig.add_argument(
        "--type", choices=CUTSCENE_TYPES, help="cutscene type (required with --kind cutscene)"
    )
    trig.add_argument(
        "--image-prompt",
        required=True,
        type=text("--image-prompt", 4000),
        metavar="P",
        help="what the still shows, 1-4000 characters",
    )
    trig.add_argument(
        "--motion-prompt",
        type=text("--motion-prompt", 2000),
        metavar="M",
        help="how the clip moves, 1-2000 characters (required for cutscenes)",
    )
    trig.add_argument(
        "--subject",
        type=text("--subject", 200),
        metavar="X",
        help="location or character name, 1-200 characters (required for "
        "location_visual, npc_portrait and model_sheet)",
    )
    trig.add_argument(
        "--character",
        action="append",
        type=text("--character", 200),
        metavar="NAME",
        help="a character in the shot (repeatable, at most 6): "
        "their registered model sheet rides along",
    )
    trig.add_argument(
        "--aspect",
        choices=["16:9", "9:16", "1:1"],
        help="aspect ratio (default 16:9; 1:1 for stills only)",
    )
    trig.add_argument(
        "--duration",
        type=int,
        choices=[4, 6, 8],
        metavar="SECONDS",
        help="clip length in seconds: 4, 6 or 8 (default from settings)",
    )
    trig.add_argument(
        "--request-id",
        type=request_id,
        metavar="R",
        help="idempotency key, 8-128 of A-Z a-z 0-9 . _ : - (default: a new one)",
    )
    trig.add_argument(
        "--wait", action="store_true", help="follow it to a terminal state, print the asset as JSON"
    )
    trig.add_argument(
        "--timeout",
        type=number_range(0, 86_400, "--timeout", "seconds", low_open=True),
        default=900.0,
        metavar="SECONDS",
        help="how long --wait waits, in seconds (default 900)",
    )
    trig.set_defaults(func=cmd_trigger, check=check_trigger)

    cost = _sub(
        sub,
        "cost",
        "a game session's budget, or a player's lifetime one: cap, spent, "
        "reserved, remaining (USD; cap and remaining null for a player without a cap)",
        "  cutscenes cost --campaign c1 --session s1\n  cutscenes cost --player alice",
    )
    cost.add_argument("--campaign", type=scope_id("campaign id"), metavar="C", help=CAMPAIGN_HELP)
    cost.add_argument("--player", type=player_id, metavar="UID", help="a player's user id")
    _session(cost, required=False)
    cost.set_defaults(func=cmd_cost, conflicts=cost_conflicts)

    gal = _sub(
        sub,
        "gallery",
        "a campaign's media, newest first, as JSON",
        "  cutscenes gallery --campaign c1 --limit 5\n"
        "  cutscenes gallery --campaign c1 --cursor NEXT_CURSOR_FROM_THE_LAST_PAGE",
    )
    _campaign(gal)
    gal.add_argument(
        "--limit",
        type=int_range(1, 100, "--limit"),
        default=20,
        metavar="N",
        help="assets per page, 1-100 (default 20)",
    )
    gal.add_argument(
        "--cursor", type=scope_id("cursor"), metavar="C", help="next_cursor of the previous page"
    )
    gal.set_defaults(func=cmd_gallery)

    spend = _sub(
        sub,
        "spend",
        "what a campaign spent (settled charges, USD) per session "
        "or per UTC day, and on how many assets",
        "  cutscenes spend --campaign c1\n"
        "  cutscenes spend --campaign c1 --by day --format csv > c1-spend.csv",
    )
    _campaign(spend)
    spend.add_argument(
        "--by",
        choices=["session", "day"],
        default="session",
        help="one row per game session (default) or per UTC day (YYYY-MM-DD)",
    )
    spend.add_argument(
        "--format",
        choices=["json", "csv"],
        default="json",
        help="json (default): {rows, total_usd}; csv: key,spent_usd,assets "
        "with exact dollars and a last (total) row",
    )
    spend.set_defaults(func=cmd_spend)

    _take_commands(sub)

    jan = _sub(
        sub,
        "janitor",
        'close assets stuck past MEDIA_DEADLINE_S; prints {"closed": N}',
        "  cutscenes janitor",
    )
    jan.set_defaults(func=cmd_janitor)

    tok = _sub(
        sub,
        "player-token",
        "a Firebase custom token for a campaign member, on stdout "
        "alone: the player's browser signs in with signInWithCustomToken",
        "  cutscenes player-token --campaign c1 --user alice",
    )
    _campaign(tok)
    tok.add_argument(
        "--user",
        required=True,
        type=user_id,
        metavar="UID",
        help="the member's user id (a Firebase uid, 1-128 characters)",
    )
    tok.set_defaults(func=cmd_player_token)
    add_player_budget(sub)  # `player-budget`

    pre = _sub(
        sub,
        "preflight",
        "check, without a paid call, what a deployment needs before traffic: each catalog "
        "model answers where it is called, each function's account holds what its code "
        "uses, the bucket's notification, topics, subscriptions, Firestore indexes and TTL "
        "policies; exits 0 when every check passes, 1 otherwise",
        "  cutscenes preflight                  # JSON: {ok, target, failed, rows}\n"
        "  cutscenes preflight --format table   # one line per check, a fix under each failure\n"
        "on the local stack when its emulators are set (`local up --detach`), else on\n"
        "GOOGLE_CLOUD_PROJECT with Application Default Credentials",
    )
    pre.add_argument(
        "--format",
        choices=("json", "table"),
        default="json",
        help="json (default): {ok, target, failed, rows: [{area, check, ok, detail, fix}]}; "
        "table: aligned columns for reading in a terminal",
    )
    pre.add_argument(
        "--json",
        dest="format",
        action="store_const",
        const="json",
        help="the same as --format json (the default)",
    )
    pre.set_defaults(func=cmd_preflight)

    from shared.domain.prices_table import add_parser as add_prices

    add_prices(sub)  # `prices`: self-contained, reads only the catalog
    return p


def _asset(p: argparse.ArgumentParser) -> None:
    _campaign(p)
    p.add_argument(
        "--asset",
        required=True,
        type=scope_id("asset id"),
        metavar="A",
        help="asset id (as `gallery` or `trigger` print it): 1-128 of A-Z a-z 0-9 _ -",
    )


def _wait_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--wait", action="store_true", help="follow it to a terminal state, print the asset as JSON"
    )
    p.add_argument(
        "--timeout",
        type=number_range(0, 86_400, "--timeout", "seconds", low_open=True),
        default=900.0,
        metavar="SECONDS",
        help="how long --wait waits, in seconds (default 900)",
    )


def _take_commands(sub: Any) -> None:
    """The game master's moves on one asset (the same code as the owner routes)."""
    regen = _sub(
        sub,
        "regenerate",
        "make a new take of an asset: the same moment (session, "
        "turn, kind, type, subject) with the same or new prompts, budget-checked",
        "  cutscenes regenerate --campaign c1 --asset a1b2c3 --wait\n"
        "  cutscenes regenerate --campaign c1 --asset a1b2c3 \\\n"
        '      --image-prompt "the claw shatters the blade" \\\n'
        '      --motion-prompt "slow zoom"\n'
        "prints {asset_id, request_id} of the new take (its regenerated_from is A);\n"
        "--wait exits 0 complete, 3 partial, 4 failed or rejected, 1 gave up waiting",
    )
    _asset(regen)
    regen.add_argument(
        "--image-prompt",
        type=text("--image-prompt", 4000),
        metavar="P",
        help="what the still shows, 1-4000 characters (default: the old one)",
    )
    regen.add_argument(
        "--motion-prompt",
        type=text("--motion-prompt", 2000),
        metavar="M",
        help="how the clip moves, 1-2000 characters, cutscenes only (default: the old one)",
    )
    _wait_options(regen)
    regen.set_defaults(func=cmd_regenerate)

    anim = _sub(
        sub,
        "animate",
        "try the clip of a partial cutscene again on its still "
        "(reserves and charges the clip only)",
        "  cutscenes animate --campaign c1 --asset a1b2c3 --wait\n"
        "exits 1 if the asset is not partial; --wait exits 0 complete, 3 partial "
        "again, 1 gave up waiting",
    )
    _asset(anim)
    _wait_options(anim)
    anim.set_defaults(func=cmd_animate)

    hide = _sub(
        sub,
        "hide",
        "hide an asset (moderation): gone from every listing and URL, "
        "its files deleted; a request in flight stops and releases its holds",
        "  cutscenes hide --campaign c1 --asset a1b2c3",
    )
    _asset(hide)
    hide.set_defaults(func=cmd_hide)

    rewind = _sub(
        sub,
        "rewind",
        "the host rewound a session: hide every asset of it whose turn number is "
        "above N, as `hide` does, so a reused turn number shows only new media",
        "  cutscenes rewind --campaign c1 --session s1 --after-turn 12\n"
        "prints {hidden}: how many assets it hid",
    )
    _campaign(rewind)
    _session(rewind)
    rewind.add_argument(
        "--after-turn",
        type=int_range(0, 10_000_000, "--after-turn"),
        required=True,
        metavar="N",
        help="the last turn kept, an integer from 0",
    )
    rewind.set_defaults(func=cmd_rewind)
