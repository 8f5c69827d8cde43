"""The default order of paced starts (MEDIA_VEO_FAIRNESS=waiting): the
campaign that has waited longest on average goes next, counting its recent
starts (the start log's wait history); a clip about to miss its deadline
goes first whatever the order."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.core.settings import get_settings
from shared.pipeline.dispatch import equalized, urgent_first
from shared.store import pacing


def clips(campaign: str, n: int, first_at: float, every: float = 1.0) -> list[dict]:
    return [
        {
            "campaign_id": campaign,
            "asset_id": f"{campaign}-{i}",
            "video_queued_at": first_at + i * every,
        }
        for i in range(n)
    ]


def ids(docs: list[dict]) -> list[str]:
    return [d["asset_id"] for d in docs]


def test_a_campaign_with_quick_starts_behind_it_gives_way_to_one_without():
    # 10 clips at once at 0 s, one quiet clip at 2 s, ordered at 10 s. With
    # no history the burst's clips have all waited 10 s, the quiet one 8 s:
    # the quiet clip came later, and goes after the burst.
    docs = clips("big", 10, 0.0, every=0.0) + clips("quiet", 1, 2.0)
    order = ids(equalized(docs, {}, now=10.0))
    assert order[:10] == [f"big-{i}" for i in range(10)] and order[10] == "quiet-0"
    # A history of ten starts without a wait puts the burst's campaign's mean
    # far below the quiet one's: the quiet clip goes first.
    order = ids(equalized(docs, {"big": (0.0, 10.0)}, now=10.0))
    assert order[0] == "quiet-0"


def test_a_campaign_whose_clips_went_through_at_once_gives_way():
    docs = clips("lucky", 1, 5.0) + clips("other", 1, 5.0)
    history = {"lucky": (0.0, 3.0), "other": (60.0, 3.0)}
    assert ids(equalized(docs, history, now=10.0)) == ["other-0", "lucky-0"]


def test_each_campaign_goes_oldest_first_and_ties_go_to_the_oldest_clip():
    docs = list(reversed(clips("a", 3, 1.0))) + clips("b", 1, 0.5)
    order = ids(equalized(docs, {}, now=1.0))  # nobody has waited yet
    assert order.index("a-0") < order.index("a-1") < order.index("a-2")
    assert order[0] == "b-0"


def test_picks_follow_the_means_as_they_move():
    # Equal histories (30 s over 2 starts), ordered at 20 s. x has clips
    # queued at 0 and 10 s, counted at its oldest's 20 s: mean 17.5 against
    # y's 16.7, so x-0 goes first. That start's 20 s joins x's sums and x's
    # next clip has waited 10 s: x's mean falls to 15, and y goes next.
    docs = clips("x", 2, 0.0, every=10.0) + clips("y", 1, 0.0)
    order = ids(equalized(docs, {"x": (30.0, 2.0), "y": (30.0, 2.0)}, now=20.0))
    assert order == ["x-0", "y-0", "x-1"]


@pytest.fixture
def deadline(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MEDIA_DEADLINE_S", "900")
    monkeypatch.setenv("MEDIA_VIDEO_EXPECTED_S", "60")
    monkeypatch.setenv("MEDIA_VIDEO_EXPECTED_PER_S", "0")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_a_clip_about_to_miss_its_deadline_goes_first(deadline):
    now = 10_000.0
    fresh = clips("big", 5, now - 5)
    for doc in fresh:
        doc["published_at"] = datetime.fromtimestamp(now - 5, UTC)
    old = clips("late", 1, now - 700)
    old[0]["published_at"] = datetime.fromtimestamp(now - 835, UTC)
    # Behind the whole queue at one start a second it would start at 841 s
    # after its publish, and 841 + 60 s passes its 900 s deadline...
    assert ids(urgent_first(fresh + old, now, per_s=1.0))[0] == "late-0"
    # ...ten a second leave it time, and the order stands.
    assert ids(urgent_first(fresh + old, now, per_s=10.0))[-1] == "late-0"


def test_the_wait_history_keeps_recent_campaigns_and_halves_long_ones(monkeypatch):
    monkeypatch.setenv("MEDIA_DEADLINE_S", "900")
    get_settings.cache_clear()
    try:
        waits = pacing.add_wait({}, "a", 4.0, now=1000.0)
        waits = pacing.add_wait(waits, "a", 2.0, now=1001.0)
        assert waits["a"] == [6.0, 2.0, 1001.0]
        # Idle past the deadline: dropped when the next start is written.
        waits = pacing.add_wait(waits, "b", 1.0, now=1001.0 + 901)
        assert set(waits) == {"b"}
        # Halved at HISTORY_HALVE_AT starts: recent starts weigh more.
        waits = {"c": [128.0, float(pacing.HISTORY_HALVE_AT), 5000.0]}
        assert pacing.add_wait(waits, "c", 10.0, now=5001.0)["c"] == [74.0, 33.0, 5001.0]
    finally:
        get_settings.cache_clear()
