"""The Firestore indexes the code's queries need, and the TTL policies its
short-lived documents rely on.

The Firestore emulator serves every query without an index and never
deletes by TTL, and has no admin API to ask. So on the local stack these
rows check terraform/ (what `terraform apply` would create) against the
code's queries and TTL fields below, and say so in their detail; on a real
project they ask the Firestore Admin API for the live indexes (READY) and
TTL policies (ACTIVE).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from infra.preflight.rows import Row, failed, passed

Fields = tuple[tuple[str, str], ...]  # ((field, ASCENDING|DESCENDING), ...)


@dataclass(frozen=True)
class Query:
    """A query that needs a composite index, and where the code makes it."""

    where: str
    collection: str
    scope: str  # COLLECTION | COLLECTION_GROUP
    fields: Fields


@dataclass(frozen=True)
class Index:
    collection: str
    scope: str
    fields: Fields
    state: str = "READY"  # terraform's: as good as READY once applied


ASC, DESC = "ASCENDING", "DESCENDING"
# Equality fields first, then the range or order field (Firestore's rule for
# a composite index). Single-field queries need none.
QUERIES = (
    Query(
        "shared/store/asset_queries.py session_assets_after (a rewind)",
        "media",
        "COLLECTION",
        (("session_id", ASC), ("turn_number", ASC)),
    ),
    Query(
        "shared/store/asset_queries.py open_before published_at (janitor)",
        "media",
        "COLLECTION_GROUP",
        (("status", ASC), ("published_at", ASC)),
    ),
    Query(
        "shared/store/asset_queries.py open_before created_at (janitor)",
        "media",
        "COLLECTION_GROUP",
        (("status", ASC), ("created_at", ASC)),
    ),
    Query(
        "shared/store/asset_queries.py animating_checks_due (janitor)",
        "media",
        "COLLECTION_GROUP",
        (("status", ASC), ("video_check_at", ASC)),
    ),
    Query(
        "web/src/firestore.js the live listing (hidden == false, newest first)",
        "media",
        "COLLECTION",
        (("hidden", ASC), ("created_at", DESC)),
    ),
)

# Collections whose documents carry `delete_after` for a TTL policy.
TTL_FIELDS = (
    ("sse_tickets", "delete_after", "shared/api/streams.py (event-stream tickets)"),
    ("pacing", "delete_after", "shared/store/pacing.py (idle start logs)"),
)

INDEX_FIX = (
    "declare it in terraform/modules/media-pipeline/firestore.tf (local.firestore_indexes) "
    "and `terraform apply`; a new index takes minutes to build"
)
TTL_FIX = (
    "declare it in terraform/modules/media-pipeline/firestore.tf (google_firestore_field.ttl) "
    "and `terraform apply`"
)


def serves(index: Index, query: Query) -> bool:
    return (index.collection, index.scope, index.fields) == (
        query.collection,
        query.scope,
        query.fields,
    )


def index_rows(indexes: Iterable[Index], source: str) -> list[Row]:
    """source: where the indexes were seen ("in project P", "declared in terraform/ ...")."""
    found = list(indexes)
    out = []
    for query in QUERIES:
        shape = ", ".join(f"{f} {o.lower()}" for f, o in query.fields)
        check = f"{query.collection} ({shape}) {query.scope.lower()}"
        match = [i for i in found if serves(i, query)]
        ready = [i for i in match if i.state == "READY"]
        if ready:
            out.append(passed("indexes", check, f"one {source}, for {query.where}"))
        elif match:
            out.append(
                failed(
                    "indexes",
                    check,
                    f"{match[0].state}, not READY, {source} ({query.where})",
                    "wait for it to build (or recreate it if it failed)",
                )
            )
        else:
            out.append(failed("indexes", check, f"none {source}, for {query.where}", INDEX_FIX))
    return out


def ttl_rows(policies: dict[tuple[str, str], str], source: str) -> list[Row]:
    """policies: (collection, field) -> state (ACTIVE once in force)."""
    out = []
    for collection, field, where in TTL_FIELDS:
        check = f"{collection}.{field}"
        state = policies.get((collection, field))
        if state == "ACTIVE":
            out.append(passed("ttl", check, f"a TTL policy {source}, for {where}"))
        elif state:
            out.append(
                failed("ttl", check, f"the policy is {state} {source}", "wait for it to apply")
            )
        else:
            out.append(failed("ttl", check, f"no TTL policy {source}, for {where}", TTL_FIX))
    return out


# ---- terraform/ (the local stack) --------------------------------------------------


def terraform_indexes(root: Path) -> list[Index]:
    from infra.terraform import load_file

    declared = load_file(root, "firestore.tf").locals.get("firestore_indexes") or {}
    return [
        Index(
            str(i["collection"]), str(i["scope"]), tuple((str(f), str(o)) for f, o in i["fields"])
        )
        for i in declared.values()
    ]


def terraform_ttl(root: Path) -> dict[tuple[str, str], str]:
    """google_firestore_field resources with a ttl_config, per collection.
    for_each is a literal toset([...]) there; a computed one would not be read."""
    from infra.terraform import load_file

    out = {}
    for _, body in load_file(root, "firestore.tf").each("google_firestore_field"):
        if not body.get("ttl_config"):
            continue
        field = str(body.get("field"))
        collection = str(body.get("collection"))
        names = (
            re.findall(r'"([^"\\]+)"', str(body.get("for_each")))
            if "each.key" in collection
            else [collection]
        )
        out.update({(name, field): "ACTIVE" for name in names})
    return out


# ---- a real project -----------------------------------------------------------------


def live_indexes(project: str) -> list[Index]:
    from google.cloud import firestore_admin_v1

    admin = firestore_admin_v1.FirestoreAdminClient()
    parent = f"projects/{project}/databases/(default)/collectionGroups/-"
    out = []
    for index in admin.list_indexes(parent=parent):
        collection = index.name.split("/collectionGroups/")[1].split("/")[0]
        fields = tuple(
            (f.field_path, f.order.name)
            for f in index.fields
            if f.field_path != "__name__" and f.order
        )
        out.append(Index(collection, index.query_scope.name, fields, index.state.name))
    return out


def live_ttl(project: str) -> dict[tuple[str, str], str]:
    from google.api_core import exceptions as gexc
    from google.cloud import firestore_admin_v1

    admin = firestore_admin_v1.FirestoreAdminClient()
    out = {}
    for collection, field, _ in TTL_FIELDS:
        name = (
            f"projects/{project}/databases/(default)/collectionGroups/{collection}/fields/{field}"
        )
        try:
            found = admin.get_field(name=name)
        except gexc.NotFound:
            continue
        if found.ttl_config and found.ttl_config.state:
            out[(collection, field)] = found.ttl_config.state.name
    return out
