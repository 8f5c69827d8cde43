"""Paced Veo starts: round-robin across campaigns, and the token slots."""

from __future__ import annotations

import pytest

from shared.core.settings import get_settings
from shared.pipeline.dispatch import fair_order
from shared.store import pacing


def waiting(campaign: str, n: int, first_at: float) -> list[dict]:
    return [{"campaign_id": campaign, "asset_id": f"{campaign}-{i}",
             "video_queued_at": first_at + i} for i in range(n)]


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


@pytest.mark.parametrize(("rate", "window", "shape"), [
    (50, 60.0, (60 / 49, 1)), (30, 60.0, (60 / 29, 1)), (6, 60.0, (12.0, 1))])
def test_no_rolling_window_holds_more_starts_than_the_budget(
        monkeypatch, rate, window, shape):
    monkeypatch.setenv("MEDIA_VEO_STARTS_PER_MIN", str(rate))
    monkeypatch.setenv("MEDIA_VEO_PACING_WINDOW_S", str(window))
    get_settings.cache_clear()
    try:
        assert pacing.slot_shape() == pytest.approx(shape)
        slot_s, per_slot = pacing.slot_shape()
        # A rolling window touches window / slot_s + 1 slots at most.
        assert per_slot * (window / slot_s + 1) <= rate + 1e-9
        assert per_slot * window / slot_s >= 0.9 * rate or rate < 10
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


def test_weighted_by_waiting_time_an_old_clip_is_not_overtaken_forever():
    # One start per 2 s: the burst's first two clips keep their place ahead
    # of the quiet campaign's clip queued at 5 s, the later two yield to it.
    docs = waiting("big", 4, 0.0) + waiting("quiet", 1, 5.0)
    order = [d["asset_id"] for d in fair_order(docs, {}, interval_s=2.0)]
    assert order == ["big-0", "big-1", "quiet-0", "big-2", "big-3"]
