output "requests_topic" {
  description = "Topic AIDM publishes media.request.v1 messages to (MEDIA_REQUESTS_TOPIC), as a full id."
  value       = google_pubsub_topic.pipeline["requests"].id
}

output "events_topic" {
  description = "Topic carrying media.event.v1 status changes (MEDIA_EVENTS_TOPIC), as a full id."
  value       = google_pubsub_topic.pipeline["events"].id
}

output "charges_topic" {
  description = "Topic carrying one media.charge.v1 message per settled charge (MEDIA_CHARGES_TOPIC), as a full id."
  value       = google_pubsub_topic.pipeline["charges"].id
}

output "charges_subscription" {
  description = "Pull subscription the host drains charges from (var.aidm.charge_subscribers may consume it), as a full id."
  value       = google_pubsub_subscription.charges_host.id
}

output "animate_topic" {
  description = "Internal topic from render_still to animate_still, as a full id."
  value       = google_pubsub_topic.pipeline["animate"].id
}

output "bucket" {
  description = "Name of the private media bucket (MEDIA_BUCKET)."
  value       = google_storage_bucket.media.name
}

output "media_api_url" {
  description = "Base URL of the media_api HTTP function (MEDIA_API_URL for browsers and the CLI)."
  value       = google_cloudfunctions2_function.this["media_api"].service_config[0].uri
}

output "function_urls" {
  description = "Cloud Run URL of every function, by entry point."
  value       = { for k, f in google_cloudfunctions2_function.this : k => f.service_config[0].uri }
}

output "function_service_accounts" {
  description = "Runtime service account email of every function, by entry point."
  value       = { for k, sa in google_service_account.function : k => sa.email }
}

output "dead_letter_subscriptions" {
  description = "Pull subscriptions holding dead-lettered requests, by source topic key."
  value       = { for k, s in google_pubsub_subscription.dead_letter_hold : k => s.id }
}

output "bundle_object" {
  description = "gs:// URI of the source bundle the functions were built from."
  value       = "gs://${google_storage_bucket.sources.name}/${google_storage_bucket_object.bundle.name}"
}

output "environment" {
  description = "Settings for AIDM's publisher and the cutscenes CLI against this deployment."
  value = {
    GOOGLE_CLOUD_PROJECT = var.project_id
    MEDIA_BUCKET         = google_storage_bucket.media.name
    MEDIA_REQUESTS_TOPIC = google_pubsub_topic.pipeline["requests"].name
    MEDIA_EVENTS_TOPIC   = google_pubsub_topic.pipeline["events"].name
    MEDIA_CHARGES_TOPIC  = google_pubsub_topic.pipeline["charges"].name
    MEDIA_API_URL        = google_cloudfunctions2_function.this["media_api"].service_config[0].uri
    # MediaClient.create_custom_token signs as this account (IAM signBlob).
    MEDIA_SIGNING_SA = google_service_account.player_tokens.email
  }
}

output "player_token_signer" {
  description = "Service account that signs players' sign-in tokens; AIDM's backends may sign as it (MEDIA_SIGNING_SA for MediaClient)."
  value       = google_service_account.player_tokens.email
}
