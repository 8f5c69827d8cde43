"""firestore.rules on the emulator: who may read and write what, cell by cell.

Members of a campaign read its media. Nobody else reads anything (not even a
member reading the campaign document, which lists the members, or a session
ledger, whose keys name hidden assets and their costs), and no client writes
anywhere: the pipeline's service accounts
bypass rules. Requests go to the emulator's REST API as a real client's would,
with real ID tokens from the stack's Auth emulator (a custom token signed in
with signInWithCustomToken); no header is a signed-out visitor, and `Bearer
owner` is the admin that seeds the data.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.auth_tokens import id_token

pytestmark = pytest.mark.integration

USERS = {"member": "alice", "non_member": "mallory", "signed_out": None}
DOCS = {
    "campaigns": "campaigns/c1",
    "media": "campaigns/c1/media/a1",
    "sessions": "campaigns/c1/sessions/s1",
    "other_subcollection": "campaigns/c1/notes/n1",
    "other_top_level": "users/alice",
}
OPS = ("get", "list", "create", "update", "delete")
READABLE = {"media"}  # ...and only by members, only get and list


def base(stack) -> str:
    project = stack.env["GOOGLE_CLOUD_PROJECT"]
    return (
        f"http://{stack.env['FIRESTORE_EMULATOR_HOST']}/v1/projects/{project}"
        "/databases/(default)/documents"
    )


def rest(method: str, url: str, token: str | None, body: Any = None) -> int:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def fields(**values: Any) -> dict[str, Any]:
    def value(v: Any) -> dict[str, Any]:
        if isinstance(v, list):
            return {"arrayValue": {"values": [value(x) for x in v]}}
        if isinstance(v, bool):
            return {"booleanValue": v}
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return {"doubleValue": float(v)}
        return {"stringValue": str(v)}

    return {"fields": {k: value(v) for k, v in values.items()}}


@pytest.fixture(scope="module")
def seeded(local_stack):
    # Once for the module: no client write can succeed, so nothing needs undoing
    # (and if one did, its own cell fails).
    local_stack.wipe()
    root = base(local_stack)
    for path in DOCS.values():
        body = fields(members=["alice"]) if path == "campaigns/c1" else fields(x="seed")
        assert rest("PATCH", f"{root}/{path}", "owner", body) == 200
    # A second campaign, to show membership is per campaign.
    assert rest("PATCH", f"{root}/campaigns/c2", "owner", fields(members=["mallory"])) == 200
    assert rest("PATCH", f"{root}/campaigns/c2/media/b1", "owner", fields(x="seed")) == 200
    return root


def list_media(root: str, parent: str, token: str | None, hidden_filter: bool = True) -> int:
    """A member's listing of a campaign's media, as the player queries it."""
    campaign = parent.rpartition("/media")[0]
    query: dict[str, Any] = {"from": [{"collectionId": "media"}]}
    if hidden_filter:
        query["where"] = {
            "fieldFilter": {
                "field": {"fieldPath": "hidden"},
                "op": "EQUAL",
                "value": {"booleanValue": False},
            }
        }
    return rest("POST", f"{root}/{campaign}:runQuery", token, {"structuredQuery": query})


def attempt(root: str, op: str, path: str, token: str | None) -> int:
    parent, _, doc_id = path.rpartition("/")
    if op == "get":
        return rest("GET", f"{root}/{path}", token)
    if op == "list" and parent.endswith("/media"):
        return list_media(root, parent, token)  # a listing must leave hidden assets out
    if op == "list":
        return rest("GET", f"{root}/{parent}", token)
    if op == "create":
        return rest("POST", f"{root}/{parent}?documentId=new-{doc_id}", token, fields(x="new"))
    if op == "update":
        return rest(
            "PATCH", f"{root}/{path}?currentDocument.exists=true", token, fields(x="changed")
        )
    return rest("DELETE", f"{root}/{path}", token)


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("collection", list(DOCS))
@pytest.mark.parametrize("who", list(USERS))
def test_rules_matrix(local_stack, seeded, who, collection, op):
    user = USERS[who]
    token = id_token(local_stack, user) if user else None
    allowed = who == "member" and collection in READABLE and op in ("get", "list")
    status = attempt(seeded, op, DOCS[collection], token)
    assert status == (200 if allowed else 403), (who, collection, op, status)


def test_list_of_top_level_collections_is_denied(local_stack, seeded):
    for collection in ("campaigns", "users"):
        assert rest("GET", f"{seeded}/{collection}", id_token(local_stack, "alice")) == 403


def test_membership_is_per_campaign(local_stack, seeded):
    alice, mallory = id_token(local_stack, "alice"), id_token(local_stack, "mallory")
    assert rest("GET", f"{seeded}/campaigns/c2/media/b1", alice) == 403
    assert rest("GET", f"{seeded}/campaigns/c2/media/b1", mallory) == 200
    assert rest("GET", f"{seeded}/campaigns/c1/media/a1", mallory) == 403


def test_a_campaign_that_does_not_exist_is_unreadable(local_stack, seeded):
    assert rest("GET", f"{seeded}/campaigns/ghost/media", id_token(local_stack, "alice")) == 403


def test_a_collection_group_query_across_campaigns_is_denied(local_stack, seeded):
    query = {"structuredQuery": {"from": [{"collectionId": "media", "allDescendants": True}]}}
    assert rest("POST", f"{seeded}:runQuery", id_token(local_stack, "alice"), query) == 403


def test_an_anonymous_firebase_user_is_nobody(local_stack, seeded):
    # A real sign-in with no account behind it (signUp without an email).
    url = (
        f"http://{local_stack.env['FIREBASE_AUTH_EMULATOR_HOST']}/identitytoolkit."
        "googleapis.com/v1/accounts:signUp?key=local-stack"
    )
    req = urllib.request.Request(
        url, data=b"{}", method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        anonymous = json.loads(resp.read())["idToken"]
    assert rest("GET", f"{seeded}/campaigns/c1/media/a1", anonymous) == 403


def test_a_hidden_asset_is_unreadable_even_to_members(local_stack, seeded):
    alice = id_token(local_stack, "alice")
    assert (
        rest("PATCH", f"{seeded}/campaigns/c1/media/h1", "owner", fields(x="seed", hidden=True))
        == 200
    )
    assert (
        rest("PATCH", f"{seeded}/campaigns/c1/media/v1", "owner", fields(x="seed", hidden=False))
        == 200
    )
    assert rest("GET", f"{seeded}/campaigns/c1/media/h1", alice) == 403
    assert rest("GET", f"{seeded}/campaigns/c1/media/v1", alice) == 200
    # A listing that could include hidden assets is denied; one that asks for
    # the visible ones is allowed and returns no hidden one.
    assert list_media(seeded, "campaigns/c1/media", alice, hidden_filter=False) == 403
    assert list_media(seeded, "campaigns/c1/media", alice) == 200


def test_a_member_cannot_read_a_session_ledger(local_stack, seeded):
    """A ledger's hold and charge keys are `{asset_id}:{stage}` with the cost:
    read directly they would name an owner's hidden asset and what it cost.
    Members get the totals from media_api's cost route instead."""
    ledger = fields(cap_usd=5.0, spent_usd=0.04, reserved_usd=0.6)
    ledger["fields"]["holds"] = {"mapValue": {"fields": {"h1:video.1": {"integerValue": "600000"}}}}
    ledger["fields"]["charges"] = {"mapValue": {"fields": {"h1:image": {"integerValue": "40000"}}}}
    assert rest("PATCH", f"{seeded}/campaigns/c1/sessions/s2", "owner", ledger) == 200
    alice = id_token(local_stack, "alice")
    assert rest("GET", f"{seeded}/campaigns/c1/sessions/s2", alice) == 403
    assert rest("GET", f"{seeded}/campaigns/c1/sessions", alice) == 403
    one = {"from": [{"collectionId": "sessions"}]}
    every = {"from": [{"collectionId": "sessions", "allDescendants": True}]}
    assert rest("POST", f"{seeded}/campaigns/c1:runQuery", alice, {"structuredQuery": one}) == 403
    assert rest("POST", f"{seeded}:runQuery", alice, {"structuredQuery": every}) == 403
    # The seed is there: the admin reads it.
    assert rest("GET", f"{seeded}/campaigns/c1/sessions/s2", "owner") == 200
