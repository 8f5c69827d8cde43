"""Exported charges (shared/store/charges.py): one media.charge.v1 message per
charge the ledger made, announced again, identical, by whoever later finds it
made, so a process killed between the ledger's write and the publish loses
nothing. Every stage test also ends with World.check_exported (via
check_money): per session, the messages de-duplicated on charge_id are the
ledger's charges exactly."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shared.pipeline import janitor, takes
from shared.pipeline.lifecycle import close
from shared.store import spend
from tests.unit.fakes import Crash, FakeImageModel, FakeVideoModel, World
from tests.unit.stages.helpers import (
    aid,
    deliver_finalize,
    deliver_request,
    drain,
    plan_of,
    request,
    run,
)


def charged_at(world: World, key: str) -> object:
    doc = world.db.read("campaigns/c1/sessions/s1")
    assert doc is not None
    return doc["charged_at"][key]


def test_a_cutscene_exports_its_still_and_its_clip_once_each(
    world: World, image: FakeImageModel, video: FakeVideoModel
) -> None:
    doc = run(world, image, video)
    plan = plan_of(doc)
    assert doc["status"] == "complete"
    still, clip = world.charges
    assert still.charge_id == f"{aid()}:image"
    assert (still.phase, still.model, still.units) == ("image", plan.image_model, {"images": 1})
    assert clip.charge_id == f"{aid()}:video"
    assert (clip.phase, clip.model) == ("video", plan.video_model)
    assert clip.units == {"seconds": plan.duration_seconds, "resolution": plan.video_resolution}
    for charge in (still, clip):
        assert (charge.campaign_id, charge.session_id, charge.asset_id) == ("c1", "s1", aid())
        assert (charge.request_id, charge.turn_number) == ("req-0001", 3)
        assert (charge.player_id, charge.turn_id, charge.provider) == (None, None, "vertex-ai")
        assert charge.settled_at == charged_at(world, charge.charge_id)
    # Exact decimals of the ledger's micros, never floats.
    assert Decimal(still.cost_usd) * 1_000_000 == plan.image_micros
    assert Decimal(clip.cost_usd) * 1_000_000 == plan.video_micros


def test_a_still_only_request_exports_one_image_charge(
    world: World, image: FakeImageModel, video: FakeVideoModel
) -> None:
    doc = run(world, image, video, request(kind="location_visual"))
    assert doc["status"] == "complete"
    [charge] = world.charges
    assert (charge.charge_id, charge.phase) == (f"{aid()}:image", "image")
    assert world.exported("c1", "s1") == world.books("c1", "s1")[1]


def test_a_redelivery_announces_the_same_charge_again(
    world: World, image: FakeImageModel, video: FakeVideoModel
) -> None:
    deliver_request(request(), image)  # the still made and charged: animating
    deliver_request(request(), image, event_id="ev-2")  # a duplicate delivery
    assert [c.charge_id for c in world.charges] == [f"{aid()}:image"] * 2
    assert world.charges[0] == world.charges[1]  # identical, settled_at included
    drain(world, video)
    assert world.exported("c1", "s1") == world.books("c1", "s1")[1]


@pytest.mark.parametrize("kind", ["cutscene", "location_visual"])
def test_a_crash_between_the_charge_and_its_message_is_made_good_by_the_redelivery(
    world: World, image: FakeImageModel, video: FakeVideoModel, kind: str
) -> None:
    world.charge_failures = [Crash("killed after the ledger's write")]
    with pytest.raises(Crash):
        deliver_request(request(kind=kind), image)
    assert world.books("c1", "s1")[1] == {
        f"{aid()}:image": plan_of(world.asset("c1", aid())).image_micros
    }
    assert world.charges == []  # charged, not announced
    world.expire_leases()
    deliver_request(request(kind=kind), image, event_id="ev-2")  # Pub/Sub redelivers
    drain(world, video)
    assert image.calls == 1
    assert world.asset("c1", aid())["status"] == "complete"
    assert world.exported("c1", "s1") == world.books("c1", "s1")[1]


def test_a_clip_charged_by_a_finisher_that_died_is_announced_by_its_closer(
    world: World, image: FakeImageModel
) -> None:
    video = FakeVideoModel(world, ["pending"])
    run(world, image, video)
    video.land(world.asset("c1", aid())["video_operation"])
    world.charge_failures = [Crash("killed after the clip's charge")]
    [payload] = world.finalize_events()
    with pytest.raises(Crash):
        deliver_finalize(payload, video)
    assert f"{aid()}:video" not in world.exported("c1", "s1")
    world.expire_leases()
    close(world.asset("c1", aid()), "timeout", "timeout")  # the sweep, before any redelivery
    assert world.asset("c1", aid())["status"] == "complete"
    assert world.exported("c1", "s1") == world.books("c1", "s1")[1]


def test_a_failed_publish_is_logged_and_never_stops_the_pipeline(
    world: World,
    image: FakeImageModel,
    video: FakeVideoModel,
    capsys: pytest.CaptureFixture[str],
) -> None:
    world.charge_failures = [RuntimeError("pubsub down")]
    doc = run(world, image, video)
    assert doc["status"] == "complete"
    assert "charge_publish_failed" in capsys.readouterr().out
    assert [c.phase for c in world.charges] == ["video"]
    # What a crash would have left, a closer or a redelivery makes good:
    spend.release(world.asset("c1", aid()))
    assert world.exported("c1", "s1") == world.books("c1", "s1")[1]


def test_a_retried_clip_is_its_own_charge(world: World, image: FakeImageModel) -> None:
    video = FakeVideoModel(world, ["refused"])
    assert run(world, image, video)["status"] == "partial"
    takes.reanimate("c1", aid())
    drain(world, video)
    assert world.asset("c1", aid())["status"] == "complete"
    assert [c.charge_id for c in world.charges] == [f"{aid()}:image", f"{aid()}:video.2"]
    assert world.exported("c1", "s1") == world.books("c1", "s1")[1]


def test_a_sweep_that_closes_a_stuck_asset_charges_nothing_new(
    world: World, image: FakeImageModel
) -> None:
    from datetime import UTC, datetime, timedelta

    video = FakeVideoModel(world, ["pending"])
    run(world, image, video)
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    world.edit("c1", aid(), published_at=long_ago, created_at=long_ago)
    assert janitor.sweep() == 1
    assert {c.charge_id for c in world.charges} == {f"{aid()}:image"}
    assert world.exported("c1", "s1") == world.books("c1", "s1")[1]
