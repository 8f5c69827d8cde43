"""Real Firebase ID tokens for tests: the production sign-in, against the stack.

A custom token from firebase-admin (what `cutscenes player-token` prints),
exchanged on the stack's Auth emulator by `accounts:signInWithCustomToken`, the
REST call the browser's `signInWithCustomToken` makes. Cached per emulator and
uid, so a test run signs each user in once (tokens live an hour).
"""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

from shared.store.player_tokens import custom_token

_CACHE: dict[tuple[str, str], tuple[str, float]] = {}
REFRESH_MARGIN_S = 300


def sign_in(auth_host: str, token: str) -> dict[str, Any]:
    """signInWithCustomToken on the Auth emulator: {"idToken", "expiresIn", ...}."""
    url = (
        f"http://{auth_host}/identitytoolkit.googleapis.com/v1/"
        "accounts:signInWithCustomToken?key=local-stack"
    )
    body = json.dumps({"token": token, "returnSecureToken": True}).encode()
    req = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def id_token(stack: Any, uid: str) -> str:
    """A real ID token for uid, issued by the stack's Auth emulator."""
    host = stack.env["FIREBASE_AUTH_EMULATOR_HOST"]
    cached = _CACHE.get((host, uid))
    if cached and cached[1] - REFRESH_MARGIN_S > time.time():
        return cached[0]
    with stack.environ():
        answer = sign_in(host, custom_token(uid))
    token = answer["idToken"]
    _CACHE[(host, uid)] = (token, time.time() + int(answer.get("expiresIn", 3600)))
    return token
