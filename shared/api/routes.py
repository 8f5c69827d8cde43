"""Parse a request path into a route with validated ids.

Ids are read from the raw request line, segment by segment, before any
percent-decoding merges segments: `..%2Fx` stays one segment and fails the
charset (400) instead of becoming a different path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from shared.api.responses import ApiError
from shared.domain.ids import PLAYER_ID_RULE, SCOPE_ID_RULE, is_player_id, is_scope_id

MAX_TURN = 10_000_000  # the request message's bound on turn_number
# A stable address's last segment; the suffixed names let AIDM's viewer tell a
# video by `src.endsWith('.mp4')` (docs/interface.md section 5 names the bare ones).
# An owner's actions on an asset (POST), named by the path's last segment.
ACTIONS = ("regenerate", "animate")
FILE_SEGMENTS = {"image": "image", "image.png": "image", "video": "video", "video.mp4": "video"}


@dataclass(frozen=True)
class Route:
    # asset | asset_file | turn_media | gallery | cost | events | events_ticket |
    # spend | me | regenerate | animate | hide (DELETE on the asset) |
    # turn_id_media | rewind | player_cost (campaign_id "": a user's own route)
    name: str
    campaign_id: str
    asset_id: str | None = None
    file: str | None = None  # asset_file: "image" or "video"
    session_id: str | None = None
    turn: int | None = None
    turn_id: str | None = None  # turn_id_media: the host's id of the turn
    player_id: str | None = None  # player_cost: whose budget


def _raw_path(environ: dict[str, Any], fallback: str) -> str:
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if not raw:
        return fallback
    path = urlsplit(raw).path or "/"
    script = environ.get("SCRIPT_NAME") or ""
    if script and path.startswith(script):
        path = path[len(script) :]
    return path


def segments(environ: dict[str, Any], fallback: str) -> list[str]:
    parts = _raw_path(environ, fallback).strip("/").split("/")
    if parts[:1] == ["media_api"]:  # the function's name, when a front end keeps it
        parts = parts[1:]
    decoded = []
    for part in parts:
        try:
            decoded.append(unquote(part, errors="strict"))
        except UnicodeDecodeError:
            decoded.append("\x00")  # not UTF-8: fails every charset below
    return decoded


def _scope(value: str, what: str) -> str:
    if not is_scope_id(value):
        raise ApiError(400, f"{what} must be {SCOPE_ID_RULE}")
    return value


def _turn(value: str) -> int:
    if not (value.isascii() and value.isdigit()) or len(value) > 8 or int(value) > MAX_TURN:
        raise ApiError(400, f"turn must be an integer from 0 to {MAX_TURN}")
    return int(value)


def base_url(environ: dict[str, Any], host_url: str) -> str:
    """This API's own root URL as the caller reached it, for absolute links:
    the function's name kept when the front end keeps it in the path, https
    when a proxy (Cloud Run, a load balancer) terminated TLS."""
    base = host_url.rstrip("/")
    if environ.get("HTTP_X_FORWARDED_PROTO", "").split(",")[0].strip() == "https":
        base = "https://" + base.split("://", 1)[-1]
    if _raw_path(environ, "/").startswith("/media_api/"):
        base += "/media_api"
    return base


def parse(environ: dict[str, Any], path: str) -> Route:
    seg = segments(environ, path)
    if len(seg) == 3 and seg[0] == "players" and seg[2] == "cost":
        if not is_player_id(seg[1]):
            raise ApiError(400, f"user id must be {PLAYER_ID_RULE}")
        return Route("player_cost", "", player_id=seg[1])
    if len(seg) < 3 or seg[0] != "campaigns":
        raise ApiError(404, "no such route")
    shape = tuple(s if i % 2 == 0 else "*" for i, s in enumerate(seg))
    cid = seg[1]
    if shape == ("campaigns", "*", "media", "*"):
        return Route("asset", _scope(cid, "campaign id"), asset_id=_scope(seg[3], "asset id"))
    if shape[:4] == ("campaigns", "*", "media", "*") and len(seg) == 5 and seg[4] in FILE_SEGMENTS:
        return Route(
            "asset_file",
            _scope(cid, "campaign id"),
            asset_id=_scope(seg[3], "asset id"),
            file=FILE_SEGMENTS[seg[4]],
        )
    if shape[:4] == ("campaigns", "*", "media", "*") and len(seg) == 5 and seg[4] in ACTIONS:
        return Route(seg[4], _scope(cid, "campaign id"), asset_id=_scope(seg[3], "asset id"))
    if shape == ("campaigns", "*", "turns", "*", "media"):
        return Route("turn_media", _scope(cid, "campaign id"), turn=_turn(seg[3]))
    if shape == ("campaigns", "*", "sessions", "*", "turn-ids", "*", "media"):
        return Route(
            "turn_id_media",
            _scope(cid, "campaign id"),
            session_id=_scope(seg[3], "session id"),
            turn_id=_scope(seg[5], "turn id"),
        )
    if shape == ("campaigns", "*", "sessions", "*", "rewind"):
        return Route("rewind", _scope(cid, "campaign id"), session_id=_scope(seg[3], "session id"))
    if shape == ("campaigns", "*", "gallery"):
        return Route("gallery", _scope(cid, "campaign id"))
    if shape == ("campaigns", "*", "sessions", "*", "cost"):
        return Route("cost", _scope(cid, "campaign id"), session_id=_scope(seg[3], "session id"))
    if shape == ("campaigns", "*", "events"):
        return Route("events", _scope(cid, "campaign id"))
    if shape == ("campaigns", "*", "me"):
        return Route("me", _scope(cid, "campaign id"))
    if shape == ("campaigns", "*", "spend"):
        return Route("spend", _scope(cid, "campaign id"))
    if shape == ("campaigns", "*", "events", "*") and seg[3] == "ticket":
        return Route("events_ticket", _scope(cid, "campaign id"))
    raise ApiError(404, "no such route")
