"""Paced starts (shared/pipeline/dispatch.py): with MEDIA_VEO_STARTS_PER_MIN
set, a clip waits for a start token with its hold kept, starts once when a
token frees, and degrades to its still (`partial`, busy, hold released) when
its turn would come after its deadline."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.domain.paths import pacing_doc
from shared.pipeline import dispatch
from shared.store import pacing
from tests.unit.fakes import FakeImageModel, FakeVideoModel, World
from tests.unit.stages.helpers import (
    Clock,
    aid,
    configure,
    deliver_request,
    drain,
    plan_of,
    request,
)


@pytest.fixture
def paced(monkeypatch: pytest.MonkeyPatch) -> None:
    # One start per hour (counted over two): the second clip always waits.
    configure(monkeypatch, MEDIA_VEO_STARTS_PER_MIN="1", MEDIA_VEO_PACING_WINDOW_S="3600")


def test_a_clip_waits_for_a_token_holding_its_budget_and_starts_once_when_one_frees(
    world: World,
    image: FakeImageModel,
    video: FakeVideoModel,
    paced: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pacing, "next_start_at", lambda log, now=None: time.time() + 60)
    Clock().install(monkeypatch)  # frozen: no start leaves the log meanwhile
    for request_id in ("req-first", "req-second"):
        deliver_request(request(request_id), image)
    drain(world, video)
    first, second = (world.asset("c1", aid(r)) for r in ("req-first", "req-second"))
    assert first["status"] == "complete"
    assert (second["status"], second["video_waiting"]) == ("animating", True)
    assert len(video.starts) == 1
    held = {f"{aid('req-second')}:video": plan_of(second).video_micros}
    assert world.books("c1", "s1")[0] == held
    assert dispatch.dispatch(video) == {"started": 0, "busy": 0}  # the budget is used
    # Past the log's span (window + one start interval) its entries are gone:
    # the token is free. (Moving the clock that far would pass the deadline.)
    world.db.docs.pop(pacing_doc(pacing.veo_log(plan_of(second).video_model or "").doc_id))
    assert dispatch.dispatch(video)["started"] == 1
    assert dispatch.dispatch(video)["started"] == 0  # started once
    drain(world, video)
    assert world.asset("c1", aid("req-second"))["status"] == "complete"
    assert len(video.starts) == 2 and world.books("c1", "s1")[0] == {}


def test_a_clip_whose_turn_comes_after_its_deadline_degrades_at_once(
    world: World,
    image: FakeImageModel,
    video: FakeVideoModel,
    paced: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pacing, "next_start_at", lambda log, now=None: time.time() + 600)
    deliver_request(request("req-first"), image)
    # Published 14 minutes ago: a start in 10 minutes ends past the 15-minute deadline.
    late = datetime.now(UTC) - timedelta(minutes=14)
    deliver_request(request("req-late"), image, event_id="ev-2", published_at=late)
    drain(world, video)
    doc = world.asset("c1", aid("req-late"))
    assert (doc["status"], doc["status_reason"]) == ("partial", "busy")
    assert len(video.starts) == 1
    assert world.books("c1", "s1")[0] == {}
    assert f"{aid('req-late')}:image" in world.books("c1", "s1")[1]


@pytest.fixture
def per_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    # One start a minute, counted over two: the second clip's start frees
    # 120 s after the first, well before its 15-minute deadline.
    configure(monkeypatch, MEDIA_VEO_STARTS_PER_MIN="1", MEDIA_VEO_PACING_WINDOW_S="60")


def test_the_ticks_hold_takes_the_start_the_log_frees_during_it(
    world: World,
    image: FakeImageModel,
    video: FakeVideoModel,
    per_minute: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = Clock()
    clock.install(monkeypatch)
    for request_id in ("req-first", "req-second"):
        deliver_request(request(request_id), image)
    drain(world, video)
    assert len(video.starts) == 1
    first = world.asset("c1", aid("req-first"))
    clock.sleeps.clear()  # the second still's turn for the image model
    # A hold shorter than the wait gives up at once, without sleeping.
    assert dispatch.dispatch_held(video, hold_s=100) == {"started": 0, "busy": 0}
    assert clock.sleeps == []
    # A longer one sleeps until the start frees, takes it, and returns.
    assert dispatch.dispatch_held(video, hold_s=130)["started"] == 1
    assert len(clock.sleeps) == 1
    second = world.asset("c1", aid("req-second"))
    assert second["video_token_at"] == pytest.approx(first["video_token_at"] + 120, abs=0.01)
    assert len(video.starts) == 2


def test_a_hold_with_no_clip_waiting_is_one_pass(
    world: World,
    image: FakeImageModel,
    video: FakeVideoModel,
    per_minute: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = Clock()
    clock.install(monkeypatch)
    deliver_request(request("req-first"), image)
    drain(world, video)
    assert dispatch.dispatch_held(video, hold_s=3000) == {"started": 0, "busy": 0}
    assert clock.sleeps == []


def test_a_paced_start_takes_its_token_after_the_still_is_read_just_before_veo(
    world: World,
    image: FakeImageModel,
    video: FakeVideoModel,
    per_minute: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from shared.pipeline import starts

    steps: list[str] = []
    take, download, start = pacing.take_start, starts.storage.download, video.start

    def record(name: str, call: Any) -> Any:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            steps.append(name)
            return call(*args, **kwargs)

        return wrapped

    monkeypatch.setattr(pacing, "take_start", record("token", take))
    monkeypatch.setattr(starts.storage, "download", record("still", download))
    monkeypatch.setattr(video, "start", record("veo", start))
    deliver_request(request("req-first"), image)
    drain(world, video)
    assert steps == ["still", "token", "veo"]
