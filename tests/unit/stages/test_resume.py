"""Resume: a delivery killed at any checkpoint (shared/pipeline/checks.py
CRASH_POINTS) is redelivered, and the redelivery does only what is left:
one still, one Veo start, each stage charged once, the asset complete."""

from __future__ import annotations

import pytest

from shared.pipeline.checks import CRASH_POINTS
from tests.unit.fakes import Crash, FakeImageModel, FakeVideoModel, World
from tests.unit.stages.helpers import (
    aid,
    crash_at,
    deliver_animate,
    deliver_finalize,
    deliver_request,
    plan_of,
    request,
    usd,
)


def deliver_until_done(world: World, image: FakeImageModel, video: FakeVideoModel) -> None:
    """Deliver the request, its animate messages and the clip's events,
    redelivering whichever one a crash killed (after its lease ran out)."""
    pending = [("request", None)]
    crashes = 0
    while pending:
        what, payload = pending.pop(0)
        try:
            if what == "request":
                deliver_request(request(), image, event_id=f"ev-{crashes}")
            elif what == "animate":
                deliver_animate("c1", aid(), video, event_id=f"an-{crashes}")
            else:
                deliver_finalize(payload, video, event_id=f"fin-{crashes}")
        except Crash:
            crashes += 1
            world.expire_leases()
            pending.insert(0, (what, payload))  # Pub/Sub redelivers the unacked message
            continue
        pending += [("animate", None) for _ in world.animate_messages]
        world.animate_messages.clear()
        if what == "animate" or (what == "request" and not pending):
            pending += [
                ("finalize", p) for p in world.finalize_events() if ("finalize", p) not in pending
            ]
    assert crashes == 1


@pytest.mark.parametrize("step", CRASH_POINTS)
def test_a_redelivery_after_a_crash_does_only_what_is_left(
    world: World,
    image: FakeImageModel,
    video: FakeVideoModel,
    monkeypatch: pytest.MonkeyPatch,
    step: str,
) -> None:
    fired = crash_at(monkeypatch, step)
    deliver_until_done(world, image, video)
    assert fired == [step]
    doc = world.asset("c1", aid())
    plan = plan_of(doc)
    assert (doc["status"], doc["status_reason"]) == ("complete", None)
    assert (image.calls, len(video.starts)) == (1, 1)
    assert world.books("c1", "s1") == (
        {},
        {f"{aid()}:image": plan.image_micros, f"{aid()}:video": plan.video_micros},
    )
    assert doc["cost_usd"] == usd(plan.image_micros + plan.video_micros)
