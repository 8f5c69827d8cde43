"""Fair from publishing (shared/pipeline/fair_share.py, dispatch.published_order):
max-min shares of the starts in hand, the part held for requests still in
the image stage, and waits counted from publishing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.pipeline import dispatch, fair_share


def test_max_min_shares_give_small_demands_all_and_split_the_rest():
    assert fair_share.water_fill({"a": 10, "b": 2, "c": 2}, 9) == {"a": 5.0, "b": 2.0, "c": 2.0}
    assert fair_share.water_fill({"a": 1, "b": 1}, 9) == {"a": 1.0, "b": 1.0}
    assert fair_share.water_fill({"a": 5, "b": 5}, 4) == {"a": 2.0, "b": 2.0}


def test_a_burst_first_leaves_the_others_share_of_an_idle_window():
    # 15 free starts; a dozen campaigns, one with 20 clips ready, eleven with
    # 2 requests each still in the image stage: 15 / 12 each.
    coming = {f"c{i}": 2 for i in range(11)}
    held = fair_share.held_back({"loud": 20}, coming, {}, 15)
    assert held == 14  # 11 x 1.25, rounded up: the loud campaign starts 1 now
    # Once it has 5 rendering, the others are owed more than the free starts.
    assert fair_share.held_back({"loud": 15}, coming, {"loud": 5}, 10) == 10


def test_nothing_is_held_when_nobody_else_has_work_on_the_way():
    assert fair_share.held_back({"loud": 20}, {}, {}, 15) == 0
    # Its own stills on their way hold back none of its ready clips.
    held = fair_share.held_back({"loud": 5}, {"loud": 30}, {}, 15)
    assert 15 - held >= 5


def test_one_free_start_split_between_a_ready_clip_and_one_on_its_way_is_kept():
    # Half a share each: the start waits for the still on its way, and the
    # order then picks between the two (by mean wait since publishing).
    assert fair_share.held_back({"lucky": 1}, {"patient": 1}, {}, 1) == 1


def test_a_campaign_already_at_its_share_is_owed_nothing_more():
    # The quiet campaign has 3 clips rendering: its share of 4 in hand is 2.
    assert fair_share.held_back({"loud": 4}, {"quiet": 2}, {"quiet": 3}, 1) == 0


def test_the_order_counts_waits_from_publishing_not_from_queueing():
    t = 1000.0
    docs = [
        # Queued first, but published just now: its still was quick.
        {
            "campaign_id": "quick",
            "asset_id": "q",
            "published_at": t - 1,
            "video_queued_at": t - 0.5,
        },
        # Published long ago, its still slow: queued a moment later.
        {"campaign_id": "slow", "asset_id": "s", "published_at": t - 8, "video_queued_at": t - 0.2},
    ]
    assert [d["asset_id"] for d in dispatch.equalized(docs, {}, t)] == ["q", "s"]
    queue, limit = dispatch.published_order(docs, {}, {}, {}, t, 2, 0.5)
    assert [d["asset_id"] for d in queue] == ["s", "q"] and limit is None  # nothing held


def test_published_at_reads_the_assets_stamp_or_falls_back_to_the_queue_time():
    stamp = datetime(2026, 1, 1, tzinfo=UTC)
    assert fair_share.published_at({"published_at": stamp}) == stamp.timestamp()
    assert fair_share.published_at({"created_at": stamp}) == stamp.timestamp()
    assert fair_share.published_at({"video_queued_at": 12.5}) == pytest.approx(12.5)
