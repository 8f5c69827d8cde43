"""Both caps under random concurrent interleavings: one player's requests from
five sessions reserve (some twice, as duplicates), then settle or release, on
many threads at once. The fake store checks every committed write of every
book (spent + reserved <= cap); at the end both books agree key by key."""

from __future__ import annotations

import random
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.core.settings import get_settings
from shared.store import charges, connections, ledger, players, spend
from shared.store.optimistic import forget_versions
from tests.unit.fake_firestore import FakeFirestore

STILL, CLIP = 40_000, 300_000


def _one(db: FakeFirestore, n: int, rng: random.Random, session_cap: int) -> None:
    forget_versions()
    asset = {
        "asset_id": f"a{n}",
        "campaign_id": f"c{n % 5}",
        "session_id": "s1",
        "player_id": "p1",
        "request_id": f"req-{n:04d}",
        "plan": {},
    }
    options = [{"image": STILL, "video": CLIP}, {"image": STILL}]
    for _ in range(1 + (rng.random() < 0.3)):  # a duplicate delivery, sometimes
        choice, _ = spend.reserve(
            asset["campaign_id"], "s1", asset["asset_id"], session_cap, options, "p1"
        )
    if choice is None:
        return
    stages = list(options[choice])
    outcome = rng.random()
    if outcome < 0.6:  # everything paid for and charged
        for stage in stages:
            spend.settle(asset, stage, options[choice][stage])
    elif outcome < 0.8:  # the still charged, the clip failed
        spend.settle(asset, "image", STILL)
        spend.release(asset)
    else:  # closed before anything was charged
        spend.release(asset)


@settings(max_examples=8, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    player_cap=st.integers(0, 3_000_000),
    session_cap=st.integers(0, 1_500_000),
)
def test_both_caps_hold_and_the_books_agree(seed: int, player_cap: int, session_cap: int) -> None:
    db = FakeFirestore()
    patch = pytest.MonkeyPatch()
    patch.setattr(connections, "firestore_client", lambda: db)
    patch.setattr(charges, "publish", lambda charge: None)
    patch.delenv("MEDIA_DAILY_CAP_USD", raising=False)
    get_settings.cache_clear()
    try:
        players.set_cap("p1", player_cap)
        rng = random.Random(seed)
        seeds = [rng.random() for _ in range(30)]
        threads = [
            threading.Thread(target=_one, args=(db, n, random.Random(s), session_cap))
            for n, s in enumerate(seeds)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        patch.undo()
        get_settings.cache_clear()
    assert db.violations == []
    player = db.read("players/p1")
    assert player is not None
    holds, charged = ledger.held_maps(player)
    assert holds == {}
    session_charges: dict[str, int] = {}
    for c in range(5):
        s_holds, s_charges = ledger.held_maps(db.read(f"campaigns/c{c}/sessions/s1"))
        assert s_holds == {}
        session_charges.update(s_charges)
    assert charged == session_charges
    assert sum(charged.values()) <= player_cap
