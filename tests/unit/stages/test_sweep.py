"""Sweep (shared/pipeline/janitor.py): assets past their deadline are closed
with their holds released, Veo operations that wrote nothing are asked about,
and a failure on one asset does not stop the sweep."""

from __future__ import annotations

import contextvars
import time
from datetime import UTC, datetime, timedelta

from google.api_core import exceptions as gexc

from shared.pipeline import janitor
from shared.store.media_models import ClipResult
from tests.unit.fakes import Crash, FakeImageModel, FakeVideoModel, World
from tests.unit.stages.helpers import aid, deliver_request, drain, plan_of, request, run

LONG_AGO = datetime.now(UTC) - timedelta(hours=2)


def stuck_in_each_stage(world: World, image: FakeImageModel) -> dict[str, str]:
    """One open asset per status, each published long ago: request id -> status."""
    from shared.domain.request import parse_request
    from shared.store import assets

    queued = parse_request(request("req-queued"), "b")
    assets.create_if_absent("c1", aid("req-queued"), assets.new_asset(queued, aid("req-queued")))

    class Stops(FakeImageModel):  # the process dies in the middle of the image call
        def generate(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            super().generate(*args, **kwargs)
            raise Crash("killed")

    try:
        deliver_request(request("req-render"), Stops(world))
    except Crash:
        pass
    deliver_request(request("req-animate"), image)
    world.animate_messages.clear()  # its animate message is lost
    ids = {"req-queued": "queued", "req-render": "rendering_image", "req-animate": "animating"}
    for request_id, status in ids.items():
        assert world.asset("c1", aid(request_id))["status"] == status
        world.edit("c1", aid(request_id), published_at=LONG_AGO, created_at=LONG_AGO)
    return ids


def test_the_sweep_closes_every_open_asset_past_its_deadline_and_releases_its_holds(
    world: World, image: FakeImageModel
) -> None:
    stuck_in_each_stage(world, image)
    fresh = run(world, image, FakeVideoModel(world, ["pending"]), request("req-fresh"))
    assert janitor.sweep() == 3
    ends = {
        r: (world.asset("c1", aid(r))["status"], world.asset("c1", aid(r))["status_reason"])
        for r in ("req-queued", "req-render", "req-animate")
    }
    assert ends == {
        "req-queued": ("failed", "timeout"),
        "req-render": ("failed", "timeout"),
        "req-animate": ("partial", "timeout"),
    }
    holds, charges = world.books("c1", "s1")
    plan = plan_of(fresh)
    assert holds == {f"{aid('req-fresh')}:video": plan.video_micros}  # not due: still held
    assert set(charges) == {f"{aid('req-animate')}:image", f"{aid('req-fresh')}:image"}
    assert world.asset("c1", aid("req-fresh"))["status"] == "animating"
    assert janitor.sweep() == 0


def test_a_failure_on_one_asset_does_not_stop_the_sweep(
    world: World, image: FakeImageModel
) -> None:
    stuck_in_each_stage(world, image)
    broken = f"campaigns/c1/media/{aid('req-render')}"
    world.db.fail_writes[broken] = gexc.InternalServerError("a bad document")
    assert janitor.sweep() == 2
    assert world.asset("c1", aid("req-render"))["status"] == "rendering_image"
    assert world.asset("c1", aid("req-queued"))["status"] == "failed"
    assert world.asset("c1", aid("req-animate"))["status"] == "partial"
    del world.db.fail_writes[broken]
    assert janitor.sweep() == 1  # the next sweep gets it
    assert world.books("c1", "s1")[0] == {}


def test_stale_veo_output_is_deleted_and_fresh_output_is_kept(world: World) -> None:
    world.storage.upload("veo-out/c1/a-old/1/sample_0.mp4", b"x", "video/mp4")
    world.storage.objects["veo-out/c1/a-old/1/sample_0.mp4"].time_created = LONG_AGO
    world.storage.upload("veo-out/c1/a-new/1/sample_0.mp4", b"x", "video/mp4")
    janitor.sweep()
    assert list(world.storage.objects) == ["veo-out/c1/a-new/1/sample_0.mp4"]


def test_an_operation_check_that_fails_does_not_stop_the_others(
    world: World, image: FakeImageModel
) -> None:
    video = FakeVideoModel(world, ["failed", "failed"])
    for request_id in ("req-first", "req-second"):
        run(world, image, video, request(request_id))
        world.edit("c1", aid(request_id), video_check_at=time.time() - 1)

    class Flaky(FakeVideoModel):
        def poll(self, operation_name: str) -> ClipResult:
            if operation_name == world.asset("c1", aid("req-first"))["video_operation"]:
                raise gexc.InvalidArgument("a malformed operation")
            return video.poll(operation_name)

    assert janitor.sweep_operations(Flaky(world)) == {"error": 1, "video_failed": 1}
    assert world.asset("c1", aid("req-first"))["status"] == "animating"
    assert world.asset("c1", aid("req-second"))["status_reason"] == "video_failed"
    assert list(world.books("c1", "s1")[0]) == [f"{aid('req-first')}:video"]
    first = world.asset("c1", aid("req-first"))
    # The failed check backs off: not due again at once, and counted.
    assert first["video_check_failures"] == 1 and first["video_check_at"] > time.time()
    assert janitor.sweep_operations(video) == {}
    world.edit("c1", aid("req-first"), video_check_at=time.time() - 1)
    assert janitor.sweep_operations(video) == {"video_failed": 1}
    assert world.books("c1", "s1")[0] == {}


def test_a_warm_janitor_closes_again_an_asset_an_owner_retried_after_it_closed_it(
    world: World, image: FakeImageModel
) -> None:
    from shared.pipeline import takes

    janitor_process = contextvars.Context()  # one warm instance serves every tick
    video = FakeVideoModel(world, ["pending", "pending"])
    run(world, image, video)
    world.edit("c1", aid(), published_at=LONG_AGO, created_at=LONG_AGO)
    assert janitor_process.run(janitor.handle_http, {}) == {"closed": 1}
    takes.reanimate("c1", aid())  # the owner tries the clip again: animating, attempt 2
    drain(world, video)
    assert world.books("c1", "s1")[0] == {
        f"{aid()}:video.2": plan_of(world.asset("c1", aid())).video_micros
    }
    world.edit("c1", aid(), restarted_at=LONG_AGO)  # and this attempt stalls too
    assert janitor_process.run(janitor.handle_http, {}) == {"closed": 1}
    doc = world.asset("c1", aid())
    assert (doc["status"], doc["status_reason"]) == ("partial", "timeout")
    assert world.books("c1", "s1")[0] == {}
