"""A 429 storm on the image model, at the stages' level: a still whose calls
meet 429s is taken again in later turns of its model's log, at a rate that
halves on each epoch's first 429, and completes with one call intent (a 429
is not a paid call). Unpaced, each 429'd delivery costs an intent and the
still fails once they run out, the design this replaced."""

from __future__ import annotations

import pytest

from shared.core.errors import QuotaExceeded, RetriesSpent
from shared.domain.paths import pacing_doc
from shared.store import image_pacing
from tests.unit.fakes import FakeImageModel, World
from tests.unit.stages.helpers import Clock, aid, configure, deliver_request, request


def test_a_still_met_by_429s_completes_with_one_intent_and_slows_its_model(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, MEDIA_IMAGE_CALLS_PER_MIN="60", MEDIA_IMAGE_PACING_WAIT_S="60")
    clock = Clock()
    clock.install(monkeypatch)
    image = FakeImageModel(world, [QuotaExceeded("429")] * 4)
    deliver_request(request(kind="npc_portrait"), image)
    doc = world.asset("c1", aid())
    assert doc["status"] == "complete"
    assert image.calls == 5 and doc["calls"] == {"rendering_image": 1}
    # 60 a minute, halved four times: 30, 15, 7.5, 3.75; each try a whole
    # interval at the new rate after the last.
    assert clock.sleeps == [pytest.approx(s) for s in (2.0, 4.0, 8.0, 16.0)]
    model = doc["models"]["image"]
    log = world.db.read(pacing_doc(image_pacing.log_id(model)))
    assert log is not None and log["rate"] == pytest.approx(3.75) and log["epoch"] == 4


def test_past_its_wait_the_delivery_goes_back_and_the_next_one_completes(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, MEDIA_IMAGE_CALLS_PER_MIN="60", MEDIA_IMAGE_PACING_WAIT_S="10")
    Clock().install(monkeypatch)
    # Tries at 0, 2 and 6 s meet 429s; the next turn, 14 s, is past the wait.
    image = FakeImageModel(world, [QuotaExceeded("429")] * 3)
    with pytest.raises(RetriesSpent):
        deliver_request(request(kind="npc_portrait"), image, "ev-1")
    assert world.asset("c1", aid())["status"] == "rendering_image"
    assert image.calls == 3
    deliver_request(request(kind="npc_portrait"), image, "ev-2")
    doc = world.asset("c1", aid())
    assert doc["status"] == "complete" and doc["calls"] == {"rendering_image": 2}


def test_unpaced_each_429_costs_a_delivery_and_an_intent(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, MEDIA_IMAGE_CALLS_PER_MIN="0", MEDIA_IMAGE_MAX_CALLS="3")
    image = FakeImageModel(world, [QuotaExceeded("429")] * 10)
    for n in range(4):
        try:
            deliver_request(request(kind="npc_portrait"), image, f"ev-{n}")
        except QuotaExceeded:
            pass
    doc = world.asset("c1", aid())
    assert doc["status"] == "failed" and doc["status_reason"] == "image_failed"
