"""Release (shared/pipeline/lifecycle.py close, hiding.py, takes.hide,
janitor.close_dead_letter): whatever ends an asset early gives back what it
still holds, keeps what was already made and charged, and pays for nothing new."""

from __future__ import annotations

import json

from shared.pipeline import janitor, takes
from tests.unit.fakes import FakeImageModel, FakeVideoModel, World
from tests.unit.stages.helpers import (
    aid,
    deliver_animate,
    deliver_request,
    drain,
    plan_of,
    request,
    run,
    usd,
)


def test_hidden_before_its_delivery_nothing_is_held_or_paid(
    world: World, image: FakeImageModel, video: FakeVideoModel
) -> None:
    from shared.domain.request import parse_request
    from shared.store import assets

    body = parse_request(request(), "b")
    assets.create_if_absent("c1", aid(), assets.new_asset(body, aid()))
    takes.hide("c1", aid())
    run(world, image, video)
    doc = world.asset("c1", aid())
    assert (doc["status"], doc["status_reason"], doc["hidden"]) == ("failed", "hidden", True)
    assert image.calls == 0
    assert world.ledgers() == {}


def test_hidden_while_the_still_renders_keeps_the_still_charged_and_releases_the_clip(
    world: World, video: FakeVideoModel
) -> None:
    class HiddenMeanwhile(FakeImageModel):
        def generate(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            takes.hide("c1", aid())  # the owner hides it while the model works
            return super().generate(*args, **kwargs)

    image = HiddenMeanwhile(world)
    run(world, image, video)
    doc = world.asset("c1", aid())
    assert (doc["status"], doc["status_reason"]) == ("partial", "hidden")
    assert video.starts == [] and world.animate_messages == []
    assert world.books("c1", "s1") == ({}, {f"{aid()}:image": plan_of(doc).image_micros})
    assert world.storage.objects == {}  # the still it made is deleted


def test_hidden_while_veo_renders_releases_the_clip_and_its_late_output_is_deleted(
    world: World, image: FakeImageModel
) -> None:
    video = FakeVideoModel(world, ["pending"])
    run(world, image, video)
    takes.hide("c1", aid())  # nobody works on it: hide ends it at once
    doc = world.asset("c1", aid())
    assert (doc["status"], doc["status_reason"]) == ("partial", "hidden")
    image_only = {f"{aid()}:image": plan_of(doc).image_micros}
    assert world.books("c1", "s1") == ({}, image_only)
    video.land(doc["video_operation"])
    drain(world, video)  # the clip lands after all
    assert world.books("c1", "s1") == ({}, image_only)
    assert world.storage.objects == {}


def test_hidden_while_its_animate_message_waits_no_clip_is_started(
    world: World, image: FakeImageModel, video: FakeVideoModel
) -> None:
    deliver_request(request(), image)
    takes.hide("c1", aid())
    drain(world, video)
    assert video.starts == []
    doc = world.asset("c1", aid())
    assert (doc["status"], doc["status_reason"]) == ("partial", "hidden")
    assert world.books("c1", "s1")[0] == {}


def test_a_dead_lettered_animate_message_closes_its_asset_partial(
    world: World, image: FakeImageModel
) -> None:
    deliver_request(request(), image)
    campaign, asset = world.animate_messages.pop()
    message = json.dumps(
        {"schema": "media.animate.v1", "campaign_id": campaign, "asset_id": asset}
    ).encode()
    assert janitor.close_dead_letter(message) == "closed"
    doc = world.asset("c1", aid())
    assert (doc["status"], doc["status_reason"]) == ("partial", "video_failed")
    assert world.books("c1", "s1") == ({}, {f"{aid()}:image": plan_of(doc).image_micros})
    assert doc["cost_usd"] == usd(plan_of(doc).image_micros)
    assert janitor.close_dead_letter(message) == "already terminal"


def test_a_dead_lettered_request_whose_still_never_came_fails_holding_nothing(world: World) -> None:
    class Crashing(FakeImageModel):
        def generate(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            raise RuntimeError("a bug: every delivery dies here")

    for attempt in range(3):
        try:
            deliver_request(request(), Crashing(world), event_id=f"ev-{attempt}")
        except RuntimeError:
            pass  # redelivered, then dead-lettered
    assert world.books("c1", "s1")[0] != {}  # held while it kept failing
    assert janitor.close_dead_letter(request()) == "closed"
    doc = world.asset("c1", aid())
    assert (doc["status"], doc["status_reason"]) == ("failed", "image_failed")
    assert world.books("c1", "s1") == ({}, {})


def test_a_dead_letter_while_another_delivery_holds_the_asset_leaves_it(
    world: World, image: FakeImageModel, video: FakeVideoModel
) -> None:
    class DeadLetterMeanwhile(FakeImageModel):
        def generate(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            outcome.append(janitor.close_dead_letter(request()))
            return super().generate(*args, **kwargs)

    outcome: list[str] = []
    run(world, DeadLetterMeanwhile(world), video)
    assert outcome == ["in progress"]
    assert world.asset("c1", aid())["status"] == "complete"


def test_closing_an_asset_whose_clip_was_just_charged_completes_it(
    world: World, image: FakeImageModel
) -> None:
    from shared.pipeline.lifecycle import close
    from shared.store import spend

    video = FakeVideoModel(world, ["pending"])
    run(world, image, video)
    doc = world.asset("c1", aid())
    spend.settle(doc, "video", plan_of(doc).video_micros)  # its finisher got this far
    close(doc, "timeout", "timeout")
    doc = world.asset("c1", aid())
    assert doc["status"] == "complete"
    assert doc["cost_usd"] == usd(plan_of(doc).image_micros + plan_of(doc).video_micros)
    assert world.books("c1", "s1")[0] == {}
    deliver_animate("c1", aid(), video)  # a late duplicate: nothing to do
    assert len(video.starts) == 1
