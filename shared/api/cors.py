"""CORS for browsers: a bearer token, no cookies, so any allowed origin may call."""

from __future__ import annotations

from flask import Request, Response

from shared.core.settings import get_settings

ALLOW_HEADERS = "Authorization, Content-Type, Last-Event-ID, Cache-Control"


def _allowed_origin(origin: str | None) -> str | None:
    setting = get_settings().MEDIA_API_CORS_ORIGINS.strip()
    if setting == "*":
        return "*"
    allowed = {o.strip().rstrip("/") for o in setting.split(",") if o.strip()}
    return origin if origin and origin.rstrip("/") in allowed else None


def apply(request: Request, response: Response) -> None:
    origin = _allowed_origin(request.headers.get("Origin"))
    if origin is None:
        return
    response.headers["Access-Control-Allow-Origin"] = origin
    if origin != "*":
        response.headers["Vary"] = "Origin"
    response.headers["Access-Control-Expose-Headers"] = "Content-Type"


def preflight() -> Response:
    response = Response(status=204)
    response.headers["Access-Control-Allow-Methods"] = "GET, POST, DELETE, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = ALLOW_HEADERS
    response.headers["Access-Control-Max-Age"] = "3600"
    return response
