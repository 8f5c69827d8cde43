"""`GET /campaigns/{cid}/spend?by=session|day` *owner*: the spend report."""

from __future__ import annotations

from flask import Request, Response

from shared.api import routes
from shared.api.responses import ApiError, json_response
from shared.store.spend_report import GROUPINGS, report


def spend(route: routes.Route, request: Request) -> Response:
    by = request.args.get("by") or "session"
    if by not in GROUPINGS:
        raise ApiError(400, f"by must be one of: {', '.join(GROUPINGS)}")
    return json_response(report(route.campaign_id, by))  # type: ignore[arg-type]
