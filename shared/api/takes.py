"""The owner's routes (docs/interface.md section 5): regenerate, animate and
hide one asset; rewind a session."""

from __future__ import annotations

import json
from typing import Any

from flask import Request, Response

from shared.api import routes
from shared.api.responses import ApiError, json_response
from shared.pipeline import takes

MAX_BODY_BYTES = 16_384  # two prompts of at most 4000 + 2000 characters, as JSON
PROMPT_LIMITS = {"image_prompt": 4000, "motion_prompt": 2000}


def _object(raw: bytes, shape: str = "") -> dict[str, Any]:
    """The body as a JSON object, or 400 naming the `shape` wanted."""
    wanted = f"the body must be a JSON object{shape}"
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(400, f"the body is larger than {MAX_BODY_BYTES} bytes; {wanted}")
    try:
        body: Any = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise ApiError(400, wanted) from None
    if not isinstance(body, dict):
        raise ApiError(400, wanted)
    return body


def prompts(raw: bytes) -> dict[str, str]:
    """The regenerate body: `{"image_prompt"?, "motion_prompt"?}`, each a
    non-blank string within section 1's bounds; an empty body keeps both."""
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(400, f"the body is larger than {MAX_BODY_BYTES} bytes")
    if not raw.strip():
        return {}
    body = _object(raw)
    unknown = sorted(set(body) - set(PROMPT_LIMITS))
    if unknown:
        raise ApiError(
            400,
            f"unknown field {unknown[0][:60]!r}: only image_prompt and motion_prompt may be given",
        )
    out: dict[str, str] = {}
    for name, limit in PROMPT_LIMITS.items():
        value = body.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip() or len(value) > limit:
            raise ApiError(400, f"{name} must be a non-blank string of 1-{limit} characters")
        out[name] = value
    return out


def after_turn(raw: bytes) -> int:
    """The rewind body: `{"after_turn": N}`, N an integer from 0 to the
    request's bound on turn_number (JSON's 3.0 and true are not integers here)."""
    rule = f"after_turn must be an integer from 0 to {routes.MAX_TURN}"
    body = _object(raw, ' {"after_turn": N}: ' + rule)
    unknown = sorted(set(body) - {"after_turn"})
    if unknown:
        raise ApiError(400, f"unknown field {unknown[0][:60]!r}: only after_turn may be given")
    value = body.get("after_turn")
    if type(value) is not int or not 0 <= value <= routes.MAX_TURN:
        raise ApiError(400, rule)
    return value


def _run(call: Any) -> Any:
    try:
        return call()
    except takes.TakeRefused as exc:
        raise ApiError(exc.code, exc.message) from None


def regenerate(route: routes.Route, request: Request) -> Response:
    given = prompts(request.get_data(cache=False))
    made = _run(lambda: takes.regenerate(route.campaign_id, route.asset_id or "", **given))
    return json_response(made, status=202)


def animate(route: routes.Route, _request: Request) -> Response:
    return json_response(
        _run(lambda: takes.reanimate(route.campaign_id, route.asset_id or "")), status=202
    )


def hide(route: routes.Route, _request: Request) -> Response:
    _run(lambda: takes.hide(route.campaign_id, route.asset_id or ""))
    response = Response(status=204)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def rewind(route: routes.Route, request: Request) -> Response:
    turn = after_turn(request.get_data(cache=False))
    hidden = _run(lambda: takes.rewind(route.campaign_id, route.session_id or "", turn))
    response = json_response({"hidden": hidden})
    response.headers["Cache-Control"] = "private, no-store"
    return response
