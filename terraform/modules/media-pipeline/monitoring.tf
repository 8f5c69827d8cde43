# Metrics from the functions' JSON log lines (shared/core/log.py): every asset that
# reaches a terminal state logs event="asset_terminal" with status,
# status_reason and cost_usd (the settled cost).

locals {
  terminal_log_filter = join(" AND ", [
    "resource.type=\"cloud_run_revision\"",
    "resource.labels.service_name=(${join(" OR ", [for f in local.functions : "\"${f.name}\""])})",
    "jsonPayload.event=\"asset_terminal\"",
  ])
  # PromQL names of the log-based metrics (logging.googleapis.com/user/NAME).
  promql_terminal = "logging_googleapis_com:user_${google_logging_metric.terminal_assets.name}{monitored_resource=\"cloud_run_revision\"}"
  promql_cost_sum = "logging_googleapis_com:user_${google_logging_metric.asset_cost.name}_sum{monitored_resource=\"cloud_run_revision\"}"
  promql_failed   = "logging_googleapis_com:user_${google_logging_metric.terminal_assets.name}{monitored_resource=\"cloud_run_revision\",status=\"failed\"}"
}

resource "google_logging_metric" "terminal_assets" {
  project = var.project_id
  name    = "cutscenes_terminal_assets"
  filter  = local.terminal_log_filter
  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "Cutscene assets reaching a terminal state"
    labels {
      key         = "status"
      value_type  = "STRING"
      description = "complete, partial, failed or rejected"
    }
    labels {
      key         = "status_reason"
      value_type  = "STRING"
      description = "Why, for partial, failed and rejected assets"
    }
  }
  label_extractors = {
    status        = "EXTRACT(jsonPayload.status)"
    status_reason = "EXTRACT(jsonPayload.status_reason)"
  }
  depends_on = [google_project_service.this]
}

resource "google_logging_metric" "asset_cost" {
  project = var.project_id
  name    = "cutscenes_asset_cost_usd"
  filter  = "${local.terminal_log_filter} AND jsonPayload.cost_usd>=0"
  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "DISTRIBUTION"
    unit         = "USD"
    display_name = "Settled cost per cutscene asset"
    labels {
      key         = "status"
      value_type  = "STRING"
      description = "Terminal status of the asset"
    }
  }
  value_extractor = "EXTRACT(jsonPayload.cost_usd)"
  label_extractors = {
    status = "EXTRACT(jsonPayload.status)"
  }
  # 1 cent to about 40 dollars.
  bucket_options {
    exponential_buckets {
      num_finite_buckets = 12
      growth_factor      = 2
      scale              = 0.01
    }
  }
  depends_on = [google_project_service.this]
}

resource "google_monitoring_alert_policy" "dead_letters" {
  project      = var.project_id
  display_name = "Cutscenes: requests dead-lettered"
  combiner     = "OR"
  severity     = "ERROR"

  dynamic "conditions" {
    for_each = merge(google_pubsub_subscription.dead_letter_hold,
    { janitor = google_pubsub_subscription.janitor_dead_letter_hold })
    content {
      display_name = "${conditions.value.name} has undelivered messages"
      condition_threshold {
        filter          = "resource.type = \"pubsub_subscription\" AND resource.labels.subscription_id = \"${conditions.value.name}\" AND metric.type = \"pubsub.googleapis.com/subscription/num_undelivered_messages\""
        comparison      = "COMPARISON_GT"
        threshold_value = 0
        duration        = "0s"
        aggregations {
          alignment_period   = "300s"
          per_series_aligner = "ALIGN_MAX"
        }
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "A request exhausted its deliveries (${var.delivery.max_delivery_attempts}) and sits on a `*-dead-hold` subscription. Pull it (`gcloud pubsub subscriptions pull media-requests-dead-hold --limit 5`), read the function's logs for its request_id, fix the cause, then republish the message body to the source topic."
  }
  notification_channels = var.monitoring.notification_channels
  user_labels           = var.labels
}

resource "google_monitoring_alert_policy" "failure_ratio" {
  project      = var.project_id
  display_name = "Cutscenes: failure ratio"
  combiner     = "OR"
  severity     = "WARNING"
  conditions {
    display_name = "More than ${var.monitoring.failure_ratio * 100}% of the last hour's assets failed"
    condition_prometheus_query_language {
      query               = "(sum(increase(${local.promql_failed}[1h])) / sum(increase(${local.promql_terminal}[1h]))) > ${var.monitoring.failure_ratio} and sum(increase(${local.promql_terminal}[1h])) >= ${var.monitoring.failure_min_assets}"
      duration            = "0s"
      evaluation_interval = "300s"
    }
  }
  documentation {
    mime_type = "text/markdown"
    content   = "Assets end `failed` (nothing usable). Group the `asset_terminal` log lines by status_reason: image_blocked points at prompts, image_failed or timeout at Vertex AI quota or outages."
  }
  notification_channels = var.monitoring.notification_channels
  user_labels           = var.labels
}

resource "google_monitoring_alert_policy" "daily_spend" {
  count        = var.monitoring.daily_spend_alert_usd == null ? 0 : 1
  project      = var.project_id
  display_name = "Cutscenes: daily spend"
  combiner     = "OR"
  severity     = "WARNING"
  conditions {
    display_name = "Settled spend over the last 24 h above ${var.monitoring.daily_spend_alert_usd} USD"
    condition_prometheus_query_language {
      query               = "sum(increase(${local.promql_cost_sum}[24h])) > ${var.monitoring.daily_spend_alert_usd}"
      duration            = "0s"
      evaluation_interval = "300s"
    }
  }
  documentation {
    mime_type = "text/markdown"
    content   = "Settled generation cost (sum of cost_usd on asset_terminal) passed the threshold. Per-session caps still hold; MEDIA_DAILY_CAP_USD (var.media.daily_cap_usd) stops all spending when set."
  }
  notification_channels = var.monitoring.notification_channels
  user_labels           = var.labels
}
