"""The two waits the operator's dashboard charts (terraform dashboard.tf), as
stage_ms on the asset and its asset_terminal line: request_to_still (the
request's publish time to its still stored) and landed_to_complete (the clip in
the bucket to the asset complete)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.unit.fakes import FakeImageModel, FakeVideoModel, World
from tests.unit.stages.helpers import aid, deliver_animate, deliver_request, drain, request


def test_request_to_still_counts_from_the_publish_time(world: World, image: FakeImageModel) -> None:
    published = datetime.now(UTC) - timedelta(seconds=3)
    deliver_request(request(), image, published_at=published)
    doc = world.asset("c1", aid())
    assert doc["status"] == "animating"
    # Queueing before the delivery counts: the player waited for it too.
    assert 3000 <= doc["stage_ms"]["request_to_still"] < 60_000
    assert doc["stage_ms"]["request_to_still"] >= doc["stage_ms"]["image"]


def test_landed_to_complete_counts_from_the_clip_landing(
    world: World, image: FakeImageModel
) -> None:
    video = FakeVideoModel(world)
    deliver_request(request(), image)
    while world.animate_messages:
        deliver_animate(*world.animate_messages.pop(0), video)
    # The MP4 landed two seconds before its bucket event is handled.
    for name, blob in world.storage.objects.items():
        if name.startswith("veo-out/"):
            blob.time_created = datetime.now(UTC) - timedelta(seconds=2)
    drain(world, video)
    doc = world.asset("c1", aid())
    assert doc["status"] == "complete"
    assert 2000 <= doc["stage_ms"]["landed_to_complete"] < 60_000
    assert {"request_to_still", "image", "video_wait"} <= set(doc["stage_ms"])
