"""One identity's permissions as terraform/ grants them, and the check.

A Policy answers "may this identity do `permission` on `resource`" from the
grants infra/iam/grants.py reads, with resources named as in
infra/iam/needs.py ("project", "bucket", "objects:<name>", "topic:<key>",
"service_account:<name>"). A refusal is logged as Google's audit log would
show it (event "iam_denied") and raised as the client libraries raise a 403:
google.api_core.exceptions.PermissionDenied.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from infra.iam import grants as grants_module
from infra.iam.grants import Grant, covers
from shared.core import log

# The settings that name each topic, by terraform's local.topics key: the
# cloud sets them from those topics (terraform/modules/media-pipeline/main.tf).
TOPIC_SETTINGS = {
    "requests": ("MEDIA_REQUESTS_TOPIC", "media-requests"),
    "animate": ("MEDIA_ANIMATE_TOPIC", "media-animate"),
    "events": ("MEDIA_EVENTS_TOPIC", "media-events"),
    "clips": ("MEDIA_FINISH_TOPIC", "media-clips"),
    "charges": ("MEDIA_CHARGES_TOPIC", "media-charges"),
}
REPO = Path(__file__).resolve().parents[2]


@dataclass
class Policy:
    identity: str
    grants: list[Grant]
    bucket: str
    # topic id ("media-requests") -> terraform key ("requests")
    topics: dict[str, str] = field(default_factory=dict)
    # service account email -> terraform name ("function/media_api")
    accounts: dict[str, str] = field(default_factory=dict)

    def allows(self, permission: str, resource: str) -> bool:
        return any(
            permission in g.permissions and covers(g.resource, resource) for g in self.grants
        )

    def check(self, permission: str, resource: str, call: str) -> None:
        if self.allows(permission, resource):
            return
        from google.api_core.exceptions import PermissionDenied

        log.warning(
            "iam_denied",
            f"{self.identity} may not {permission} on {resource} ({call})",
            identity=self.identity,
            permission=permission,
            resource=resource,
            call=call,
        )
        raise PermissionDenied(
            f"Permission '{permission}' denied on resource '{resource}' "
            f"for {self.identity} (local IAM, from terraform/)"
        )

    # ---- resource names ------------------------------------------------------

    def object(self, bucket: str, name: str) -> str:
        if bucket != self.bucket:
            return f"other bucket {bucket}/{name}"
        return f"objects:{name}"

    def bucket_resource(self, bucket: str) -> str:
        return "bucket" if bucket == self.bucket else f"other bucket {bucket}"

    def topic(self, path: str) -> str:
        topic_id = path.rsplit("/", 1)[-1]
        key = self.topics.get(topic_id)
        return f"topic:{key}" if key else f"unknown topic {topic_id}"

    def account(self, email: str) -> str:
        name = self.accounts.get(email)
        return f"service_account:{name}" if name else f"unknown account {email}"


def terraform_dir(env: Mapping[str, str] = os.environ) -> Path:
    """MEDIA_LOCAL_TERRAFORM_DIR (a scratch copy in tests), else this checkout's."""
    configured = env.get("MEDIA_LOCAL_TERRAFORM_DIR")
    return Path(configured).resolve() if configured else REPO / "terraform"


def cache_dir() -> Path:
    return REPO / ".local" / "iam-cache"


def warm(env: Mapping[str, str]) -> None:
    """Read the grants once before a stack starts its functions, which then
    find them cached instead of each running terraform at once."""
    grants_module.load(terraform_dir(env), cache_dir())


def for_identity(identity: str, root: Path | None = None) -> Policy:
    """The identity's Policy from terraform/ and this process's settings."""
    found = grants_module.load(root or terraform_dir(), cache_dir())
    known = {g.identity for g in found}
    if identity not in known:
        raise ValueError(f"terraform/ grants nothing to {identity!r}; known: {sorted(known)}")
    topics = {os.environ.get(env, default): key for key, (env, default) in TOPIC_SETTINGS.items()}
    bucket = os.environ.get("MEDIA_BUCKET", "")
    return Policy(
        identity=identity,
        grants=[g for g in found if g.identity == identity],
        bucket=bucket,
        topics=topics,
        accounts=local_accounts(),
    )


def local_accounts() -> dict[str, str]:
    """The emails the local stack signs as, by terraform name (signing.py's
    local signer; MEDIA_SIGNING_SA when set names the player-token signer)."""
    project = os.environ.get("GOOGLE_CLOUD_PROJECT", "")
    accounts = {f"media-api-local@{project}.iam.gserviceaccount.com": "function/media_api"}
    signer = os.environ.get("MEDIA_SIGNING_SA")
    if signer:
        accounts.setdefault(signer, "player_tokens")
    return accounts
