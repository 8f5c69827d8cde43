"""`GET /campaigns/{cid}/me`: whether the caller owns the campaign (the web
player shows the owner's buttons from it)."""

from __future__ import annotations

import pytest

from shared.client import configure_campaign
from tests.integration.test_media_api import assert_error, call

pytestmark = pytest.mark.integration


def test_me_says_who_owns_the_campaign(stack):
    configure_campaign("c1", enabled=True, budget_usd=1.0, members=["alice", "gm"], owners=["gm"])
    owner = call(stack, "/campaigns/c1/me", user="gm")
    assert owner.status == 200, owner.raw
    assert owner.json == {"uid": "gm", "member": True, "owner": True}
    assert owner.headers.get("Cache-Control") == "private, no-store"
    assert call(stack, "/campaigns/c1/me", user="alice").json == {
        "uid": "alice",
        "member": True,
        "owner": False,
    }


def test_me_refuses_strangers_and_bad_ids(stack):
    configure_campaign("c1", enabled=True, budget_usd=1.0, members=["alice"], owners=["gm"])
    # An owner removed from the members is no longer anything here.
    configure_campaign("c1", remove_members=["gm"])
    assert_error(call(stack, "/campaigns/c1/me", user="gm"), 403)
    assert_error(call(stack, "/campaigns/c1/me", user="mallory"), 403)
    assert_error(call(stack, "/campaigns/c1/me", user=None), 401)
    assert_error(call(stack, "/campaigns/nope/me", user="alice"), 404)
    assert_error(call(stack, "/campaigns/c%2F1/me", user="alice"), 400)
    assert_error(call(stack, "/campaigns/c1/me", user="alice", method="POST"), 405)
