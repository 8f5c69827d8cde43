"""`cutscenes player-budget` and `cutscenes cost --player`: a player's lifetime
cap across every campaign (players/{uid}, docs/interface.md section 10.3)."""

from __future__ import annotations

import argparse
from typing import Any

from cutscenes.commands import cmd_player_budget


def player_id(value: str) -> str:
    from shared.domain.ids import PLAYER_ID_RULE, is_player_id

    if not is_player_id(value):
        raise argparse.ArgumentTypeError(f"user id {value[:60]!r} must be {PLAYER_ID_RULE}")
    return value


def cap_usd(value: str) -> str:
    from shared.store.players import player_cap_micros

    try:
        player_cap_micros(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{exc}, not {value[:30]!r}") from None
    return value


def add_parser(sub: Any) -> None:
    what = "set a player's lifetime budget across every campaign (USD)"
    budget = sub.add_parser(
        "player-budget",
        help=what,
        description=what + ": requests with that player_id must fit it as well as "
        "their session's cap (a cutscene degrades to a still when only that fits)",
        epilog="examples:\n  cutscenes player-budget --user alice --cap 25\n"
        "  cutscenes cost --player alice",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    budget.add_argument(
        "--user", required=True, type=player_id, metavar="UID", help="the player's user id"
    )
    budget.add_argument(
        "--cap", required=True, type=cap_usd, metavar="USD", help="the cap, 0-100000 (e.g. 25.50)"
    )
    budget.set_defaults(func=cmd_player_budget)


def cost_conflicts(args: argparse.Namespace) -> str | None:
    """`cost` reads a session (--campaign and --session) or a player (--player)."""
    session = args.campaign is not None or args.session is not None
    if args.player is not None and session:
        return "give --player alone, or --campaign and --session"
    if args.player is None and (args.campaign is None or args.session is None):
        return "cost needs --campaign and --session, or --player"
    return None
