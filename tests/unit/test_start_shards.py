"""A Veo model's start log split over shards past 40 starts a minute: the
budgets sum to the quota, a start falls back to another shard when one is
full, and on a simulated clock no rolling window holds more than the quota
nor any shard more than one write a second (shared/store/start_shards.py)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from shared.core import clock
from shared.core.settings import get_settings
from shared.store import connections, pacing, start_shards
from tests.unit.fake_firestore import FakeFirestore

FAST = "veo-3.1-fast-generate-001"


class Counting(FakeFirestore):
    def __init__(self) -> None:
        super().__init__()
        self.writes: dict[str, list[float]] = {}

    def commit(self, path: str, current: dict[str, Any], fields: dict[str, Any]) -> Any:
        self.writes.setdefault(path, []).append(clock.time())
        return super().commit(path, current, fields)


@pytest.fixture
def sim(monkeypatch):
    db, now = Counting(), clock.StepClock()
    monkeypatch.setattr(connections, "firestore_client", lambda: db)
    monkeypatch.setattr(clock, "_current", now)
    get_settings.cache_clear()
    yield db, now
    get_settings.cache_clear()


def quota(monkeypatch, per_min: int, window: float = 60.0) -> pacing.StartLog:
    monkeypatch.setenv("MEDIA_MODEL_QUOTAS", f'{{"{FAST}": {per_min}}}')
    monkeypatch.setenv("MEDIA_VEO_PACING_WINDOW_S", str(window))
    get_settings.cache_clear()
    return pacing.veo_log(FAST)


@pytest.mark.parametrize("per_min", [1, 39, 40, 41, 50, 120, 299, 1000])
def test_the_shards_budgets_sum_to_the_quota(per_min):
    n = start_shards.shard_count(per_min)
    budgets = start_shards.split(per_min, n)
    assert sum(budgets) == per_min
    assert max(budgets) <= start_shards.SHARD_PER_MIN and max(budgets) - min(budgets) <= 1
    assert (n == 1) == (per_min <= start_shards.SHARD_PER_MIN)


def test_a_log_up_to_forty_a_minute_keeps_its_one_document(sim, monkeypatch):
    log = quota(monkeypatch, 40)
    assert [s.doc_id for s in log.parts()] == [log.doc_id]
    assert log.parts()[0].gap == pytest.approx(1.0)  # past 20 a minute: spaced
    log = quota(monkeypatch, 20)
    assert log.parts()[0].gap == 0.0  # its bursts as before


def test_every_start_order_tries_each_shard_once():
    rng = random.Random(3)
    for _ in range(20):
        assert sorted(start_shards.try_order(4, rng)) == [0, 1, 2, 3]


def test_a_start_falls_back_to_a_shard_with_room(sim, monkeypatch):
    db, now = sim
    log = quota(monkeypatch, 120)  # three shards of 40
    parts = log.parts()
    assert [s.budget for s in parts] == [40, 40, 40]
    # Two shards full: whichever shard a start tries first, it lands on the third.
    for shard in parts[:2]:
        db.write(f"pacing/{shard.doc_id}", {"starts": [now.now - 1.0] * shard.budget})
    for seed in range(6):
        random.seed(seed)
        now.sleep(1.0)  # past the third shard's gap
        assert pacing.take_start(log) == now.now
    assert set(db.writes) == {f"pacing/{parts[2].doc_id}"}
    # And when every shard is full, no start.
    db.write(f"pacing/{parts[2].doc_id}", {"starts": [now.now] * 40})
    assert pacing.take_start(log) is None
    assert pacing.next_start_at(log) > now.now


def test_the_wait_histories_of_the_shards_add_up(sim, monkeypatch):
    db, now = sim
    log = quota(monkeypatch, 100)
    for i, shard in enumerate(log.parts()):
        waits = {"c1": [2.0, 1.0, now.now], f"only{i}": [5.0, 1.0, now.now]}
        db.write(f"pacing/{shard.doc_id}", {"starts": [], "waits": waits})
    history = pacing.wait_history(log)
    assert history["c1"] == (2.0 * log.shards, float(log.shards))
    assert history["only0"] == (5.0, 1.0)


def test_the_fair_orders_one_look_at_a_sharded_log_counts_every_shard(sim, monkeypatch):
    db, now = sim
    log = quota(monkeypatch, 120)  # three shards of 40
    parts = log.parts()
    db.write(f"pacing/{parts[0].doc_id}", {"starts": [now.now - 1.0] * 40, "waits": {}})
    # 30 of its 40 in the window, none in the last half span (admit's half rule)
    db.write(f"pacing/{parts[1].doc_id}", {"starts": [now.now - 40.0] * 30, "waits": {}})
    waits = {"c1": [4.0, 2.0, now.now]}
    db.write(f"pacing/{parts[2].doc_id}", {"starts": [], "waits": waits})
    history, free = pacing.log_state(log)
    assert free == 0 + 10 + 20  # full; ten left; an empty shard's first half span
    assert history == pacing.wait_history(log) == {"c1": (4.0, 2.0)}


@pytest.mark.parametrize(("per_min", "window"), [(120, 60.0), (200, 60.0), (90, 20.0)])
def test_never_over_the_quota_and_no_shard_over_a_write_a_second(sim, monkeypatch, per_min, window):
    # A backlog for three windows, a dispatch every tenth of a second of the
    # quota's minute: the model is served near its quota, no rolling window
    # holds more than the quota, no shard document more than one write in
    # any (scaled) second.
    db, now = sim
    log = quota(monkeypatch, per_min, window)
    t0 = now.now
    started: list[float] = []
    while now.now < t0 + 3 * window:
        while pacing.take_start(log) is not None:
            started.append(now.now)
        now.sleep(window / 600)
    rolling = [sum(1 for u in started if t <= u < t + window) for t in started]
    assert max(rolling) <= per_min
    assert len(started) >= 0.9 * 3 * per_min
    second = window / 60
    for times in db.writes.values():
        assert max(sum(1 for u in times if t <= u < t + second) for t in times) == 1
    assert len(db.writes) == start_shards.shard_count(per_min)


def test_project_scope_paces_every_model_on_one_log(sim, monkeypatch):
    # MEDIA_VEO_PACING_SCOPE=project: the design before 0020, one log for all.
    monkeypatch.setenv("MEDIA_VEO_PACING_SCOPE", "project")
    monkeypatch.setenv("MEDIA_VEO_STARTS_PER_MIN", "20")
    monkeypatch.setenv("MEDIA_MODEL_QUOTAS", f'{{"{FAST}": 50}}')
    get_settings.cache_clear()
    logs = [pacing.veo_log(m) for m in (FAST, "veo-3.1-lite-generate-001")]
    assert {(log.doc_id, log.per_min, log.shards) for log in logs} == {("veo-log", 20, 1)}
