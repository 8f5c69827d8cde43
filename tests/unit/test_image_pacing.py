"""The image models' adaptive pacing (shared/store/image_pacing.py): slots at
the current rate, halved on a 429 once per epoch, a step back up after each
clean window, within [floor, ceiling]; a 429'd call taken again in a later
slot, on the pipeline's clock (shared/core/clock.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from shared.core import clock
from shared.core.errors import QuotaExceeded, RetriesSpent
from shared.core.settings import get_settings
from shared.store import image_pacing
from shared.store.image_pacing import Limits, Slot, cut, reserve

LIM = Limits(ceiling=60.0, window_s=60.0)  # one a second at most, 3 a minute at least


def slots(doc: dict[str, Any] | None, now: float, n: int) -> tuple[dict[str, Any], list[Slot]]:
    taken = []
    for _ in range(n):
        found = reserve(doc, now, LIM, wait_s=1e9)
        assert found is not None
        doc, slot = found
        taken.append(slot)
    assert doc is not None
    return doc, taken


def test_a_fresh_log_paces_at_the_ceiling():
    doc, taken = slots(None, 100.0, 3)
    assert [s.at for s in taken] == [100.0, 101.0, 102.0]
    assert doc["rate"] == 60.0 and doc["next_at"] == 103.0


def test_a_slot_further_than_the_wait_is_refused_and_nothing_written():
    doc, _ = slots(None, 0.0, 10)  # the next free slot is 10 s away
    assert reserve(doc, 0.0, LIM, wait_s=9.0) is None
    assert reserve(doc, 0.0, LIM, wait_s=10.0) is not None


def test_a_429_halves_the_rate_once_per_epoch():
    doc, taken = slots(None, 0.0, 3)
    after = cut(doc, 3.5, LIM, taken[0])
    assert after is not None
    assert after["rate"] == 30.0 and after["epoch"] == 1
    assert after["next_at"] == 5.5  # a whole interval at the new rate from now
    # The other two calls were paced at the old rate: their 429s say nothing new.
    assert cut(after, 3.6, LIM, taken[1]) is None
    _, [fresh] = slots(after, 3.6, 1)
    assert fresh.epoch == 1 and fresh.at == 5.5
    again = cut(after, 6.0, LIM, fresh)
    assert again is not None and again["rate"] == 15.0


def test_the_rate_never_falls_below_the_floor():
    doc: dict[str, Any] | None = None
    for n in range(10):  # a 429 on every call, so no clean window
        doc, [slot] = slots(doc, n * 1.0, 1)
        doc = cut(doc, slot.at, LIM, slot)
    assert doc is not None and doc["rate"] == LIM.floor == 3.0


def test_each_clean_window_adds_a_step_up_to_the_ceiling():
    doc, [slot] = slots(None, 0.0, 1)
    doc = cut(doc, 0.0, LIM, slot)
    doc = cut(doc, 0.0, LIM, Slot(0.0, 1))  # 15 a minute
    assert doc is not None and doc["rate"] == 15.0
    rates = []
    now = 0.0
    for _ in range(1000):  # a backlog: always a call waiting
        doc, [slot] = slots(doc, now, 1)
        now = slot.at
        rates.append(doc["rate"])
    # One step (3) a window of calls at the rate reached: 15 -> 18 after 60 s,
    # the ceiling after 15 windows.
    assert rates[14] == 15.0 and rates[16] == 18.0
    assert max(rates) == LIM.ceiling == rates[-1]


def test_a_lowered_ceiling_applies_at_once():
    doc, _ = slots(None, 0.0, 1)
    lower = Limits(ceiling=6.0, window_s=60.0)
    found = reserve(doc, 0.0, lower, wait_s=1e9)
    assert found is not None and found[0]["rate"] == 6.0


@pytest.fixture
def paced(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """paced_call over an in-memory log, on a clock of its own."""
    monkeypatch.setenv("MEDIA_IMAGE_CALLS_PER_MIN", "60")
    monkeypatch.setenv("MEDIA_IMAGE_PACING_WAIT_S", "30")
    get_settings.cache_clear()
    fake = clock.StepClock(1000.0)
    monkeypatch.setattr(clock, "_current", fake)
    log: dict[str, Any] = {"doc": None}

    def take_slot(model: str, lim: Limits, wait_s: float) -> Slot | None:
        found = reserve(log["doc"], clock.time(), lim, wait_s)
        if found is None:
            return None
        log["doc"] = found[0]
        return found[1]

    def throttled(model: str, lim: Limits, slot: Slot) -> bool:
        after = cut(log["doc"], clock.time(), lim, slot)
        log["doc"] = after or log["doc"]
        return after is not None

    monkeypatch.setattr(image_pacing, "take_slot", take_slot)
    monkeypatch.setattr(image_pacing, "throttled", throttled)
    yield log
    get_settings.cache_clear()


def test_a_call_met_by_429s_is_taken_again_with_one_intent(paced):
    answers: list[Exception | None] = [QuotaExceeded("429"), QuotaExceeded("429"), None]
    seen = {"each": 0, "first": 0, "calls": []}

    def call() -> str:
        seen["calls"].append(clock.time())
        answer = answers.pop(0)
        if answer is not None:
            raise answer
        return "still"

    def each() -> None:
        seen["each"] += 1

    def first() -> None:
        seen["first"] += 1

    assert image_pacing.paced_call("m", call, each, first) == "still"
    assert seen["each"] == 3 and seen["first"] == 1
    # 60 -> 30 -> 15 a minute: the tries 2 s, then 4 s apart.
    assert seen["calls"] == [1000.0, 1002.0, 1006.0]
    assert paced["doc"]["rate"] == 15.0


def test_past_the_wait_the_delivery_is_handed_back(paced):
    def refused() -> str:
        raise QuotaExceeded("429")

    with pytest.raises(RetriesSpent):
        image_pacing.paced_call("m", refused)
    assert paced["doc"]["rate"] == 3.0  # down to the floor on the way


def test_unpaced_calls_once_with_no_log(monkeypatch):
    monkeypatch.setenv("MEDIA_IMAGE_CALLS_PER_MIN", "0")
    get_settings.cache_clear()
    try:
        monkeypatch.setattr(image_pacing, "take_slot", lambda *a: pytest.fail("no log"))
        with pytest.raises(QuotaExceeded):
            image_pacing.paced_call("m", lambda: (_ for _ in ()).throw(QuotaExceeded("429")))
    finally:
        get_settings.cache_clear()
