"""Leases on the Firestore emulator: one stage, one holder, always given back."""

from __future__ import annotations

import time

import pytest

from shared.core.errors import Busy
from shared.store import assets


def make(status: str, lease=None) -> str:
    aid = f"alease{status.replace('_', '')}{int(time.time() * 1e6) % 10**9}"
    assets.asset_ref("c1", aid).set(
        {"asset_id": aid, "campaign_id": "c1", "status": status, "lease": lease}
    )
    return aid


def lease_of(aid: str):
    return assets.load("c1", aid).get("lease")


def test_only_the_current_stage_can_be_claimed(stack):
    aid = make("animating")
    # A late duplicate of the still's stage must not block the clip's stage.
    assert not assets.claim("c1", aid, "late-render", 30, "rendering_image")
    assert lease_of(aid) is None
    assert assets.claim("c1", aid, "animator", 30, "animating")
    assert not assets.claim("c1", aid, "other-animator", 30, "animating")
    assert assets.claim("c1", aid, "animator", 30, "animating")  # renewal


def test_an_expired_lease_can_be_taken_over(stack):
    aid = make("animating", {"owner": "crashed", "until": time.time() - 1})
    assert assets.claim("c1", aid, "next", 30, "animating")
    assert lease_of(aid)["owner"] == "next"


def test_a_stage_gives_its_lease_back_however_it_ends(stack):
    aid = make("animating")
    with assets.leased("c1", aid, "me", 30, "animating"):
        assert lease_of(aid)["owner"] == "me"
    assert lease_of(aid) is None
    with pytest.raises(RuntimeError), assets.leased("c1", aid, "me", 30, "animating"):
        raise RuntimeError("boom")
    assert lease_of(aid) is None
    assets.claim("c1", aid, "holder", 30, "animating")
    with pytest.raises(Busy), assets.leased("c1", aid, "me", 30, "animating"):
        pass
    assert lease_of(aid)["owner"] == "holder"  # a refused claimant releases nothing
