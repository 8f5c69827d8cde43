"""The documents an asset starts as: a valid request's (queued) and an invalid
one's (rejected) share one builder and keep exactly their fields."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.domain.asset_fields import queued_asset, rejected_asset
from shared.domain.request import parse_request

STAMP = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
MSG = {
    "schema": "media.request.v1",
    "request_id": "req-0001",
    "campaign_id": "c1",
    "session_id": "s1",
    "turn_number": 3,
    "kind": "cutscene",
    "cutscene_type": "action_climax",
    "image_prompt": "a clash of blades",
    "motion_prompt": "slow push in",
}


def test_a_queued_asset_has_every_field_of_the_request() -> None:
    request = parse_request(MSG, "bucket")
    earlier = STAMP - timedelta(seconds=5)
    doc = queued_asset(request, "a1", STAMP, published_at=earlier)
    assert doc == {
        "asset_id": "a1",
        "request_id": "req-0001",
        "campaign_id": "c1",
        "session_id": "s1",
        "turn_number": 3,
        "turn_id": None,
        "player_id": None,
        "kind": "cutscene",
        "cutscene_type": "action_climax",
        "subject": request.subject,
        "status": "queued",
        "status_reason": None,
        "image": None,
        "video": None,
        "image_prompt": "a clash of blades",
        "motion_prompt": "slow push in",
        "aspect_ratio": request.aspect_ratio,
        "request": request.to_message(),
        "models": {"image": None, "video": None},
        "estimated_cost_usd": None,
        "cost_usd": 0.0,
        "created_at": STAMP,
        "updated_at": STAMP,
        "completed_at": None,
        "published_at": earlier,
        "stage_ms": {},
        "regenerated_from": None,
        "hidden": False,
    }
    # a publish time "later" than now (clock skew) counts from now
    assert queued_asset(request, "a1", STAMP, STAMP + timedelta(1))["published_at"] == STAMP
    assert queued_asset(request, "a1", STAMP)["published_at"] == STAMP


def test_the_turn_id_and_player_ride_on_the_asset_and_its_request() -> None:
    request = parse_request({**MSG, "turn_id": "turn-9f2", "player_id": "user_2x"}, "bucket")
    doc = queued_asset(request, "a1", STAMP)
    assert (doc["turn_id"], doc["player_id"]) == ("turn-9f2", "user_2x")
    # a regeneration's request is built from the stored one (pipeline/takes.py)
    assert doc["request"]["turn_id"] == "turn-9f2" and doc["request"]["player_id"] == "user_2x"


def test_a_rejected_asset_is_closed_at_once() -> None:
    doc = rejected_asset("a1", "req-0001", "c1", STAMP, "x" * 2000)
    assert doc == {
        "asset_id": "a1",
        "request_id": "req-0001",
        "campaign_id": "c1",
        "session_id": None,
        "turn_number": None,
        "turn_id": None,
        "player_id": None,
        "kind": None,
        "cutscene_type": None,
        "subject": None,
        "status": "rejected",
        "status_reason": "invalid",
        "error": "x" * 1000,
        "image": None,
        "video": None,
        "models": {},
        "estimated_cost_usd": 0.0,
        "cost_usd": 0.0,
        "stage_ms": {},
        "created_at": STAMP,
        "updated_at": STAMP,
        "completed_at": STAMP,
        "hidden": False,
    }
