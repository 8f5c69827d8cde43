"""Ids Firestore reserves (__.*__) and the janitor's resilience to bad assets."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

from shared.domain.ids import asset_id_for
from shared.store import assets, ledger
from tests.integration.helpers import cutscene, enable, http_json, publish, wait_terminal


def test_a_reserved_session_id_is_rejected_not_left_queued(stack):
    enable()
    message = cutscene(1, session_id="__x__")
    publish(message)
    doc = wait_terminal("c1", message["request_id"], timeout=60)
    assert (doc["status"], doc["status_reason"]) == ("rejected", "invalid")
    assert "session_id" in doc["error"]


def stuck(aid: str, session: str, minutes_ago: int) -> None:
    created = datetime.now(UTC) - timedelta(hours=1, minutes=minutes_ago)
    assets.asset_ref("c1", aid).set(
        {
            "asset_id": aid,
            "campaign_id": "c1",
            "session_id": session,
            "request_id": f"req-{aid}",
            "status": "rendering_image",
            "image": None,
            "kind": "npc_portrait",
            "created_at": created,
        }
    )


def test_one_asset_the_sweep_cannot_close_does_not_stop_the_sweep(stack):
    enable()
    # The oldest stuck asset names a session Firestore refuses (left by code
    # from before ids were checked): releasing its hold fails.
    stuck("abad00000000000000000000000000001", "__x__", minutes_ago=30)
    good = ["agood0000000000000000000000000001", "agood0000000000000000000000000002"]
    for n, aid in enumerate(good):
        stuck(aid, "s1", minutes_ago=n)
        ledger.reserve_first_fit("c1", "s1", 5_000_000, [{ledger.hold_key(aid, "image"): 67_000}])
    answer = http_json("POST", stack.env["JANITOR_URL"], {})
    assert answer == {"closed": 2}
    for aid in good:
        doc = assets.load("c1", aid)
        assert (doc["status"], doc["status_reason"]) == ("failed", "timeout")
    assert ledger.read_balance("c1", "s1").reserved_micros == 0


def dead_letter(stack, body: dict) -> dict:
    envelope = {
        "message": {
            "data": base64.b64encode(json.dumps(body).encode()).decode(),
            "messageId": "dl-reserved",
        },
        "subscription": "projects/p/subscriptions/media-animate-dead-janitor",
    }
    return http_json("POST", stack.env["JANITOR_URL"], envelope)


def test_a_dead_letter_naming_a_reserved_campaign_is_acked(stack):
    animate = {
        "schema": "media.animate.v1",
        "campaign_id": "__c__",
        "asset_id": asset_id_for("req-reserved-1"),
    }
    assert dead_letter(stack, animate) == {"dead_letter": "unreadable"}
    request = cutscene(1, campaign_id="__c__")
    assert dead_letter(stack, request) == {"dead_letter": "unreadable"}
