"""The owner's moves, the parts that are pure logic: routes, bodies, ledger keys."""

from __future__ import annotations

import pytest

from shared.api.responses import ApiError
from shared.api.takes import after_turn, prompts
from shared.domain.status import hidden_end
from shared.store.events import event_for
from shared.store.spend import _key_and_day, clip_stage
from tests.unit.test_api_routes import code, route


def test_action_routes_parse_with_checked_ids():
    assert route("/campaigns/c1/media/a1/regenerate").name == "regenerate"
    assert route("/campaigns/c1/media/a1/animate").asset_id == "a1"
    assert code("/campaigns/c1/media/a%2F1/animate") == 400
    assert code("/campaigns/c1/media/a1/reanimate") == 404


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        (b"", {}),
        (b"  ", {}),
        (b"{}", {}),
        (b'{"image_prompt": null}', {}),
        (
            b'{"image_prompt": "new", "motion_prompt": "pan"}',
            {"image_prompt": "new", "motion_prompt": "pan"},
        ),
    ],
)
def test_regenerate_bodies(raw, want):
    assert prompts(raw) == want


@pytest.mark.parametrize(
    "raw",
    [
        b"[1]",
        b"{",
        b'{"image_prompt": ""}',
        b'{"image_prompt": ["x"]}',
        b'{"extra": 1}',
        b'{"motion_prompt": "' + b"m" * 2001 + b'"}',
        b"\xff",
        b" " * 20_000,
    ],
)
def test_bad_regenerate_bodies_are_400(raw):
    with pytest.raises(ApiError) as refused:
        prompts(raw)
    assert refused.value.code == 400


def test_each_clip_attempt_has_its_own_ledger_key_and_day():
    first = {"asset_id": "a1", "plan": {"daily": {"day": "d1", "shard": 1}}}
    retry = {**first, "video_attempt": 3, "clip_daily": {"day": "d2", "shard": 4}}
    assert (clip_stage(first), clip_stage(retry)) == ("video", "video.3")
    assert _key_and_day(first, "video") == ("a1:video", {"day": "d1", "shard": 1})
    assert _key_and_day(retry, "video") == ("a1:video.3", {"day": "d2", "shard": 4})
    assert _key_and_day(retry, "image") == ("a1:image", {"day": "d1", "shard": 1})


def test_a_hidden_asset_ends_partial_only_if_its_still_was_made():
    assert hidden_end({"image": {"uri": "gs://b/x.png"}}) == "partial"
    assert hidden_end({"image": None}) == "failed"


def test_events_flag_hidden_assets_only():
    assert "hidden" not in event_for({"asset_id": "a1", "status": "complete", "hidden": False})
    assert event_for({"asset_id": "a1", "status": "complete", "hidden": True})["hidden"] is True


@pytest.mark.parametrize("raw, want", [(b'{"after_turn": 0}', 0), (b'{"after_turn":12}', 12)])
def test_rewind_bodies(raw, want):
    assert after_turn(raw) == want


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"{}",
        b"[]",
        b"3",
        b"not json",
        b'{"after_turn": -1}',
        b'{"after_turn": 1.5}',
        b'{"after_turn": 3.0}',
        b'{"after_turn": "3"}',
        b'{"after_turn": true}',
        b'{"after_turn": null}',
        b'{"after_turn": 10000001}',
        b'{"after_turn": 1, "session_id": "s2"}',
    ],
)
def test_bad_rewind_bodies_are_400_saying_what_is_wanted(raw):
    with pytest.raises(ApiError) as caught:
        after_turn(raw)
    assert caught.value.code == 400 and "after_turn" in caught.value.message
