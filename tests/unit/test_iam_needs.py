"""The grants in terraform/ against what the code's calls need (infra/iam/needs.py).

The grants are read from terraform/ itself by infra/iam/grants.py (the same
reader the local stack enforces them with): every *_iam_member resource, per for_each instance, with
its member (a function's service account, or one of AIDM's principals), its
resource (the project, the media bucket or a prefix of it by IAM condition,
a topic, a service account) and its role, expanded to permissions from
roles.tf (custom roles) or infra/iam/roles.py (predefined ones). Two checks:
every need is granted on a resource that covers it, and no identity holds a
permission, or a resource, its calls do not need. Each is shown to fail on a
scratch copy of terraform/ with one grant removed or widened.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from infra.iam import needs as needs_table
from infra.iam.grants import Grant, covers, grants_of
from infra.iam.roles import BASIC, PREDEFINED
from tests.unit.test_terraform import MODULE, TERRAFORM

# Vertex AI has no narrower predefined role for predictions on publisher
# models; its expansion is partial (infra/iam/roles.py), so the "nothing
# more" check cannot see past it. No other partial role may reach the
# identities of the needs table.
PARTIAL_ALLOWED = {"roles/aiplatform.user"}


# ---- the checks -------------------------------------------------------------------


def missing(found: list[Grant]) -> list[str]:
    """Needs that no grant of the identity covers."""
    out = []
    for identity in needs_table.NEEDS:
        held = [g for g in found if g.identity == identity]
        for permission, resource in sorted(needs_table.permissions(identity)):
            if not any(permission in g.permissions and covers(g.resource, resource) for g in held):
                out.append(f"{identity}: {permission} on {resource} is not granted")
    return out


def excess(found: list[Grant]) -> list[str]:
    """Permissions (or resources) an identity of the needs table holds beyond its needs;
    roles that are basic, unknown, or partial where not allowed."""
    out = []
    for g in found:
        if g.role in BASIC:
            out.append(f"{g.identity}: basic role {g.role} ({g.address})")
        if g.identity not in needs_table.NEEDS:
            continue
        if not g.permissions:
            out.append(f"{g.identity}: role {g.role} is not known ({g.address})")
            continue
        if not g.complete and g.role not in PARTIAL_ALLOWED:
            out.append(f"{g.identity}: {g.role} holds more than is listed ({g.address})")
        needed = needs_table.permissions(g.identity)
        for permission in sorted(g.permissions):
            if (permission, g.resource) not in needed:
                out.append(
                    f"{g.identity}: {permission} on {g.resource} is not needed ({g.address})"
                )
    return out


# ---- on the real tree ---------------------------------------------------------------


@pytest.fixture(scope="module")
def found() -> list[Grant]:
    return grants_of(TERRAFORM)


def test_every_need_is_granted(found: list[Grant]) -> None:
    assert missing(found) == []


def test_nothing_beyond_the_needs(found: list[Grant]) -> None:
    assert excess(found) == []


def test_the_reader_sees_every_identity(found: list[Grant]) -> None:
    """Guards against checks passing because they saw nothing."""
    identities = {g.identity for g in found}
    assert set(needs_table.NEEDS) <= identities
    media_api = {(g.role, g.resource) for g in found if g.identity == "media_api"}
    assert (
        'google_project_iam_custom_role.this["sign_blob"]',
        "service_account:function/media_api",
    ) in media_api
    assert ("roles/pubsub.publisher", "topic:requests") in media_api
    assert any(g.resource == "objects:refs/" for g in found if g.identity == "aidm")
    # Identities outside the table are read too (service agents, builds, push).
    assert any("aiplatform.googleapis.com" in i for i in identities)
    assert all(g.permissions for g in found if g.identity in needs_table.NEEDS)


def test_every_role_in_terraform_is_known(found: list[Grant]) -> None:
    """Every role granted to anyone is a custom role of roles.tf or a predefined
    role of infra/iam/roles.py, so the checks above can expand it."""
    unknown = sorted({f"{g.role} ({g.address})" for g in found if not g.permissions})
    assert unknown == []


def test_every_role_is_sourced() -> None:
    for name, role in PREDEFINED.items():
        assert role.source.startswith("https://cloud.google.com/"), name
        assert role.permissions, name


# ---- on scratch copies of terraform/ -------------------------------------------------


def edited(tmp_path: Path, file: str, old: str, new: str) -> list[Grant]:
    """The grants of a copy of terraform/ with one edit, applied exactly once."""
    copy = tmp_path / "terraform"
    shutil.copytree(TERRAFORM, copy, ignore=shutil.ignore_patterns(".terraform"))
    target = copy / MODULE / file
    text = target.read_text()
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {file}"
    target.write_text(text.replace(old, new))
    return grants_of(copy)


def test_a_removed_custom_role_grant_is_missing(tmp_path: Path) -> None:
    found = edited(
        tmp_path,
        "iam.tf",
        'media_api = ["docs_read_write", "docs_query", "auth_user_lookup"]',
        'media_api = ["docs_read_write", "docs_query"]',
    )
    assert missing(found) == ["media_api: firebaseauth.users.get on project is not granted"]
    assert excess(found) == []


def test_a_removed_topic_grant_is_missing(tmp_path: Path) -> None:
    found = edited(
        tmp_path,
        "iam.tf",
        'media_api = ["requests", "animate", "events", "charges"]',
        'media_api = ["requests", "events", "charges"]',
    )
    assert missing(found) == ["media_api: pubsub.topics.publish on topic:animate is not granted"]


def test_a_removed_resource_grant_is_missing(tmp_path: Path) -> None:
    text = (TERRAFORM / MODULE / "iam.tf").read_text()
    start = text.index('resource "google_service_account_iam_member" "aidm_signs_player_tokens"')
    block = text[start : text.index("\n}\n", start) + 3]
    found = edited(tmp_path, "iam.tf", block, "")
    assert missing(found) == [
        "aidm: iam.serviceAccounts.signBlob on service_account:player_tokens is not granted"
    ]


def test_a_removed_subscription_grant_is_missing(tmp_path: Path) -> None:
    text = (TERRAFORM / MODULE / "iam.tf").read_text()
    start = text.index('resource "google_pubsub_subscription_iam_member" "aidm_consumes_charges"')
    block = text[start : text.index("\n}\n", start) + 3]
    found = edited(tmp_path, "iam.tf", block, "")
    assert missing(found) == [
        "aidm_charges: pubsub.subscriptions.consume on subscription:charges_host is not granted"
    ]


def test_a_charges_publisher_grant_is_missing(tmp_path: Path) -> None:
    found = edited(
        tmp_path,
        "iam.tf",
        'finish_clip   = ["events", "charges"]',
        'finish_clip   = ["events"]',
    )
    assert missing(found) == ["finish_clip: pubsub.topics.publish on topic:charges is not granted"]


# animate_still's and media_api's object grants, as iam.tf spells them.
READ_DELETE = (
    '"media/"   = ["objects_read", "objects_delete"]\n      "veo-out/" = ["objects_delete"]\n'
)


def test_a_removed_prefix_grant_is_missing(tmp_path: Path) -> None:
    found = edited(
        tmp_path,
        "iam.tf",
        READ_DELETE + "    }\n    finish_clip",
        READ_DELETE.replace('"objects_read", ', "") + "    }\n    finish_clip",
    )
    assert missing(found) == ["animate_still: storage.objects.get on objects:media/ is not granted"]


def test_a_wider_grant_is_excess(tmp_path: Path) -> None:
    """Write where only delete is needed; a bucket-wide grant where a prefix would do."""
    found = edited(
        tmp_path,
        "iam.tf",
        READ_DELETE + "    }\n    janitor",
        READ_DELETE.replace('"objects_delete"]', '"objects_write"]', 1) + "    }\n    janitor",
    )
    assert missing(found) == []
    assert [e.split(" (")[0] for e in excess(found)] == [
        "media_api: storage.objects.create on objects:media/ is not needed"
    ]
    text = (TERRAFORM / MODULE / "iam.tf").read_text()
    start = text.index('resource "google_storage_bucket_iam_member" "aidm_writes_refs"')
    block = text[start : text.index("\n}\n", start) + 3]
    condition = block[block.index("  condition {") : block.index("  }\n") + 4]
    found = edited(tmp_path / "wide", "iam.tf", block, block.replace(condition, ""))
    assert [e.split(" (")[0] for e in excess(found)] == [
        "aidm: storage.objects.create on bucket is not needed",
        "aidm: storage.objects.delete on bucket is not needed",
    ]


def test_basic_and_broad_roles_are_reported(tmp_path: Path) -> None:
    found = edited(
        tmp_path,
        "iam.tf",
        'role     = "roles/aiplatform.user"',
        'role     = "roles/editor"',
    )
    reported = excess(found)
    assert "render_still: basic role roles/editor" in " ".join(reported)
    assert missing(found) == [
        f"{fn}: aiplatform.endpoints.predict on project is not granted"
        for fn in ("render_still", "animate_still", "finish_clip", "janitor")
    ]
    found = edited(
        tmp_path / "objectAdmin",
        "iam.tf",
        'role     = google_project_iam_custom_role.this["objects_list"].id',
        'role     = "roles/storage.objectAdmin"',
    )
    assert "render_still: storage.objects.setIamPolicy on bucket is not needed" in " ".join(
        excess(found)
    )


def test_the_docs_name_every_permission() -> None:
    """docs/permissions.md is the prose of the needs table: each identity has a
    section and each permission it needs is named there."""
    text = (TERRAFORM.parent / "docs" / "permissions.md").read_text()
    for identity in ("render_still", "animate_still", "finish_clip", "janitor", "media_api"):
        assert f"### {identity} " in text, identity
    assert "### AIDM" in text
    named = set(re.findall(r"[a-z]+\.[a-zA-Z]+\.[a-zA-Z]+", text))
    wanted = {n.permission for needs in needs_table.NEEDS.values() for n in needs}
    # The tables abbreviate siblings ("datastore.entities.get/create/update",
    # "`.create`"); the first table spells every one of them out.
    assert wanted - named == set()
