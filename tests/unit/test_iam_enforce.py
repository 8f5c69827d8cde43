"""The local IAM check on the real client libraries, before any network call:
a refused call raises PermissionDenied (a publish fails its future) and logs
iam_denied; an allowed one reaches the library. Grants are those terraform/
gives (infra/iam/grants.py), or hand-made ones where a case needs them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from google.api_core.exceptions import PermissionDenied
from google.cloud.firestore_v1.base_query import FieldFilter

from infra.iam import enforce
from infra.iam.grants import Grant
from infra.iam.policy import Policy, for_identity
from shared.store import connections

BUCKET = "demo-cutscenes-media"


def grant(permission: str, resource: str) -> Grant:
    return Grant("fn", "test", frozenset({permission}), True, resource, "test")


def policy(*grants: Grant) -> Policy:
    return Policy(
        "fn", list(grants), BUCKET, {"media-requests": "requests", "media-events": "events"}
    )


@pytest.fixture
def clients(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Unreachable emulators: an allowed call would fail on the network, a
    # refused one never gets that far.
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "demo-cutscenes")
    monkeypatch.setenv("MEDIA_BUCKET", BUCKET)
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", "http://127.0.0.1:9")
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", "127.0.0.1:9")
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", "127.0.0.1:9")
    connections.reset_all()
    yield
    connections.set_client_wrapper(None)
    connections.reset_all()


def denied(capsys: pytest.CaptureFixture[str]) -> list[tuple[str, str, str]]:
    out = capsys.readouterr()
    rows = []
    for line in (out.out + out.err).splitlines():
        try:
            record: Any = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("event") == "iam_denied":
            rows.append((record["identity"], record["permission"], record["resource"]))
    return rows


def test_a_storage_call_outside_the_grant_is_refused_and_logged(clients, capsys) -> None:
    connections.set_client_wrapper(
        enforce.wrapper(policy(grant("storage.objects.get", "objects:media/")))
    )
    bucket = connections.storage_client().bucket(BUCKET)
    with pytest.raises(PermissionDenied) as refused:
        bucket.blob("refs/c1/x.png").download_as_bytes()
    assert refused.value.code == 403
    with pytest.raises(PermissionDenied):
        bucket.blob("media/c1/x.png").delete()
    with pytest.raises(PermissionDenied):
        list(connections.storage_client().list_blobs(BUCKET, prefix="veo-out/"))
    assert denied(capsys) == [
        ("fn", "storage.objects.get", "objects:refs/c1/x.png"),
        ("fn", "storage.objects.delete", "objects:media/c1/x.png"),
        ("fn", "storage.objects.list", "bucket"),
    ]


def test_an_allowed_storage_call_reaches_the_library(clients) -> None:
    connections.set_client_wrapper(
        enforce.wrapper(policy(grant("storage.objects.get", "objects:media/")))
    )
    blob = connections.storage_client().bucket(BUCKET).blob("media/c1/x.png")
    # Past the check: the library itself fails on the unreachable emulator.
    with pytest.raises(Exception) as failed:
        blob.download_as_bytes(timeout=(0.5, 0.5), retry=None)
    assert not isinstance(failed.value, PermissionDenied)


def test_a_publish_outside_the_grant_fails_its_future(clients, capsys) -> None:
    connections.set_client_wrapper(
        enforce.wrapper(policy(grant("pubsub.topics.publish", "topic:events")))
    )
    future = connections.publisher().publish(connections.topic_path("media-requests"), b"{}")
    with pytest.raises(PermissionDenied):
        future.result(timeout=5)
    assert denied(capsys) == [("fn", "pubsub.topics.publish", "topic:requests")]


def test_firestore_writes_need_their_own_permissions(clients, capsys) -> None:
    connections.set_client_wrapper(
        enforce.wrapper(policy(grant("datastore.entities.get", "project")))
    )
    db = connections.firestore_client()
    ref = db.collection("campaigns").document("c1")
    with pytest.raises(PermissionDenied):
        ref.update({"x": 1})
    with pytest.raises(PermissionDenied):
        db.collection("campaigns").where(filter=FieldFilter("x", "==", 1)).limit(1).stream()
    batch = db.batch()
    with pytest.raises(PermissionDenied):
        batch.set(ref, {"x": 1}, merge=True)
    assert denied(capsys) == [
        ("fn", "datastore.entities.update", "project"),
        ("fn", "datastore.entities.list", "project"),
        ("fn", "datastore.entities.create", "project"),
    ]


def test_terraform_grants_decide(clients, capsys) -> None:
    """The real tree: media_api publishes requests; render_still may not
    write Veo's output, nor publish requests."""
    media_api = for_identity("media_api")
    assert media_api.allows("pubsub.topics.publish", "topic:requests")
    assert media_api.allows("storage.objects.delete", "objects:media/c1/a.png")
    assert not media_api.allows("storage.objects.create", "objects:media/c1/a.png")
    render = for_identity("render_still")
    assert render.allows("storage.objects.create", "objects:media/c1/a.png")
    assert not render.allows("storage.objects.create", "objects:veo-out/c1/a.mp4")
    assert not render.allows("pubsub.topics.publish", "topic:requests")
    with pytest.raises(ValueError):
        for_identity("nobody")


def test_signed_urls_need_sign_blob_on_the_signer_and_read(clients, capsys) -> None:
    from infra.iam.policy import local_accounts
    from shared.store import signing

    read = grant("storage.objects.get", "objects:media/")
    sign = grant("iam.serviceAccounts.signBlob", "service_account:function/media_api")
    accounts = local_accounts()
    connections.set_client_wrapper(enforce.wrapper(Policy("fn", [read], BUCKET, {}, accounts)))
    uri = f"gs://{BUCKET}/media/c1/a.png"
    with pytest.raises(PermissionDenied):
        signing.signed_url(uri, "c1")
    assert denied(capsys) == [
        ("fn", "iam.serviceAccounts.signBlob", "service_account:function/media_api")
    ]
    connections.set_client_wrapper(
        enforce.wrapper(Policy("fn", [read, sign], BUCKET, {}, accounts))
    )
    assert "X-Goog-Signature=" in str(signing.signed_url(uri, "c1"))


def test_firebase_auth_calls_are_checked(clients, capsys) -> None:
    from firebase_admin import auth, exceptions

    connections.set_client_wrapper(enforce.wrapper(policy()))
    with pytest.raises(exceptions.PermissionDeniedError):
        connections.firebase_auth().verify_id_token("a.b.", check_revoked=True)
    with pytest.raises(auth.TokenSignError):
        connections.firebase_auth().create_custom_token("alice")
    assert denied(capsys) == [
        ("fn", "firebaseauth.users.get", "project"),
        ("fn", "iam.serviceAccounts.signBlob", "service_account:player_tokens"),
    ]


def test_the_demo_backend_acts_as_aidm(clients, capsys, monkeypatch) -> None:
    """The stack starts the demo backend with MEDIA_LOCAL_IDENTITY=aidm: once it
    takes the stack's env, AIDM's grants apply (refs/ yes, media/ no)."""
    from infra.local import demo_trigger

    monkeypatch.setenv(enforce.IDENTITY_ENV, "aidm")
    monkeypatch.setattr(demo_trigger, "_checked", False)
    demo_trigger.use_stack_env({"MEDIA_BUCKET": BUCKET})
    bucket = connections.storage_client().bucket(BUCKET)
    with pytest.raises(PermissionDenied):
        bucket.blob("media/c1/a.png").upload_from_string(b"x", if_generation_match=0)
    assert denied(capsys) == [("aidm", "storage.objects.create", "objects:media/c1/a.png")]


def test_the_local_checker_knows_every_topic_terraform_provisions() -> None:
    """A topic Terraform adds must be named in the checker's map, or every
    local publish to it is refused (as media-charges' were, before it was)."""
    from infra.iam.policy import REPO, TOPIC_SETTINGS
    from infra.terraform import evaluated_locals

    topics = evaluated_locals(REPO / "terraform")["topics"]
    assert set(TOPIC_SETTINGS) == set(topics)
    assert {key: default for key, (_, default) in TOPIC_SETTINGS.items()} == topics
