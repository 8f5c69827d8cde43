"""A rewind (shared/pipeline/takes.py rewind): every asset of the session past
the turn is hidden as `hide` hides one, in flight ones included (they end
`hidden`, their holds released), and the count is of the assets it hid."""

from __future__ import annotations

import json

from shared.pipeline import takes
from tests.unit.fakes import FakeImageModel, FakeVideoModel, World
from tests.unit.stages.helpers import aid, deliver_request, plan_of, request, run


def _at(turn: int, request_id: str, session: str = "s1") -> bytes:
    return request(request_id, session=session, turn_number=turn, turn_id=f"t-{turn}")


def test_a_rewind_hides_the_later_turns_and_stops_the_one_in_flight(
    world: World, image: FakeImageModel
) -> None:
    world.campaign("c1", budget_per_session_usd=50.0)
    done = FakeVideoModel(world)
    before = run(world, image, done, _at(2, "req-before"))
    after = run(world, image, done, _at(3, "req-after"))
    other_session = run(world, image, done, _at(4, "req-other", session="s2"))
    rendering = FakeVideoModel(world, ["pending"])
    in_flight = run(world, image, rendering, _at(4, "req-flight"))
    assert in_flight["status"] == "animating"
    assert f"{in_flight['asset_id']}:video" in world.books("c1", "s1")[0]  # the clip's hold

    assert takes.rewind("c1", "s1", 2) == 2

    for doc in (after, in_flight):
        now = world.asset("c1", doc["asset_id"])
        assert now["hidden"] is True
    ended = world.asset("c1", in_flight["asset_id"])
    assert (ended["status"], ended["status_reason"]) == ("partial", "hidden")
    holds, charges = world.books("c1", "s1")
    assert holds == {}  # the in-flight clip's hold is released
    assert charges[f"{in_flight['asset_id']}:image"] == plan_of(ended).image_micros
    assert world.asset("c1", after["asset_id"])["status"] == "complete"
    # the turn before the point and the other session are untouched
    assert world.asset("c1", before["asset_id"])["hidden"] is False
    assert world.asset("c1", other_session["asset_id"])["hidden"] is False
    kept = {name for name in world.storage.objects if before["asset_id"] in name}
    gone = [n for n in world.storage.objects if after["asset_id"] in n or ended["asset_id"] in n]
    assert kept and gone == []
    # again: nothing new to hide
    assert takes.rewind("c1", "s1", 2) == 0


def test_a_rewind_while_the_still_renders_ends_it_hidden_with_the_still_charged(
    world: World, video: FakeVideoModel
) -> None:
    class RewoundMeanwhile(FakeImageModel):
        def generate(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            hid.append(takes.rewind("c1", "s1", 0))  # the host rewinds while it works
            return super().generate(*args, **kwargs)

    hid: list[int] = []
    deliver_request(_at(3, "req-0001"), RewoundMeanwhile(world))
    assert hid == [1]
    doc = world.asset("c1", aid())
    assert (doc["status"], doc["status_reason"], doc["hidden"]) == ("partial", "hidden", True)
    assert video.starts == [] and world.animate_messages == []
    assert world.books("c1", "s1") == ({}, {f"{aid()}:image": plan_of(doc).image_micros})
    assert world.storage.objects == {}


def test_a_rewind_pages_through_many_assets(world: World) -> None:
    from shared.domain.request import parse_request
    from shared.store import asset_queries, assets

    for n in range(7):
        body = parse_request(json.loads(_at(5 + n, f"req-many-{n}")), "b")
        assets.create_if_absent(
            "c1", aid(f"req-many-{n}"), assets.new_asset(body, aid(f"req-many-{n}"))
        )
    pages = list(asset_queries.session_assets_after("c1", "s1", 6, page=2))
    assert [d["turn_number"] for d in pages] == [7, 8, 9, 10, 11]
    assert takes.rewind("c1", "s1", 4) == 7
    assert all(world.asset("c1", aid(f"req-many-{n}"))["hidden"] for n in range(7))


def test_the_sdks_rewind_reports_instead_of_raising(
    world: World, image: FakeImageModel, video: FakeVideoModel
) -> None:
    from shared.client import MediaClient, RewindResult

    world.campaign("c1", budget_per_session_usd=50.0)
    later = run(world, image, video, _at(3, "req-later"))
    client = MediaClient()
    assert client.rewind("c1", "s1", -1) == RewindResult(
        False, reason="invalid: after_turn must be an integer from 0 to 10000000"
    )
    assert not client.rewind("c1", "__s__", 1).ok
    assert not client.rewind("c1", "s1", True).ok  # type: ignore[arg-type]
    assert client.rewind("nope", "s1", 1) == RewindResult(False, reason="no campaign 'nope'")
    path = f"campaigns/c1/media/{later['asset_id']}"
    world.db.fail_writes[path] = RuntimeError("firestore away")
    failed = client.rewind("c1", "s1", 1)
    assert not failed.ok and "RuntimeError: firestore away" in (failed.reason or "")
    del world.db.fail_writes[path]
    assert client.rewind("c1", "s1", 1) == RewindResult(True, hidden=1)  # again finishes it


def test_a_request_published_before_the_rewind_but_delivered_after_it_is_hidden(
    world: World, image: FakeImageModel, video: FakeVideoModel
) -> None:
    from datetime import UTC, datetime, timedelta

    world.campaign("c1", budget_per_session_usd=50.0)
    published = datetime.now(UTC) - timedelta(seconds=1)  # waiting in a backlog
    assert takes.rewind("c1", "s1", 2) == 0  # its asset does not exist yet
    deliver_request(_at(3, "req-backlog"), image, published_at=published)
    doc = world.asset("c1", aid("req-backlog"))
    assert (doc["status"], doc["status_reason"], doc["hidden"]) == ("failed", "hidden", True)
    assert image.calls == 0 and world.ledgers() == {}
    # Turn 3 asked for again after the rewind, and a turn it kept: made as usual.
    deliver_request(_at(3, "req-again"), image, published_at=datetime.now(UTC))
    deliver_request(_at(2, "req-kept"), image, event_id="ev-2", published_at=published)
    for request_id in ("req-again", "req-kept"):
        assert world.asset("c1", aid(request_id))["status"] == "animating"
    # Another session's rewind is not this one's.
    deliver_request(
        _at(3, "req-session-2", session="s2"), image, event_id="ev-3", published_at=published
    )
    assert world.asset("c1", aid("req-session-2"))["hidden"] is False
