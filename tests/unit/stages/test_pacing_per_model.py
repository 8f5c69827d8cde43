"""Each Veo model paced on its own (MEDIA_MODEL_QUOTAS, else
MEDIA_VEO_STARTS_PER_MIN): Vertex counts quotas per base model and region, so
each model has its own start log, its own queue and its own wait history, and
a clip waiting for a model whose budget is used up never holds back another
model's clips."""

from __future__ import annotations

import json

import pytest

from shared.domain.paths import pacing_doc
from shared.pipeline import dispatch
from shared.store import pacing
from tests.unit.fakes import FakeImageModel, FakeVideoModel, World
from tests.unit.stages.helpers import Clock, aid, configure, deliver_request, drain, request

LITE = "veo-3.1-lite-generate-001"  # the draft tier's Veo model
FAST = "veo-3.1-fast-generate-001"  # standard
FULL = "veo-3.1-generate-001"  # premium


@pytest.fixture
def tiers(world: World) -> None:
    # c1 keeps the default (standard) tier.
    world.campaign("draft", quality="draft")
    world.campaign("premium", quality="premium")


def log_of(world: World, model: str) -> dict:
    return world.db.read(pacing_doc(pacing.veo_log(model).doc_id)) or {}


def test_three_models_each_take_their_own_budget(
    world: World,
    image: FakeImageModel,
    video: FakeVideoModel,
    tiers: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # One start an hour per model: the draft and standard tiers named, the
    # premium one on the default. The draft burst arrives first; with one
    # project-wide log its first clip would take the only start. (A day's
    # deadline: the clips wait rather than degrade.)
    configure(
        monkeypatch,
        MEDIA_DEADLINE_S="86400",
        MEDIA_VEO_STARTS_PER_MIN="1",
        MEDIA_VEO_PACING_WINDOW_S="3600",
        MEDIA_MODEL_QUOTAS=json.dumps({LITE: 1, FAST: 1}),
    )
    Clock().install(monkeypatch)  # frozen: no start leaves a log meanwhile
    arrivals = [("draft", n) for n in range(3)] + [("c1", 0), ("c1", 1), ("premium", 0)]
    for n, (campaign, k) in enumerate(arrivals):
        deliver_request(request(f"req-{campaign}-{k}", campaign=campaign), image, f"ev-{n}")
        drain(world, video)
    assert sorted(video.models) == sorted([LITE, FAST, FULL])
    status = {(c, k): world.asset(c, aid(f"req-{c}-{k}"))["status"] for c, k in arrivals}
    assert status == {
        ("draft", 0): "complete",
        ("draft", 1): "animating",
        ("draft", 2): "animating",
        ("c1", 0): "complete",
        ("c1", 1): "animating",
        ("premium", 0): "complete",
    }
    # One log per model and region, each holding its own start and history.
    for model, campaign in ((LITE, "draft"), (FAST, "c1"), (FULL, "premium")):
        doc = log_of(world, model)
        assert len(doc["starts"]) == 1, model
        assert set(doc["waits"]) == {campaign}, model
    assert pacing.veo_log(LITE).doc_id == f"veo-log:us-central1:{LITE}"
    assert world.db.read(pacing_doc(pacing.LOG_DOC)) is None  # no project-wide log
    # A dispatch with every log full starts nothing and degrades nothing.
    assert dispatch.dispatch(video) == {"started": 0, "busy": 0}


def test_the_ticks_hold_wakes_for_each_model_when_its_own_log_frees(
    world: World,
    image: FakeImageModel,
    video: FakeVideoModel,
    tiers: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # One start a minute per model, counted over two: each model's second
    # clip frees 120 s after that model's first start, not after the other's.
    configure(
        monkeypatch,
        MEDIA_VEO_PACING_WINDOW_S="60",
        MEDIA_MODEL_QUOTAS=json.dumps({LITE: 1, FAST: 1}),
    )
    clock = Clock()
    clock.install(monkeypatch)
    t0 = clock.now
    for k in range(2):
        deliver_request(request(f"req-draft-{k}", campaign="draft"), image, f"ev-d{k}")
    drain(world, video)
    clock.now += 30
    for k in range(2):
        deliver_request(request(f"req-c1-{k}", campaign="c1"), image, f"ev-s{k}")
    drain(world, video)
    assert video.models == [LITE, FAST]
    clock.sleeps.clear()  # each second still's turn for its image model
    assert dispatch.dispatch_held(video, hold_s=200) == {"started": 2, "busy": 0}
    # Asleep until the draft model's log frees (t0 + 120), then until the
    # standard one's (t0 + 30 + 120): no pass in between, none wasted.
    # (Give or take the 10 ms each second still waited for its image turn.)
    assert clock.sleeps == [pytest.approx(90, abs=0.05), pytest.approx(30, abs=0.05)]
    assert video.models == [LITE, FAST, LITE, FAST]
    token_at = {
        c: [world.asset(c, aid(f"req-{c}-{k}"))["video_token_at"] for k in range(2)]
        for c in ("draft", "c1")
    }
    assert token_at["draft"] == [pytest.approx(t0), pytest.approx(t0 + 120)]
    assert token_at["c1"] == [pytest.approx(t0 + 30), pytest.approx(t0 + 150)]


def test_a_model_set_to_zero_is_unpaced_while_the_others_wait(
    world: World,
    image: FakeImageModel,
    video: FakeVideoModel,
    tiers: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The default paces every model at one an hour, but the standard tier's
    # is named with 0: its clips start at once, never queued.
    configure(
        monkeypatch,
        MEDIA_VEO_STARTS_PER_MIN="1",
        MEDIA_VEO_PACING_WINDOW_S="3600",
        MEDIA_MODEL_QUOTAS=json.dumps({FAST: 0}),
    )
    Clock().install(monkeypatch)
    for k in range(3):
        deliver_request(request(f"req-c1-{k}", campaign="c1"), image, f"ev-s{k}")
        deliver_request(request(f"req-draft-{k}", campaign="draft"), image, f"ev-d{k}")
    drain(world, video)
    assert sorted(video.models) == sorted([FAST] * 3 + [LITE])
    assert all("video_queued_at" not in world.asset("c1", aid(f"req-c1-{k}")) for k in range(3))
    assert log_of(world, FAST) == {}
    assert len(log_of(world, LITE)["starts"]) == 1


def test_a_model_moved_to_another_region_gets_a_log_of_its_own(
    monkeypatch: pytest.MonkeyPatch, world: World
) -> None:
    configure(monkeypatch, MEDIA_MODEL_LOCATIONS=f"{FAST}=europe-west4")
    assert pacing.veo_log(FAST).doc_id == f"veo-log:europe-west4:{FAST}"
    assert pacing.veo_log(LITE).doc_id == f"veo-log:us-central1:{LITE}"
