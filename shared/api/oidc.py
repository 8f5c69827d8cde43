"""Tokens from OpenID Connect issuers other than Firebase (Clerk, Auth0, ...).

An operator lists issuers in MEDIA_API_OIDC_ISSUERS. A token whose (unverified)
`iss` is exactly one of them is decided here and nowhere else; any other
token goes to Firebase as before (shared/api/auth.py). Here a token must be
signed RS256 or ES256 by a key of that issuer's JWKS, the key's type matching
the token's `alg` (so no key can be replayed as an HMAC secret), with `iss`
equal to the issuer, `aud` containing its audience, `exp` in the future and
`nbf`/`iat` not ahead, within LEEWAY_S. There is no revocation check: such
tokens are short-lived (Clerk's last a minute). docs/decisions/0019-any-openid-issuer.md.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from shared.api.responses import ApiError
from shared.core import log
from shared.core.settings import OidcIssuer

LEEWAY_S = 60
# An unknown `kid` fetches the JWKS again (the issuer rotated its keys), at
# most this often per JWKS, so made-up kids cannot turn media_api into a
# flood of requests to the issuer.
REFRESH_EVERY_S = 60.0
# Keys are fetched afresh on use after this long, so a key the issuer
# withdrew stops working even if no token names an unknown kid.
MAX_KEYS_AGE_S = 3600.0
FETCH_TIMEOUT_S = 5.0
MAX_JWKS_BYTES = 256 * 1024
MIN_RSA_BITS = 2048
MAX_UID_CHARS = 128


class JwksUnavailable(Exception):
    """The issuer's keys could not be had (network, status, not a JWKS)."""


def fetch_jwks(uri: str) -> Any:
    """The JWKS document at uri, over plain HTTP(S): no redirects, a size cap."""
    try:
        with requests.get(
            uri,
            timeout=FETCH_TIMEOUT_S,
            allow_redirects=False,
            stream=True,
            headers={"Accept": "application/json"},
        ) as resp:
            if resp.status_code != 200:
                raise JwksUnavailable(f"{uri} answered {resp.status_code}")
            body = resp.raw.read(MAX_JWKS_BYTES + 1, decode_content=True)
    except requests.RequestException as exc:
        raise JwksUnavailable(f"{uri}: {exc}") from exc
    if len(body) > MAX_JWKS_BYTES:
        raise JwksUnavailable(f"{uri}: larger than {MAX_JWKS_BYTES} bytes")
    try:
        return json.loads(body)
    except ValueError as exc:
        raise JwksUnavailable(f"{uri}: not JSON") from exc


def signing_keys(doc: Any) -> dict[str, tuple[str, Any]]:
    """kid -> (alg, public key) for every usable key of a JWKS document.

    Usable: an RSA key of at least MIN_RSA_BITS (RS256) or a P-256 key (ES256),
    for signatures, with a kid and no private part. Others are skipped: an
    issuer may publish keys for other uses."""
    if not isinstance(doc, dict) or not isinstance(doc.get("keys"), list):
        raise JwksUnavailable("not a JWKS document (no keys array)")
    found: dict[str, tuple[str, Any]] = {}
    for jwk in doc["keys"]:
        if not isinstance(jwk, dict) or "d" in jwk or jwk.get("use", "sig") != "sig":
            continue
        kid = jwk.get("kid")
        if not isinstance(kid, str) or not kid:
            continue
        if jwk.get("kty") == "RSA":
            alg = "RS256"
        elif jwk.get("kty") == "EC" and jwk.get("crv") == "P-256":
            alg = "ES256"
        else:
            continue
        if jwk.get("alg", alg) != alg:
            continue
        reader = RSAAlgorithm if alg == "RS256" else ECAlgorithm
        try:
            key = reader.from_jwk(jwk)
        except (jwt.PyJWTError, ValueError, TypeError, KeyError):
            continue
        if isinstance(key, rsa.RSAPublicKey) and key.key_size >= MIN_RSA_BITS:
            found[kid] = (alg, key)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            found[kid] = (alg, key)
    return found


@dataclass
class _KeySet:
    keys: dict[str, tuple[str, Any]] = field(default_factory=dict)
    fetched_at: float | None = None  # last successful fetch
    tried_at: float | None = None  # last attempt, successful or not
    lock: threading.Lock = field(default_factory=threading.Lock)


class KeySets:
    """Each JWKS, fetched on first use and cached; fetched again for an unknown
    kid or after MAX_KEYS_AGE_S, never more than once per REFRESH_EVERY_S."""

    def __init__(
        self,
        fetch: Callable[[str], Any] = fetch_jwks,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch, self._clock = fetch, clock
        self._sets: dict[str, _KeySet] = {}
        self._guard = threading.Lock()

    def key(self, uri: str, kid: str) -> tuple[str, Any] | None:
        """(alg, key) for kid, None if the JWKS has no such key; JwksUnavailable
        if the keys were never fetched."""
        with self._guard:
            state = self._sets.setdefault(uri, _KeySet())
        with state.lock:  # one fetch at a time per JWKS; others wait for it
            now = self._clock()
            old = state.fetched_at is None or now - state.fetched_at >= MAX_KEYS_AGE_S
            may = state.tried_at is None or now - state.tried_at >= REFRESH_EVERY_S
            if (old or kid not in state.keys) and may:
                state.tried_at = now
                try:
                    state.keys = signing_keys(self._fetch(uri))
                    state.fetched_at = now
                except JwksUnavailable as exc:
                    # Keys fetched earlier stay in use: an issuer's outage
                    # should not sign everybody out.
                    log.warning("jwks_unavailable", f"cannot fetch signing keys: {exc}")
            if state.fetched_at is None:
                raise JwksUnavailable(uri)
            return state.keys.get(kid)


KEY_SETS = KeySets()


def _segment(part: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def issuer_of(token: str, issuers: tuple[OidcIssuer, ...]) -> OidcIssuer | None:
    """The configured issuer the token claims to come from (nothing verified
    yet: this only picks who verifies it), or None."""
    if not issuers:
        return None
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = _segment(parts[1])
    except (ValueError, RecursionError):  # RecursionError: "[[[[..." nested past the limit
        return None
    iss = claims.get("iss") if isinstance(claims, dict) else None
    return next((i for i in issuers if isinstance(iss, str) and iss == i.issuer), None)


def verified_uid(
    token: str,
    issuer: OidcIssuer,
    key_sets: KeySets | None = None,
    now: Callable[[], float] = time.time,
) -> str:
    """The user id the issuer vouches for, or ApiError (401; 503 if its keys
    cannot be fetched)."""
    try:
        header = jwt.get_unverified_header(token)
    except (jwt.PyJWTError, RecursionError) as exc:
        raise ApiError(401, "invalid token") from exc
    alg, kid = header.get("alg"), header.get("kid")
    if alg not in ("RS256", "ES256"):
        raise ApiError(401, "token algorithm not accepted (RS256 or ES256 only)")
    if not isinstance(kid, str) or not kid:
        raise ApiError(401, "token names no signing key (kid)")
    try:
        found = (key_sets or KEY_SETS).key(issuer.jwks_uri, kid)
    except JwksUnavailable as exc:
        raise ApiError(503, "cannot verify tokens right now; try again") from exc
    if found is None:
        raise ApiError(401, "token signed by a key its issuer does not publish")
    key_alg, key = found
    if key_alg != alg:
        raise ApiError(401, "token algorithm does not match its key")
    try:
        claims = jwt.decode(
            token,
            key=key,
            algorithms=[alg],
            audience=issuer.audience,
            issuer=issuer.issuer,
            leeway=LEEWAY_S,
            options={"require": ["exp", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise ApiError(401, "token expired") from exc
    except jwt.ImmatureSignatureError as exc:
        raise ApiError(401, "token not valid yet") from exc
    except jwt.InvalidAudienceError as exc:
        raise ApiError(401, "token is for another audience") from exc
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise ApiError(401, "invalid token") from exc
    _check_times(claims, now())
    if claims.get("iss") != issuer.issuer:  # exact, whatever the library's matching
        raise ApiError(401, "invalid token")
    uid = claims.get(issuer.uid_claim)
    if isinstance(uid, str) and 0 < len(uid) <= MAX_UID_CHARS:
        return uid
    raise ApiError(401, "token names no user")


def _check_times(claims: dict[str, Any], now: float) -> None:
    """The time rule checked here as well as by PyJWT, so it does not rest on
    the installed release's defaults (an `iat` ahead is refused too)."""
    for name in ("iat", "nbf"):
        value = claims.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ApiError(401, "invalid token")
        if value > now + LEEWAY_S:
            raise ApiError(401, "token not valid yet")
    exp = claims.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, (int, float)) or exp <= now - LEEWAY_S:
        raise ApiError(401, "token expired")
