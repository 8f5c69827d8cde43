"""Degrade and settle (shared/pipeline/animate.py, finish.py): a clip Veo
refuses leaves the still, `partial` with its reason and the clip's hold
released; a clip that lands is charged once, and only while it is held."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from shared.core.errors import PermanentError, SafetyBlocked
from shared.pipeline import janitor
from shared.store import spend
from shared.store.media_models import ClipResult
from tests.unit.fakes import FakeImageModel, FakeVideoModel, World
from tests.unit.stages.helpers import (
    Clock,
    aid,
    configure,
    deliver_animate,
    deliver_finalize,
    deliver_request,
    drain,
    plan_of,
    request,
    run,
    usd,
)


def still_only(world: World) -> tuple[dict, dict]:
    """The books of an asset that kept its still and lost its clip."""
    doc = world.asset("c1", aid())
    holds, charges = world.books("c1", "s1")
    assert holds == {}
    assert charges == {f"{aid()}:image": plan_of(doc).image_micros}
    assert doc["cost_usd"] == usd(plan_of(doc).image_micros)
    assert doc["image"] is not None and doc["video"] is None
    return doc, charges


def test_a_clip_veo_refuses_degrades_to_the_still(world: World, image: FakeImageModel) -> None:
    video = FakeVideoModel(world, ["refused"])
    doc = run(world, image, video)
    assert (doc["status"], doc["status_reason"]) == ("partial", "video_failed")
    assert "refused" in doc["error"]
    assert len(video.starts) == 1
    still_only(world)


@pytest.mark.parametrize(
    ("outcome", "reason"), [("blocked", "video_blocked"), ("failed", "video_failed")]
)
def test_a_clip_that_ends_without_output_is_found_by_the_sweep_and_degrades(
    world: World, image: FakeImageModel, outcome: str, reason: str
) -> None:
    video = FakeVideoModel(world, [outcome])
    doc = run(world, image, video)
    assert doc["status"] == "animating"  # nothing landed: no bucket event
    world.edit("c1", aid(), video_check_at=time.time() - 1)  # its expected time passed
    assert janitor.sweep_operations(video) == {reason: 1}
    doc, _ = still_only(world)
    assert (doc["status"], doc["status_reason"]) == ("partial", reason)


def test_an_operation_still_running_is_checked_again_later(
    world: World, image: FakeImageModel
) -> None:
    video = FakeVideoModel(world, ["pending"])
    run(world, image, video)
    world.edit("c1", aid(), video_check_at=time.time() - 1)
    assert janitor.sweep_operations(video) == {"pending": 1}
    doc = world.asset("c1", aid())
    assert doc["video_checks"] == 1 and doc["video_check_at"] > time.time()
    assert janitor.sweep_operations(video) == {}  # not due again yet
    video.land(doc["video_operation"])
    drain(world, video)
    assert world.asset("c1", aid())["status"] == "complete"
    assert len(world.books("c1", "s1")[1]) == 2


def test_a_start_with_a_lost_answer_is_never_repeated_and_gives_up_partial(
    world: World, image: FakeImageModel
) -> None:
    video = FakeVideoModel(world, ["uncertain"])
    doc = run(world, image, video)
    assert doc["status"] == "animating" and doc["video_start_uncertain_at"] is not None
    world.edit("c1", aid(), video_check_at=time.time() - 1)  # the adopt wait is over
    assert janitor.sweep_operations(video) == {"gave_up": 1}
    doc, _ = still_only(world)
    assert (doc["status_reason"], len(video.starts)) == ("video_failed", 1)
    assert "not started again" in doc["error"]


def test_the_clip_of_a_start_with_a_lost_answer_is_adopted_and_charged_once(
    world: World, image: FakeImageModel
) -> None:
    video = FakeVideoModel(world, ["uncertain_landed"])
    doc = run(world, image, video)
    assert (doc["status"], len(video.starts)) == ("complete", 1)
    assert world.books("c1", "s1")[1] == {
        f"{aid()}:image": plan_of(doc).image_micros,
        f"{aid()}:video": plan_of(doc).video_micros,
    }


def test_a_clip_event_delivered_twice_is_charged_once(
    world: World, image: FakeImageModel, video: FakeVideoModel
) -> None:
    deliver_request(request(), image)
    deliver_animate(*world.animate_messages.pop(), video)
    [payload] = world.finalize_events()
    deliver_finalize(payload, video, event_id="fin-1")
    charged = world.books("c1", "s1")[1]
    deliver_finalize(payload, video, event_id="fin-2")  # the same object's event again
    assert world.books("c1", "s1")[1] == charged
    doc = world.asset("c1", aid())
    assert doc["status"] == "complete"
    assert doc["cost_usd"] == usd(sum(charged.values()))
    assert [e["status"] for e in world.events].count("complete") == 1


def test_a_clip_landing_after_its_asset_was_closed_is_not_charged(
    world: World, image: FakeImageModel
) -> None:
    video = FakeVideoModel(world, ["pending"])
    run(world, image, video)
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    world.edit("c1", aid(), published_at=long_ago, created_at=long_ago)
    assert janitor.sweep() == 1  # the deadline passed: closed, the clip's hold released
    doc, charges = still_only(world)
    assert (doc["status"], doc["status_reason"]) == ("partial", "timeout")
    video.land(doc["video_operation"])  # Veo finishes anyway: Google bills it
    [payload] = world.finalize_events()
    deliver_finalize(payload, video)
    assert world.books("c1", "s1")[1] == charges
    assert world.asset("c1", aid())["video"] is None
    assert not [n for n in world.storage.objects if n.endswith(".mp4")]  # deleted


def test_settle_charges_only_a_held_key(world: World) -> None:
    asset = {
        "campaign_id": "c1",
        "session_id": "s1",
        "asset_id": "a1",
        "request_id": "req-a1-0001",
        "turn_number": 1,
        "plan": {"image_model": "an-image-model"},
    }
    assert spend.reserve("c1", "s1", "a1", 1_000_000, [{"image": 50_000}])[0] == 0
    assert spend.settle(asset, "video", 400_000) is False  # never held
    assert spend.settle(asset, "image", 50_000) is True
    assert spend.settle(asset, "image", 50_000) is True  # again: a no-op
    spend.release(asset)
    assert spend.settle(asset, "image", 50_000) is True  # charged stays charged
    assert world.books("c1", "s1") == ({}, {"a1:image": 50_000})


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (SafetyBlocked("image_blocked", "blocked"), "image_blocked"),
        (PermanentError("model_unavailable", "not served here"), "model_unavailable"),
        (PermanentError("bad", "a 400"), "image_failed"),
    ],
)
def test_a_still_that_fails_releases_everything(
    world: World, video: FakeVideoModel, failure: Exception, reason: str
) -> None:
    image = FakeImageModel(world, [failure, failure])  # a blocked prompt is tried twice
    doc = run(world, image, video)
    assert (doc["status"], doc["status_reason"]) == ("failed", reason)
    assert world.books("c1", "s1") == ({}, {})
    assert doc["cost_usd"] == 0.0 and video.starts == []
    assert image.calls == (2 if reason == "image_blocked" else 1)


def test_a_clip_whose_asset_is_closed_while_it_is_recorded_is_not_charged(
    world: World, image: FakeImageModel
) -> None:
    class ClosedMeanwhile(FakeVideoModel):
        def poll(self, operation_name: str) -> ClipResult:
            long_ago = datetime.now(UTC) - timedelta(hours=1)
            world.edit("c1", aid(), published_at=long_ago, created_at=long_ago)
            assert janitor.sweep() == 1  # the janitor closes it while Veo answers
            return super().poll(operation_name)

    video = ClosedMeanwhile(world)
    doc = run(world, image, video)
    assert (doc["status"], doc["status_reason"]) == ("partial", "timeout")
    still_only(world)
    assert not [n for n in world.storage.objects if n.endswith(".mp4")]  # deleted


def test_a_start_veo_refuses_for_quota_keeps_its_hold_and_starts_once_redelivered(
    world: World, image: FakeImageModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.core.errors import TransientError

    configure(monkeypatch, MEDIA_VEO_QUOTA_WAIT_S="0.01")  # hand over to a redelivery at once
    video = FakeVideoModel(world, ["quota"])
    deliver_request(request(), image)
    with pytest.raises(TransientError):
        deliver_animate(*world.animate_messages[0], video, event_id="an-1")
    assert video.starts == []
    plan = plan_of(world.asset("c1", aid()))
    assert world.books("c1", "s1")[0] == {f"{aid()}:video": plan.video_micros}
    drain(world, video)  # Pub/Sub redelivers; the quota has room again
    assert (world.asset("c1", aid())["status"], len(video.starts)) == ("complete", 1)


def refused_for_quota(
    world: World, image: FakeImageModel, monkeypatch: pytest.MonkeyPatch, refusals: int
) -> tuple[FakeVideoModel, float]:
    """One cutscene whose first `refusals` Veo starts answer 429, delivered
    once to animate_still on the pipeline's clock (a 90 s deadline, a clip
    expected to take 10 s): the fake Veo and the seconds the delivery took.

    What tests/integration/test_quota.py shows on the stack in a compressed
    minute, here with Veo's own 60 s."""
    configure(
        monkeypatch,
        MEDIA_DEADLINE_S="90",
        MEDIA_VIDEO_EXPECTED_S="10",
        MEDIA_VIDEO_EXPECTED_PER_S="0",
    )
    clock = Clock()
    clock.install(monkeypatch)
    began = clock.time()
    video = FakeVideoModel(world, ["quota"] * refusals)
    deliver_request(request(), image)
    deliver_animate(*world.animate_messages.pop(0), video)  # returns: acked
    return video, clock.time() - began


def test_a_start_waits_out_429s_in_its_delivery_then_starts_once(
    world: World, image: FakeImageModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    video, waited = refused_for_quota(world, image, monkeypatch, refusals=4)
    assert len(video.starts) == 1
    assert 2.0 <= waited <= 2 + 4 + 8 + 15, waited  # four backed-off pauses
    drain(world, video)
    doc = world.asset("c1", aid())
    assert doc["status"] == "complete"
    assert world.books("c1", "s1")[1] == {
        f"{aid()}:image": plan_of(doc).image_micros,
        f"{aid()}:video": plan_of(doc).video_micros,
    }


def test_a_start_still_refused_for_quota_when_too_late_ends_partial_unstarted(
    world: World, image: FakeImageModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The rest of a burst under the quota: once the clip could no longer
    # finish before the deadline, it is not started and the clip's hold goes.
    video, waited = refused_for_quota(world, image, monkeypatch, refusals=1000)
    assert video.starts == []
    # Refused at its first look past the deadline less the expected 10 s,
    # which the last pause (at most 15 s) reached.
    assert 80 < waited <= 80 + 15, waited
    doc, _ = still_only(world)
    assert (doc["status"], doc["status_reason"]) == ("partial", "timeout")
    assert "to start the clip" in doc["error"]
