"""Tokens from a configured OpenID Connect issuer (shared/api/oidc.py), with
keys generated here: every way a token can be wrong is a 401.

The JWKS is handed over by a fake fetch with a fake clock, so the refresh
rule (an unknown kid, at most once a minute) is counted exactly; fetch_jwks
itself is tested against a real HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from shared.api import auth, oidc
from shared.api.responses import ApiError
from shared.core.settings import OidcIssuer, Settings, parse_oidc_issuers
from shared.store.connections import reset_all

ISSUER = OidcIssuer(
    issuer="https://clerk.example.test",
    jwks_uri="https://clerk.example.test/.well-known/jwks.json",
    audience="aidm-web",
)
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(private: Any, kid: str, **extra: Any) -> dict[str, Any]:
    writer = RSAAlgorithm if isinstance(private, rsa.RSAPrivateKey) else ECAlgorithm
    jwk = json.loads(writer.to_jwk(private.public_key()))
    return {**jwk, "kid": kid, "use": "sig", **extra}


def jwks(*keys: dict[str, Any]) -> dict[str, Any]:
    return {"keys": list(keys)}


GOOD_JWKS = jwks(public_jwk(RSA_KEY, "rsa1"), public_jwk(EC_KEY, "ec1"))


def claims(**over: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "iss": ISSUER.issuer,
        "aud": ISSUER.audience,
        "sub": "user_2abc",
        "iat": now,
        "nbf": now,
        "exp": now + 60,
    }
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def signed(private: Any = RSA_KEY, kid: str | None = "rsa1", alg: str = "RS256", **over) -> str:
    headers = {"kid": kid} if kid is not None else {}
    return jwt.encode(claims(**over), private, algorithm=alg, headers=headers)


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def hand_made(header: dict[str, Any], payload: dict[str, Any], secret: bytes | None) -> str:
    """A token signed with HMAC over `secret` (or unsigned): what a forger sends."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest() if secret else b""
    return f"{signing_input}.{b64(mac)}"


class FakeFetch:
    """The issuer's JWKS endpoint: what it serves now, and how often it was asked."""

    def __init__(self, doc: Any = GOOD_JWKS) -> None:
        self.doc, self.calls, self.fail = doc, 0, False

    def __call__(self, uri: str) -> Any:
        assert uri == ISSUER.jwks_uri
        self.calls += 1
        if self.fail:
            raise oidc.JwksUnavailable("issuer down")
        return self.doc


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def issuer_keys() -> tuple[FakeFetch, Clock, oidc.KeySets]:
    fetch, clock = FakeFetch(), Clock()
    return fetch, clock, oidc.KeySets(fetch=fetch, clock=clock)


def uid_of(token: str, key_sets: oidc.KeySets, issuer: OidcIssuer = ISSUER) -> str:
    return oidc.verified_uid(token, issuer, key_sets)


def refused(token: str, key_sets: oidc.KeySets, code: int = 401) -> str:
    with pytest.raises(ApiError) as caught:
        uid_of(token, key_sets)
    assert caught.value.code == code, caught.value.message
    return caught.value.message


# ---------------------------------------------------------------- accepted


def test_rs256_and_es256_tokens_name_their_user(issuer_keys):
    _, _, keys = issuer_keys
    assert uid_of(signed(), keys) == "user_2abc"
    assert uid_of(signed(EC_KEY, "ec1", "ES256", sub="user_ec"), keys) == "user_ec"


def test_aud_may_be_a_list_containing_the_audience(issuer_keys):
    _, _, keys = issuer_keys
    assert uid_of(signed(aud=["other-app", ISSUER.audience]), keys) == "user_2abc"


def test_the_uid_claim_is_configurable(issuer_keys):
    _, _, keys = issuer_keys
    custom = ISSUER.model_copy(update={"uid_claim": "player_id"})
    token = signed(player_id="p-77")
    assert oidc.verified_uid(token, custom, keys) == "p-77"
    with pytest.raises(ApiError) as caught:
        oidc.verified_uid(signed(), custom, keys)  # no such claim
    assert caught.value.code == 401


def test_clock_skew_within_the_leeway_is_tolerated(issuer_keys):
    _, _, keys = issuer_keys
    now = int(time.time())
    assert uid_of(signed(exp=now - 30), keys) == "user_2abc"
    assert uid_of(signed(nbf=now + 30, iat=now + 30), keys) == "user_2abc"


# ----------------------------------------------------------------- refused


def test_alg_none_is_refused(issuer_keys):
    _, _, keys = issuer_keys
    token = hand_made({"alg": "none", "kid": "rsa1"}, claims(), None)
    assert "algorithm" in refused(token, keys)


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_hmac_signed_with_the_public_key_is_refused(issuer_keys, alg):
    """The classic confusion: the issuer's public key, which anyone can fetch,
    used as an HMAC secret."""
    _, _, keys = issuer_keys
    pem = RSA_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for secret in (pem, json.dumps(public_jwk(RSA_KEY, "rsa1")).encode()):
        token = hand_made({"alg": alg, "typ": "JWT", "kid": "rsa1"}, claims(), secret)
        assert "algorithm" in refused(token, keys)


def test_an_alg_that_does_not_match_its_key_is_refused(issuer_keys):
    _, _, keys = issuer_keys
    # An EC signature presented under the RSA key's kid, and the other way round.
    assert "match" in refused(signed(EC_KEY, "rsa1", "ES256"), keys)
    assert "match" in refused(signed(RSA_KEY, "ec1", "RS256"), keys)


def test_unknown_or_missing_kid_is_refused(issuer_keys):
    _, _, keys = issuer_keys
    assert "does not publish" in refused(signed(kid="rotated-away"), keys)
    assert "kid" in refused(signed(kid=None), keys)
    assert "kid" in refused(signed(kid=""), keys)


def test_a_signature_by_another_key_under_a_known_kid_is_refused(issuer_keys):
    _, _, keys = issuer_keys
    refused(signed(OTHER_RSA, "rsa1"), keys)


@pytest.mark.parametrize(
    "over",
    [
        {"iss": "https://clerk.example.test/"},
        {"iss": "https://evil.example.test"},
        {"iss": None},
        {"aud": "another-app"},
        {"aud": ["another-app"]},
        {"aud": None},
        # Times as ids: every xdist worker must collect the same test names.
        pytest.param({"exp": int(time.time()) - 120}, id="{'exp': 2 minutes ago}"),
        {"exp": None},
        {"exp": "tomorrow"},
        pytest.param({"nbf": int(time.time()) + 3600}, id="{'nbf': in an hour}"),
        pytest.param({"iat": int(time.time()) + 3600}, id="{'iat': in an hour}"),
        {"sub": None},
        {"sub": ""},
        {"sub": "x" * 129},
        {"sub": 42},
    ],
    ids=repr,
)
def test_wrong_claims_are_refused(issuer_keys, over):
    _, _, keys = issuer_keys
    refused(signed(**over), keys)


def test_an_expired_token_says_so(issuer_keys):
    _, _, keys = issuer_keys
    assert refused(signed(exp=int(time.time()) - 61), keys) == "token expired"
    assert "audience" in refused(signed(aud="another-app"), keys)
    assert "not valid yet" in refused(signed(nbf=int(time.time()) + 120), keys)


@pytest.mark.parametrize(
    "token",
    ["a.b.c", "not-a-jwt", "..", "e30.e30.", "eyJhbGciOiJSUzI1NiJ9.%%%.c2ln"],
)
def test_malformed_tokens_are_refused(issuer_keys, token):
    _, _, keys = issuer_keys
    refused(token, keys)


def test_json_nested_past_the_parsers_limit_is_refused_not_a_crash(issuer_keys):
    _, _, keys = issuer_keys
    deep = b64(b"[" * 5000)
    assert oidc.issuer_of(f"e30.{deep}.c2ln", (ISSUER,)) is None
    payload = b64(json.dumps(claims()).encode())
    refused(f"{deep}.{payload}.c2ln", keys)


def test_a_tampered_payload_is_refused(issuer_keys):
    _, _, keys = issuer_keys
    header, _, signature = signed().split(".")
    forged = b64(json.dumps(claims(sub="the_admin")).encode())
    refused(f"{header}.{forged}.{signature}", keys)


# ------------------------------------------------------------ JWKS caching


def test_keys_are_fetched_once_and_unknown_kids_refetch_at_most_once_a_minute(issuer_keys):
    fetch, clock, keys = issuer_keys
    for _ in range(3):
        uid_of(signed(), keys)
    assert fetch.calls == 1
    for n in range(5):  # made-up kids: one refetch, then none for a minute
        refused(signed(kid=f"made-up-{n}"), keys)
    assert fetch.calls == 1  # the first fetch was this minute
    clock.now += 61
    refused(signed(kid="made-up-again"), keys)
    refused(signed(kid="and-again"), keys)
    assert fetch.calls == 2


def test_a_rotated_key_is_picked_up(issuer_keys):
    fetch, clock, keys = issuer_keys
    uid_of(signed(), keys)
    new_key = ec.generate_private_key(ec.SECP256R1())
    fetch.doc = jwks(public_jwk(new_key, "ec2"))
    token = signed(new_key, "ec2", "ES256")
    refused(token, keys)  # within the minute of the last fetch: not yet
    clock.now += 60
    assert uid_of(token, keys) == "user_2abc"
    assert fetch.calls == 2
    refused(signed(), keys)  # rsa1 was withdrawn with that fetch


def test_old_keys_are_fetched_again_even_without_an_unknown_kid(issuer_keys):
    fetch, clock, keys = issuer_keys
    uid_of(signed(), keys)
    fetch.doc = jwks(public_jwk(EC_KEY, "ec1"))  # rsa1 withdrawn
    clock.now += oidc.MAX_KEYS_AGE_S
    refused(signed(), keys)
    assert fetch.calls == 2


def test_an_issuer_outage_is_503_until_keys_are_had_then_old_keys_serve(issuer_keys):
    fetch, clock, keys = issuer_keys
    fetch.fail = True
    assert "try again" in refused(signed(), keys, code=503)
    refused(signed(), keys, code=503)
    assert fetch.calls == 1  # not hammered
    fetch.fail = False
    clock.now += 60
    assert uid_of(signed(), keys) == "user_2abc"
    fetch.fail = True
    clock.now += oidc.MAX_KEYS_AGE_S
    assert uid_of(signed(), keys) == "user_2abc"  # stale but still the issuer's
    assert fetch.calls == 3


def test_only_usable_signing_keys_are_taken():
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    p384 = ec.generate_private_key(ec.SECP384R1())
    private_jwk = json.loads(RSAAlgorithm.to_jwk(RSA_KEY))
    doc = jwks(
        public_jwk(RSA_KEY, "ok-rsa"),
        public_jwk(EC_KEY, "ok-ec", alg="ES256"),
        public_jwk(small, "small"),
        public_jwk(p384, "p384"),
        public_jwk(RSA_KEY, "enc", use="enc"),
        public_jwk(RSA_KEY, "wrong-alg", alg="RS512"),
        {**private_jwk, "kid": "private"},
        {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
        {"kty": "RSA", "kid": "broken", "n": "AA", "e": "AQAB"},
        public_jwk(RSA_KEY, ""),
        "not a key",
    )
    assert sorted(oidc.signing_keys(doc)) == ["ok-ec", "ok-rsa"]
    for bad in ({}, [], {"keys": "x"}, None):
        with pytest.raises(oidc.JwksUnavailable):
            oidc.signing_keys(bad)


# ------------------------------------------------------- fetch over HTTP


@pytest.fixture
def jwks_server() -> Iterator[tuple[str, dict[str, Any]]]:
    """A JWKS endpoint on 127.0.0.1: path -> (status, body, extra headers)."""
    routes: dict[str, Any] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            status, body, headers = routes.get(self.path, (404, b"{}", {}))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", routes
    finally:
        server.shutdown()
        server.server_close()


def test_fetch_jwks_over_http(jwks_server):
    base, routes = jwks_server
    routes["/jwks"] = (200, json.dumps(GOOD_JWKS).encode(), {})
    routes["/moved"] = (302, b"", {"Location": f"{base}/jwks"})
    routes["/html"] = (200, b"<html>", {})
    routes["/huge"] = (200, b" " * (oidc.MAX_JWKS_BYTES + 10), {})
    assert oidc.fetch_jwks(f"{base}/jwks") == GOOD_JWKS
    for path in ("/moved", "/html", "/huge", "/missing"):
        with pytest.raises(oidc.JwksUnavailable):
            oidc.fetch_jwks(base + path)
    with pytest.raises(oidc.JwksUnavailable):
        oidc.fetch_jwks("http://127.0.0.1:1/jwks")  # nobody listens


# ------------------------------------------------------- through auth.py


@pytest.fixture
def configured(monkeypatch, issuer_keys):
    """media_api's settings with the issuer configured, its keys from the fake."""
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "demo-unit")
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", "127.0.0.1:1")
    monkeypatch.delenv("FIREBASE_AUTH_EMULATOR_HOST", raising=False)
    monkeypatch.setenv("MEDIA_API_OIDC_ISSUERS", json.dumps([ISSUER.model_dump()]))
    monkeypatch.setattr(oidc, "KEY_SETS", issuer_keys[2])
    reset_all()
    yield issuer_keys
    reset_all()


def test_auth_routes_a_configured_issuers_token_here(configured):
    fetch, _, _ = configured
    assert auth.user_id(f"Bearer {signed()}") == "user_2abc"
    # Another issuer's token goes to Firebase, which refuses it; ours are not asked.
    for token in (signed(iss="https://evil.example.test"), signed(iss=ISSUER.issuer + "/")):
        with pytest.raises(ApiError) as caught:
            auth.user_id(f"Bearer {token}")
        assert caught.value.code == 401
    assert fetch.calls == 1


def test_without_configured_issuers_nothing_changes(monkeypatch):
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", "127.0.0.1:1")
    monkeypatch.delenv("MEDIA_API_OIDC_ISSUERS", raising=False)
    reset_all()
    try:
        assert oidc.issuer_of(signed(), ()) is None
        with pytest.raises(ApiError) as caught:
            auth.user_id(f"Bearer {signed()}")
        assert caught.value.code == 401
    finally:
        reset_all()


# ------------------------------------------------------------- settings


def test_the_setting_parses():
    assert parse_oidc_issuers("") == ()
    assert parse_oidc_issuers("  []  ") == ()
    raw = json.dumps(
        [
            {"issuer": "https://a.test", "jwks_uri": "https://a.test/jwks", "audience": "x"},
            {
                "issuer": "http://127.0.0.1:8123",
                "jwks_uri": "http://127.0.0.1:8123/jwks",
                "audience": "y",
                "uid_claim": "user_id",
            },
        ]
    )
    first, second = parse_oidc_issuers(raw)
    assert (first.uid_claim, second.uid_claim) == ("sub", "user_id")
    assert Settings(MEDIA_API_OIDC_ISSUERS=raw).oidc_issuers == (first, second)


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        ("{not json", "not JSON"),
        ('{"issuer": "https://a.test"}', "array"),
        ('[{"issuer": "https://a.test", "jwks_uri": "https://a.test/j"}]', "audience"),
        ('[{"issuer": "", "jwks_uri": "https://a.test/j", "audience": "x"}]', "issuer"),
        (
            '[{"issuer": "https://a.test", "jwks_uri": "https://a.test/j", "audience": "x",'
            ' "audiance": "y"}]',
            "audiance",
        ),
        ('[{"issuer": "a", "jwks_uri": "http://a.test/j", "audience": "x"}]', "https"),
        ('[{"issuer": "a", "jwks_uri": "file:///etc/passwd", "audience": "x"}]', "https"),
        (
            '[{"issuer": "https://securetoken.google.com/p", "jwks_uri": "https://a.test/j",'
            ' "audience": "p"}]',
            "Firebase",
        ),
        (
            '[{"issuer": "a", "jwks_uri": "https://a.test/j", "audience": "x"},'
            ' {"issuer": "a", "jwks_uri": "https://b.test/j", "audience": "y"}]',
            "twice",
        ),
        ('[{"issuer": "a", "jwks_uri": "https://a.test/j", "audience": "x", "uid_claim": ""}]', ""),
    ],
)
def test_a_bad_setting_is_refused_at_load_in_one_line(raw, names):
    with pytest.raises(ValueError) as caught:
        parse_oidc_issuers(raw)
    message = str(caught.value)
    assert "\n" not in message and names in message and "MEDIA_API_OIDC_ISSUERS" in message
    with pytest.raises(ValueError):
        Settings(MEDIA_API_OIDC_ISSUERS=raw)
