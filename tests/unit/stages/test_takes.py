"""An owner's retried clip (shared/pipeline/takes.py reanimate, attempts.py):
the retry is held under its own ledger key before Veo is paid, charged once,
and refused (`partial`, with the reason) when it does not fit."""

from __future__ import annotations

import contextvars

import pytest

from shared.pipeline import takes
from tests.unit.fakes import FakeImageModel, FakeVideoModel, World
from tests.unit.stages.helpers import aid, deliver_animate, drain, plan_of, run, usd


def partial_cutscene(world: World, image: FakeImageModel, video: FakeVideoModel) -> dict:
    video.outcomes = ["refused"]
    doc = run(world, image, video)
    assert (doc["status"], doc["status_reason"]) == ("partial", "video_failed")
    return doc


def test_a_retried_clip_is_held_under_its_attempt_and_charged_once(
    world: World, image: FakeImageModel, video: FakeVideoModel
) -> None:
    plan = plan_of(partial_cutscene(world, image, video))
    takes.reanimate("c1", aid())
    doc = world.asset("c1", aid())
    assert (doc["status"], doc["video_attempt"]) == ("animating", 2)
    assert world.books("c1", "s1")[0] == {}  # held by the worker, just before Veo
    message = world.animate_messages[0]
    deliver_animate(*message, video, event_id="an-2")
    deliver_animate(*message, video, event_id="an-3")  # a duplicate of the retry
    world.animate_messages.clear()
    drain(world, video)
    doc = world.asset("c1", aid())
    assert (doc["status"], len(video.starts)) == ("complete", 2)
    assert world.books("c1", "s1") == (
        {},
        {f"{aid()}:image": plan.image_micros, f"{aid()}:video.2": plan.video_micros},
    )
    assert doc["cost_usd"] == usd(plan.image_micros + plan.video_micros)


def test_a_retry_that_does_not_fit_the_budget_ends_partial_budget_unpaid(
    world: World, image: FakeImageModel, video: FakeVideoModel
) -> None:
    plan = plan_of(partial_cutscene(world, image, video))
    world.campaign("c1", budget_per_session_usd=usd(plan.image_micros + plan.video_micros - 1))
    takes.reanimate("c1", aid())
    drain(world, video)
    doc = world.asset("c1", aid())
    assert (doc["status"], doc["status_reason"]) == ("partial", "budget")
    assert len(video.starts) == 1
    assert world.books("c1", "s1") == ({}, {f"{aid()}:image": plan.image_micros})


def test_a_retry_after_media_was_turned_off_ends_partial_unpaid(
    world: World, image: FakeImageModel, video: FakeVideoModel
) -> None:
    partial_cutscene(world, image, video)
    takes.reanimate("c1", aid())
    world.campaign("c1", enabled=False)  # between the owner's click and the worker
    drain(world, video)
    assert world.asset("c1", aid())["status_reason"] == "disabled_video"
    assert len(video.starts) == 1


@pytest.mark.parametrize("status", ["complete", "animating"])
def test_only_a_partial_cutscene_can_be_retried(
    world: World, image: FakeImageModel, status: str
) -> None:
    video = FakeVideoModel(world, ["ok" if status == "complete" else "pending"])
    run(world, image, video)
    with pytest.raises(takes.TakeRefused) as refused:
        takes.reanimate("c1", aid())
    assert refused.value.code == 409
    assert world.asset("c1", aid())["status"] == status


def test_a_retry_whose_message_cannot_be_sent_goes_back_to_partial_every_time(
    world: World, image: FakeImageModel, video: FakeVideoModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.store import publish

    partial_cutscene(world, image, video)

    def unreachable(campaign_id: str, asset_id: str) -> None:
        raise ConnectionError("Pub/Sub unreachable")

    monkeypatch.setattr(publish, "publish_animate", unreachable)
    for _ in range(2):  # the owner clicks again; one API worker serves both
        with pytest.raises(takes.TakeRefused) as refused:
            takes.reanimate("c1", aid())
        assert refused.value.code == 503
        doc = world.asset("c1", aid())
        assert (doc["status"], doc["status_reason"]) == ("partial", "video_failed")
        assert world.books("c1", "s1")[0] == {}


def test_a_hide_served_by_a_worker_that_rolled_a_retry_back_ends_the_clip(
    world: World, image: FakeImageModel, video: FakeVideoModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.store import publish

    partial_cutscene(world, image, video)
    worker_a, worker_b = contextvars.Context(), contextvars.Context()  # two API workers
    sent = publish.publish_animate

    def unreachable(campaign_id: str, asset_id: str) -> None:
        raise ConnectionError("Pub/Sub unreachable")

    monkeypatch.setattr(publish, "publish_animate", unreachable)
    with pytest.raises(takes.TakeRefused):
        worker_a.run(takes.reanimate, "c1", aid())  # rolled back to partial
    monkeypatch.setattr(publish, "publish_animate", sent)
    video.outcomes = ["pending"]
    worker_b.run(takes.reanimate, "c1", aid())  # the owner's next click, elsewhere
    drain(world, video)
    assert world.asset("c1", aid())["video_operation"]
    worker_a.run(takes.hide, "c1", aid())
    doc = world.asset("c1", aid())
    assert (doc["status"], doc["status_reason"]) == ("partial", "hidden")
    assert world.books("c1", "s1")[0] == {}
