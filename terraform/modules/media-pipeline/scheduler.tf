# janitor every minute (var.janitor.schedule), authenticated with an
# OIDC token for the scheduler's own service account. No retries: the next
# run is never more than a schedule period away and the sweep is idempotent.
resource "google_cloud_scheduler_job" "janitor" {
  project          = var.project_id
  region           = var.region
  name             = "cutscenes-janitor"
  description      = "Moves assets stuck past MEDIA_DEADLINE_S to a terminal state."
  schedule         = var.janitor.schedule
  time_zone        = var.janitor.time_zone
  attempt_deadline = "${min(local.sizing["janitor"].timeout_seconds, 1800)}s"

  retry_config {
    retry_count = 0
  }

  http_target {
    http_method = "POST"
    uri         = google_cloudfunctions2_function.this["janitor"].service_config[0].uri
    headers = {
      "Content-Type" = "application/json"
    }
    body = base64encode("{}")
    oidc_token {
      service_account_email = google_service_account.scheduler.email
      audience              = google_cloudfunctions2_function.this["janitor"].service_config[0].uri
    }
  }

  depends_on = [google_cloud_run_service_iam_member.scheduler_invoker]
}
