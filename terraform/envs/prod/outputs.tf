output "requests_topic" {
  description = "Topic AIDM publishes media requests to (full id)."
  value       = module.media_pipeline.requests_topic
}

output "events_topic" {
  description = "Topic carrying status events (full id)."
  value       = module.media_pipeline.events_topic
}

output "charges_topic" {
  description = "Topic carrying one charge message per settled charge (full id)."
  value       = module.media_pipeline.charges_topic
}

output "charges_subscription" {
  description = "Pull subscription the host drains charges from (full id)."
  value       = module.media_pipeline.charges_subscription
}

output "bucket" {
  description = "The private media bucket."
  value       = module.media_pipeline.bucket
}

output "media_api_url" {
  description = "Base URL of media_api for browsers and the CLI."
  value       = module.media_pipeline.media_api_url
}

output "dead_letter_subscriptions" {
  description = "Where dead-lettered requests wait for an operator."
  value       = module.media_pipeline.dead_letter_subscriptions
}

output "function_service_accounts" {
  description = "Runtime service account of every function."
  value       = module.media_pipeline.function_service_accounts
}

output "environment" {
  description = "Settings for AIDM's publisher and the cutscenes CLI against this deployment."
  value       = module.media_pipeline.environment
}

output "player_token_signer" {
  description = "Service account that signs players' sign-in tokens (MEDIA_SIGNING_SA for AIDM's MediaClient)."
  value       = module.media_pipeline.player_token_signer
}
