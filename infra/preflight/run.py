"""Run every check against the local stack or a real project, print the rows.

`cutscenes preflight` calls run(); the exit code is 0 when every row passes,
1 otherwise. A check that cannot run at all (an API off, a permission the
caller lacks) is a failing row with the error, so one broken area never
hides the others.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from infra.preflight import firestore, iam, models, notification, topology
from infra.preflight.rows import Row, failed, is_local, table


def _guarded(area: str, what: str, make: Callable[[], list[Row]]) -> list[Row]:
    try:
        return make()
    except Exception as exc:  # noqa: BLE001 - a row, not a traceback
        return [failed(area, what, f"could not check: {type(exc).__name__}: {exc}", _fix_for(exc))]


def _fix_for(exc: Exception) -> str:
    name = type(exc).__name__
    if name in ("PermissionDenied", "Forbidden"):
        return "run it as someone who may read the project's configuration (docs/interface.md)"
    if name == "DefaultCredentialsError":
        return "`gcloud auth application-default login`"
    return "the detail says what failed: fix that and run preflight again"


def checks(local: bool) -> list[Row]:
    from infra.iam.policy import terraform_dir
    from shared.core.settings import get_settings

    settings = get_settings()
    project, bucket = settings.GOOGLE_CLOUD_PROJECT, settings.MEDIA_BUCKET
    if not local and not os.environ.get("MEDIA_BUCKET"):
        bucket = f"{project}-cutscenes-media"  # terraform's name unless var.bucket.name
    root = terraform_dir()
    names = topology.topic_names()
    where = "the local Pub/Sub emulator" if local else f"project {project}"
    pubsub_host = os.environ.get("PUBSUB_EMULATOR_HOST", "") if local else ""
    rows: list[Row] = []

    lookup = models.GenaiLookup(project, (settings.GENAI_EMULATOR_URL or "") if local else "")
    rows += _guarded("models", "catalog models", lambda: models.rows(models.wanted(), lookup))

    def iam_rows() -> list[Row]:
        if local:
            return iam.rows(iam.terraform_holds(root))
        return iam.rows(iam.troubleshooter_holds(project, bucket, names, root))

    rows += _guarded("iam", "service accounts", iam_rows)

    def pubsub_rows() -> list[Row]:
        existing, subs = topology.observe(project, pubsub_host)
        wanted, roles = topology.expected(project, names, cloud=not local)
        return topology.topic_rows(wanted, existing, where) + topology.subscription_rows(
            roles, subs, where
        )

    rows += _guarded("topics", "topics and subscriptions", pubsub_rows)

    if local:
        rows += _guarded(
            "notification",
            notification.CHECK,
            lambda: [notification.probe_row(project, bucket, names["clips"], pubsub_host)],
        )
    else:
        rows += _guarded(
            "notification",
            notification.CHECK,
            lambda: [
                notification.config_row(bucket, notification.live_configs(bucket), names["clips"])
            ],
        )

    if local:
        source = (
            f"declared in {_shown(root)}/ (the Firestore emulator has no index or TTL API to ask)"
        )
        rows += _guarded(
            "indexes",
            "composite indexes",
            lambda: firestore.index_rows(firestore.terraform_indexes(root), source),
        )
        rows += _guarded(
            "ttl", "TTL policies", lambda: firestore.ttl_rows(firestore.terraform_ttl(root), source)
        )
    else:
        live = f"in project {project}"
        rows += _guarded(
            "indexes",
            "composite indexes",
            lambda: firestore.index_rows(firestore.live_indexes(project), live),
        )
        rows += _guarded(
            "ttl", "TTL policies", lambda: firestore.ttl_rows(firestore.live_ttl(project), live)
        )
    return rows


def _shown(root: Path) -> str:
    here = Path.cwd()
    return str(root.relative_to(here)) if root.is_relative_to(here) else str(root)


def answer(rows: list[Row], local: bool) -> dict[str, Any]:
    from shared.core.settings import get_settings

    return {
        "ok": all(r.ok for r in rows),
        "target": "local" if local else f"project {get_settings().GOOGLE_CLOUD_PROJECT}",
        "failed": sum(not r.ok for r in rows),
        "rows": [r.as_json() for r in rows],
    }


def run(fmt: str = "json") -> int:
    local = is_local()
    rows = checks(local)
    result = answer(rows, local)
    if fmt == "table":
        print(table(rows))
        print(
            f"{result['target']}: {len(rows) - result['failed']} of {len(rows)} checks passed",
            file=sys.stderr,
        )
    else:
        print(json.dumps(result, indent=2))
    return 0 if result["ok"] else 1
