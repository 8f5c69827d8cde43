"""`GET /players/{uid}/cost`: the caller's own lifetime budget, nobody else's.
(The real tokens and stack: tests/integration/test_player_budget.py.)"""

from __future__ import annotations

import json

import pytest
from flask import Flask, request

from shared.api import app, auth
from shared.api.responses import ApiError
from shared.store import connections, players
from tests.unit.fake_firestore import FakeFirestore
from tests.unit.test_api_routes import code, route


def test_the_route_and_its_ids():
    assert route("/players/p1/cost") == app.routes.Route("player_cost", "", player_id="p1")
    assert route("/players/user_2abc%7Cx%20y/cost").player_id == "user_2abc|x y"
    for bad in (
        "/players/a%2Fb/cost",
        "/players/__p__/cost",
        "/players/../cost",
        "/players/%20p/cost",
    ):
        assert code(bad) == 400, bad
    assert code("/players/p1/spend") == 404


def _get(monkeypatch: pytest.MonkeyPatch, path: str, caller: str | None) -> tuple[int, dict]:
    def user_id(header: str | None) -> str:
        if caller is None:
            raise ApiError(401, "an Authorization: Bearer <ID token> header is required")
        return caller

    monkeypatch.setattr(auth, "user_id", user_id)
    with Flask(__name__).test_request_context(path, environ_base={"RAW_URI": path}):
        response = app.handle(request)
    return response.status_code, json.loads(response.get_data())


def test_the_player_sees_its_budget_others_403_strangers_401(monkeypatch):
    db = FakeFirestore()
    monkeypatch.setattr(connections, "firestore_client", lambda: db)
    assert _get(monkeypatch, "/players/p1/cost", "p1") == (
        200,
        {"cap_usd": None, "spent_usd": 0.0, "reserved_usd": 0.0, "remaining_usd": None},
    )
    players.set_cap("p1", 2_500_000)
    players.reserve_first_fit("p1", [{"a1:image": 40_000}])
    status, body = _get(monkeypatch, "/players/p1/cost", "p1")
    assert (status, body) == (
        200,
        {"cap_usd": 2.5, "spent_usd": 0.0, "reserved_usd": 0.04, "remaining_usd": 2.46},
    )
    assert _get(monkeypatch, "/players/p1/cost", "p2")[0] == 403
    assert _get(monkeypatch, "/players/p1/cost", None)[0] == 401
