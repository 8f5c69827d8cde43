"""`GET /players/{uid}/cost`: a player's lifetime budget, for that player only.

Not a campaign's route: no membership is checked, only that the caller is
the player (a player's spending across campaigns is nobody else's business;
the host reads it with `cutscenes cost --player` or the store). No document
means no cap: `cap_usd` and `remaining_usd` are null, the amounts 0.
"""

from __future__ import annotations

from flask import Request, Response

from shared.api import routes
from shared.api.responses import ApiError, json_response
from shared.store.players import read_balance


def player_cost(route: routes.Route, _request: Request, uid: str) -> Response:
    if uid != route.player_id:
        raise ApiError(403, "a player's budget is shown to that player only")
    response = json_response(read_balance(uid).as_usd())
    response.headers["Cache-Control"] = "private, no-store"
    return response
