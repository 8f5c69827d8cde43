"""media_api's token handling: unsigned tokens only against the emulators."""

from __future__ import annotations

import time

import pytest

from shared.api import auth
from shared.api.responses import ApiError
from shared.clients import reset_all


@pytest.fixture
def env(monkeypatch):
    """Switch between 'emulated' and 'cloud' settings for one test."""

    def use(emulated: bool, **extra: str) -> None:
        for key in ("FIRESTORE_EMULATOR_HOST", "FIREBASE_AUTH_EMULATOR_HOST"):
            monkeypatch.delenv(key, raising=False)
        monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "demo-unit")
        if emulated:
            monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", "127.0.0.1:1")
        for key, value in extra.items():
            monkeypatch.setenv(key, value)
        reset_all()

    yield use
    reset_all()


def code_of(header: str | None) -> int:
    with pytest.raises(ApiError) as caught:
        auth.user_id(header)
    return caught.value.code


def test_unsigned_token_is_a_user_against_the_emulators(env):
    env(emulated=True)
    assert auth.user_id(f"Bearer {auth.emulator_token('alice')}") == "alice"
    assert auth.user_id(f"bearer   {auth.emulator_token('bob')}  ") == "bob"
    only_sub = auth.emulator_token("x", user_id=None, sub="carol")
    assert auth.user_id(f"Bearer {only_sub}") == "carol"


def test_unsigned_token_is_rejected_outside_the_emulators(env):
    env(emulated=False)
    # firebase-admin refuses it on its header (no "kid", alg none): no network needed.
    assert code_of(f"Bearer {auth.emulator_token('alice', aud='demo-unit')}") == 401


def test_a_stray_auth_emulator_variable_in_the_cloud_fails_closed(env):
    env(emulated=False, FIREBASE_AUTH_EMULATOR_HOST="127.0.0.1:9099")
    assert code_of(f"Bearer {auth.emulator_token('alice', aud='demo-unit')}") == 401


@pytest.mark.parametrize("header", [
    None, "", "Bearer", "Bearer ", "Basic abc", "Token abc", "Bearer not-a-jwt",
    "Bearer a.b.c", "Bearer " + "x" * 9000,
])
def test_missing_or_malformed_headers_are_401(env, header):
    env(emulated=True)
    assert code_of(header) == 401


def test_emulator_tokens_are_still_checked(env):
    env(emulated=True)
    expired = auth.emulator_token("alice", exp=int(time.time()) - 1)
    other_project = auth.emulator_token("alice", aud="someone-else")
    nobody = auth.emulator_token("alice", user_id=None, sub=None)
    too_long = auth.emulator_token("a" * 200)
    for token in (expired, other_project, nobody, too_long):
        assert code_of(f"Bearer {token}") == 401
    # A token claiming to be signed goes to firebase-admin, which refuses it.
    rs256 = "eyJhbGciOiJSUzI1NiJ9"  # {"alg":"RS256"}
    payload = auth.emulator_token("alice").split(".")[1]
    assert code_of(f"Bearer {rs256}.{payload}.c2ln") == 401


def test_unsigned_claims_only_reads_alg_none_with_an_empty_signature():
    token = auth.emulator_token("alice", "p")
    assert auth.unsigned_claims(token)["user_id"] == "alice"
    assert auth.unsigned_claims(token + "sig") is None
    assert auth.unsigned_claims("eyJhbGciOiJSUzI1NiJ9.e30.") is None
    assert auth.unsigned_claims("!!.!!.") is None


def test_membership(monkeypatch):
    from shared.campaigns import Campaign, MediaSettings

    campaign = Campaign("c1", ("alice",), MediaSettings())
    monkeypatch.setattr(auth, "load_campaign", lambda cid: campaign if cid == "c1" else None)
    assert auth.authorize("c1", "alice") is campaign
    with pytest.raises(ApiError) as denied:
        auth.authorize("c1", "mallory")
    assert denied.value.code == 403
    with pytest.raises(ApiError) as missing:
        auth.authorize("c2", "alice")
    assert missing.value.code == 404


def test_owner_routes_need_an_owner_who_is_still_a_member():
    from shared.api.owners import OWNER_ROUTES, require_owner
    from shared.campaigns import Campaign, MediaSettings

    campaign = Campaign("c1", ("alice", "gm"), MediaSettings(), owners=("gm", "former"))
    assert "spend" in OWNER_ROUTES
    assert require_owner(campaign, "gm") is campaign
    for uid in ("alice", "former", "mallory"):
        with pytest.raises(ApiError) as denied:
            require_owner(campaign, uid)
        assert denied.value.code == 403
