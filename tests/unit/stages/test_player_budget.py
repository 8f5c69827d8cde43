"""A player's lifetime cap (players/{player_id}, shared/store/players.py) next
to the session's: admitted only if both afford it, degraded to a still as for
a session, charged once in both books, released from both, and a crash
between the two books repaired by a redelivery or the closer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.pipeline import takes
from shared.pipeline.janitor import sweep
from shared.store import ledger, players
from tests.unit.fakes import Crash, FakeImageModel, FakeVideoModel, World
from tests.unit.stages.helpers import aid, deliver_request, drain, plan_of, request, run

LONG_AGO = datetime.now(UTC) - timedelta(hours=2)


def _prices(world: World, image: FakeImageModel, video: FakeVideoModel) -> tuple[int, int]:
    """(still, clip) micro-dollars of a cutscene, from one run in another session."""
    plan = plan_of(run(world, image, video, request("req-probe", session="probe")))
    return plan.image_micros, plan.video_micros


def test_a_player_short_of_the_clip_gets_a_still_though_the_session_has_room(
    world: World, image: FakeImageModel, video: FakeVideoModel
) -> None:
    still, clip = _prices(world, image, video)
    players.set_cap("p1", still + clip - 1)
    doc = run(world, image, video, request(player_id="p1"))
    assert (doc["status"], doc["status_reason"]) == ("partial", "budget")
    assert len(video.starts) == 1  # the probe's clip only
    key = ledger.hold_key(aid(), "image")
    assert world.books("c1", "s1") == ({}, {key: still})
    assert ledger.held_maps(world.player("p1")) == ({}, {key: still})


def test_a_player_short_of_the_still_is_refused_and_the_session_keeps_nothing(
    world: World, image: FakeImageModel, video: FakeVideoModel
) -> None:
    still, _ = _prices(world, image, video)
    players.set_cap("p1", still - 1)
    doc = run(world, image, video, request(player_id="p1"))
    assert (doc["status"], doc["status_reason"]) == ("rejected", "budget")
    assert "campaigns/c1/sessions/s1" not in world.ledgers()  # not even written
    assert ledger.held_maps(world.player("p1")) == ({}, {})


def test_a_player_without_a_cap_is_uncapped_and_its_spend_recorded(
    world: World, image: FakeImageModel, video: FakeVideoModel
) -> None:
    doc = run(world, image, video, request(player_id="p1"))
    assert doc["status"] == "complete"
    _, charges = world.books("c1", "s1")
    assert ledger.held_maps(world.player("p1")) == ({}, charges)
    balance = players.read_balance("p1")
    assert (balance.cap_micros, balance.remaining_micros) == (None, None)
    assert balance.spent_micros == sum(charges.values())
    assert players.read_balance("nobody").as_usd() == {
        "cap_usd": None,
        "spent_usd": 0.0,
        "reserved_usd": 0.0,
        "remaining_usd": None,
    }


def test_a_players_cap_spans_campaigns_and_sessions(
    world: World, image: FakeImageModel, video: FakeVideoModel
) -> None:
    still, clip = _prices(world, image, video)
    world.campaign("c2")
    players.set_cap("p1", 2 * (still + clip))
    ends = [
        run(world, image, video, request(f"req-000{n}", campaign=c, session=s, player_id="p1"))
        for n, (c, s) in enumerate([("c1", "s1"), ("c2", "s1"), ("c1", "s2")])
    ]
    assert [d["status"] for d in ends] == ["complete", "complete", "rejected"]
    balance = players.read_balance("p1")
    assert (balance.spent_micros, balance.remaining_micros) == (2 * (still + clip), 0)


def test_a_duplicate_is_charged_once_in_both_books(
    world: World, image: FakeImageModel, video: FakeVideoModel
) -> None:
    players.set_cap("p1", 10_000_000)
    data = request(player_id="p1")
    deliver_request(data, image, "ev-1")
    deliver_request(data, image, "ev-2")
    drain(world, video)
    deliver_request(data, image, "ev-3")
    assert world.asset("c1", aid())["status"] == "complete"
    _, charges = world.books("c1", "s1")
    assert len(charges) == 2 and ledger.held_maps(world.player("p1")) == ({}, charges)


def test_a_crash_between_the_books_is_repaired_by_the_redelivery(
    world: World, image: FakeImageModel, video: FakeVideoModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    players.set_cap("p1", 10_000_000)
    real = players.reserve_first_fit
    calls: list[int] = []

    def dies_once(player_id: str, options: list[dict[str, int]]) -> int | None:
        calls.append(1)
        if len(calls) == 1:
            raise Crash("between the session's hold and the player's")
        return real(player_id, options)

    monkeypatch.setattr(players, "reserve_first_fit", dies_once)
    data = request(player_id="p1")
    with pytest.raises(Crash):
        deliver_request(data, image, "ev-1")
    held, _ = world.books("c1", "s1")
    assert len(held) == 2 and world.player("p1")["holds"] == {}
    deliver_request(data, image, "ev-2")
    drain(world, video)
    assert world.asset("c1", aid())["status"] == "complete"
    _, charges = world.books("c1", "s1")
    assert ledger.held_maps(world.player("p1")) == ({}, charges)


def test_the_closer_releases_a_stuck_assets_holds_in_both_books(
    world: World, image: FakeImageModel
) -> None:
    players.set_cap("p1", 10_000_000)

    class Stops(FakeImageModel):  # the process dies in the middle of the image call
        def generate(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            super().generate(*args, **kwargs)
            raise Crash("killed")

    with pytest.raises(Crash):
        deliver_request(request(player_id="p1"), Stops(world))
    assert world.player("p1")["reserved_micros"] > 0
    world.edit("c1", aid(), published_at=LONG_AGO, created_at=LONG_AGO)
    assert sweep() == 1
    assert world.asset("c1", aid())["status"] == "failed"
    assert world.books("c1", "s1") == ({}, {}) and world.player("p1")["holds"] == {}


def test_a_cap_lowered_to_what_is_committed_stops_new_holds_and_keeps_the_charges(
    world: World, image: FakeImageModel, video: FakeVideoModel
) -> None:
    still, clip = _prices(world, image, video)
    players.set_cap("p1", 2 * (still + clip))
    assert run(world, image, video, request("req-0001", player_id="p1"))["status"] == "complete"
    balance = players.set_cap("p1", still + clip)
    assert (balance.spent_micros, balance.remaining_micros) == (still + clip, 0)
    refused = run(world, image, video, request("req-0002", player_id="p1"))
    assert (refused["status"], refused["status_reason"]) == ("rejected", "budget")
    assert players.read_balance("p1") == balance


def test_an_owners_retried_clip_must_fit_the_player_too(
    world: World, image: FakeImageModel, video: FakeVideoModel
) -> None:
    still, clip = _prices(world, image, video)
    players.set_cap("p1", still + clip - 1)
    assert run(world, image, video, request(player_id="p1"))["status_reason"] == "budget"
    takes.reanimate("c1", aid())  # the player still cannot afford the clip
    drain(world, video)
    doc = world.asset("c1", aid())
    assert (doc["status"], doc["status_reason"], len(video.starts)) == ("partial", "budget", 1)
    players.set_cap("p1", still + clip)  # the host raises the cap: the retry fits
    takes.reanimate("c1", aid())
    drain(world, video)
    doc = world.asset("c1", aid())
    assert (doc["status"], len(video.starts)) == ("complete", 2)
    key = ledger.hold_key(aid(), "video.3")
    assert ledger.held_maps(world.player("p1")) == (
        {},
        {ledger.hold_key(aid(), "image"): still, key: clip},
    )
    assert players.read_balance("p1").remaining_micros == 0


def test_a_crash_before_the_session_gives_back_the_clip_is_repaired_by_the_redelivery(
    world: World, image: FakeImageModel, video: FakeVideoModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    still, clip = _prices(world, image, video)
    players.set_cap("p1", still + clip - 1)
    # The first delivery's look at the player's book saw room for the clip
    # (another request's hold was released meanwhile, say); the player's
    # hold then took the still only, and the delivery died before the
    # session gave the clip's hold back.
    real_look, real_release = players.could_fit, ledger.release
    monkeypatch.setattr(players, "could_fit", lambda player_id, options: 0)

    def dies(campaign_id: str, session_id: str, keys: list[str]) -> dict[str, int]:
        raise Crash("before the session gave the clip back")

    monkeypatch.setattr(ledger, "release", dies)
    data = request(player_id="p1")
    with pytest.raises(Crash):
        deliver_request(data, image, "ev-1")
    assert len(world.books("c1", "s1")[0]) == 2
    monkeypatch.setattr(players, "could_fit", real_look)
    monkeypatch.setattr(ledger, "release", real_release)
    deliver_request(data, image, "ev-2")
    drain(world, video)
    doc = world.asset("c1", aid())
    assert (doc["status"], doc["status_reason"]) == ("partial", "budget")
    key = ledger.hold_key(aid(), "image")
    assert world.books("c1", "s1") == ({}, {key: still})
    assert ledger.held_maps(world.player("p1")) == ({}, {key: still})
