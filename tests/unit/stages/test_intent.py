"""The clip's write-ahead intent and its compare-and-set writes
(shared/domain/clip.py, shared/pipeline/starts.py): the five money defects
of issue 22, each as it was reproduced from outside, at the stages' level.
Each ends with one Veo job per attempt, nothing charged that a job of the
asset did not make, and nothing left held."""

from __future__ import annotations

import time
from typing import Any

import pytest
from google.api_core import exceptions as gexc

from shared.core.errors import TransientError
from shared.pipeline import dispatch, janitor, takes
from shared.store import pacing
from tests.unit.fakes import Crash, FakeImageModel, FakeVideoModel, World, mp4_bytes
from tests.unit.stages.helpers import (
    aid,
    configure,
    deliver_animate,
    deliver_finalize,
    deliver_request,
    drain,
    plan_of,
    request,
    run,
)


def settled(world: World) -> tuple[dict[str, int], dict[str, int]]:
    return world.books("c1", "s1")


def test_a_paced_start_slower_than_the_lease_is_started_once(
    world: World, image: FakeImageModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Defect 1: the dispatcher took the lease once and never renewed it while
    # the Veo call ran; the next tick took the lapsed lease and started again.
    configure(monkeypatch, MEDIA_VEO_STARTS_PER_MIN="60", MEDIA_VIDEO_LEASE_S="0.3")
    second_ticks: list[dict[str, int]] = []

    class Slow(FakeVideoModel):
        def start(self, *args: Any) -> str:
            if not second_ticks:
                time.sleep(1.0)  # three leases long
                second_ticks.append(dispatch.dispatch(self))  # the next tick, meanwhile
            return super().start(*args)

    video = Slow(world)
    deliver_request(request(), image)
    drain(world, video)
    assert second_ticks == [{"started": 0, "busy": 0}]
    doc = world.asset("c1", aid())
    assert (doc["status"], len(video.starts)) == ("complete", 1)
    assert settled(world) == (
        {},
        {f"{aid()}:image": plan_of(doc).image_micros}
        | {f"{aid()}:video": plan_of(doc).video_micros},
    )


def test_a_start_whose_answer_died_with_its_worker_is_never_started_again(
    world: World, image: FakeImageModel
) -> None:
    # Defect 2: nothing was written before the call, so a redelivery could
    # not tell "never started" from "started, answer lost".
    class Dies(FakeVideoModel):
        def start(self, *args: Any) -> str:
            name = super().start(*args)  # Veo accepted the job (and it will land)
            if len(self.starts) == 1:
                raise Crash("killed before the operation was written")
            return name

    video = Dies(world, ["pending"])
    deliver_request(request(), image)
    with pytest.raises(Crash):
        drain(world, video)
    world.expire_leases()
    deliver_animate("c1", aid(), video, event_id="an-redelivered")
    assert len(video.starts) == 1
    doc = world.asset("c1", aid())
    assert (doc["status"], doc["video_state"]) == ("animating", "intent")
    # The sweep finds the intent its dead worker left: uncertain, not restarted.
    world.edit("c1", aid(), video_check_at=time.time() - 1)
    assert janitor.sweep_operations(video) == {"uncertain": 1}
    assert world.asset("c1", aid())["video_state"] == "uncertain"
    video.land(next(iter(video.outputs)))  # the lost job's clip lands
    for payload in world.finalize_events():
        deliver_finalize(payload, video)
    doc = world.asset("c1", aid())
    assert (doc["status"], len(video.starts)) == ("complete", 1)
    assert settled(world)[0] == {}
    assert settled(world)[1][f"{aid()}:video"] == plan_of(doc).video_micros


def test_a_stale_check_of_attempt_one_does_not_end_the_owners_retry(
    world: World, image: FakeImageModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Defect 3: a check read attempt 1 under its lease, then acted on that
    # copy after the owner's retry had started attempt 2.
    video = FakeVideoModel(world, ["failed", "pending"])
    first = run(world, image, video)
    assert (first["status"], first["status_reason"]) == ("animating", None)
    stale = dict(world.asset("c1", aid()))  # the sweep's query read attempt 1 ...
    world.edit("c1", aid(), video_check_at=time.time() - 1)
    assert janitor.sweep_operations(video) == {"video_failed": 1}
    takes.reanimate("c1", aid())  # ... the owner retries: attempt 2 starts
    drain(world, video)
    assert world.asset("c1", aid())["video_attempt"] == 2
    from shared.pipeline.finish import finish_operation
    from shared.pipeline.lifecycle import close_expired

    # ... and now the stale copy's check and close act on the asset.
    assert finish_operation(stale, stale["video_operation"], video) == "stale"
    assert close_expired(stale) is None
    doc = world.asset("c1", aid())
    assert (doc["status"], doc["video_attempt"]) == ("animating", 2)
    video.land(doc["video_operation"])
    for payload in world.finalize_events():
        deliver_finalize(payload, video)
    doc = world.asset("c1", aid())
    assert doc["status"] == "complete" and len(video.starts) == 2
    assert settled(world)[0] == {}  # attempt 2's hold charged, nothing leaked
    assert settled(world)[1][f"{aid()}:video.2"] == plan_of(doc).video_micros


def test_failing_checks_back_off_end_the_clip_and_never_starve_the_others(
    world: World, image: FakeImageModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Defect 4: a check that raised never pushed its next time back, a 404
    # never ended the clip, and 50 such assets stalled every other check.
    configure(monkeypatch, MEDIA_VIDEO_SWEEP_LIMIT="2", MEDIA_VIDEO_CHECK_TRIES="3")
    video = FakeVideoModel(world, ["pending", "pending", "failed"])
    for request_id in ("req-bad-1", "req-bad-2", "req-good"):
        run(world, image, video, request(request_id))
        world.edit("c1", aid(request_id), video_check_at=time.time() - 10)
    world.edit("c1", aid("req-good"), video_check_at=time.time() - 1)  # due last

    class Flaky(FakeVideoModel):
        def poll(self, operation_name: str) -> Any:
            if operation_name != world.asset("c1", aid("req-good"))["video_operation"]:
                raise TransientError("Veo answered 503")
            return video.poll(operation_name)

    assert janitor.sweep_operations(Flaky(world)) == {"error": 2}
    # Backed off: the next sweep reaches the good one within its limit of 2.
    assert janitor.sweep_operations(Flaky(world)) == {"video_failed": 1}
    for _ in range(2):
        for request_id in ("req-bad-1", "req-bad-2"):
            world.edit("c1", aid(request_id), video_check_at=time.time() - 1)
        janitor.sweep_operations(Flaky(world))
    for request_id in ("req-bad-1", "req-bad-2"):
        doc = world.asset("c1", aid(request_id))
        assert (doc["status"], doc["status_reason"]) == ("partial", "video_failed")
        assert doc["video_check_failures"] == 2  # the third failure ended it
    assert settled(world)[0] == {}


def test_an_operation_veo_does_not_know_ends_the_clip_at_once(
    world: World, image: FakeImageModel
) -> None:
    video = FakeVideoModel(world, ["pending"])
    run(world, image, video)
    world.edit("c1", aid(), video_check_at=time.time() - 1)
    from shared.core.errors import PermanentError

    video.poll_failures.append(PermanentError("video_failed", "model answered 404"))
    assert janitor.sweep_operations(video) == {"video_failed": 1}
    doc = world.asset("c1", aid())
    assert (doc["status"], doc["status_reason"]) == ("partial", "video_failed")
    assert settled(world)[0] == {}


@pytest.mark.parametrize(
    ("what", "data"),
    [
        ("random bytes", bytes(range(256)) * 64),
        ("an MP4 of another length", mp4_bytes(4)),
        ("a tiny MP4", mp4_bytes(8, payload=16)),
    ],
)
def test_an_uncertain_start_adopts_only_a_clip_of_the_asked_length(
    world: World, image: FakeImageModel, what: str, data: bytes
) -> None:
    # Defect 5: any object in the asset's veo-out/ folder was adopted and
    # charged after an uncertain start, whatever it held.
    video = FakeVideoModel(world, ["uncertain"])
    run(world, image, video)
    assert world.asset("c1", aid())["video_state"] == "uncertain"
    name = f"veo-out/c1/{aid()}/1234/sample_0.mp4"
    world.storage.upload(name, data, "video/mp4")
    for payload in world.finalize_events():
        deliver_finalize(payload, video)
    doc = world.asset("c1", aid())
    assert (doc["status"], doc.get("video")) == ("animating", None), what
    assert name not in world.storage.objects  # refused, and deleted
    assert f"{aid()}:video" not in settled(world)[1]
    world.edit("c1", aid(), video_check_at=time.time() - 1)
    assert janitor.sweep_operations(video) == {"gave_up": 1}
    assert settled(world)[0] == {} and f"{aid()}:video" not in settled(world)[1]


def test_a_clip_landing_just_after_its_deadline_is_deleted_at_once(
    world: World, image: FakeImageModel
) -> None:
    video = FakeVideoModel(world, ["pending"])
    run(world, image, video)
    long_ago = world.asset("c1", aid())["published_at"].replace(year=2020)
    world.edit("c1", aid(), published_at=long_ago)
    operation = world.asset("c1", aid())["video_operation"]
    video.land(operation)
    for payload in world.finalize_events():
        deliver_finalize(payload, video)
    doc = world.asset("c1", aid())
    assert (doc["status"], doc["status_reason"]) == ("partial", "timeout")
    assert not [n for n in world.storage.objects if n.startswith("veo-out/")]
    assert settled(world)[0] == {}


def test_a_start_that_veo_refused_for_quota_takes_its_intent_back(
    world: World, image: FakeImageModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, MEDIA_VEO_QUOTA_WAIT_S="0.01")
    video = FakeVideoModel(world, ["quota"])
    deliver_request(request(), image)
    with pytest.raises(TransientError):
        drain(world, video)
    assert world.asset("c1", aid())["video_state"] == "none"  # nothing started
    deliver_animate("c1", aid(), video, event_id="an-redelivered")  # Pub/Sub's retry
    drain(world, video)
    assert (world.asset("c1", aid())["status"], len(video.starts)) == ("complete", 1)


def test_an_intent_is_refused_once_the_asset_is_hidden(
    world: World, image: FakeImageModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.domain.clip import ClipState
    from shared.store import clips

    deliver_request(request(), image)
    world.edit("c1", aid(), hidden=True)
    moved = clips.move("c1", aid(), 1, {ClipState.NONE}, ClipState.INTENT, video_intent_at=1.0)
    assert moved is None
    assert world.asset("c1", aid()).get("video_state") is None


def test_pacing_is_untouched_by_a_refused_intent(
    world: World, image: FakeImageModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A hidden waiting clip's token is not spent on a start that cannot happen.
    configure(monkeypatch, MEDIA_VEO_STARTS_PER_MIN="60")
    taken: list[str] = []
    real = pacing.take_start
    monkeypatch.setattr(pacing, "take_start", lambda *a, **kw: taken.append("t") or real(*a, **kw))
    deliver_request(request(), image)
    world.edit("c1", aid(), hidden=True)
    drain(world, FakeVideoModel(world))
    assert taken == [] and world.asset("c1", aid())["status_reason"] == "hidden"


def test_a_malformed_check_answer_is_a_failure_not_a_loop(
    world: World, image: FakeImageModel
) -> None:
    video = FakeVideoModel(world, ["pending"])
    run(world, image, video)
    world.edit("c1", aid(), video_check_at=time.time() - 1)
    video.poll_failures.append(gexc.InvalidArgument("a malformed operation"))
    assert janitor.sweep_operations(video) == {"error": 1}
    assert world.asset("c1", aid())["video_check_at"] > time.time()


def test_every_image_call_is_written_down_before_it_is_made(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A worker killed during the image call: the redelivery finds the call
    # written down (paid for, lost) and makes one more, counted.
    image = FakeImageModel(world, [Crash("killed during the image call")])
    with pytest.raises(Crash):
        deliver_request(request(), image)
    assert world.asset("c1", aid())["calls"] == {"rendering_image": 1}
    world.expire_leases()
    deliver_request(request(), image, event_id="ev-redelivered")
    doc = world.asset("c1", aid())
    assert doc["calls"] == {"rendering_image": 2} and image.calls == 2
    assert doc["status"] == "animating"


def test_an_asset_never_makes_more_image_calls_than_allowed(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, MEDIA_IMAGE_MAX_CALLS="1")
    image = FakeImageModel(world, [Crash("killed during the image call")])
    with pytest.raises(Crash):
        deliver_request(request(), image)
    world.expire_leases()
    deliver_request(request(), image, event_id="ev-redelivered")
    doc = world.asset("c1", aid())
    assert (doc["status"], doc["status_reason"]) == ("failed", "image_failed")
    assert image.calls == 1  # the second call was never made
    assert settled(world) == ({}, {})
