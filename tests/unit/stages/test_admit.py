"""Admit and reserve (shared/pipeline/render.py admit): which requests get
in, what is held before the still is paid for, and what a duplicate finds."""

from __future__ import annotations

import pytest

from shared.core.errors import Busy
from shared.store import ledger
from tests.unit.fakes import FakeImageModel, FakeVideoModel, World
from tests.unit.stages.helpers import (
    aid,
    configure,
    deliver_request,
    drain,
    plan_of,
    request,
    run,
    usd,
)


def test_an_enabled_campaign_gets_its_still_and_clip_each_held_then_charged_once(
    world: World, image: FakeImageModel, video: FakeVideoModel
) -> None:
    doc = run(world, image, video)
    plan = plan_of(doc)
    assert (doc["status"], doc["status_reason"]) == ("complete", None)
    assert (image.calls, len(video.starts)) == (1, 1)
    holds, charges = world.books("c1", "s1")
    assert holds == {}
    assert charges == {f"{aid()}:image": plan.image_micros, f"{aid()}:video": plan.video_micros}
    assert doc["cost_usd"] == usd(plan.image_micros + plan.video_micros)
    assert doc["image"]["uri"].endswith(f"media/c1/{aid()}.png")
    assert doc["video"]["uri"].endswith(f"media/c1/{aid()}.mp4")
    assert [e["status"] for e in world.events] == [
        "queued",
        "rendering_image",
        "animating",
        "complete",
    ]


@pytest.mark.parametrize("media", [{"enabled": False}, None])
def test_a_disabled_or_unknown_campaign_is_rejected_before_anything_is_held(
    world: World, image: FakeImageModel, media: dict | None
) -> None:
    if media is None:
        world.db.docs.pop("campaigns/c1")
    else:
        world.campaign("c1", **media)
    deliver_request(request(), image)
    doc = world.asset("c1", aid())
    assert (doc["status"], doc["status_reason"]) == ("rejected", "disabled")
    assert image.calls == 0
    assert world.ledgers() == {}


def test_over_budget_for_the_clip_degrades_to_a_still_partial_budget(
    world: World, image: FakeImageModel, video: FakeVideoModel
) -> None:
    world.campaign("c1", budget_per_session_usd=0.10)  # a still fits, a clip does not
    doc = run(world, image, video)
    assert (doc["status"], doc["status_reason"]) == ("partial", "budget")
    assert (image.calls, video.starts, world.animate_messages) == (1, [], [])
    assert doc["plan"]["video_planned"] is False
    holds, charges = world.books("c1", "s1")
    assert holds == {} and list(charges) == [f"{aid()}:image"]


def test_over_budget_without_degrading_is_refused(world: World, image: FakeImageModel) -> None:
    world.campaign("c1", budget_per_session_usd=0.10, degrade_to_still=False)
    deliver_request(request(), image)
    doc = world.asset("c1", aid())
    assert (doc["status"], doc["status_reason"]) == ("rejected", "budget")
    assert image.calls == 0
    holds, charges = world.books("c1", "s1")
    assert holds == {} and charges == {}


def test_a_session_with_its_budget_spent_refuses_the_next_request(
    world: World, image: FakeImageModel, video: FakeVideoModel
) -> None:
    world.campaign("c1", budget_per_session_usd=0.20)
    first = run(world, image, video, request("req-0001", kind="npc_portrait"))
    plan = plan_of(first)
    world.campaign("c1", budget_per_session_usd=usd(plan.image_micros * 2 - 1))
    run(world, image, video, request("req-0002", kind="npc_portrait"))
    assert world.asset("c1", aid("req-0002"))["status_reason"] == "budget"
    assert image.calls == 1


def test_the_daily_cap_refuses_and_gives_the_session_hold_back(
    world: World, image: FakeImageModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, MEDIA_DAILY_CAP_USD="0.01")  # under one still
    deliver_request(request(), image)
    doc = world.asset("c1", aid())
    assert (doc["status"], doc["status_reason"]) == ("rejected", "budget")
    assert image.calls == 0
    assert world.books("c1", "s1") == ({}, {})
    shards = [d for p, (d, _) in world.db.docs.items() if p.startswith("spend_days/")]
    assert all(not d.get("holds") for d in shards)


def test_under_the_daily_cap_the_day_holds_and_charges_what_the_session_does(
    world: World, image: FakeImageModel, video: FakeVideoModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, MEDIA_DAILY_CAP_USD="100")
    doc = run(world, image, video)
    day = doc["plan"]["daily"]
    shard = world.db.read(f"spend_days/{day['day']}/shards/{day['shard']}")
    assert shard is not None
    assert shard["holds"] == {}
    assert shard["charges"] == world.books("c1", "s1")[1]


def test_the_still_is_held_before_the_image_model_is_called(
    world: World, video: FakeVideoModel
) -> None:
    seen: list[dict[str, int]] = []

    class Watching(FakeImageModel):
        def generate(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            seen.append(world.books("c1", "s1")[0])
            return super().generate(*args, **kwargs)

    run(world, Watching(world), video)
    plan = plan_of(world.asset("c1", aid()))
    assert seen == [{f"{aid()}:image": plan.image_micros, f"{aid()}:video": plan.video_micros}]


def test_a_duplicate_after_the_still_finds_its_hold_and_pays_nothing(
    world: World, image: FakeImageModel, video: FakeVideoModel
) -> None:
    deliver_request(request(), image, event_id="ev-1")
    before = world.books("c1", "s1")
    deliver_request(request(), image, event_id="ev-2")  # Pub/Sub delivered it twice
    assert world.books("c1", "s1") == before
    assert image.calls == 1
    # Nobody holds the asset's lease, so the duplicate publishes animate again
    # (the first one's may be the one lost); animate starts one clip for both.
    assert world.animate_messages == [("c1", aid())] * 2
    drain(world, video)
    assert (len(video.starts), world.asset("c1", aid())["status"]) == (1, "complete")


def test_a_duplicate_while_the_first_renders_steps_back(
    world: World, image: FakeImageModel
) -> None:
    class SecondDeliveryMeanwhile(FakeImageModel):
        def generate(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            with pytest.raises(Busy):
                deliver_request(request(), inner, event_id="ev-2")
            return super().generate(*args, **kwargs)

    inner = FakeImageModel(world)
    outer = SecondDeliveryMeanwhile(world)
    deliver_request(request(), outer, event_id="ev-1")
    assert (outer.calls, inner.calls) == (1, 0)
    holds, charges = world.books("c1", "s1")
    assert len(holds) == 1 and len(charges) == 1  # the clip held, the still charged once


def test_a_redelivered_reserve_returns_the_same_choice_and_holds_nothing_more(world: World) -> None:
    from shared.store import spend

    options = [{"image": 60_000, "video": 400_000}, {"image": 60_000}]
    first = spend.reserve("c1", "s1", "a1", 500_000, options)
    again = spend.reserve("c1", "s1", "a1", 500_000, options)
    assert first == again == (0, None)
    assert world.books("c1", "s1")[0] == {
        ledger.hold_key("a1", "image"): 60_000,
        ledger.hold_key("a1", "video"): 400_000,
    }


def test_an_invalid_request_is_rejected_holding_nothing(
    world: World, image: FakeImageModel
) -> None:
    deliver_request(request(kind="cutscene", motion_prompt=None), image)
    doc = world.asset("c1", aid())
    assert (doc["status"], doc["status_reason"]) == ("rejected", "invalid")
    assert "motion_prompt" in doc["error"]
    deliver_request(b"\x00not json", image, event_id="ev-2")  # unreadable: logged, acked
    assert image.calls == 0 and world.ledgers() == {}
    assert [p for p in world.db.docs if "/media/" in p] == [f"campaigns/c1/media/{aid()}"]


def test_a_request_first_delivered_past_its_deadline_is_closed_unpaid(
    world: World, image: FakeImageModel
) -> None:
    from datetime import UTC, datetime, timedelta

    deliver_request(request(), image, published_at=datetime.now(UTC) - timedelta(hours=1))
    doc = world.asset("c1", aid())
    assert (doc["status"], doc["status_reason"]) == ("failed", "timeout")
    assert image.calls == 0 and world.ledgers() == {}
