"""Predefined roles that terraform/ grants, expanded to their permissions.

Custom roles are not listed here: their permissions are read from
terraform/modules/media-pipeline/roles.tf itself. A role whose expansion is
`complete=False` lists only the permissions this project relies on (Vertex
AI's user role holds hundreds); a check of "nothing more than needed" cannot
speak for it, and says so. Permissions that only concern project metadata
(resourcemanager.projects.get/list, orgpolicy.policy.get), which Google adds
to many roles granted on a project, are left out.

Sources (Google's IAM reference, read December 2026):
- Cloud Storage: https://cloud.google.com/iam/docs/roles-permissions/storage
  and https://cloud.google.com/storage/docs/access-control/iam-roles
- Pub/Sub: https://cloud.google.com/iam/docs/roles-permissions/pubsub
  and https://cloud.google.com/pubsub/docs/access-control
- Vertex AI: https://cloud.google.com/iam/docs/roles-permissions/aiplatform
  and https://cloud.google.com/vertex-ai/docs/general/iam-permissions
- IAM: https://cloud.google.com/iam/docs/roles-permissions/iam
- Cloud Run: https://cloud.google.com/iam/docs/roles-permissions/run
- Logging, Artifact Registry: https://cloud.google.com/iam/docs/roles-permissions/logging,
  https://cloud.google.com/iam/docs/roles-permissions/artifactregistry
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Role:
    permissions: frozenset[str]
    source: str
    complete: bool = True


def _role(source: str, *permissions: str, complete: bool = True) -> Role:
    return Role(frozenset(permissions), source, complete)


STORAGE = "https://cloud.google.com/storage/docs/access-control/iam-roles"
PUBSUB = "https://cloud.google.com/iam/docs/roles-permissions/pubsub"

PREDEFINED: dict[str, Role] = {
    # "Allows users to create objects. Does not give permission to view,
    # delete, or replace objects."
    "roles/storage.objectCreator": _role(
        STORAGE,
        "storage.objects.create",
        "storage.managedFolders.create",
        "storage.multipartUploads.create",
        "storage.multipartUploads.abort",
        "storage.multipartUploads.listParts",
    ),
    # "view objects and their metadata, excluding ACLs. Can also list the
    # objects and managed folders in a bucket."
    "roles/storage.objectViewer": _role(
        STORAGE,
        "storage.objects.get",
        "storage.objects.list",
        "storage.managedFolders.get",
        "storage.managedFolders.list",
    ),
    # Full control of objects, their ACLs and IAM policies included.
    "roles/storage.objectAdmin": _role(
        STORAGE,
        "storage.objects.create",
        "storage.objects.delete",
        "storage.objects.get",
        "storage.objects.getIamPolicy",
        "storage.objects.list",
        "storage.objects.restore",
        "storage.objects.setIamPolicy",
        "storage.objects.setRetention",
        "storage.objects.overrideUnlockedRetention",
        "storage.objects.update",
        "storage.managedFolders.create",
        "storage.managedFolders.delete",
        "storage.managedFolders.get",
        "storage.managedFolders.getIamPolicy",
        "storage.managedFolders.list",
        "storage.managedFolders.setIamPolicy",
        "storage.multipartUploads.abort",
        "storage.multipartUploads.create",
        "storage.multipartUploads.list",
        "storage.multipartUploads.listParts",
    ),
    # Pub/Sub Publisher: "Provides access to publish messages to a topic."
    "roles/pubsub.publisher": _role(PUBSUB, "pubsub.topics.publish"),
    # Pub/Sub Subscriber: consume from a subscription, attach one to a topic.
    "roles/pubsub.subscriber": _role(
        PUBSUB,
        "pubsub.snapshots.seek",
        "pubsub.subscriptions.consume",
        "pubsub.topics.attachSubscription",
    ),
    # Vertex AI User holds far more; predict is what generateContent and
    # predictLongRunning (Veo) on publisher models check (the Vertex AI IAM
    # permissions page's operation table).
    "roles/aiplatform.user": _role(
        "https://cloud.google.com/vertex-ai/docs/general/iam-permissions",
        "aiplatform.endpoints.predict",
        complete=False,
    ),
    # Service Account Token Creator: sign and mint tokens as the account.
    "roles/iam.serviceAccountTokenCreator": _role(
        "https://cloud.google.com/iam/docs/roles-permissions/iam",
        "iam.serviceAccounts.getAccessToken",
        "iam.serviceAccounts.getOpenIdToken",
        "iam.serviceAccounts.implicitDelegation",
        "iam.serviceAccounts.signBlob",
        "iam.serviceAccounts.signJwt",
        "serviceusage.services.use",
        complete=False,
    ),
    "roles/run.invoker": _role(
        "https://cloud.google.com/iam/docs/roles-permissions/run",
        "run.routes.invoke",
        complete=False,
    ),
    "roles/logging.logWriter": _role(
        "https://cloud.google.com/iam/docs/roles-permissions/logging",
        "logging.logEntries.create",
        "logging.logEntries.route",
    ),
    "roles/artifactregistry.writer": _role(
        "https://cloud.google.com/iam/docs/roles-permissions/artifactregistry",
        "artifactregistry.repositories.uploadArtifacts",
        "artifactregistry.repositories.downloadArtifacts",
        complete=False,
    ),
}

# Basic roles grant nearly everything in the project: never granted here.
BASIC = frozenset({"roles/owner", "roles/editor", "roles/viewer"})
