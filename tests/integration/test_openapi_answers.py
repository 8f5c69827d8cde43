"""docs/openapi.yaml against media_api's real answers: every route, called on
the local stack, answers with a status its operation lists and a body its
schema for that status accepts (errors included)."""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from jsonschema.validators import Draft202012Validator

from infra.contract import openapi
from shared.client import configure_campaign
from shared.domain.ids import asset_id_for
from tests.auth_tokens import id_token
from tests.integration.helpers import cutscene, publish, wait_terminal

pytestmark = pytest.mark.integration
DOC = openapi()


def _call(stack, method: str, path: str, user: str | None, body: bytes | None = None):
    url = urlsplit(stack.env["MEDIA_API_URL"])
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    headers = {"Authorization": f"Bearer {id_token(stack, user)}"} if user else {}
    if body is not None:
        headers["Content-Type"] = "application/json"
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        # The event stream never ends by itself: its headers are the answer.
        streaming = resp.getheader("Content-Type", "").startswith("text/event-stream")
        raw = b"" if streaming else resp.read()
        return resp.status, resp.getheader("Content-Type", ""), raw
    finally:
        conn.close()


def check(
    stack, template: str, method: str, path: str, user: str | None, body=None, listed_as=None
) -> int:
    """Call `path` and check the answer against the operation of `template`
    (`listed_as`: the method whose operation lists a 405 for `method`)."""
    status, content_type, raw = _call(stack, method, path, user, body)
    operation = DOC["paths"][template][(listed_as or method).lower()]
    assert str(status) in operation["responses"], (template, method, status, raw[:300])
    response = operation["responses"][str(status)]
    if "$ref" in response:  # an error every route shares, listed under components
        response = DOC["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    content = response.get("content", {})
    if not content:
        assert raw == b"", (template, status, raw[:300])
        return status
    media_type = content_type.split(";")[0]
    assert media_type in content, (template, status, content_type)
    if media_type == "application/json":
        schema = {"components": DOC["components"], **content[media_type]["schema"]}
        Draft202012Validator(schema).validate(json.loads(raw))
    return status


def test_every_route_answers_as_the_openapi_document_says(stack):
    configure_campaign("c1", enabled=True, budget_usd=5.0, members=["alice", "gm"], owners=["gm"])
    message = cutscene(1, session_id="s1", turn_id="t-1")
    publish(message)
    assert wait_terminal("c1", message["request_id"], timeout=120)["status"] == "complete"
    aid = asset_id_for(message["request_id"])
    media = "/campaigns/{cid}/media/{asset_id}"
    seen: dict[tuple[str, str], set[int]] = {}

    def run(
        template: str, method: str, path: str, user: str | None, body: Any = None, **kw: Any
    ) -> int:
        status = check(stack, template, method, path, user, body, **kw)
        seen.setdefault((template, kw.get("listed_as", method)), set()).add(status)
        return status

    # Answers.
    assert run(media, "GET", f"/campaigns/c1/media/{aid}", "alice") == 200
    assert run(media + "/{file}", "GET", f"/campaigns/c1/media/{aid}/video.mp4", "alice") == 302
    turns = "/campaigns/{cid}/turns/{turn}/media"
    assert run(turns, "GET", "/campaigns/c1/turns/1/media", "alice") == 200
    assert run(turns, "GET", "/campaigns/c1/turns/1/media?progressive=1", "alice") == 200
    by_id = "/campaigns/{cid}/sessions/{sid}/turn-ids/{turn_id}/media"
    assert run(by_id, "GET", "/campaigns/c1/sessions/s1/turn-ids/t-1/media", "alice") == 200
    assert (
        run(by_id, "GET", "/campaigns/c1/sessions/s1/turn-ids/t-1/media?progressive=1", "alice")
        == 200
    )
    assert run("/campaigns/{cid}/gallery", "GET", "/campaigns/c1/gallery?limit=5", "alice") == 200
    cost = "/campaigns/{cid}/sessions/{sid}/cost"
    assert run(cost, "GET", "/campaigns/c1/sessions/s1/cost", "alice") == 200
    assert run("/campaigns/{cid}/me", "GET", "/campaigns/c1/me", "gm") == 200
    player_cost = "/players/{uid}/cost"
    assert run(player_cost, "GET", "/players/alice/cost", "alice") == 200  # no cap: nulls
    ticket = "/campaigns/{cid}/events/ticket"
    assert run(ticket, "GET", "/campaigns/c1/events/ticket", "alice") == 200
    assert run("/campaigns/{cid}/events", "GET", "/campaigns/c1/events", "alice") == 200
    spend = "/campaigns/{cid}/spend"
    assert run(spend, "GET", "/campaigns/c1/spend?by=day", "gm") == 200
    regen = media + "/regenerate"
    new_prompt = json.dumps({"image_prompt": "the same clash, at dawn"}).encode()
    assert run(regen, "POST", f"/campaigns/c1/media/{aid}/regenerate", "gm", new_prompt) == 202
    animate = media + "/animate"
    assert run(animate, "POST", f"/campaigns/c1/media/{aid}/animate", "gm") == 409  # complete

    # Errors, each in the shape and under a status its operation lists.
    assert run(media, "GET", f"/campaigns/c1/media/{aid}", None) == 401
    assert run(cost, "GET", "/campaigns/c1/sessions/s1/cost", "mallory") == 403
    assert run(spend, "GET", "/campaigns/c1/spend", "alice") == 403  # not an owner
    assert run(player_cost, "GET", "/players/alice/cost", "mallory") == 403  # not hers
    assert run(player_cost, "GET", "/players/alice/cost", None) == 401
    assert run(player_cost, "GET", "/players/__alice__/cost", "alice") == 400
    assert run(spend, "GET", "/campaigns/c1/spend?by=week", "gm") == 400
    assert run(media, "GET", "/campaigns/nope/media/a1", "alice") == 404
    assert run(media, "GET", "/campaigns/c1/media/__a__", "alice") == 400
    assert run(turns, "GET", "/campaigns/c1/turns/1/media?progressive=maybe", "alice") == 400
    assert run(regen, "POST", f"/campaigns/c1/media/{aid}/regenerate", "gm", b"[1]") == 400
    wrong_method = run(animate, "GET", f"/campaigns/c1/media/{aid}/animate", "gm", listed_as="POST")
    assert wrong_method == 405
    assert run(media, "DELETE", f"/campaigns/c1/media/{aid}", "alice") == 403
    assert run(media, "DELETE", f"/campaigns/c1/media/{aid}", "gm") == 204
    assert run(media, "GET", f"/campaigns/c1/media/{aid}", "alice") == 404  # hidden
    assert run(by_id, "GET", "/campaigns/c1/sessions/s1/turn-ids/t.1/media", "alice") == 400
    rewind = "/campaigns/{cid}/sessions/{sid}/rewind"
    after_0 = json.dumps({"after_turn": 0}).encode()
    assert run(rewind, "POST", "/campaigns/c1/sessions/s1/rewind", "alice", after_0) == 403
    assert run(rewind, "POST", "/campaigns/c1/sessions/s1/rewind", "gm", b"{}") == 400
    assert run(rewind, "POST", "/campaigns/c1/sessions/s1/rewind", "gm", after_0) == 200

    # Every operation of the document was called.
    operations = {(p, m.upper()) for p, item in DOC["paths"].items() for m in item}
    assert operations == set(seen)
