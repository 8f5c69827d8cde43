"""Sign-in from any OpenID Connect issuer, against the running stack.

The test is the issuer: keys generated here, their JWKS served over HTTP on
127.0.0.1, and media_api restarted with MEDIA_API_OIDC_ISSUERS naming it (the
way other tests change a function's settings). Firebase ID tokens from the
stack's Auth emulator must keep working beside it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from shared.client import configure_campaign
from tests.auth_tokens import id_token
from tests.integration.test_event_tickets import TicketStream
from tests.integration.test_media_api import assert_error, call

pytestmark = pytest.mark.integration

AUDIENCE = "aidm-v5"
JWKS_PATH = "/.well-known/jwks.json"


@dataclass
class Issuer:
    """A real OpenID issuer as far as media_api can tell: keys and a JWKS URL."""

    url: str
    rsa_key: Any = field(default_factory=lambda: rsa.generate_private_key(65537, 2048))
    ec_key: Any = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    fetches: int = 0

    def jwks(self) -> dict[str, Any]:
        keys = []
        for writer, key, kid in (
            (RSAAlgorithm, self.rsa_key, "rsa1"),
            (ECAlgorithm, self.ec_key, "ec1"),
        ):
            keys.append({**json.loads(writer.to_jwk(key.public_key())), "kid": kid, "use": "sig"})
        return {"keys": keys}

    def claims(self, sub: str, **over: Any) -> dict[str, Any]:
        now = int(time.time())
        base = {"iss": self.url, "aud": AUDIENCE, "sub": sub, "iat": now, "nbf": now}
        base["exp"] = now + 120
        base.update(over)
        return {k: v for k, v in base.items() if v is not None}

    def token(self, sub: str, alg: str = "RS256", kid: str | None = None, **over: Any) -> str:
        key = self.rsa_key if alg == "RS256" else self.ec_key
        kid = kid if kid is not None else ("rsa1" if alg == "RS256" else "ec1")
        headers = {"kid": kid} if kid else {}
        return jwt.encode(self.claims(sub, **over), key, algorithm=alg, headers=headers)


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def forged(header: dict[str, Any], payload: dict[str, Any], secret: bytes | None) -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest() if secret else b""
    return f"{signing_input}.{b64(mac)}"


@pytest.fixture(scope="module")
def issuer(local_stack) -> Iterator[Issuer]:
    """The issuer's HTTP server, and media_api restarted to trust it (and
    restarted plain afterwards, so other tests see the stack's defaults)."""
    holder: dict[str, Issuer] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            if self.path != JWKS_PATH:
                self.send_error(404)
                return
            holder["issuer"].fetches += 1
            body = json.dumps(holder["issuer"].jwks()).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    holder["issuer"] = Issuer(url)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    setting = [{"issuer": url, "jwks_uri": url + JWKS_PATH, "audience": AUDIENCE}]
    try:
        local_stack.restart_function("media_api", {"MEDIA_API_OIDC_ISSUERS": json.dumps(setting)})
        yield holder["issuer"]
    finally:
        local_stack.restart_function("media_api")
        server.shutdown()
        server.server_close()


def members(campaign: str = "c1") -> None:
    configure_campaign(
        campaign,
        enabled=True,
        budget_usd=5.0,
        members=["user_member", "alice"],
        owners=["user_owner"],
    )


def test_an_oidc_member_gets_in_a_non_member_does_not(stack, issuer):
    members()
    for token in (issuer.token("user_member"), issuer.token("user_member", alg="ES256")):
        answer = call(stack, "/campaigns/c1/sessions/s1/cost", token=token)
        assert answer.status == 200, answer.raw
        assert set(answer.json) >= {"spent_usd", "remaining_usd"}
    me = call(stack, "/campaigns/c1/me", token=issuer.token("user_owner"))
    assert me.status == 200 and me.json == {"uid": "user_owner", "member": True, "owner": True}
    assert call(stack, "/campaigns/c1/spend", token=issuer.token("user_owner")).status == 200
    assert_error(call(stack, "/campaigns/c1/spend", token=issuer.token("user_member")), 403)
    assert_error(call(stack, "/campaigns/c1/gallery", token=issuer.token("user_stranger")), 403)
    assert_error(call(stack, "/campaigns/nope/gallery", token=issuer.token("user_member")), 404)


def test_firebase_tokens_still_work_beside_it(stack, issuer):
    members()
    assert call(stack, "/campaigns/c1/sessions/s1/cost", user="alice").status == 200
    me = call(stack, "/campaigns/c1/me", token=id_token(stack, "alice"))
    assert me.status == 200 and me.json["uid"] == "alice"
    assert_error(call(stack, "/campaigns/c1/sessions/s1/cost", user="mallory"), 403)
    assert_error(call(stack, "/campaigns/c1/sessions/s1/cost", user=None), 401)


def test_every_bad_token_is_401(stack, issuer):
    members()
    now = int(time.time())
    pem = issuer.rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    good = issuer.claims("user_member")
    other_issuer_key = rsa.generate_private_key(65537, 2048)
    deep = b64(b"[" * 5000)  # JSON nested past the parser's recursion limit
    bad = {
        "alg none": forged({"alg": "none", "kid": "rsa1"}, good, None),
        "HS256 with the public key": forged({"alg": "HS256", "kid": "rsa1"}, good, pem),
        "unknown kid": issuer.token("user_member", kid="made-up"),
        "no kid": issuer.token("user_member", kid=""),
        "wrong issuer": issuer.token("user_member", iss="https://elsewhere.example"),
        "issuer with a slash": issuer.token("user_member", iss=issuer.url + "/"),
        "wrong audience": issuer.token("user_member", aud="another-app"),
        "expired": issuer.token("user_member", exp=now - 120),
        "nbf ahead": issuer.token("user_member", nbf=now + 600),
        "iat ahead": issuer.token("user_member", iat=now + 600),
        "no exp": issuer.token("user_member", exp=None),
        "signed by another key": jwt.encode(
            good, other_issuer_key, algorithm="RS256", headers={"kid": "rsa1"}
        ),
        "malformed": "not.a.token",
        "nested past the parser's limit": f"{deep}.{b64(json.dumps(good).encode())}.c2ln",
        "nested, for Firebase": f"e30.{deep}.",
        "garbage payload": forged({"alg": "RS256", "kid": "rsa1"}, good, None)[:-1] + "%%",
    }
    for name, token in bad.items():
        answer = call(stack, "/campaigns/c1/sessions/s1/cost", token=token)
        assert answer.status == 401, (name, answer.status, answer.raw[:200])
        assert_error(answer, 401)


def test_made_up_kids_do_not_make_media_api_hammer_the_issuer(stack, issuer):
    members()
    assert call(stack, "/campaigns/c1/me", token=issuer.token("user_member")).status == 200
    before = issuer.fetches
    for n in range(5):
        token = issuer.token("user_member", kid=f"made-up-{n}")
        assert_error(call(stack, "/campaigns/c1/me", token=token), 401)
    # At most one refetch a minute (none if the last fetch was this minute).
    assert issuer.fetches - before <= 1
    assert issuer.fetches >= 1


def test_an_oidc_user_opens_the_event_stream(stack, issuer):
    """EventSource sends no header: the OIDC user asks for a ticket with one."""
    members()
    answer = call(stack, "/campaigns/c1/events/ticket", token=issuer.token("user_member"))
    assert answer.status == 200, answer.raw
    stream = TicketStream(stack, "c1", answer.json["ticket"])
    try:
        assert stream.resp.status == 200
        assert stream.first_block().startswith("retry: ")
    finally:
        stream.close()
    stranger = call(stack, "/campaigns/c1/events/ticket", token=issuer.token("user_stranger"))
    assert_error(stranger, 403)
