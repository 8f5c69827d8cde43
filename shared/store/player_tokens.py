"""Firebase custom tokens for players (AIDM's backend mints, the browser signs in).

`custom_token(uid)` is what firebase-admin's `create_custom_token` gives: in the
cloud signed by the project's service account (through IAM signBlob when the
runtime has no key: MEDIA_SIGNING_SA, else the metadata server's account),
locally by the Firebase Auth emulator's rules (FIREBASE_AUTH_EMULATOR_HOST).
The page hands it to `signInWithCustomToken`, and from then on the player's
ID tokens are ordinary Firebase ones that Firestore rules and media_api check.
Membership is the caller's business: `MediaClient.create_custom_token` checks it.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from shared.core.settings import get_settings
from shared.store import connections


def custom_token(uid: str) -> str:
    """A custom token for uid (ValueError for a uid outside the id charset)."""
    if not isinstance(uid, str) or not 0 < len(uid) <= 128:
        raise ValueError("a user id is 1-128 characters")
    token = connections.firebase_auth().create_custom_token(uid, app=_admin_app())
    return token.decode() if isinstance(token, bytes) else str(token)


def _admin_app() -> Any:
    settings = get_settings()
    return _app_for(
        settings.GOOGLE_CLOUD_PROJECT,
        settings.MEDIA_SIGNING_SA or "",
        os.environ.get("FIREBASE_AUTH_EMULATOR_HOST", ""),
    )


@lru_cache(maxsize=8)
def _app_for(project: str, signer: str, emulator: str) -> Any:
    # Keyed by the emulator's address: firebase-admin reads it once per app.
    import firebase_admin
    from firebase_admin import credentials

    name = f"player_tokens:{project}:{signer}:{emulator}"
    try:
        return firebase_admin.get_app(name)
    except ValueError:
        options: dict[str, Any] = {"projectId": project}
        if signer:
            options["serviceAccountId"] = signer
        return firebase_admin.initialize_app(
            credentials.ApplicationDefault(), options=options, name=name
        )
