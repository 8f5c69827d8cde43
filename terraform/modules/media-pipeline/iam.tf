# Identities and least-privilege grants. One runtime service account per
# function, one push identity per trigger subscription, one for the scheduler,
# one for the function builds. No basic roles (owner/editor/viewer) anywhere;
# tests/unit/test_terraform.py checks both.

locals {
  # Project-wide roles (Vertex AI and Firestore have no narrower resource).
  function_project_roles = {
    render_still  = ["roles/aiplatform.user", "roles/datastore.user"]
    animate_still = ["roles/aiplatform.user", "roles/datastore.user"]
    finish_clip   = ["roles/aiplatform.user", "roles/datastore.user"]
    # Reads documents only: asset documents, ledgers, campaign membership;
    # and users (verify_id_token's check_revoked, create_custom_token's lookups).
    media_api = ["roles/datastore.viewer", "roles/firebaseauth.viewer"]
    # Its sweep asks Veo about operations that wrote nothing.
    janitor = ["roles/datastore.user", "roles/aiplatform.user"]
  }
  # Roles on the media bucket only.
  function_bucket_roles = {
    # Writes stills, reads refs/.
    render_still = ["roles/storage.objectAdmin"]
    # Reads the still it sends to Veo.
    animate_still = ["roles/storage.objectViewer"]
    # Copies Veo's MP4 out of veo-out/ and deletes the temporary object.
    finish_clip = ["roles/storage.objectAdmin"]
    # Signed URLs act with the signer's permissions: it must be able to read.
    media_api = ["roles/storage.objectViewer"]
    # Its sweep finishes a clip whose event was lost (the same copy).
    janitor = ["roles/storage.objectAdmin"]
  }
  # Publisher on these topics (local.topics keys).
  function_publishes = {
    render_still  = ["animate", "events"]
    animate_still = ["events"]
    finish_clip   = ["events"]
    media_api     = []
    janitor       = ["events"]
  }

  project_grants = merge([
    for fn, roles in local.function_project_roles : { for r in roles : "${fn} ${r}" => { fn = fn, role = r } }
  ]...)
  bucket_grants = merge([
    for fn, roles in local.function_bucket_roles : { for r in roles : "${fn} ${r}" => { fn = fn, role = r } }
  ]...)
  publish_grants = merge([
    for fn, topics in local.function_publishes : { for t in topics : "${fn} ${t}" => { fn = fn, topic = t } }
  ]...)

  pubsub_agent = "serviceAccount:${google_project_service_identity.agent["pubsub.googleapis.com"].email}"
  vertex_agent = "serviceAccount:${google_project_service_identity.agent["aiplatform.googleapis.com"].email}"
}

resource "google_service_account" "function" {
  for_each     = local.functions
  project      = var.project_id
  account_id   = "fn-${each.value.name}"
  display_name = "Cutscenes ${each.key} (runtime)"
  description  = "Runtime identity of the ${each.key} function; nothing else runs as it."
  depends_on   = [google_project_service.this]
}

resource "google_project_iam_member" "function" {
  for_each = local.project_grants
  project  = var.project_id
  role     = each.value.role
  member   = google_service_account.function[each.value.fn].member
}

resource "google_storage_bucket_iam_member" "function" {
  for_each = local.bucket_grants
  bucket   = google_storage_bucket.media.name
  role     = each.value.role
  member   = google_service_account.function[each.value.fn].member
}

resource "google_pubsub_topic_iam_member" "function_publisher" {
  for_each = local.publish_grants
  project  = var.project_id
  topic    = google_pubsub_topic.pipeline[each.value.topic].name
  role     = "roles/pubsub.publisher"
  member   = google_service_account.function[each.value.fn].member
}

# V4 signed URLs without key files: media_api signs through IAM signBlob as
# itself, so it may mint tokens for itself and for no one else.
resource "google_service_account_iam_member" "media_api_signs_as_itself" {
  service_account_id = google_service_account.function["media_api"].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = google_service_account.function["media_api"].member
}

# Vertex AI writes Veo's output (output_gcs_uri) as its service agent, and
# reads reference sheets passed as gs:// parts. Each grant covers its prefix only.
resource "google_storage_bucket_iam_member" "vertex_writes_veo_output" {
  bucket = google_storage_bucket.media.name
  role   = "roles/storage.objectCreator"
  member = local.vertex_agent
  condition {
    title      = "veo-out only"
    expression = "resource.name.startsWith(\"projects/_/buckets/${google_storage_bucket.media.name}/objects/veo-out/\")"
  }
}

resource "google_storage_bucket_iam_member" "vertex_reads_refs" {
  bucket = google_storage_bucket.media.name
  role   = "roles/storage.objectViewer"
  member = local.vertex_agent
  condition {
    title      = "refs only"
    expression = "resource.name.startsWith(\"projects/_/buckets/${google_storage_bucket.media.name}/objects/refs/\")"
  }
}

# ---- Push delivery (pubsub.tf) ----------------------------------------------

resource "google_service_account" "push" {
  for_each     = local.event_functions
  project      = var.project_id
  account_id   = "push-${each.value.name}"
  display_name = "Cutscenes push to ${each.key}"
  description  = "OIDC identity of the ${each.value.name}-push subscription; may invoke ${each.key} only."
  depends_on   = [google_project_service.this]
}

resource "google_cloud_run_service_iam_member" "push_invoker" {
  for_each = local.event_functions
  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.this[each.key].service_config[0].service
  role     = "roles/run.invoker"
  member   = google_service_account.push[each.key].member
}

# Pub/Sub's service agent signs the push OIDC tokens.
resource "google_service_account_iam_member" "pubsub_agent_mints_push_tokens" {
  for_each           = local.event_functions
  service_account_id = google_service_account.push[each.key].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_agent
}

# Dead-lettering is done by Pub/Sub's service agent: it must publish to the
# dead-letter topics and acknowledge on the source subscriptions.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  for_each = local.dead_letter_topics
  project  = var.project_id
  topic    = google_pubsub_topic.dead_letter[each.key].name
  role     = "roles/pubsub.publisher"
  member   = local.pubsub_agent
}

resource "google_pubsub_subscription_iam_member" "dead_letter_subscriber" {
  for_each     = local.event_functions
  project      = var.project_id
  subscription = google_pubsub_subscription.push[each.key].name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_agent
}

# The same for the janitor's dead-letter subscriptions and their own topic.
resource "google_pubsub_topic_iam_member" "janitor_dead_letter_publisher" {
  project = var.project_id
  topic   = google_pubsub_topic.janitor_dead_letter.name
  role    = "roles/pubsub.publisher"
  member  = local.pubsub_agent
}

resource "google_pubsub_subscription_iam_member" "janitor_dead_letter_subscriber" {
  for_each     = local.dead_letter_topics
  project      = var.project_id
  subscription = google_pubsub_subscription.dead_letter_janitor[each.key].name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_agent
}

# ---- Dead letters -> janitor (pubsub.tf) -------------------------------------

resource "google_service_account" "dead_letter_push" {
  project      = var.project_id
  account_id   = "push-dead-janitor"
  display_name = "Cutscenes dead letters to janitor"
  description  = "OIDC identity of the dead-letter push subscriptions; may invoke janitor only."
  depends_on   = [google_project_service.this]
}

resource "google_cloud_run_service_iam_member" "dead_letter_push_invoker" {
  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.this["janitor"].service_config[0].service
  role     = "roles/run.invoker"
  member   = google_service_account.dead_letter_push.member
}

resource "google_service_account_iam_member" "pubsub_agent_mints_dead_letter_tokens" {
  service_account_id = google_service_account.dead_letter_push.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_agent
}

# ---- Cloud Scheduler -> janitor --------------------------------------------

resource "google_service_account" "scheduler" {
  project      = var.project_id
  account_id   = "sched-janitor"
  display_name = "Cutscenes scheduler for janitor"
  description  = "OIDC identity of the janitor Cloud Scheduler job; may invoke janitor only."
  depends_on   = [google_project_service.this]
}

resource "google_cloud_run_service_iam_member" "scheduler_invoker" {
  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.this["janitor"].service_config[0].service
  role     = "roles/run.invoker"
  member   = google_service_account.scheduler.member
}

# ---- Browsers -> media_api ---------------------------------------------------

# media_api verifies Firebase ID tokens and campaign membership itself.
resource "google_cloud_run_service_iam_member" "media_api_public" {
  count    = var.media_api_public ? 1 : 0
  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.this["media_api"].service_config[0].service
  role     = "roles/run.invoker"
  member   = "allUsers"
}

# ---- AIDM --------------------------------------------------------------------

resource "google_pubsub_topic_iam_member" "aidm_publishes_requests" {
  for_each = toset(var.aidm.request_publishers)
  project  = var.project_id
  topic    = google_pubsub_topic.pipeline["requests"].name
  role     = "roles/pubsub.publisher"
  member   = each.key
}

# Lets AIDM attach its own subscription to media-events.
resource "google_pubsub_topic_iam_member" "aidm_subscribes_events" {
  for_each = toset(var.aidm.event_subscribers)
  project  = var.project_id
  topic    = google_pubsub_topic.pipeline["events"].name
  role     = "roles/pubsub.subscriber"
  member   = each.key
}

# ---- Function builds ---------------------------------------------------------

# Cloud Build runs the function builds as this account rather than the
# project's default compute or Cloud Build account (which new projects no
# longer grant enough, and old projects grant far too much).
resource "google_service_account" "build" {
  project      = var.project_id
  account_id   = "fn-builder"
  display_name = "Cutscenes function builds"
  description  = "Builds the function images from the source bundle."
  depends_on   = [google_project_service.this]
}

resource "google_project_iam_member" "build" {
  for_each = toset(["roles/logging.logWriter", "roles/artifactregistry.writer"])
  project  = var.project_id
  role     = each.key
  member   = google_service_account.build.member
}

# Cloud Functions stages sources in its own gcf-v2-* buckets.
resource "google_project_iam_member" "build_reads_staged_sources" {
  project = var.project_id
  role    = "roles/storage.objectAdmin"
  member  = google_service_account.build.member
  condition {
    title      = "gcf-v2 staging buckets only"
    expression = "resource.name.startsWith(\"projects/_/buckets/gcf-v2-\")"
  }
}

resource "google_storage_bucket_iam_member" "build_reads_bundle" {
  bucket = google_storage_bucket.sources.name
  role   = "roles/storage.objectViewer"
  member = google_service_account.build.member
}
