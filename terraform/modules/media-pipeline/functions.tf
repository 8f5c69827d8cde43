# Every entry point in functions/ is a Cloud Functions (2nd gen) function built
# from the same bundle. Event functions have no event_trigger on purpose: their
# push subscriptions (pubsub.tf) carry the retry and dead-letter policies.
resource "google_cloudfunctions2_function" "this" {
  for_each    = local.functions
  project     = var.project_id
  location    = var.region
  name        = each.value.name
  description = each.value.description
  labels      = var.labels

  build_config {
    runtime         = "python311"
    entry_point     = each.key
    service_account = google_service_account.build.id
    source {
      storage_source {
        bucket = google_storage_bucket.sources.name
        object = google_storage_bucket_object.bundle.name
      }
    }
  }

  service_config {
    service_account_email            = google_service_account.function[each.key].email
    environment_variables            = merge(local.common_env, local.optional_env, local.function_env[each.key], local.threads_env[each.key])
    available_memory                 = local.sizing[each.key].memory
    available_cpu                    = local.sizing[each.key].cpu
    timeout_seconds                  = local.sizing[each.key].timeout_seconds
    min_instance_count               = local.sizing[each.key].min_instances
    max_instance_count               = local.sizing[each.key].max_instances
    max_instance_request_concurrency = local.sizing[each.key].concurrency
    ingress_settings                 = each.value.ingress
    all_traffic_on_latest_revision   = true
  }

  depends_on = [
    google_project_service.this,
    google_project_iam_member.build,
    google_project_iam_member.build_reads_staged_sources,
    google_storage_bucket_iam_member.build_reads_bundle,
  ]
}
