"""How both ways of recording a clip begin (shared/pipeline/finish.py
`animating`): closed when past the deadline, else leased and read again."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from shared.core.errors import Busy
from shared.pipeline import finish
from shared.store import assets

DOC = {"campaign_id": "c1", "asset_id": "a1", "status": "animating"}


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    seen: dict[str, Any] = {"expired": False, "closed": 0, "leases": [], "now": dict(DOC)}

    @contextmanager
    def leased(cid: str, aid: str, owner: str, lease_s: float, stage: str) -> Iterator[None]:
        seen["leases"].append((cid, aid, stage, "held"))
        yield
        seen["leases"][-1] = (cid, aid, stage, "released")

    monkeypatch.setattr(finish, "expired", lambda doc: seen["expired"])
    monkeypatch.setattr(
        finish, "close_expired", lambda doc: seen.__setitem__("closed", seen["closed"] + 1)
    )
    monkeypatch.setattr(assets, "leased", leased)
    monkeypatch.setattr(assets, "load", lambda cid, aid: seen["now"])
    return seen


def test_past_the_deadline_it_is_closed_without_a_lease(seen: dict[str, Any]) -> None:
    seen["expired"] = True
    assert finish.adopt_output(DOC, "gs://b/veo-out/c1/a1/x/sample_0.mp4", None) == "timeout"
    assert finish.finish_operation(DOC, "op", model=None) == "timeout"  # type: ignore[arg-type]
    assert seen["closed"] == 2 and seen["leases"] == []


@pytest.mark.parametrize("now", [None, {**DOC, "status": "partial"}])
def test_an_asset_that_moved_on_is_left_alone(seen: dict[str, Any], now: Any) -> None:
    seen["now"] = now
    assert finish.adopt_output(DOC, "gs://b/veo-out/c1/a1/x/sample_0.mp4", None) == "closed"
    assert finish.finish_operation(DOC, "op", model=None) == "closed"  # type: ignore[arg-type]
    assert seen["leases"] == [("c1", "a1", "animating", "released")] * 2


def test_the_fresh_document_is_recorded_under_the_lease(
    seen: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded: list[tuple[Any, ...]] = []

    def record(doc: dict[str, Any], result: Any, output_at: Any = None) -> str:
        recorded.append((doc, result.uri, list(seen["leases"])))
        return "complete"

    now = {**DOC, "video_checks": 1, "video_start_uncertain_at": 1.0}
    seen["now"] = now
    monkeypatch.setattr(finish, "record", record)
    monkeypatch.setattr(finish, "refusal_of_output", lambda uri, asked_s: None)
    assert finish.adopt_output(DOC, "gs://b/o.mp4", 1.0) == "complete"
    assert recorded == [(now, "gs://b/o.mp4", [("c1", "a1", "animating", "held")])]
    assert seen["leases"] == [("c1", "a1", "animating", "released")]


@pytest.fixture
def busy(seen: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Another delivery holds the lease (a sweep's check of the current clip)."""

    @contextmanager
    def leased(cid: str, aid: str, owner: str, lease_s: float, stage: str) -> Iterator[None]:
        raise Busy("another delivery is working on this asset")
        yield  # pragma: no cover - a generator, as the real one

    monkeypatch.setattr(assets, "leased", leased)
    return seen


def test_a_stale_check_meeting_a_held_lease_is_stale_not_busy(busy: dict[str, Any]) -> None:
    busy["now"] = {**DOC, "video_operation": "op-2"}  # the owner's retry moved on
    assert finish.finish_operation(DOC, "op-1", model=None) == "stale"  # type: ignore[arg-type]


def test_a_current_check_meeting_a_held_lease_is_retried(busy: dict[str, Any]) -> None:
    busy["now"] = {**DOC, "video_operation": "op-1"}
    with pytest.raises(Busy):
        finish.finish_operation(DOC, "op-1", model=None)  # type: ignore[arg-type]
    with pytest.raises(Busy):  # an adoption names no operation: always retried
        finish.adopt_output(DOC, "gs://b/veo-out/c1/a1/x/sample_0.mp4", None)
