"""When a request's deadline starts and what one sweep closes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.core.settings import get_settings
from shared.pipeline.checks import deadline_start, expired, sweep_cutoff


@pytest.fixture
def settings(monkeypatch):
    def use(deadline: int, every: int) -> None:
        monkeypatch.setenv("MEDIA_DEADLINE_S", str(deadline))
        monkeypatch.setenv("MEDIA_SWEEP_EVERY_S", str(every))
        get_settings.cache_clear()

    yield use
    get_settings.cache_clear()


def test_the_deadline_starts_at_the_publish_not_at_the_asset(settings):
    settings(900, 60)
    now = datetime.now(UTC)
    backlogged = {"published_at": now - timedelta(seconds=901), "created_at": now}
    assert deadline_start(backlogged) == backlogged["published_at"]
    assert expired(backlogged)
    assert not expired({"created_at": now - timedelta(seconds=10)})  # older assets


def test_a_sweep_closes_what_would_pass_its_deadline_before_the_next_sweep(settings):
    settings(900, 60)
    cutoff = sweep_cutoff()
    expected = datetime.now(UTC) - timedelta(seconds=840)
    assert abs((cutoff - expected).total_seconds()) < 5
    settings(60, 600)  # a period longer than the deadline: never more than half of it
    assert abs((sweep_cutoff() - (datetime.now(UTC) - timedelta(seconds=30))).total_seconds()) < 5


def test_a_clip_needs_its_expected_time_of_runway_to_start(settings, monkeypatch):
    from shared.pipeline.checks import too_late

    settings(900, 60)
    monkeypatch.setenv("MEDIA_VIDEO_EXPECTED_S", "60")
    monkeypatch.setenv("MEDIA_VIDEO_EXPECTED_PER_S", "5")
    get_settings.cache_clear()
    published = datetime.now(UTC) - timedelta(seconds=800)
    doc = {"published_at": published, "plan": {"duration_seconds": 8}}
    start = published.timestamp()
    # 60 + 5 x 8 = 100 s of runway: a start at 800 s just fits, at 801 s not.
    assert not too_late(doc, start + 800)
    assert too_late(doc, start + 800.5)
    # An owner's retry counts from the retry.
    retried = {**doc, "restarted_at": datetime.now(UTC)}
    assert not too_late(retried, datetime.now(UTC).timestamp())
    assert not too_late({"plan": {"duration_seconds": 8}}, start)  # no clock: never refused
