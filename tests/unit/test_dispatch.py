"""Paced Veo starts: round-robin across campaigns, and the rolling start log."""

from __future__ import annotations

import pytest

from shared.core.settings import get_settings
from shared.pipeline.dispatch import fair_order, virtual_clock
from shared.store import pacing


def waiting(campaign: str, n: int, first_at: float) -> list[dict]:
    return [
        {"campaign_id": campaign, "asset_id": f"{campaign}-{i}", "video_queued_at": first_at + i}
        for i in range(n)
    ]


def test_a_burst_cannot_hold_other_campaigns_back():
    docs = waiting("big", 20, 0.0) + waiting("a", 2, 5.0) + waiting("b", 1, 3.0)
    order = [d["asset_id"] for d in fair_order(docs)]
    # Each round serves every campaign once, the one waiting longest first.
    assert order[:3] == ["big-0", "b-0", "a-0"]
    assert order[3:5] == ["big-1", "a-1"]
    assert order[5:] == [f"big-{i}" for i in range(2, 20)]


def test_a_campaign_already_rendering_yields_to_one_that_is_not():
    docs = waiting("big", 3, 0.0) + waiting("small", 2, 10.0)
    order = [d["asset_id"] for d in fair_order(docs, {"big": 1})]
    assert order == ["small-0", "big-0", "small-1", "big-1", "big-2"]


def test_each_campaign_is_served_oldest_first():
    docs = list(reversed(waiting("c", 5, 10.0)))
    assert [d["asset_id"] for d in fair_order(docs)] == [f"c-{i}" for i in range(5)]


def rolling_max(times: list[float], window: float) -> int:
    times = sorted(times)
    return max((sum(1 for u in times if t <= u < t + window) for t in times), default=0)


@pytest.mark.parametrize(("budget", "window"), [(50, 60.0), (30, 20.0), (5, 4.0)])
def test_no_rolling_window_holds_more_starts_than_the_budget(budget, window):
    # Dispatches at irregular moments, some far apart: whatever their times,
    # the admitted starts keep to the budget in every window, with one start
    # interval to spare for the time a call takes to reach Veo.
    span = window + window / budget
    log: list[float] = []
    taken = []
    t = 0.0
    for step in [0.01, 0.3, 2.5, 0.05, 7.0, 0.01, 0.01, 1.1] * 60:
        t += step * window / 200  # about 150 dispatches a window
        after = pacing.admit(log, t, budget, span)
        if after is not None:
            log = after
            taken.append(t)
    assert (
        rolling_max([x + 0.99 * window / budget for x in taken[::2]] + taken[1::2], window)
        <= budget
    )
    assert len(taken) >= 0.9 * budget * (t / window)


def test_a_start_nobody_took_in_time_is_not_lost_only_spread():
    # Budget 5 per 4 s: a span of 4.8 s, at most 3 in any 2.4 s. After a start
    # at 0 nobody dispatches until 3.0 s: three start then, and the other
    # two of the budget at 5.4 s, when those three leave the half span.
    budget, span = 5, 4.8
    log = pacing.admit([], 0.0, budget, span)
    assert log == [0.0]
    for _ in range(3):
        log = pacing.admit(log, 3.0, budget, span)
        assert log is not None
    assert pacing.admit(log, 3.0, budget, span) is None
    assert pacing.free_at(log, 3.0, budget, span) == pytest.approx(5.4)
    for _ in range(2):
        log = pacing.admit(log, 5.41, budget, span)
        assert log is not None
    assert pacing.admit(log, 5.41, budget, span) is None  # five in the span
    assert pacing.free_at(log, 5.41, budget, span) == pytest.approx(7.8)


def test_half_the_budget_at_most_in_any_half_span():
    # An idle log and a burst: 30 a minute (span 62 s) lets 15 start at once,
    # the next when the first leaves the half span, and 30 over the span.
    budget, span = 30, 62.0
    log: list[float] = []
    for _ in range(15):
        log = pacing.admit(log, 0.0, budget, span) or log
    assert len(log) == 15 and pacing.admit(log, 0.0, budget, span) is None
    assert pacing.free_at(log, 0.0, budget, span) == pytest.approx(31.0)
    assert pacing.half_budget(1) == 1 and pacing.half_budget(5) == 3


def test_the_span_is_the_window_plus_one_start_interval(monkeypatch):
    monkeypatch.setenv("MEDIA_VEO_STARTS_PER_MIN", "30")
    monkeypatch.setenv("MEDIA_VEO_PACING_WINDOW_S", "60")
    get_settings.cache_clear()
    try:
        log = pacing.veo_log("veo-3.1-fast-generate-001")
        assert log.budget_and_span() == (30, pytest.approx(62.0))
        assert log.starts_per_s() * 60 == pytest.approx(30 * 30 / 31)
    finally:
        get_settings.cache_clear()


def test_guidance_says_when_the_video_queue_is_long(monkeypatch):
    from shared.aidm import guidance

    monkeypatch.setattr("shared.store.pacing.queue_minutes", lambda: 6.4)
    assert "video queue is long (about 6 min" in guidance.queue_note()
    monkeypatch.setattr("shared.store.pacing.queue_minutes", lambda: 0.5)
    assert guidance.queue_note() == ""
    monkeypatch.setattr("shared.store.pacing.queue_minutes", lambda: None)  # unpaced
    assert guidance.queue_note() == ""


def test_first_come_an_old_clip_is_not_overtaken_forever():
    # One start per 2 s: the burst's first two clips keep their place ahead
    # of the quiet campaign's clip queued at 5 s, the later two yield to it.
    docs = waiting("big", 4, 0.0) + waiting("quiet", 1, 5.0)
    order = [d["asset_id"] for d in virtual_clock(docs, [], interval_s=2.0)]
    assert order == ["big-0", "big-1", "big-2", "quiet-0", "big-3"]


def burst(campaign: str, n: int, at: float) -> list[dict]:
    return [
        {"campaign_id": campaign, "asset_id": f"{campaign}-{i}", "video_queued_at": at + i * 0.01}
        for i in range(n)
    ]


def test_a_burst_holds_others_back_no_longer_than_if_published_at_the_quota_rate():
    # 10 clips at once, one start a second: a clip queued 3.5 s later goes
    # after the burst's first four (turns 0-3 s), not after all ten.
    docs = burst("big", 10, 0.0) + waiting("quiet", 1, 3.5)
    order = [d["asset_id"] for d in virtual_clock(docs, [], interval_s=1.0)]
    assert order.index("quiet-0") == 4


def test_a_campaign_publishing_no_faster_than_the_quota_keeps_its_place():
    # A busy campaign with five clips rendering and more waiting, each queued
    # 2 s apart (slower than one start a second): none of them was a burst,
    # so a quiet campaign's clip queued at 12.5 s goes after every busy clip
    # queued before it, not ahead of them.
    rendering = [dict(d, video_operation="op") for d in waiting("busy", 5, 0.0)]
    for i, d in enumerate(rendering):
        d["video_queued_at"] = i * 2.0
    queued = [
        {"campaign_id": "busy", "asset_id": f"busy-{i}", "video_queued_at": i * 2.0}
        for i in range(5, 8)
    ]
    docs = queued + waiting("quiet", 1, 12.5)
    order = [d["asset_id"] for d in virtual_clock(docs, rendering, 1.0)]
    assert order == ["busy-5", "busy-6", "quiet-0", "busy-7"]


def test_clips_already_rendering_keep_a_burst_spread_across_dispatch_calls():
    # Four of a 10-clip burst started already; the other six keep the turns
    # 4..9 s, so a clip queued at 5.5 s still goes between them.
    clips = burst("big", 10, 0.0)
    rendering = [dict(d, video_operation="op") for d in clips[:4]]
    docs = clips[4:] + waiting("quiet", 1, 5.5)
    order = [d["asset_id"] for d in virtual_clock(docs, rendering, 1.0)]
    assert order == ["big-4", "big-5", "quiet-0", "big-6", "big-7", "big-8", "big-9"]


@pytest.mark.parametrize(("budget", "window"), [(50, 60.0), (30, 20.0), (5, 4.0), (1, 60.0)])
def test_under_a_backlog_the_half_span_limit_keeps_the_whole_rate(budget, window):
    # Always a clip waiting, a dispatch every 1/200 of a window, for ten
    # windows: as many starts as the span alone allows, give or take one.
    span = window + window / budget
    log: list[float] = []
    count = 0
    for step in range(2000):
        after = pacing.admit(log, step * window / 200, budget, span)
        if after is not None:
            log, count = after, count + 1
    ceiling = budget * 10 * window / span
    assert ceiling - 1 <= count <= ceiling + budget, (count, ceiling)
