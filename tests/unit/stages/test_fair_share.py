"""Fair from publishing (MEDIA_VEO_FAIRNESS=published, shared/pipeline/
fair_share.py): a dispatch keeps part of an idle window's starts for
campaigns whose requests are still in the image stage, and keeps none when
nobody else has work on the way."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from shared.domain.asset import Asset
from shared.pipeline import dispatch
from shared.store import asset_queries
from tests.unit.fakes import FakeImageModel, FakeVideoModel, World
from tests.unit.stages.helpers import Clock, aid, configure, deliver_request, drain, request

FAST = "veo-3.1-fast-generate-001"  # the default tier's model


@pytest.fixture
def eight_a_window(monkeypatch: pytest.MonkeyPatch) -> Clock:
    # 8 starts a minute: 4 free at once on an idle log (half the budget in a
    # half span). The clock stands still, so none leaves the log.
    configure(monkeypatch, MEDIA_VEO_STARTS_PER_MIN="8", MEDIA_VEO_PACING_WINDOW_S="60")
    clock = Clock()
    clock.install(monkeypatch)
    return clock


@pytest.fixture
def video(world: World) -> FakeVideoModel:
    return FakeVideoModel(world, ["pending"] * 20)  # started clips stay at Veo


def still_rendering(campaign: str, n: int, at: float) -> list[Asset]:
    """Requests of `campaign` whose stills are being made, as the query reads them."""
    return [
        Asset(
            {
                "campaign_id": campaign,
                "asset_id": f"{campaign}-coming-{i}",
                "status": "rendering_image",
                "published_at": datetime.fromtimestamp(at, UTC),
                "plan": {"video_model": FAST, "video_planned": True},
            }
        )
        for i in range(n)
    ]


def coming(monkeypatch: pytest.MonkeyPatch, docs: list[Asset]) -> None:
    monkeypatch.setattr(asset_queries, "in_image_stage", lambda within_s, limit=2000: docs)


def publish_burst(
    world: World, image: FakeImageModel, video: Any, campaign: str, n: int, at: float
) -> None:
    """`n` requests of `campaign`, published at `at`, their stills made now."""
    world.campaign(campaign, budget_per_session_usd=50.0)
    for i in range(n):
        deliver_request(
            request(f"req-{campaign}-{i}", campaign=campaign),
            image,
            event_id=f"{campaign}{i}",
            published_at=datetime.fromtimestamp(at, UTC),
        )
    drain(world, video)


def started(world: World, campaign: str, n: int) -> int:
    return sum(
        1
        for i in range(n)
        if world.asset(campaign, aid(f"req-{campaign}-{i}")).get("video_token_at")
    )


def test_a_burst_leaves_the_share_of_stills_on_their_way_and_they_take_it_when_they_land(
    world: World,
    image: FakeImageModel,
    video: FakeVideoModel,
    eight_a_window: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    t0 = eight_a_window.now
    # Both publish at once; the loud campaign's stills are made first.
    coming(monkeypatch, still_rendering("quiet", 2, t0))
    eight_a_window.now += 2
    publish_burst(world, image, video, "loud", 4, t0)
    # 4 free starts, 6 clips in hand: the quiet campaign's 2 are owed theirs.
    assert started(world, "loud", 4) == 2
    assert dispatch.dispatch(video)["started"] == 0  # held, not given away
    # The quiet campaign's stills land: its clips, waiting longest on
    # average since publishing, take the two starts kept for them.
    coming(monkeypatch, [])
    eight_a_window.now += 3
    publish_burst(world, image, video, "quiet", 2, t0)
    assert started(world, "quiet", 2) == 2
    assert started(world, "loud", 4) == 2  # the half window is used up now


def test_with_nobody_else_on_the_way_a_burst_takes_every_free_start(
    world: World,
    image: FakeImageModel,
    video: FakeVideoModel,
    eight_a_window: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    t0 = eight_a_window.now
    coming(monkeypatch, still_rendering("loud", 3, t0))  # its own stills hold nothing back
    eight_a_window.now += 2
    publish_burst(world, image, video, "loud", 4, t0)
    assert started(world, "loud", 4) == 4


def test_the_queue_order_does_not_hold_back_for_work_on_the_way(
    world: World,
    image: FakeImageModel,
    video: FakeVideoModel,
    eight_a_window: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    configure(monkeypatch, MEDIA_VEO_FAIRNESS="waiting")  # the order before 0026
    t0 = eight_a_window.now
    coming(monkeypatch, still_rendering("quiet", 2, t0))
    eight_a_window.now += 2
    publish_burst(world, image, video, "loud", 4, t0)
    assert started(world, "loud", 4) == 4
