# The media bucket: media/{campaign_id}/{asset_id}.png|mp4, refs/{campaign_id}/,
# and Veo's temporary output under veo-out/. Browsers only ever see V4 signed
# URLs, so the bucket is private whatever IAM says elsewhere.
resource "google_storage_bucket" "media" {
  project                     = var.project_id
  name                        = local.media_bucket
  location                    = coalesce(var.bucket.location, var.region)
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = var.bucket.force_destroy
  labels                      = var.labels

  # Browsers fetch stills and clips with signed URLs (video players use ranges).
  cors {
    origin          = local.browser_origins
    method          = ["GET", "HEAD"]
    response_header = ["Content-Type", "Content-Length", "Content-Range", "Accept-Ranges", "ETag"]
    max_age_seconds = 3600
  }

  # finish_clip copies Veo's MP4 to its final name and deletes the temporary
  # object; this catches what a crash left behind.
  lifecycle_rule {
    condition {
      age            = var.bucket.veo_temp_retention_days
      matches_prefix = ["veo-out/"]
    }
    action {
      type = "Delete"
    }
  }

  dynamic "lifecycle_rule" {
    for_each = var.bucket.media_retention_days == null ? [] : [""]
    content {
      condition {
        age            = var.bucket.media_retention_days
        matches_prefix = ["media/"]
      }
      action {
        type = "Delete"
      }
    }
  }

  depends_on = [google_project_service.this]
}

# Function source bundles, named by content hash (bundle.tf). Cloud Functions
# copies the source when it builds, so old bundles are only needed to redeploy
# an old version; a month is plenty.
resource "google_storage_bucket" "sources" {
  project                     = var.project_id
  name                        = local.source_bucket
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true
  labels                      = var.labels

  lifecycle_rule {
    condition {
      age = 30
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.this]
}

# Veo writes {storageUri}/{operation}/sample_0.mp4 under veo-out/; the bucket's
# own finalize notification on that prefix runs finish_clip (pubsub.tf pushes
# the topic to it with retries and a dead-letter topic), so no function waits
# on Veo. See docs/decisions/0012-finish-from-bucket-events.md.
data "google_storage_project_service_account" "gcs" {
  project = var.project_id
}

# Cloud Storage's service agent publishes the notifications.
resource "google_pubsub_topic_iam_member" "gcs_publishes_clips" {
  project = var.project_id
  topic   = google_pubsub_topic.pipeline["clips"].name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${data.google_storage_project_service_account.gcs.email_address}"
}

resource "google_storage_notification" "veo_output" {
  bucket             = google_storage_bucket.media.name
  topic              = google_pubsub_topic.pipeline["clips"].id
  payload_format     = "JSON_API_V1"
  event_types        = ["OBJECT_FINALIZE"]
  object_name_prefix = "veo-out/"
  depends_on         = [google_pubsub_topic_iam_member.gcs_publishes_clips]
}
