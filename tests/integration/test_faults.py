"""Quotas, server errors, hangs, stale messages, the janitor and dead letters."""

from __future__ import annotations

import base64
import json
import time
import urllib.request
from datetime import UTC, datetime, timedelta

from shared.domain.ids import asset_id_for
from shared.store import assets, ledger
from tests.integration.helpers import (
    calls,
    cutscene,
    delivery_attempts,
    enable,
    fault,
    http_json,
    publish,
    wait_terminal,
)


def test_quota_and_server_errors_are_retried_until_they_pass(stack):
    enable()
    fault(stack, "generateContent", "http", 2, 429)
    fault(stack, "predictLongRunning", "http", 4, 429)  # outlasts one delivery's retries
    fault(stack, "fetchPredictOperation", "http", 2, 503)
    msg = cutscene(1)
    publish(msg)
    doc = wait_terminal("c1", msg["request_id"], timeout=60)
    assert doc["status"] == "complete"
    counted = calls(stack)
    assert counted["generateContent"] == 3 and counted["predictLongRunning"] == 5
    assert ledger.read_balance("c1", "s1").spent_micros == 667_000


def test_a_bad_request_from_the_model_is_permanent_and_not_retried(stack):
    enable()
    fault(stack, "generateContent", "http", 1, 400)
    msg = cutscene(1)
    publish(msg)
    doc = wait_terminal("c1", msg["request_id"])
    assert (doc["status"], doc["status_reason"]) == ("failed", "image_failed")
    time.sleep(1.5)  # a redelivery, if there were one, would have called again
    assert calls(stack)["generateContent"] == 1
    assert ledger.read_balance("c1", "s1").reserved_micros == 0


def test_an_operation_that_never_finishes_times_out_as_partial(stack):
    # Nothing waits on Veo: the janitor's operation sweep (the local
    # scheduler calls it) is what finds the hung operation past the deadline.
    stack.restart_function("janitor", {"MEDIA_DEADLINE_S": "5"})
    try:
        enable()
        fault(stack, "predictLongRunning", "hang", 1)
        msg = cutscene(1)
        publish(msg)
        doc = wait_terminal("c1", msg["request_id"], timeout=30)
        assert (doc["status"], doc["status_reason"]) == ("partial", "timeout")
        balance = ledger.read_balance("c1", "s1")
        assert (balance.spent_micros, balance.reserved_micros) == (67_000, 0)
    finally:
        stack.restart_function("janitor")


def test_a_message_older_than_the_deadline_is_closed_not_processed(stack):
    enable()
    msg = cutscene(1)
    project = stack.env["GOOGLE_CLOUD_PROJECT"]
    envelope = {
        "message": {
            "data": base64.b64encode(json.dumps(msg).encode()).decode(),
            "messageId": "stale-1",
            "publishTime": (datetime.now(UTC) - timedelta(hours=2)).isoformat(),
        },
        "subscription": f"projects/{project}/subscriptions/render-still",
    }
    url = f"{stack.env['RENDER_STILL_URL']}/projects/{project}/topics/media-requests"
    req = urllib.request.Request(
        url,
        data=json.dumps(envelope).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        assert resp.status == 200  # acked: never retried
    doc = assets.load("c1", asset_id_for(msg["request_id"]))
    assert (doc["status"], doc["status_reason"]) == ("failed", "timeout")
    assert calls(stack)["generateContent"] == 0


def test_janitor_closes_stuck_assets_and_releases_their_holds(stack):
    enable()
    old = datetime.now(UTC) - timedelta(hours=1)
    aid = "astuck000000000000000000000000001"
    ref = assets.asset_ref("c1", aid)
    ref.set(
        {
            "asset_id": aid,
            "campaign_id": "c1",
            "session_id": "s1",
            "request_id": "req-stuck",
            "status": "animating",
            "image": {"uri": "gs://x/y.png"},
            "created_at": old,
            "kind": "cutscene",
        }
    )
    ledger.reserve_first_fit("c1", "s1", 5_000_000, [{ledger.hold_key(aid, "video"): 400_000}])
    answer = http_json("POST", stack.env["JANITOR_URL"], {})
    assert answer == {"closed": 1}
    doc = ref.get().to_dict()
    assert (doc["status"], doc["status_reason"]) == ("partial", "timeout")
    assert ledger.read_balance("c1", "s1").reserved_micros == 0
    assert http_json("POST", stack.env["JANITOR_URL"], {}) == {"closed": 0}


def test_a_dead_lettered_request_leaves_its_asset_terminal(stack):
    enable()
    fault(stack, "generateContent", "http", 1000, 503)  # never recovers
    msg = cutscene(1)
    with delivery_attempts(stack, 5):
        publish(msg)
        doc = wait_terminal("c1", msg["request_id"], timeout=90)
    assert (doc["status"], doc["status_reason"]) == ("failed", "image_failed")
    assert "dead-lettered" in doc["error"]
    balance = ledger.read_balance("c1", "s1")
    assert (balance.spent_micros, balance.reserved_micros) == (0, 0)


def test_janitor_answers_json_to_garbage(stack):
    req = urllib.request.Request(stack.env["JANITOR_URL"], data=b"\xff{", method="POST")
    with urllib.request.urlopen(req, timeout=30) as resp:
        assert json.loads(resp.read()) == {"closed": 0}


def test_a_dead_lettered_duplicate_does_not_close_an_asset_in_progress(stack):
    enable()
    aid = "aworking00000000000000000000000001"
    ref = assets.asset_ref("c1", aid)
    ref.set(
        {
            "asset_id": aid,
            "campaign_id": "c1",
            "session_id": "s1",
            "request_id": "req-busy1",
            "status": "animating",
            "image": {"uri": "gs://x/y.png"},
            "kind": "cutscene",
            "created_at": datetime.now(UTC),
            "lease": {"owner": "someone-else", "until": time.time() + 60},
        }
    )
    body = {"schema": "media.animate.v1", "campaign_id": "c1", "asset_id": aid}
    envelope = {
        "message": {
            "data": base64.b64encode(json.dumps(body).encode()).decode(),
            "messageId": "dl-1",
        },
        "subscription": "projects/p/subscriptions/media-animate-dead-janitor",
    }
    assert http_json("POST", stack.env["JANITOR_URL"], envelope) == {"dead_letter": "in progress"}
    assert ref.get().to_dict()["status"] == "animating"
    ref.update({"lease": None})  # nobody working on it any more: now it is closed
    assert http_json("POST", stack.env["JANITOR_URL"], envelope) == {"dead_letter": "closed"}
    doc = ref.get().to_dict()
    assert (doc["status"], doc["status_reason"]) == ("partial", "video_failed")
