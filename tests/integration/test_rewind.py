"""Turn ids and rewinds on the local stack (docs/interface.md section 5):
the turn-id route, POST .../sessions/{sid}/rewind from its owner (and its
refusals), the CLI's and the SDK's rewind, and the Node client's calls against
the real media_api. Prices as in test_takes.py."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import Any

import pytest

from shared.client import MediaClient, RewindResult
from shared.domain.ids import asset_id_for
from shared.store.assets import load
from tests.auth_tokens import id_token
from tests.integration.helpers import calls, cutscene, emulator, publish, wait_terminal
from tests.integration.test_media_api import assert_error, call
from tests.integration.test_takes import (
    CLIP,
    STILL,
    balance,
    charges,
    cli,
    gone_everywhere,
    made,
    one_line,
    owners,
    post,
    wait_until,
)
from tests.stack_session import ROOT

pytestmark = pytest.mark.integration


def at(turn: int, turn_id: str | None = None, **over: Any) -> dict[str, Any]:
    return cutscene(turn, turn_id=turn_id or f"turn-{turn}", **over)


def rewind(stack, after: Any, user: str | None = "gm", campaign: str = "c1", raw=None):
    return post(
        stack, f"/campaigns/{campaign}/sessions/s1/rewind", {"after_turn": after}, user, raw
    )


# ------------------------------------------------------------------ turn ids


def test_the_turn_id_route_answers_as_the_turn_route_for_that_id(stack):
    owners()
    mine = made(at(5, "turn-a", player_id="alice"))
    made(at(6, "turn-b"))
    made(at(9, "turn-a", session_id="s2"))  # the same turn id in another session
    assert (mine["turn_id"], mine["player_id"]) == ("turn-a", "alice")
    by_id = call(stack, "/campaigns/c1/sessions/s1/turn-ids/turn-a/media").json
    assert by_id == call(stack, "/campaigns/c1/turns/5/media").json
    assert [r["id"] for r in by_id["assets"]] == [mine["asset_id"]] * 2
    assert {r["asset_type"] for r in by_id["assets"]} == {"image", "video"}
    progressive = "/campaigns/c1/sessions/s1/turn-ids/turn-a/media?progressive=1"
    assert call(stack, progressive).json == by_id
    assert call(stack, "/campaigns/c1/sessions/s1/turn-ids/turn-z/media").json == {"assets": []}
    assert_error(call(stack, "/campaigns/c1/sessions/s1/turn-ids/__t__/media"), 400)
    assert_error(call(stack, "/campaigns/c1/sessions/s1/turn-ids/turn-a/media?progressive=x"), 400)
    assert_error(call(stack, "/campaigns/c1/sessions/s1/turn-ids/turn-a/media", "mallory"), 403)
    assert_error(call(stack, "/campaigns/c9/sessions/s1/turn-ids/turn-a/media"), 404)


def test_a_turn_id_waits_for_its_cutscenes_unless_progressive(stack):
    owners()
    emulator(stack, "POST", "/_emulator/latency", {"video_s": 120.0})
    msg = at(2, "turn-slow")
    aid = asset_id_for(msg["request_id"])
    publish(msg)
    wait_until(lambda: (load("c1", aid) or {}).get("video_operation"), what="Veo under way")
    path = "/campaigns/c1/sessions/s1/turn-ids/turn-slow/media"
    assert call(stack, path).json == {"assets": []}  # not every cutscene is terminal
    rows = call(stack, path + "?progressive=1").json["assets"]
    assert [(r["id"], r["asset_type"], r["status"]) for r in rows] == [(aid, "image", "animating")]
    assert rows == call(stack, "/campaigns/c1/turns/2/media?progressive=1").json["assets"]


# ------------------------------------------------------------------- rewinds


def test_an_owners_rewind_hides_the_later_turns_in_flight_ones_included(stack):
    owners()
    before, after = made(at(1)), made(at(2))
    emulator(stack, "POST", "/_emulator/latency", {"video_s": 120.0})
    msg = at(3)
    flying = asset_id_for(msg["request_id"])
    publish(msg)
    wait_until(lambda: (load("c1", flying) or {}).get("video_operation"), what="Veo under way")
    assert balance() == (2 * (STILL + CLIP) + STILL, CLIP)

    answer = rewind(stack, 1)
    assert answer.status == 200, answer.raw
    assert answer.json == {"hidden": 2}
    doc = wait_terminal("c1", msg["request_id"], timeout=60)
    assert (doc["status"], doc["status_reason"], doc["hidden"]) == ("partial", "hidden", True)
    # What was made stays paid for; the in-flight clip's hold is released.
    assert balance() == (2 * (STILL + CLIP) + STILL, 0)
    assert charges()[f"{flying}:image"] == STILL and f"{flying}:video" not in charges()
    for aid in (after["asset_id"], flying):
        gone_everywhere(stack, aid)
    assert call(stack, f"/campaigns/c1/media/{before['asset_id']}").status == 200
    assert [r["id"] for r in call(stack, "/campaigns/c1/turns/1/media").json["assets"]] == [
        before["asset_id"]
    ] * 2

    # The host plays turn 2 again: the reused number shows only the new media.
    emulator(stack, "POST", "/_emulator/latency", {"video_s": 0.0})
    again = made(at(2, "turn-2-again"))
    rows = call(stack, "/campaigns/c1/turns/2/media").json["assets"]
    assert {r["id"] for r in rows} == {again["asset_id"]} and len(rows) == 2
    assert call(stack, "/campaigns/c1/sessions/s1/turn-ids/turn-2/media").json == {"assets": []}
    assert rewind(stack, 1).json == {"hidden": 1}  # the hidden ones are not counted again
    assert rewind(stack, 1).json == {"hidden": 0}


def test_a_rewind_is_for_owners_with_a_clear_body(stack):
    owners()
    kept = made(at(4))
    assert_error(rewind(stack, 0, user="alice"), 403)  # a member, not an owner
    assert_error(rewind(stack, 0, user="mallory"), 403)  # not a member
    assert_error(rewind(stack, 0, user=None), 401)
    assert_error(rewind(stack, 0, campaign="c9"), 404)
    for raw in (b"", b"[]", b'{"after_turn": -1}', b'{"after_turn": 1.5}', b'{"after_turn": "1"}'):
        answer = rewind(stack, None, raw=raw)
        assert_error(answer, 400)
        assert "after_turn" in answer.json["error"]["message"], answer.json
    unknown = rewind(stack, None, raw=b'{"after_turn": 1, "turn_id": "x"}')
    assert_error(unknown, 400)
    assert "turn_id" in unknown.json["error"]["message"]
    assert_error(call(stack, "/campaigns/c1/sessions/s1/rewind", user="gm"), 405)
    assert load("c1", kept["asset_id"])["hidden"] is False  # nothing changed
    assert call(stack, f"/campaigns/c1/media/{kept['asset_id']}").status == 200


def test_the_cli_and_the_sdk_rewind(stack):
    owners()
    first, second = made(at(4)), made(at(5))
    done = cli(stack, "rewind", "--campaign", "c1", "--session", "s1", "--after-turn", "4")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"hidden": 1}
    assert load("c1", second["asset_id"])["hidden"] is True
    one_line(
        cli(stack, "rewind", "--campaign", "c9", "--session", "s1", "--after-turn", "1"),
        1,
        "no campaign",
    )
    one_line(
        cli(stack, "rewind", "--campaign", "c1", "--session", "s1", "--after-turn", "x"),
        2,
        "--after-turn",
    )

    client = MediaClient()
    assert client.rewind("c1", "s1", 3) == RewindResult(True, hidden=1)
    assert load("c1", first["asset_id"])["hidden"] is True
    assert client.rewind("c9", "s1", 3) == RewindResult(False, reason="no campaign 'c9'")
    assert calls(stack)["predictLongRunning"] == 2  # nothing new was made


# ------------------------------------------------------------------ from Node

NODE_SCRIPT = """
import { MediaClient } from "./src/index.js";
const { GOOGLE_CLOUD_PROJECT: projectId, MEDIA_API_URL: apiUrl } = process.env;
const media = new MediaClient({ projectId, apiUrl });
const ask = (token) => ({ campaignId: "c1", sessionId: "s1", token });
const out = {
  member: await media.turnMedia({ ...ask(process.env.MEMBER), turnId: "turn-7" }),
  refused: await media.rewind({ ...ask(process.env.MEMBER), afterTurn: 6 }),
  owner: await media.rewind({ ...ask(process.env.OWNER), afterTurn: 6 }),
  after: await media.turnMedia({ ...ask(process.env.MEMBER), turnId: "turn-7", progressive: true }),
};
await media.close();
console.log(JSON.stringify(out));
"""


def test_the_node_clients_turn_media_and_rewind_on_the_real_api(stack):
    node = shutil.which("node")
    assert node, "node is not installed (infra/bootstrap.sh installs it)"
    owners()
    seven = made(at(7))
    env = {
        **os.environ,
        **stack.env,
        "MEMBER": id_token(stack, "alice"),
        "OWNER": id_token(stack, "gm"),
    }
    run = subprocess.run(
        [node, "--input-type=module", "-e", NODE_SCRIPT],
        cwd=ROOT / "clients" / "node",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["member"]["status"] == 200
    assert [r["id"] for r in out["member"]["body"]["assets"]] == [seven["asset_id"]] * 2
    assert out["refused"]["status"] == 403 and out["refused"]["body"]["error"]["code"] == 403
    assert out["owner"] == {"status": 200, "body": {"hidden": 1}}
    assert out["after"] == {"status": 200, "body": {"assets": []}}
    assert load("c1", seven["asset_id"])["hidden"] is True
