"""Who is asking (a Firebase ID token, or a configured OpenID issuer's token)
and may they see this campaign.

A token whose `iss` is one of MEDIA_API_OIDC_ISSUERS is verified by
shared/api/oidc.py against that issuer's keys, and only there; every other
token is a Firebase ID token, handled as below.

Every token is verified by firebase-admin, `check_revoked=True`: in the cloud
against Firebase Auth (signature, issuer, audience, expiry, revocation),
locally against the Firebase Auth emulator the stack runs
(FIREBASE_AUTH_EMULATOR_HOST). The emulator's own tokens are unsigned and
firebase-admin checks neither signature nor expiry there, so against it the
revocation check (which asks the emulator for the user) refuses a token nobody
signed in for, and this module refuses one not shaped like the emulator's or
past its expiry. There is no other path: no hand-made token is accepted
anywhere (docs/decisions/0008-local-auth.md). A stray FIREBASE_AUTH_EMULATOR_HOST
in the cloud would make firebase-admin accept unsigned tokens, so there it
fails closed.
"""

from __future__ import annotations

import base64
import json
import os
import time
from functools import lru_cache
from typing import Any

from shared.api import oidc
from shared.api.responses import ApiError
from shared.core import log
from shared.core.settings import get_settings
from shared.domain.campaign import Campaign
from shared.store import connections
from shared.store.campaigns import load_campaign

MAX_TOKEN_CHARS = 8192
MAX_UID_CHARS = 128


def bearer_token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "an Authorization: Bearer <ID token> header is required")
    if len(token) > MAX_TOKEN_CHARS:
        raise ApiError(401, "invalid token")
    return token


def user_id(authorization: str | None) -> str:
    """The caller's uid, or ApiError(401)."""
    token = bearer_token(authorization)
    issuer = oidc.issuer_of(token, get_settings().oidc_issuers)
    if issuer is not None:
        return oidc.verified_uid(token, issuer)
    return _uid(_verified_claims(token))


def _uid(claims: dict[str, Any]) -> str:
    value = claims.get("uid")
    if isinstance(value, str) and 0 < len(value) <= MAX_UID_CHARS:
        return value
    raise ApiError(401, "token names no user")


def _credential_class() -> Any:
    from firebase_admin import credentials

    class Credential(credentials.Base):
        """The runtime's own credential: check_revoked reads the user record (role
        Firebase Authentication Viewer). Without one (a misconfigured machine)
        tokens still verify but every revocation lookup fails: 503, not a crash.
        Against the emulator firebase-admin swaps in its own."""

        def get_credential(self) -> Any:
            import google.auth
            from google.auth.credentials import AnonymousCredentials
            from google.auth.exceptions import DefaultCredentialsError

            try:
                return google.auth.default(scopes=credentials._scopes)[0]
            except DefaultCredentialsError:
                return AnonymousCredentials()

    return Credential


def _firebase_app() -> Any:
    # One app per (project, Auth emulator): firebase-admin reads the emulator's
    # address once per app, and tests run stacks one after another.
    return _app_for(
        get_settings().GOOGLE_CLOUD_PROJECT, os.environ.get("FIREBASE_AUTH_EMULATOR_HOST", "")
    )


@lru_cache(maxsize=8)
def _app_for(project: str, emulator: str) -> Any:
    import firebase_admin

    name = f"media_api:{project}:{emulator}"
    try:
        return firebase_admin.get_app(name)
    except ValueError:
        return firebase_admin.initialize_app(
            _credential_class()(), options={"projectId": project}, name=name
        )


def _verified_claims(token: str) -> dict[str, Any]:
    from firebase_admin import auth, exceptions

    if not get_settings().emulated and os.environ.get("FIREBASE_AUTH_EMULATOR_HOST"):
        log.error(
            "auth_misconfigured",
            "FIREBASE_AUTH_EMULATOR_HOST is set outside the emulators; refusing tokens",
        )
        raise ApiError(401, "token verification is misconfigured")
    if os.environ.get("FIREBASE_AUTH_EMULATOR_HOST") and not _shaped_like_the_emulators(token):
        raise ApiError(401, "invalid token")
    try:
        claims = connections.firebase_auth().verify_id_token(
            token, app=_firebase_app(), check_revoked=True
        )
    except (auth.RevokedIdTokenError, auth.UserDisabledError, auth.UserNotFoundError) as exc:
        raise ApiError(401, "token revoked or its user is gone") from exc
    except (
        auth.CertificateFetchError,
        exceptions.UnavailableError,
        exceptions.DeadlineExceededError,
        exceptions.PermissionDeniedError,
        exceptions.UnauthenticatedError,
    ) as exc:
        log.warning("auth_unavailable", f"cannot verify tokens: {exc}")
        raise ApiError(503, "cannot verify tokens right now; try again") from exc
    except (ValueError, RecursionError, exceptions.FirebaseError) as exc:
        # RecursionError: a header or payload of "[[[[..." nested past the
        # parser's limit is a malformed token, not a server error.
        raise ApiError(401, "invalid token") from exc
    # Against the emulator firebase-admin skips the expiry check (it checks no
    # signature there either); an hour-old token must not live on.
    exp = claims.get("exp")
    if not isinstance(exp, (int, float)) or exp < time.time():
        raise ApiError(401, "token expired")
    return claims


def _shaped_like_the_emulators(token: str) -> bool:
    """The Auth emulator issues alg-none tokens with an empty signature, and
    firebase-admin checks no signature against it: a token claiming one (say
    RS256 over an issued payload) cannot be the emulator's, so it is refused."""
    parts = token.split(".")
    if len(parts) != 3 or parts[2]:
        return False
    try:
        header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except (ValueError, RecursionError):
        return False
    return isinstance(header, dict) and header.get("alg") == "none"


def authorize(campaign_id: str, uid: str) -> Campaign:
    """The campaign, if uid is one of its members; 404 or 403 otherwise."""
    campaign = load_campaign(campaign_id)
    if campaign is None:
        raise ApiError(404, "no such campaign")
    if uid not in campaign.members:
        raise ApiError(403, "not a member of this campaign")
    return campaign
