# Identities and least-privilege grants. One runtime service account per
# function, one push identity per trigger subscription, one for the scheduler,
# one for the function builds, one that signs players' sign-in tokens. No
# basic roles (owner/editor/viewer) anywhere; tests/unit/test_terraform.py
# checks that, and tests/unit/test_iam_needs.py checks that each function and
# AIDM hold exactly what their calls need (infra/iam/needs.py,
# docs/permissions.md). Custom roles: roles.tf.

locals {
  # Vertex AI has no narrower resource than the project, nor a narrower
  # predefined role for generateContent and Veo's long-running predictions.
  function_vertex = ["render_still", "animate_still", "finish_clip", "janitor"]
  # Firestore (custom roles, roles.tf) on the project: documents have no
  # narrower IAM resource. Queries (docs_query) only where the code queries.
  function_docs = {
    render_still  = ["docs_read_write"]
    animate_still = ["docs_read_write", "docs_query"]
    finish_clip   = ["docs_read_write", "docs_query"]
    # Tickets, stream records, hide and re-animate write; turn media,
    # gallery, spend and event streams query.
    media_api = ["docs_read_write", "docs_query", "auth_user_lookup"]
    janitor   = ["docs_read_write", "docs_query"]
  }
  # Object roles on the media bucket, by object-name prefix (an IAM
  # condition): media/ (stills and clips), veo-out/ (Veo's temporary
  # output), refs/ (reference images and model sheets). Every function may
  # end a hidden asset, which deletes its media/ objects and its veo-out/
  # prefix (shared/pipeline/hiding.py).
  function_objects = {
    render_still = {
      # Stores the still; copies a model sheet into refs/ (replacing it).
      "media/"   = ["objects_read", "objects_write"]
      "refs/"    = ["objects_write"]
      "veo-out/" = ["objects_delete"]
    }
    animate_still = {
      # Reads the still it sends to Veo.
      "media/"   = ["objects_read", "objects_delete"]
      "veo-out/" = ["objects_delete"]
    }
    finish_clip = {
      # Copies Veo's MP4 out of veo-out/, sets its type, drops the temporary.
      "media/"   = ["objects_read", "objects_write", "objects_update"]
      "veo-out/" = ["objects_read", "objects_delete"]
    }
    media_api = {
      # Signed URLs act with the signer's permissions: it must be able to
      # read. Hide deletes.
      "media/"   = ["objects_read", "objects_delete"]
      "veo-out/" = ["objects_delete"]
    }
    janitor = {
      # Its sweep finishes a clip whose event was lost (the same copy) and
      # deletes stale Veo output.
      "media/"   = ["objects_read", "objects_write", "objects_update"]
      "veo-out/" = ["objects_read", "objects_delete"]
    }
  }
  # Listing is checked on the bucket, where a condition on an object name
  # never holds: bucket-wide, for the hidden-asset cleanup (every function)
  # and the janitor's sweep of veo-out/.
  function_lists_objects = ["render_still", "animate_still", "finish_clip", "media_api", "janitor"]
  # Publisher on these topics (local.topics keys). Every function may settle
  # or find a settled charge (a still, a clip, a hidden asset's end, a
  # closer), and announces it on charges (shared/store/charges.py).
  function_publishes = {
    render_still  = ["animate", "events", "charges"]
    animate_still = ["events", "charges"]
    finish_clip   = ["events", "charges"]
    # Regenerate publishes a request, re-animate an animate request.
    media_api = ["requests", "animate", "events", "charges"]
    janitor   = ["events", "charges"]
  }

  docs_grants = merge([
    for fn, roles in local.function_docs : { for r in roles : "${fn} ${r}" => { fn = fn, role = r } }
  ]...)
  object_grants = merge(flatten([
    for fn, prefixes in local.function_objects : [
      for prefix, roles in prefixes : {
        for r in roles : "${fn} ${prefix} ${r}" => { fn = fn, prefix = prefix, role = r }
      }
    ]
  ])...)
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

resource "google_project_iam_member" "function_vertex" {
  for_each = toset(local.function_vertex)
  project  = var.project_id
  role     = "roles/aiplatform.user"
  member   = google_service_account.function[each.key].member
}

resource "google_project_iam_member" "function_docs" {
  for_each = local.docs_grants
  project  = var.project_id
  role     = google_project_iam_custom_role.this[each.value.role].id
  member   = google_service_account.function[each.value.fn].member
}

resource "google_storage_bucket_iam_member" "function_objects" {
  for_each = local.object_grants
  bucket   = google_storage_bucket.media.name
  role     = google_project_iam_custom_role.this[each.value.role].id
  member   = google_service_account.function[each.value.fn].member
  condition {
    title      = "${each.value.prefix} only"
    expression = "resource.name.startsWith(\"projects/_/buckets/${google_storage_bucket.media.name}/objects/${each.value.prefix}\")"
  }
}

resource "google_storage_bucket_iam_member" "function_lists_objects" {
  for_each = toset(local.function_lists_objects)
  bucket   = google_storage_bucket.media.name
  role     = google_project_iam_custom_role.this["objects_list"].id
  member   = google_service_account.function[each.key].member
}

resource "google_pubsub_topic_iam_member" "function_publisher" {
  for_each = local.publish_grants
  project  = var.project_id
  topic    = google_pubsub_topic.pipeline[each.value.topic].name
  role     = "roles/pubsub.publisher"
  member   = google_service_account.function[each.value.fn].member
}

# V4 signed URLs without key files: media_api signs through IAM signBlob as
# itself, so it may sign as itself and as no one else (and mints no tokens).
resource "google_service_account_iam_member" "media_api_signs_as_itself" {
  service_account_id = google_service_account.function["media_api"].name
  role               = google_project_iam_custom_role.this["sign_blob"].id
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

# Publishers of requests: AIDM's backends (MediaClient) publish too.
resource "google_pubsub_topic_iam_member" "aidm_publishes_requests" {
  for_each = toset(concat(var.aidm.request_publishers, var.aidm.backends))
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
  role     = google_project_iam_custom_role.this["topic_attach"].id
  member   = each.key
}

# The host drains its charges subscription (pull, acknowledge): consume only,
# on that one subscription.
resource "google_pubsub_subscription_iam_member" "aidm_consumes_charges" {
  for_each     = toset(var.aidm.charge_subscribers)
  project      = var.project_id
  subscription = google_pubsub_subscription.charges_host.name
  role         = google_project_iam_custom_role.this["subscription_consume"].id
  member       = each.key
}

# MediaClient and the CLI acting as AIDM: campaign settings and members
# (configure), budgets (remaining_budget, cost), assets (trigger --wait,
# gallery, spend).
resource "google_project_iam_member" "aidm_docs_read_write" {
  for_each = toset(var.aidm.backends)
  project  = var.project_id
  role     = google_project_iam_custom_role.this["docs_read_write"].id
  member   = each.key
}

resource "google_project_iam_member" "aidm_docs_query" {
  for_each = toset(var.aidm.backends)
  project  = var.project_id
  role     = google_project_iam_custom_role.this["docs_query"].id
  member   = each.key
}

# upload_reference writes (or replaces) reference images under refs/.
resource "google_storage_bucket_iam_member" "aidm_writes_refs" {
  for_each = toset(var.aidm.backends)
  bucket   = google_storage_bucket.media.name
  role     = google_project_iam_custom_role.this["objects_write"].id
  member   = each.key
  condition {
    title      = "refs/ only"
    expression = "resource.name.startsWith(\"projects/_/buckets/${google_storage_bucket.media.name}/objects/refs/\")"
  }
}

# Players' sign-in tokens (MediaClient.create_custom_token) are signed by this
# account through IAM signBlob: AIDM sets MEDIA_SIGNING_SA to its email (the
# `environment` output). It holds no roles; the backends may sign as it and
# as nothing else.
resource "google_service_account" "player_tokens" {
  project      = var.project_id
  account_id   = "player-tokens"
  display_name = "Cutscenes player sign-in tokens"
  description  = "Signs Firebase custom tokens for players; holds no roles."
  depends_on   = [google_project_service.this]
}

resource "google_service_account_iam_member" "aidm_signs_player_tokens" {
  for_each           = toset(var.aidm.backends)
  service_account_id = google_service_account.player_tokens.name
  role               = google_project_iam_custom_role.this["sign_blob"].id
  member             = each.key
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
