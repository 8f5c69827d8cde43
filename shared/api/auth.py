"""Who is asking (a Firebase ID token) and may they see this campaign.

In the cloud every token is verified by firebase-admin (signature, issuer,
audience, expiry). Against the emulators, and only there, unsigned
emulator-style tokens (alg "none", as the Firestore emulator and the Firebase
JS SDK's mockUserToken use) are accepted too, so the local stack needs no auth
emulator. A stray FIREBASE_AUTH_EMULATOR_HOST in the cloud would make
firebase-admin accept unsigned tokens, so there it fails closed.
"""

from __future__ import annotations

import base64
import json
import os
import time
from functools import lru_cache
from typing import Any

from shared import log
from shared.api.responses import ApiError
from shared.campaigns import Campaign, load_campaign
from shared.settings import get_settings

MAX_TOKEN_CHARS = 8192
MAX_UID_CHARS = 128


def bearer_token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "an Authorization: Bearer <Firebase ID token> header is required")
    if len(token) > MAX_TOKEN_CHARS:
        raise ApiError(401, "invalid token")
    return token


def user_id(authorization: str | None) -> str:
    """The caller's uid, or ApiError(401)."""
    token = bearer_token(authorization)
    settings = get_settings()
    if settings.emulated:
        claims = unsigned_claims(token)
        if claims is not None:
            return _uid(_check_emulator_claims(claims, settings.GOOGLE_CLOUD_PROJECT))
    return _uid(_verified_claims(token))


def _b64json(part: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def unsigned_claims(token: str) -> dict[str, Any] | None:
    """The payload of an alg-none JWT (empty signature), else None."""
    parts = token.split(".")
    if len(parts) != 3 or parts[2]:
        return None
    try:
        header, payload = _b64json(parts[0]), _b64json(parts[1])
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(header, dict) or header.get("alg") != "none":
        return None
    return payload if isinstance(payload, dict) else None


def _check_emulator_claims(claims: dict[str, Any], project: str) -> dict[str, Any]:
    exp = claims.get("exp")
    if isinstance(exp, (int, float)) and exp < time.time():
        raise ApiError(401, "token expired")
    aud = claims.get("aud")
    if aud is not None and aud != project:
        raise ApiError(401, "token is for another project")
    return claims


def _uid(claims: dict[str, Any]) -> str:
    for key in ("uid", "user_id", "sub"):
        value = claims.get(key)
        if isinstance(value, str) and 0 < len(value) <= MAX_UID_CHARS:
            return value
    raise ApiError(401, "token names no user")


@lru_cache(maxsize=1)
def _firebase_app() -> Any:
    import firebase_admin
    from firebase_admin import credentials
    from google.auth.credentials import AnonymousCredentials

    class VerifyOnly(credentials.Base):
        """Verifying an ID token needs the project id and Google's public
        certificates, never a credential: this app can do nothing else."""

        def get_credential(self) -> Any:
            return AnonymousCredentials()

    name = "media_api"
    try:
        return firebase_admin.get_app(name)
    except ValueError:
        options = {"projectId": get_settings().GOOGLE_CLOUD_PROJECT}
        return firebase_admin.initialize_app(VerifyOnly(), options=options, name=name)


def _verified_claims(token: str) -> dict[str, Any]:
    from firebase_admin import auth
    from firebase_admin.exceptions import FirebaseError

    if not get_settings().emulated and os.environ.get("FIREBASE_AUTH_EMULATOR_HOST"):
        log.error("auth_misconfigured",
                  "FIREBASE_AUTH_EMULATOR_HOST is set outside the emulators; refusing tokens")
        raise ApiError(401, "token verification is misconfigured")
    try:
        return auth.verify_id_token(token, app=_firebase_app())
    except auth.CertificateFetchError as exc:
        log.warning("auth_certs_unavailable", f"cannot fetch token certificates: {exc}")
        raise ApiError(503, "cannot verify tokens right now; try again") from exc
    except (ValueError, FirebaseError) as exc:
        raise ApiError(401, "invalid token") from exc


def authorize(campaign_id: str, uid: str) -> Campaign:
    """The campaign, if uid is one of its members; 404 or 403 otherwise."""
    campaign = load_campaign(campaign_id)
    if campaign is None:
        raise ApiError(404, "no such campaign")
    if uid not in campaign.members:
        raise ApiError(403, "not a member of this campaign")
    return campaign


def emulator_token(uid: str, project: str | None = None, **claims: Any) -> str:
    """An unsigned, emulator-style ID token for `uid` (local stack and tests only:
    media_api and the Firestore emulator accept it only against the emulators)."""

    def b64(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    now = int(time.time())
    project = project or get_settings().GOOGLE_CLOUD_PROJECT
    payload = {"iss": f"https://securetoken.google.com/{project}", "aud": project,
               "iat": now, "exp": now + 3600, "sub": uid, "user_id": uid, **claims}
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(payload)}."
