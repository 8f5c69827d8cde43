"""media_api over HTTP against the running stack: every route, every error code.

Requests go through http.client, which sends the path exactly as written, so
hostile ids arrive at the function as an attacker would send them.
"""

from __future__ import annotations

import base64
import http.client
import json
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from shared.client import configure_campaign, remaining_budget
from shared.core.settings import get_settings
from shared.store.connections import firestore_client, storage_client
from tests.auth_tokens import id_token
from tests.integration.helpers import cutscene, enable, publish, wait_terminal

pytestmark = pytest.mark.integration


class Answer:
    def __init__(self, status: int, headers: Any, body: bytes) -> None:
        self.status, self.headers, self.raw = status, headers, body

    @property
    def json(self) -> Any:
        return json.loads(self.raw)


def call(
    stack,
    path: str,
    user: str | None = "alice",
    token: str | None = None,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
) -> Answer:
    url = urlsplit(stack.env["MEDIA_API_URL"])
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    sent = dict(headers or {})
    if token is None and user:
        token = id_token(stack, user)
    if token:
        sent["Authorization"] = f"Bearer {token}"
    try:
        conn.request(method, path, body=body, headers=sent)
        resp = conn.getresponse()
        return Answer(resp.status, resp.headers, resp.read())
    finally:
        conn.close()


def assert_error(answer: Answer, code: int) -> None:
    assert answer.status == code, (answer.status, answer.raw[:300])
    body = answer.json
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code and isinstance(body["error"]["message"], str)


def fetch(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=30) as resp:
        return resp.status, resp.headers.get("Content-Type", ""), resp.read()


def seed(campaign: str, n: int, turn: int = 1, **over: Any) -> list[str]:
    """n finished stills written straight to Firestore, oldest first (no pipeline)."""
    media = firestore_client().collection("campaigns").document(campaign).collection("media")
    base = datetime(2026, 1, 1, tzinfo=UTC)
    bucket = get_settings().MEDIA_BUCKET
    ids = []
    for i in range(n):
        aid = f"aseed{i:03d}"
        media.document(aid).set(
            {
                "asset_id": aid,
                "request_id": f"req-seed-{i:04d}",
                "campaign_id": campaign,
                "session_id": "s1",
                "turn_number": turn,
                "kind": "npc_portrait",
                "cutscene_type": None,
                "subject": f"NPC {i}",
                "status": "complete",
                "status_reason": None,
                "created_at": base + timedelta(seconds=i),
                "image": {
                    "uri": f"gs://{bucket}/media/{campaign}/{aid}.png",
                    "mime_type": "image/png",
                    "width": 1024,
                    "height": 1024,
                },
                "video": None,
                **over,
            }
        )
        ids.append(aid)
    return ids


@pytest.fixture
def finished(stack):
    """One complete cutscene (still and clip) in campaign c1, turn 1."""
    enable()
    message = cutscene(1)
    publish(message)
    doc = wait_terminal("c1", message["request_id"])
    assert doc["status"] == "complete"
    return doc


# ------------------------------------------------------------------- routes


def test_asset_has_the_document_and_signed_urls_that_work(stack, finished):
    answer = call(stack, f"/campaigns/c1/media/{finished['asset_id']}")
    assert answer.status == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    assert "no-store" in answer.headers["Cache-Control"]
    body = answer.json
    for key in (
        "asset_id",
        "request_id",
        "campaign_id",
        "session_id",
        "turn_number",
        "kind",
        "cutscene_type",
        "status",
        "status_reason",
        "image",
        "video",
        "cost_usd",
        "created_at",
        "completed_at",
        "stage_ms",
    ):
        assert key in body, key
    assert body["status"] == "complete" and body["asset_id"] == finished["asset_id"]
    assert "request" not in body and "lease" not in body  # internals stay inside

    for field, magic in (("image_url", b"\x89PNG\r\n\x1a\n"), ("video_url", None)):
        url = body[field]
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}" == stack.env["STORAGE_EMULATOR_HOST"]
        query = parse_qs(parts.query)
        assert query["X-Goog-Algorithm"] == ["GOOG4-RSA-SHA256"]
        assert 0 < int(query["X-Goog-Expires"][0]) <= 900
        assert query["X-Goog-Signature"][0]
        status, ctype, data = fetch(url)
        assert status == 200
        if magic:
            assert data.startswith(magic) and ctype == "image/png"
        else:
            assert data[4:8] == b"ftyp" and ctype == "video/mp4"


def test_turn_media_is_aidms_shape_with_stable_addresses(stack, finished):
    seed("c1", 1, turn=1)  # a portrait in the same turn: not AIDM's to show here
    seed_other = firestore_client().collection("campaigns").document("c1").collection("media")
    seed_other.document("aother").set(
        {
            "asset_id": "aother",
            "campaign_id": "c1",
            "turn_number": 2,
            "kind": "cutscene",
            "cutscene_type": "plot_twist",
            "status": "queued",
            "created_at": datetime.now(UTC),
        }
    )
    answer = call(stack, "/campaigns/c1/turns/1/media")
    assert answer.status == 200
    rows = answer.json["assets"]
    assert all(
        set(r) == {"id", "asset_type", "cutscene_type", "category", "file_url", "status"}
        for r in rows
    )
    aid = finished["asset_id"]
    # The clip is listed first: AIDM inserts each row after the turn, so the still shows first.
    assert [(r["id"], r["asset_type"]) for r in rows] == [(aid, "video"), (aid, "image")]
    assert all(
        r["category"] == "cutscenes"
        and r["cutscene_type"] == "action_climax"
        and r["status"] == "complete"
        for r in rows
    )
    base = stack.env["MEDIA_API_URL"].rstrip("/")
    assert rows[0]["file_url"] == f"{base}/campaigns/c1/media/{aid}/video.mp4"
    assert call(stack, "/campaigns/c1/turns/1/media").json["assets"] == rows  # stable on reload

    # The stable address redirects a member to a fresh signed URL that works.
    path = urlsplit(rows[0]["file_url"]).path
    redirect = call(stack, path)
    assert redirect.status == 302
    assert fetch(redirect.headers["Location"])[2][4:8] == b"ftyp"
    assert call(stack, path, user=None).status == 401
    assert call(stack, path, user="mallory").status == 403

    assert call(stack, "/campaigns/c1/turns/2/media").json == {"assets": []}  # not terminal
    assert call(stack, "/campaigns/c1/turns/2/media?progressive=1").json == {
        "assets": [
            {
                "id": "aother",
                "asset_type": "image",
                "cutscene_type": "plot_twist",
                "category": "cutscenes",
                "file_url": None,
                "status": "queued",
            }
        ]
    }
    assert call(stack, "/campaigns/c1/turns/99/media").json == {"assets": []}
    assert_error(call(stack, "/campaigns/c1/turns/1/media?progressive=yes"), 400)


def test_stable_addresses_of_a_portrait_and_what_is_missing(stack):
    enable()
    (aid,) = seed("c1", 1)
    bucket = storage_client().bucket(get_settings().MEDIA_BUCKET)
    bucket.blob(f"media/c1/{aid}.png").upload_from_string(
        b"\x89PNG\r\n\x1a\nrest", content_type="image/png"
    )
    for name in ("image", "image.png"):
        answer = call(stack, f"/campaigns/c1/media/{aid}/{name}")
        assert answer.status == 302, answer.raw[:200]
        assert fetch(answer.headers["Location"])[2].startswith(b"\x89PNG")
    assert_error(call(stack, f"/campaigns/c1/media/{aid}/video"), 404)
    assert_error(call(stack, "/campaigns/c1/media/anone/image"), 404)


def test_gallery_pages_newest_first_with_a_cursor(stack):
    enable()
    ids = seed("c1", 5)
    seen, cursor, pages = [], None, 0
    while True:
        path = "/campaigns/c1/gallery?limit=2" + (f"&cursor={cursor}" if cursor else "")
        body = call(stack, path).json
        pages += 1
        seen += [a["asset_id"] for a in body["assets"]]
        assert all(a["image_url"] and a["video_url"] is None for a in body["assets"])
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(ids)) and pages == 3
    everything = call(stack, "/campaigns/c1/gallery").json
    assert [a["asset_id"] for a in everything["assets"]] == list(reversed(ids))
    assert everything["next_cursor"] is None


def test_a_cursor_that_names_no_asset_of_the_campaign_is_a_400(stack):
    """Well-formed but unknown (or another campaign's): refused in words, never
    the first page again (a client paging on would loop over it forever)."""
    enable()
    enable("c2")
    seed("c1", 3)
    other = seed("c2", 5)[-1]  # aseed004: c1 has only aseed000-002
    for cursor in ("garbage", other):
        answer = call(stack, f"/campaigns/c1/gallery?limit=2&cursor={cursor}")
        assert_error(answer, 400)
        assert answer.json["error"]["message"] == (
            "cursor is not one this API gave out: pass the previous page's next_cursor"
        )


def test_cost_is_the_ledger_of_the_session(stack, finished):
    body = call(stack, "/campaigns/c1/sessions/s1/cost").json
    assert body == remaining_budget("c1", "s1").as_usd()
    assert body["spent_usd"] > 0 and body["reserved_usd"] == 0
    assert body["remaining_usd"] == pytest.approx(body["cap_usd"] - body["spent_usd"])
    fresh = call(stack, "/campaigns/c1/sessions/never-played/cost").json
    assert fresh == {"cap_usd": 5.0, "spent_usd": 0.0, "reserved_usd": 0.0, "remaining_usd": 5.0}


# ------------------------------------------------------------------- errors


def forged(**claims: Any) -> str:
    """A hand-made alg-none token shaped like the Auth emulator's own."""

    def b64(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    now = int(time.time())
    project = get_settings().GOOGLE_CLOUD_PROJECT
    payload = {
        "iss": f"https://securetoken.google.com/{project}",
        "aud": project,
        "iat": now,
        "exp": now + 3600,
        "auth_time": now,
        "firebase": {"sign_in_provider": "custom", "identities": {}},
        **claims,
    }
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(payload)}."


def test_401_without_a_valid_token(stack):
    configure_campaign("c1", enabled=True, budget_usd=5.0, members=["alice", "forger"])
    path = "/campaigns/c1/gallery"
    assert_error(call(stack, path, user=None), 401)
    assert_error(call(stack, path, user=None, headers={"Authorization": "Basic YWxpY2U6eA=="}), 401)
    assert_error(call(stack, path, user=None, headers={"Authorization": "Bearer"}), 401)
    assert_error(call(stack, path, token="garbage"), 401)
    assert_error(call(stack, path, token="a.b.c"), 401)
    assert_error(call(stack, path, token="x" * 8100), 401)
    # Past gunicorn's header limit (8190 bytes; the cloud runs the same server)
    # the server refuses the request before media_api sees it.
    assert call(stack, path, token="x" * 9000).status == 431
    # Hand-made tokens, the Auth emulator running: nobody signed in as "forger".
    assert_error(call(stack, path, token=forged(sub="forger", user_id="forger")), 401)
    assert_error(call(stack, path, token=forged()), 401)
    # A real token with its claims edited keeps no trust either.
    header, payload, _sig = id_token(stack, "alice").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    for change in ({"exp": int(time.time()) - 5}, {"aud": "someone-else"}):
        edited = base64.urlsafe_b64encode(json.dumps({**claims, **change}).encode())
        assert_error(call(stack, path, token=f"{header}.{edited.decode().rstrip('=')}."), 401)
    # A signed-looking token is checked by firebase-admin, which refuses it.
    assert_error(call(stack, path, token=f"eyJhbGciOiJSUzI1NiJ9.{payload}.c2ln"), 401)
    # ...while the real one, from a real sign-in, is a member's.
    assert call(stack, path).status == 200


def test_403_for_a_signed_in_non_member(stack, finished):
    aid = finished["asset_id"]
    for path in (
        f"/campaigns/c1/media/{aid}",
        "/campaigns/c1/turns/1/media",
        "/campaigns/c1/gallery",
        "/campaigns/c1/sessions/s1/cost",
        "/campaigns/c1/events",
    ):
        assert_error(call(stack, path, user="mallory"), 403)


def test_404_for_unknown_campaigns_assets_and_routes(stack):
    enable()
    assert_error(call(stack, "/campaigns/nope/gallery"), 404)
    assert_error(call(stack, "/campaigns/nope/sessions/s1/cost"), 404)
    assert_error(call(stack, "/campaigns/nope/events"), 404)
    assert_error(call(stack, "/campaigns/c1/media/a0000000000000000000000000000000"), 404)
    assert_error(call(stack, "/campaigns/c1"), 404)
    assert_error(call(stack, "/campaigns/c1/whatever"), 404)
    assert_error(call(stack, "/"), 404)
    assert_error(call(stack, "/campaigns/c1/media/x/extra"), 404)


HOSTILE_IDS = [
    "..%2F..%2Fetc",
    "..%2Fc1",
    "%2E%2E",
    "..",
    ".",
    "c1%2Fmedia",
    "caf%C3%A9",
    "%FF%FE",
    "a%20b",
    "a%00b",
    "%3Cscript%3E",
    "a" * 129,
    "c1%3Bdrop",
    "%E2%80%AE",
    "c1.png",
]


@pytest.mark.parametrize("bad", HOSTILE_IDS)
def test_400_for_ids_outside_the_charsets(stack, bad):
    enable()
    for path in (
        f"/campaigns/{bad}/gallery",
        f"/campaigns/c1/media/{bad}",
        f"/campaigns/c1/sessions/{bad}/cost",
        f"/campaigns/{bad}/events",
    ):
        assert_error(call(stack, path), 400)
    # Before any token is looked at: the path alone is wrong.
    assert_error(call(stack, f"/campaigns/c1/media/{bad}", user=None), 400)


@pytest.mark.parametrize("turn", ["-1", "1.5", "abc", "99999999999", "%EF%BC%91", "1e3", "0x1", ""])
def test_400_for_bad_turn_numbers(stack, turn):
    enable()
    assert_error(call(stack, f"/campaigns/c1/turns/{turn}/media"), 400)


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=101", "limit=x", "limit=-1", "limit=1.5", "cursor=..%2Fx", "cursor=%C3%A9"],
)
def test_400_for_bad_gallery_parameters(stack, query):
    enable()
    assert_error(call(stack, f"/campaigns/c1/gallery?{query}"), 400)


def test_405_for_writes_and_cors_for_browsers(stack):
    enable()
    answer = call(stack, "/campaigns/c1/gallery", method="POST")
    assert_error(answer, 405)
    assert answer.headers["Allow"] == "GET, OPTIONS"
    assert_error(call(stack, "/campaigns/c1/gallery", method="DELETE"), 405)
    pre = call(
        stack,
        "/campaigns/c1/gallery",
        user=None,
        method="OPTIONS",
        headers={
            "Origin": "http://127.0.0.1:9",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert pre.status == 204
    assert "Authorization" in pre.headers["Access-Control-Allow-Headers"]
    assert "GET" in pre.headers["Access-Control-Allow-Methods"]
    assert pre.headers["Access-Control-Allow-Origin"] == "*"
    got = call(stack, "/campaigns/c1/gallery", headers={"Origin": "http://127.0.0.1:9"})
    assert got.status == 200 and got.headers["Access-Control-Allow-Origin"] == "*"
    denied = call(
        stack, "/campaigns/c1/gallery", user="mallory", headers={"Origin": "http://127.0.0.1:9"}
    )
    assert denied.headers["Access-Control-Allow-Origin"] == "*"  # the page can read the 403


# ---------------------------------------------------------------------- SSE


class EventStream:
    """A raw text/event-stream reader on http.client (no SSE library needed)."""

    def __init__(self, stack, path: str, user: str = "alice") -> None:
        url = urlsplit(stack.env["MEDIA_API_URL"])
        self.conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        self.conn.request("GET", path, headers={"Authorization": f"Bearer {id_token(stack, user)}"})
        self.resp = self.conn.getresponse()

    def blocks(self):
        """Yield each block (lines up to a blank line) as a list of lines."""
        lines: list[str] = []
        while True:
            raw = self.resp.readline()
            if not raw:
                return
            line = raw.decode().rstrip("\n")
            if line:
                lines.append(line)
            elif lines:
                yield lines
                lines = []

    def close(self) -> None:
        self.resp.close()  # the response holds the socket open past conn.close()
        self.conn.close()


def test_events_stream_each_status_change_of_a_new_request(stack):
    enable()
    stream = EventStream(stack, "/campaigns/c1/events")
    try:
        assert stream.resp.status == 200
        assert stream.resp.headers["Content-Type"].startswith("text/event-stream")
        message = cutscene(
            2,
            kind="npc_portrait",
            cutscene_type=None,
            motion_prompt=None,
            subject="Captain Mireille",
        )
        events = []
        for block in stream.blocks():
            if block == [": ready"]:
                publish(message)  # the listener is attached: nothing can be missed
            if any(line.startswith("event: media") for line in block):
                data = next(line for line in block if line.startswith("data: "))
                events.append(json.loads(data[6:]))
                if events[-1]["status"] == "complete":
                    break
    finally:
        stream.close()
    assert [e["status"] for e in events] == ["queued", "rendering_image", "complete"]
    first = events[0]
    assert first["schema"] == "media.event.v1" and first["request_id"] == message["request_id"]
    assert set(first) == {
        "schema",
        "campaign_id",
        "session_id",
        "asset_id",
        "request_id",
        "turn_number",
        "kind",
        "cutscene_type",
        "status",
        "status_reason",
    }


def test_events_stream_beats_ends_on_time_and_lets_go_when_the_client_leaves(stack):
    enable()
    log_path = stack.procs["media_api"].log
    stack.restart_function(
        "media_api", {"MEDIA_API_SSE_MAX_S": "1.5", "MEDIA_API_SSE_HEARTBEAT_S": "0.3"}
    )
    try:
        started = time.monotonic()
        stream = EventStream(stack, "/campaigns/c1/events")
        blocks = list(stream.blocks())  # returns when the server ends the stream
        stream.close()
        assert 1.2 < time.monotonic() - started < 6
        assert sum(b == [": heartbeat"] for b in blocks) >= 2
        assert "reconnect" in blocks[-1][0]
        assert blocks[0][0].startswith("retry: ")

        before = open(log_path).read().count('"sse_closed"')
        stream = EventStream(stack, "/campaigns/c1/events")
        next(stream.blocks())
        stream.close()  # the client goes away long before the maximum duration
        time.sleep(1.0)  # a heartbeat or two fail to write; the listener is dropped
        closed = [json.loads(line) for line in open(log_path) if '"sse_closed"' in line]
        assert len(closed) == before + 1 and closed[-1]["open_s"] < 1.2
    finally:
        stack.restart_function("media_api")
