# Custom roles, each a few permissions that the code's calls need and no
# more: docs/permissions.md says which call needs which, and
# tests/unit/test_iam_needs.py checks every grant in iam.tf against
# infra/iam/needs.py. Predefined roles would give far more (objectAdmin sets
# IAM policies, datastore.user deletes documents, tokenCreator mints access
# tokens).

locals {
  custom_roles = {
    # Firestore reads, creates and conditional updates; nothing deletes a
    # document (TTL policies do, firestore.tf). Lookup/BatchGet need get;
    # create() needs create; update() with a last_update_time precondition and
    # set(merge=True) need update (and create for the upsert).
    docs_read_write = {
      id          = "cutscenesDocsReadWrite"
      title       = "Cutscenes documents: read and write"
      permissions = ["datastore.entities.create", "datastore.entities.get", "datastore.entities.update"]
    }
    # Queries and listeners (RunQuery, Listen) need list as well as get.
    docs_query = {
      id          = "cutscenesDocsQuery"
      title       = "Cutscenes documents: queries"
      permissions = ["datastore.entities.list"]
    }
    # Objects, granted on the media bucket with a condition on the object
    # name's prefix (iam.tf), except listing, which is checked on the bucket.
    objects_read = {
      id          = "cutscenesObjectsRead"
      title       = "Cutscenes objects: read"
      permissions = ["storage.objects.get"]
    }
    # Writing an object that exists (an upload or a copy onto it) replaces
    # it, which Cloud Storage checks as delete too.
    objects_write = {
      id          = "cutscenesObjectsWrite"
      title       = "Cutscenes objects: write and delete"
      permissions = ["storage.objects.create", "storage.objects.delete"]
    }
    objects_delete = {
      id          = "cutscenesObjectsDelete"
      title       = "Cutscenes objects: delete"
      permissions = ["storage.objects.delete"]
    }
    # Metadata patch (content type of a copied clip).
    objects_update = {
      id          = "cutscenesObjectsUpdate"
      title       = "Cutscenes objects: update metadata"
      permissions = ["storage.objects.update"]
    }
    objects_list = {
      id          = "cutscenesObjectsList"
      title       = "Cutscenes objects: list"
      permissions = ["storage.objects.list"]
    }
    # verify_id_token(check_revoked=True) looks the user up.
    auth_user_lookup = {
      id          = "cutscenesAuthUserLookup"
      title       = "Cutscenes: look up Firebase Auth users"
      permissions = ["firebaseauth.users.get"]
    }
    # Signed URLs and custom tokens without key files: IAM signBlob, granted
    # on one service account only.
    sign_blob = {
      id          = "cutscenesSignBlob"
      title       = "Cutscenes: sign as a service account"
      permissions = ["iam.serviceAccounts.signBlob"]
    }
    # Attach a subscription to a topic (the subscriber's own project holds
    # the subscription and its consume permission).
    topic_attach = {
      id          = "cutscenesTopicAttach"
      title       = "Cutscenes: attach subscriptions to a topic"
      permissions = ["pubsub.topics.attachSubscription"]
    }
    # Pull and acknowledge on a subscription (Pull, StreamingPull,
    # Acknowledge, ModifyAckDeadline); roles/pubsub.subscriber would also
    # let the holder attach subscriptions and seek.
    subscription_consume = {
      id          = "cutscenesSubscriptionConsume"
      title       = "Cutscenes: consume a subscription"
      permissions = ["pubsub.subscriptions.consume"]
    }
  }
}

resource "google_project_iam_custom_role" "this" {
  for_each    = local.custom_roles
  project     = var.project_id
  role_id     = each.value.id
  title       = each.value.title
  description = "aidm-cutscenes: see docs/permissions.md."
  permissions = each.value.permissions
  depends_on  = [google_project_service.this]
}
