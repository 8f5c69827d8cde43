"""Identifier rules shared by messages, documents, objects and HTTP paths."""

from __future__ import annotations

import hashlib
import re
from typing import TypeGuard

REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
SCOPE_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")  # campaign, session, asset ids
# Firestore reserves document ids matching __.*__ (a write or a read of one
# fails with InvalidArgument), and campaign, session and asset ids are
# document ids: such ids are invalid everywhere, not only in Firestore.
RESERVED_ID_RE = re.compile(r"^__.*__$")
SCOPE_ID_RULE = "1-128 characters of [A-Za-z0-9_-], not of the form __...__"
# User ids (campaign members and owners, a request's player_id) come from the
# sign-in provider, whose charset is its own: only their length is bounded,
# and surrounding spaces are refused as the typo they always are.
MAX_UID_CHARS = 128
USER_ID_RULE = f"a user id of 1-{MAX_UID_CHARS} characters without surrounding spaces"
# A request's player_id is also a document id (players/{player_id}, the
# player's lifetime budget): a user id that Firestore can name as one.
PLAYER_ID_RULE = f"{USER_ID_RULE}, without '/', not '.' or '..', not of the form __...__"


def is_request_id(value: object) -> bool:
    return isinstance(value, str) and REQUEST_ID_RE.fullmatch(value) is not None


def is_reserved_id(value: str) -> bool:
    return RESERVED_ID_RE.fullmatch(value) is not None


def is_scope_id(value: object) -> TypeGuard[str]:
    return (
        isinstance(value, str)
        and SCOPE_ID_RE.fullmatch(value) is not None
        and not is_reserved_id(value)
    )


def is_user_id(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and 0 < len(value) <= MAX_UID_CHARS and value == value.strip()


def is_player_id(value: object) -> TypeGuard[str]:
    return (
        is_user_id(value)
        and "/" not in value
        and value not in (".", "..")
        and not is_reserved_id(value)
    )


def asset_id_for(request_id: str) -> str:
    """The asset id is a pure function of the request id.

    Hashing keeps it inside the scope-id charset (request ids may contain '.'
    and ':', which Firestore and URLs treat specially) and makes every
    redelivery of a request land on the same document.
    """
    return "a" + hashlib.sha256(request_id.encode("utf-8")).hexdigest()[:31]
