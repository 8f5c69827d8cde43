"""media_api's token handling: firebase-admin decides, no hand-made token passes.

Tokens the Auth emulator really issued are tested against the running stack
(tests/integration/test_media_api.py)."""

from __future__ import annotations

import base64
import json
import time

import pytest

from shared.api import auth
from shared.api.responses import ApiError
from shared.store.connections import reset_all


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


def hand_made(uid: str, **claims) -> str:
    """An alg-none token shaped like the Auth emulator's: what a forger would send."""

    def b64(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    now = int(time.time())
    payload = {
        "iss": "https://securetoken.google.com/demo-unit",
        "aud": "demo-unit",
        "iat": now,
        "exp": now + 3600,
        "auth_time": now,
        "sub": uid,
        "user_id": uid,
        **claims,
    }
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(payload)}."


def test_a_hand_made_token_is_nobody_even_against_the_emulators(env):
    # Only firebase-admin decides, and without an Auth emulator to ask it needs a
    # signature: refused on its header (no "kid", alg none), no network needed.
    env(emulated=True)
    assert code_of(f"Bearer {hand_made('alice')}") == 401
    assert code_of(f"bearer   {hand_made('bob')}  ") == 401


def test_a_hand_made_token_is_refused_outside_the_emulators(env):
    env(emulated=False)
    assert code_of(f"Bearer {hand_made('alice')}") == 401


def test_a_stray_auth_emulator_variable_in_the_cloud_fails_closed(env):
    env(emulated=False, FIREBASE_AUTH_EMULATOR_HOST="127.0.0.1:9099")
    assert code_of(f"Bearer {hand_made('alice')}") == 401


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic abc",
        "Token abc",
        "Bearer not-a-jwt",
        "Bearer a.b.c",
        "Bearer " + "x" * 9000,
    ],
)
def test_missing_or_malformed_headers_are_401(env, header):
    env(emulated=True)
    assert code_of(header) == 401


@pytest.mark.parametrize("emulated", [True, False])
def test_json_nested_past_the_parsers_limit_is_401_not_a_crash(env, emulated):
    env(emulated=emulated, **({"FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:1"} if emulated else {}))
    deep = base64.urlsafe_b64encode(b"[" * 5000).decode().rstrip("=")
    for token in (f"{deep}.e30.", f"e30.{deep}.", f"{deep}.e30.c2ln"):
        assert code_of(f"Bearer {token}") == 401


def test_a_token_claiming_a_signature_goes_to_firebase_admin(env):
    env(emulated=True)
    rs256 = "eyJhbGciOiJSUzI1NiJ9"  # {"alg":"RS256"}
    payload = hand_made("alice").split(".")[1]
    assert code_of(f"Bearer {rs256}.{payload}.c2ln") == 401


def test_membership(monkeypatch):
    from shared.domain.campaign import Campaign, MediaSettings

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
    from shared.domain.campaign import Campaign, MediaSettings

    campaign = Campaign("c1", ("alice", "gm"), MediaSettings(), owners=("gm", "former"))
    assert "spend" in OWNER_ROUTES
    assert require_owner(campaign, "gm") is campaign
    for uid in ("alice", "former", "mallory"):
        with pytest.raises(ApiError) as denied:
            require_owner(campaign, uid)
        assert denied.value.code == 403
