"""media_api's router: parse, authenticate, authorize, answer (docs/interface.md section 5).

Order of checks: a path outside the id charsets is 400 before anything else
is looked at; then 401 (no or bad token), 404 (no such campaign), 403 (not a
member, or not an owner on a route marked *owner*), and only members learn
whether an asset exists (404). `/players/{uid}/cost` belongs to no campaign:
400, 401, then 403 unless the caller is that user.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from flask import Request, Response

from shared.api import auth, cors, routes, sse, streams, takes
from shared.api.me import me
from shared.api.owners import OWNER_ROUTES, require_owner
from shared.api.players import player_cost
from shared.api.responses import ApiError, error_response, json_response
from shared.api.spend import spend
from shared.api.turn_rows import turn_rows
from shared.api.views import assets_with_urls
from shared.core import log
from shared.core.settings import get_settings
from shared.core.transient import describe, transport_error
from shared.domain.ids import is_scope_id
from shared.store.asset_queries import turn_assets, turn_id_assets
from shared.store.assets import load_fields as load
from shared.store.budget import remaining_budget
from shared.store.gallery import gallery_page
from shared.store.optimistic import forget_versions
from shared.store.signing import signed_url, ttl_s

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def _limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 3 or not 1 <= int(raw) <= MAX_LIMIT:
        raise ApiError(400, f"limit must be an integer from 1 to {MAX_LIMIT}")
    return int(raw)


CURSOR_REFUSED = "cursor is not one this API gave out: pass the previous page's next_cursor"


def _cursor(raw: str | None, campaign_id: str) -> str | None:
    if raw is None or raw == "":
        return None
    # A cursor is an asset id of this campaign: one that names nothing would
    # page from the start (Firestore's start_after a missing document), and a
    # client would loop over the first page believing it was paging.
    if not is_scope_id(raw) or load(campaign_id, raw) is None:
        raise ApiError(400, CURSOR_REFUSED)
    return raw


def asset(route: routes.Route, _request: Request) -> Response:
    doc = load(route.campaign_id, route.asset_id or "")
    if doc is None or doc.get("hidden"):
        raise ApiError(404, "no such asset")
    return json_response(assets_with_urls([doc], route.campaign_id)[0])


def asset_file(route: routes.Route, _request: Request) -> Response:
    """A stable address: 302 to a fresh signed URL of the file, 404 without one."""
    doc = load(route.campaign_id, route.asset_id or "")
    media = (doc or {}).get(route.file or "")
    uri = media.get("uri") if isinstance(media, dict) and not (doc or {}).get("hidden") else None
    url = signed_url(uri, route.campaign_id)
    if url is None:
        raise ApiError(404, f"no {route.file} for this asset")
    response = Response(status=302, headers={"Location": url})
    # The signed URL expires: a browser may reuse the redirect briefly, never past it.
    response.headers["Cache-Control"] = f"private, max-age={min(60, ttl_s() // 2)}"
    return response


def _progressive(raw: str | None) -> bool:
    if raw in (None, "", "0", "false"):
        return False
    if raw in ("1", "true"):
        return True
    raise ApiError(400, "progressive must be 1 or 0")


def turn_media(route: routes.Route, request: Request) -> Response:
    progressive = _progressive(request.args.get("progressive"))
    docs = turn_assets(route.campaign_id, route.turn or 0)
    base = routes.base_url(request.environ, request.host_url)
    return json_response({"assets": turn_rows(docs, base, progressive)})


def turn_id_media(route: routes.Route, request: Request) -> Response:
    """turn_media for the host's own turn id, within one session: a rewound
    host reuses turn numbers, never turn ids."""
    progressive = _progressive(request.args.get("progressive"))
    docs = turn_id_assets(route.campaign_id, route.session_id or "", route.turn_id or "")
    base = routes.base_url(request.environ, request.host_url)
    return json_response({"assets": turn_rows(docs, base, progressive)})


def gallery(route: routes.Route, request: Request) -> Response:
    limit = _limit(request.args.get("limit"))
    cursor = _cursor(request.args.get("cursor"), route.campaign_id)
    docs, next_cursor = gallery_page(route.campaign_id, limit, cursor)
    return json_response(
        {"assets": assets_with_urls(docs, route.campaign_id), "next_cursor": next_cursor}
    )


def cost(route: routes.Route, _request: Request) -> Response:
    return json_response(remaining_budget(route.campaign_id, route.session_id or "").as_usd())


def events(route: routes.Route, _request: Request, uid: str) -> Response:
    return sse.response(route.campaign_id, uid)


def events_ticket(route: routes.Route, _request: Request, uid: str) -> Response:
    response = json_response(streams.issue_ticket(route.campaign_id, uid))
    response.headers["Cache-Control"] = "no-store"
    return response


HANDLERS = {
    "asset": asset,
    "asset_file": asset_file,
    "turn_media": turn_media,
    "turn_id_media": turn_id_media,
    "gallery": gallery,
    "cost": cost,
    "spend": spend,
    "regenerate": takes.regenerate,
    "animate": takes.animate,
    "hide": takes.hide,
    "rewind": takes.rewind,
}
# Routes that need to know who asks, beyond whether they may.
USER_HANDLERS = {"events": events, "events_ticket": events_ticket, "me": me}
# Routes of no campaign: the handler decides who may (403) once the caller is known.
SELF_HANDLERS = {"player_cost": player_cost}


def _caller(route: routes.Route, request: Request) -> str:
    """The uid: from the Authorization header, or for the event stream from a
    ticket (a browser's EventSource sends no headers; see shared/api/streams.py)."""
    ticket = request.args.get("ticket")
    if route.name == "events" and ticket is not None and not request.headers.get("Authorization"):
        return streams.redeem_ticket(route.campaign_id, ticket)
    return auth.user_id(request.headers.get("Authorization"))


# Methods other than GET, by route name (DELETE on an asset is `hide`).
METHODS = {"regenerate": "POST", "animate": "POST", "hide": "DELETE", "rewind": "POST"}


class MethodNotAllowed(ApiError):
    def __init__(self, allow: str) -> None:
        super().__init__(405, f"this route answers {allow}")
        self.allow = allow


def _route_for(request: Request) -> routes.Route:
    """The route, with the method checked (405 names the ones it answers)."""
    route = routes.parse(request.environ, request.path)
    if route.name == "asset" and request.method == "DELETE":
        route = replace(route, name="hide")
    want = METHODS.get(route.name, "GET")
    if request.method != want:
        allow = "GET, DELETE" if route.name in ("asset", "hide") else want
        raise MethodNotAllowed(f"{allow}, OPTIONS")
    return route


def _answer(request: Request) -> tuple[Response, dict[str, Any]]:
    info: dict[str, Any] = {}
    if request.method == "OPTIONS":
        return cors.preflight(), info
    if request.method not in ("GET", "POST", "DELETE"):
        raise MethodNotAllowed("GET, POST, DELETE, OPTIONS")
    route = _route_for(request)
    info.update(route=route.name, campaign_id=route.campaign_id or None)
    # Bound, not only logged: every later line of this request, the access
    # line included, then names them, so `cutscenes local logs --request-id`
    # finds who fetched an asset.
    log.bind(campaign_id=route.campaign_id or None, asset_id=route.asset_id)
    if route.name in SELF_HANDLERS:
        uid = auth.user_id(request.headers.get("Authorization"))
        info["uid"] = uid
        return SELF_HANDLERS[route.name](route, request, uid), info
    if route.asset_id:
        info["asset_id"] = route.asset_id
    uid = _caller(route, request)
    info["uid"] = uid
    campaign = auth.authorize(route.campaign_id, uid)
    if route.name in OWNER_ROUTES:
        require_owner(campaign, uid)
    if route.name in USER_HANDLERS:
        return USER_HANDLERS[route.name](route, request, uid), info
    return HANDLERS[route.name](route, request), info


def handle(request: Request) -> Response:
    started = time.monotonic()
    info: dict[str, Any] = {}
    log.capture_std_logging()
    log.clear()
    # A worker thread serves many requests: each starts from Firestore's state,
    # not from document versions an earlier request wrote (read_modify_write).
    forget_versions()
    trace, span = log.trace_from_headers(request.headers, get_settings().GOOGLE_CLOUD_PROJECT)
    log.bind(function="media_api", trace=trace, span=span)
    try:
        response, info = _answer(request)
    except ApiError as exc:
        response = error_response(exc.code, exc.message)
        response.headers.update(exc.headers)
        if isinstance(exc, MethodNotAllowed):
            response.headers["Allow"] = exc.allow
    except Exception as exc:  # noqa: BLE001 - a client gets a JSON 5xx, the log the cause
        if transport_error(exc) is not None:
            # Firestore or Storage away for a moment: the client may retry.
            log.warning("transient", f"{request.method} {request.path}: {describe(exc)}")
            response = error_response(503, "temporarily unavailable, try again")
        else:
            log.error("api_error", f"{request.method} {request.path} failed", exc_info=True)
            response = error_response(500, "internal error")
    cors.apply(request, response)
    log.info(
        "api_request",
        f"{request.method} {info.get('route', request.path)} {response.status_code}",
        status=response.status_code,
        ms=round((time.monotonic() - started) * 1000, 1),
        **info,
    )
    return response
