"""Every cloud call each identity makes, as the IAM permission Google checks.

Identities: each function's runtime service account (by entry point), and
AIDM's principals (terraform variable `aidm`): `aidm` is a backend running
the Python SDK (MediaClient) or the cutscenes CLI as AIDM, `aidm_publisher`
only publishes requests, `aidm_subscriber` attaches its own subscription to
status events, `aidm_charges` drains the charges subscription. The CLI's
operator commands (regenerate, animate, hide, janitor) act as an operator,
not as AIDM: docs/permissions.md.

Resources, as tests/unit/test_iam_needs.py matches them against terraform/:
- "project": Firestore documents, Vertex AI and Firebase Auth have no
  narrower IAM resource;
- "bucket": the media bucket itself (listing is checked there);
- "objects:<prefix>": objects of the media bucket whose name starts with the
  prefix (a bucket grant with a condition on resource.name);
- "topic:<key>": a topic of terraform's local.topics;
- "subscription:<name>": one subscription, by its terraform resource name
  (google_pubsub_subscription.<name>);
- "service_account:<name>": one service account (signBlob as it), named as
  terraform names it: `function/media_api` is
  google_service_account.function["media_api"], `player_tokens` is
  google_service_account.player_tokens.

How calls map to permissions, and where that is from:
- Firestore (https://cloud.google.com/firestore/docs/security/iam, method
  table; https://cloud.google.com/datastore/docs/access/iam for the same
  checks under their Datastore names): BatchGetDocuments/GetDocument ->
  datastore.entities.get; RunQuery and Listen -> .list and .get; Commit of
  a create (exists=false) -> .create; of an update with a precondition ->
  .update; of a write without one (set, merge=True) -> .create and .update;
  of a delete -> .delete (no code deletes: TTL policies do).
- Cloud Storage (https://cloud.google.com/storage/docs/access-control/iam-permissions,
  and the JSON API's per-method "Required permissions"): objects.get /
  media download -> storage.objects.get; insert -> .create, plus .delete
  when it replaces an object; rewrite (copy_blob) -> .get on the source,
  .create (and .delete if it replaces) on the destination; patch -> .update;
  delete -> .delete; list -> storage.objects.list, checked on the bucket, so
  an IAM condition on object names never grants it
  (resource.name for Cloud Storage, https://cloud.google.com/iam/docs/conditions-attribute-reference).
- Pub/Sub (https://cloud.google.com/pubsub/docs/access-control): publish ->
  pubsub.topics.publish on the topic; creating a subscription on a topic ->
  pubsub.topics.attachSubscription on the topic; pull, streaming pull,
  acknowledge and modifyAckDeadline -> pubsub.subscriptions.consume on the
  subscription.
- Signing without key files: V4 signed URLs with service_account_email and
  an access token, and firebase-admin's create_custom_token with
  serviceAccountId, call IAM Credentials signBlob -> iam.serviceAccounts.signBlob
  on the signing account
  (https://cloud.google.com/iam/docs/reference/credentials/rest/v1/projects.serviceAccounts/signBlob,
  https://firebase.google.com/docs/auth/admin/create-custom-tokens). A
  signed URL then acts with the signer's permissions, so the signer needs
  storage.objects.get on what it signs
  (https://cloud.google.com/storage/docs/access-control/signed-urls).
- Firebase Auth: verify_id_token(check_revoked=True) looks the user up
  (Identity Toolkit accounts:lookup) -> firebaseauth.users.get
  (https://cloud.google.com/iam/docs/roles-permissions/firebaseauth).
- Vertex AI: generateContent and predictLongRunning on publisher models ->
  aiplatform.endpoints.predict
  (https://cloud.google.com/vertex-ai/docs/general/iam-permissions). That
  fetchPredictOperation (Veo's operations.get) checks the same permission is
  our reading, not a quote: it is a method on the same model resource, and
  roles/aiplatform.user covers it either way.
"""

from __future__ import annotations

from dataclasses import dataclass

PROJECT = "project"
BUCKET = "bucket"
MEDIA = "objects:media/"
REFS = "objects:refs/"
VEO_OUT = "objects:veo-out/"


def topic(key: str) -> str:
    return f"topic:{key}"


def subscription(name: str) -> str:
    return f"subscription:{name}"


def service_account(name: str) -> str:
    return f"service_account:{name}"


@dataclass(frozen=True)
class Need:
    permission: str
    resource: str
    calls: str


# ---- building blocks shared by several identities ------------------------------

READ_DOCS = Need(
    "datastore.entities.get",
    PROJECT,
    "DocumentReference.get, Client.get_all (assets, campaigns, ledgers, players, daily shards, "
    "pacing)",
)
WRITE_DOCS = (
    Need(
        "datastore.entities.create",
        PROJECT,
        "DocumentReference.create; read_modify_write on a missing document "
        "(shared/store/optimistic.py)",
    ),
    Need(
        "datastore.entities.update",
        PROJECT,
        "update with a last_update_time precondition (read_modify_write)",
    ),
)
QUERY_DOCS = Need(
    "datastore.entities.list", PROJECT, "Query.stream (RunQuery), collection-group queries"
)
VERTEX = Need(
    "aiplatform.endpoints.predict",
    PROJECT,
    "google-genai on Vertex AI: generate_content, generate_videos, operations.get",
)
EVENTS = Need(
    "pubsub.topics.publish", topic("events"), "events.publish_status (shared/store/events.py)"
)
# Every function settles, or finds settled, a charge (a still, a clip, a
# hidden asset's end, a closer's release) and announces it.
CHARGES = Need(
    "pubsub.topics.publish",
    topic("charges"),
    "charges.publish from spend.settle / spend.release (shared/store/charges.py)",
)
# An owner hid the asset in flight: the stage that notices ends it and deletes
# its objects (shared/pipeline/hiding.py: delete_all lists the veo-out/ prefix).
HIDDEN_END = (
    Need("storage.objects.list", BUCKET, "hiding.delete_objects: list the asset's veo-out/ prefix"),
    Need("storage.objects.delete", MEDIA, "hiding.delete_objects: the still and the clip"),
    Need("storage.objects.delete", VEO_OUT, "hiding.delete_objects: Veo's temporary output"),
)
# The clip lands under veo-out/: copy it into media/, set its type, drop it
# (storage.move_into_place; finish_clip, and the janitor's sweep).
MOVE_CLIP = (
    Need("storage.objects.get", MEDIA, "storage.stat / get_blob: is the clip in place"),
    Need("storage.objects.get", VEO_OUT, "copy_blob: read the source"),
    Need("storage.objects.create", MEDIA, "copy_blob (rewrite) into media/"),
    Need("storage.objects.update", MEDIA, "Blob.patch: content type of the copy"),
    Need("storage.objects.delete", VEO_OUT, "Blob.delete of the temporary object"),
    Need("storage.objects.delete", MEDIA, "delete_quietly of a clip whose asset was closed"),
)

NEEDS: dict[str, tuple[Need, ...]] = {
    "render_still": (
        READ_DOCS,
        *WRITE_DOCS,
        Need(
            "datastore.entities.update",
            PROJECT,
            "model_sheets.register: campaign set(merge=True) (an upsert: create and update)",
        ),
        VERTEX,
        Need("storage.objects.get", MEDIA, "storage.stat (a still already stored?)"),
        Need("storage.objects.create", MEDIA, "storage.upload_once of the still"),
        Need("storage.objects.get", MEDIA, "model_sheets.register: copy_blob source"),
        Need("storage.objects.create", REFS, "model_sheets.register: copy_blob into refs/"),
        Need("storage.objects.delete", REFS, "model_sheets.register replaces an older sheet"),
        *HIDDEN_END,
        Need("pubsub.topics.publish", topic("animate"), "publish.publish_animate"),
        EVENTS,
        CHARGES,
    ),
    "animate_still": (
        READ_DOCS,
        *WRITE_DOCS,
        Need(
            "datastore.entities.list", PROJECT, "dispatch: asset_queries.animating (paced starts)"
        ),
        VERTEX,
        Need("storage.objects.get", MEDIA, "storage.download of the still sent to Veo"),
        *HIDDEN_END,
        EVENTS,
        CHARGES,
    ),
    "finish_clip": (
        READ_DOCS,
        *WRITE_DOCS,
        Need(
            "datastore.entities.list", PROJECT, "dispatch: asset_queries.animating (paced starts)"
        ),
        VERTEX,
        *MOVE_CLIP,
        *HIDDEN_END,
        EVENTS,
        CHARGES,
    ),
    "janitor": (
        READ_DOCS,
        *WRITE_DOCS,
        Need(
            "datastore.entities.list",
            PROJECT,
            "asset_queries.open_before, animating_checks_due (collection-group queries), dispatch",
        ),
        VERTEX,
        Need("storage.objects.list", BUCKET, "storage.delete_stale, first_mp4_under (veo-out/)"),
        Need("storage.objects.delete", VEO_OUT, "storage.delete_stale"),
        *MOVE_CLIP,
        *HIDDEN_END,
        EVENTS,
        CHARGES,
    ),
    "media_api": (
        READ_DOCS,
        *WRITE_DOCS,
        Need(
            "datastore.entities.create",
            PROJECT,
            "streams.issue_ticket (sse_tickets/), open_stream (sse_streams/)",
        ),
        Need(
            "datastore.entities.update",
            PROJECT,
            "redeem_ticket, open/close_stream; takes.hide and reanimate (the asset)",
        ),
        Need(
            "datastore.entities.list",
            PROJECT,
            "turn_assets, gallery_page, spend report (RunQuery); event streams (Listen)",
        ),
        Need(
            "firebaseauth.users.get",
            PROJECT,
            "auth.verify_id_token(check_revoked=True) looks the user up",
        ),
        Need(
            "iam.serviceAccounts.signBlob",
            service_account("function/media_api"),
            "signing.signed_url: generate_signed_url(service_account_email=...) signs as itself",
        ),
        Need("storage.objects.get", MEDIA, "a signed URL's GET acts with the signer's permissions"),
        *HIDDEN_END,
        Need("pubsub.topics.publish", topic("requests"), "takes.regenerate: publish_request"),
        Need("pubsub.topics.publish", topic("animate"), "takes.reanimate: publish_animate"),
        EVENTS,
        CHARGES,
    ),
    "aidm": (
        Need(
            "pubsub.topics.publish",
            topic("requests"),
            "MediaClient.publish/request_*; cutscenes trigger",
        ),
        Need(
            "datastore.entities.get",
            PROJECT,
            "remaining_budget (get_all), create_custom_token (campaign), trigger --wait",
        ),
        Need(
            "datastore.entities.create",
            PROJECT,
            "configure on a new campaign, set_player_budget on a new player",
        ),
        Need(
            "datastore.entities.update",
            PROJECT,
            "configure: campaign, and ledger.set_cap's ledgers; set_player_budget (players/)",
        ),
        Need(
            "datastore.entities.list",
            PROJECT,
            "ledger.set_cap (sessions), cutscenes gallery, cutscenes spend",
        ),
        Need("storage.objects.create", REFS, "MediaClient.upload_reference (storage.upload)"),
        Need("storage.objects.delete", REFS, "upload_reference replaces an image of that name"),
        Need(
            "iam.serviceAccounts.signBlob",
            service_account("player_tokens"),
            "create_custom_token: firebase-admin signs as MEDIA_SIGNING_SA",
        ),
    ),
    "aidm_publisher": (
        Need("pubsub.topics.publish", topic("requests"), "publish a media.request.v1 message"),
    ),
    "aidm_subscriber": (
        Need(
            "pubsub.topics.attachSubscription",
            topic("events"),
            "create its own subscription to media-events",
        ),
    ),
    "aidm_charges": (
        Need(
            "pubsub.subscriptions.consume",
            subscription("charges_host"),
            "pull and acknowledge media.charge.v1 messages from media-charges-host",
        ),
    ),
}


def permissions(identity: str) -> set[tuple[str, str]]:
    """(permission, resource) pairs the identity needs."""
    return {(n.permission, n.resource) for n in NEEDS[identity]}
