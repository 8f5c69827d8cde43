locals {
  # One deployable per entry point in functions/. The key is the Python entry
  # point; `name` is the Cloud Run service name (no underscores allowed there).
  # `trigger` names the topic (local.topics) whose push subscription invokes
  # the function; null means it is invoked over HTTP.
  functions = {
    render_still = {
      name        = "render-still"
      description = "media-requests -> budget reserve, Gemini still, PNG in the bucket, animate request."
      trigger     = "requests"
      ingress     = "ALLOW_INTERNAL_ONLY"
      sizing = {
        memory          = "1Gi"
        cpu             = "1"
        timeout_seconds = 540
        min_instances   = 0
        max_instances   = 20
        concurrency     = 1
      }
    }
    animate_still = {
      name        = "animate-still"
      description = "media-animate -> Veo image-to-video started and recorded; returns at once."
      trigger     = "animate"
      ingress     = "ALLOW_INTERNAL_ONLY"
      sizing = {
        memory          = "512Mi"
        cpu             = "1"
        timeout_seconds = 540
        min_instances   = 0
        max_instances   = 20
        concurrency     = 1
      }
    }
    finish_clip = {
      name        = "finish-clip"
      description = "Bucket finalize on veo-out/ -> Veo operation checked once, MP4 in place, clip settled."
      trigger     = "clips"
      ingress     = "ALLOW_INTERNAL_ONLY"
      sizing = {
        # A check, a copy and two writes: seconds, never a wait on Veo.
        memory          = "512Mi"
        cpu             = "1"
        timeout_seconds = 60
        min_instances   = 0
        max_instances   = 20
        concurrency     = 1
      }
    }
    media_api = {
      name        = "media-api"
      description = "HTTP API for browsers: signed URLs, turn media, gallery, cost, live events."
      trigger     = null
      ingress     = "ALLOW_ALL"
      sizing = {
        # Server-sent event streams hold a request open: serve many per instance.
        memory          = "512Mi"
        cpu             = "1"
        timeout_seconds = 900
        min_instances   = 0
        max_instances   = 10
        concurrency     = 40
        # gunicorn threads (THREADS): one per request Cloud Run may send, not
        # the default 4 per CPU, or four open streams stall the instance.
        # Streams take at most four in five (docs/decisions/0021-threads-and-streams.md).
        threads = 40
      }
    }
    janitor = {
      name        = "janitor"
      description = "Scheduled sweep: stuck assets to a terminal state, reservations released."
      trigger     = null
      # Cloud Scheduler calls the public run.app URL; IAM (OIDC) keeps it private.
      ingress = "ALLOW_ALL"
      sizing = {
        memory          = "512Mi"
        cpu             = "1"
        timeout_seconds = 300
        min_instances   = 0
        # Two: a tick holds one for most of its minute while paced clips
        # wait (MEDIA_VEO_DISPATCH_HOLD_S); dead-letter pushes take the other.
        max_instances = 2
        concurrency   = 1
      }
    }
  }

  # Operator overrides (var.functions) win attribute by attribute.
  sizing = {
    for k, f in local.functions : k => merge(
      f.sizing,
      { for a, v in try(var.functions[k], {}) : a => v if v != null }
    )
  }

  # gunicorn's thread count, where one is set; unset, Functions Framework
  # runs 4 per CPU. infra/local/sizing.py reads the same sizing for the local stack.
  threads_env = {
    for k, s in local.sizing : k => try(s.threads, null) == null ? {} : { THREADS = tostring(s.threads) }
  }

  event_functions = { for k, f in local.functions : k => f if f.trigger != null }

  # Topic names are part of the public contract (docs/interface.md sections 1 and 4).
  topics = {
    requests = "media-requests"
    animate  = "media-animate"
    events   = "media-events"
    # One media.charge.v1 message per settled charge, for the host's cost table.
    charges = "media-charges"
    # Veo's output objects (the bucket's notification, bucket.tf): not part
    # of the public contract.
    clips = "media-clips"
  }
  dead_letter_topics = {
    requests = "media-requests-dead"
    animate  = "media-animate-dead"
    clips    = "media-clips-dead"
  }

  browser_origins = length(var.browser_origins) == 0 ? ["*"] : var.browser_origins

  media_bucket  = coalesce(var.bucket.name, "${var.project_id}-cutscenes-media")
  source_bucket = coalesce(var.bucket.source_name, "${var.project_id}-cutscenes-sources")

  # Settings (shared/core/settings.py) that must match what this module creates:
  # every function gets them. Emulator-only settings (*_EMULATOR_*,
  # MEDIA_API_URL, MEDIA_CRASH_AFTER, MEDIA_SIGNING_KEY_FILE) are never set here.
  common_env = {
    GOOGLE_CLOUD_PROJECT = var.project_id
    VERTEX_LOCATION      = var.vertex_location
    MEDIA_BUCKET         = google_storage_bucket.media.name
    MEDIA_REQUESTS_TOPIC = google_pubsub_topic.pipeline["requests"].name
    MEDIA_ANIMATE_TOPIC  = google_pubsub_topic.pipeline["animate"].name
    MEDIA_EVENTS_TOPIC   = google_pubsub_topic.pipeline["events"].name
    MEDIA_CHARGES_TOPIC  = google_pubsub_topic.pipeline["charges"].name
    MEDIA_DEADLINE_S     = tostring(var.media.deadline_s)
  }
  # Tunables whose unset value means "off" in Settings: only set when given.
  optional_env = {
    for k, v in {
      MEDIA_DAILY_CAP_USD = var.media.daily_cap_usd
      MEDIA_PRICING_FILE  = var.media.pricing_file
      MEDIA_MODEL_LOCATIONS = length(var.model_locations) == 0 ? null : join(",", [
        for model, location in var.model_locations : "${model}=${location}"
      ])
    } : k => tostring(v) if v != null
  }
  # What one function alone reads.
  function_env = {
    render_still = {
      MEDIA_IMAGE_BLOCK_RETRIES = tostring(var.media.image_block_retries)
    }
    # Every dispatcher of paced Veo starts reads the same budgets.
    animate_still = {
      MEDIA_VEO_STARTS_PER_MIN = tostring(var.media.veo_starts_per_min)
      MEDIA_MODEL_QUOTAS       = jsonencode(var.media.model_quotas)
    }
    finish_clip = {
      MEDIA_VEO_STARTS_PER_MIN = tostring(var.media.veo_starts_per_min)
      MEDIA_MODEL_QUOTAS       = jsonencode(var.media.model_quotas)
    }
    media_api = {
      MEDIA_SIGNING_SA       = google_service_account.function["media_api"].email
      MEDIA_SIGNED_URL_TTL_S = tostring(var.media.signed_url_ttl_s)
      MEDIA_API_CORS_ORIGINS = join(",", local.browser_origins)
      # Sign-in besides Firebase; validated again by Settings at load.
      MEDIA_API_OIDC_ISSUERS = jsonencode(var.oidc_issuers)
      # Close event streams before the platform cuts the request; browsers reconnect.
      MEDIA_API_SSE_MAX_S = tostring(max(10, min(300, local.sizing["media_api"].timeout_seconds - 30)))
      # Open event streams per instance stay below this and THREADS, so other
      # requests always find a thread (shared/api/stream_slots.py).
      MEDIA_API_CONCURRENCY = tostring(local.sizing["media_api"].concurrency)
    }
    janitor = {
      MEDIA_SWEEP_EVERY_S      = tostring(var.janitor.sweep_every_s)
      MEDIA_VEO_STARTS_PER_MIN = tostring(var.media.veo_starts_per_min)
      MEDIA_MODEL_QUOTAS       = jsonencode(var.media.model_quotas)
      # Each tick takes paced starts as the log frees them until shortly
      # before the next tick (within the function's timeout).
      MEDIA_VEO_DISPATCH_HOLD_S = tostring(max(0, min(var.janitor.sweep_every_s - 15, local.sizing["janitor"].timeout_seconds - 60)))
    }
  }

  services = [
    "aiplatform.googleapis.com",
    "artifactregistry.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "cloudscheduler.googleapis.com",
    # Not used by the push subscriptions in pubsub.tf; enabled so a trigger can
    # move to Eventarc without an API change.
    "eventarc.googleapis.com",
    "firebaserules.googleapis.com",
    "firestore.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com",
    "storage.googleapis.com",
  ]
}

resource "google_project_service" "this" {
  for_each           = toset(local.services)
  project            = var.project_id
  service            = each.key
  disable_on_destroy = false
}

# Service agents exist only once their API is used; generating the identity
# makes them exist before IAM bindings name them.
resource "google_project_service_identity" "agent" {
  provider   = google-beta
  for_each   = toset(["aiplatform.googleapis.com", "pubsub.googleapis.com"])
  project    = var.project_id
  service    = each.key
  depends_on = [google_project_service.this]
}
