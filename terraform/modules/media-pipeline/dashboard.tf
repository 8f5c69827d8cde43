# The operator's dashboard: what the pipeline is doing, from the functions' JSON
# log lines (shared/core/log.py writes `event` and its fields into jsonPayload).
# Each metric's filter names a log event the code emits; tests/unit/test_dashboard.py
# checks every one against the code, so a renamed event cannot leave a chart empty.

locals {
  functions_log_filter = join(" AND ", [
    "resource.type=\"cloud_run_revision\"",
    "resource.labels.service_name=(${join(" OR ", [for f in local.functions : "\"${f.name}\""])})",
  ])
  # PromQL for a log-based metric (logging.googleapis.com/user/NAME).
  promql_user = "logging_googleapis_com:user_%s%s{monitored_resource=\"cloud_run_revision\"}"
}

# starts.py logs video_started once per Veo operation it starts.
resource "google_logging_metric" "veo_starts" {
  project = var.project_id
  name    = "cutscenes_veo_starts"
  filter  = "${local.functions_log_filter} AND jsonPayload.event=\"video_started\""
  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "Veo operations started"
  }
  depends_on = [google_project_service.this]
}

# 429s: a Veo start refused for quota and waited out (veo_quota_wait), and any
# other model call that answered 429 and was handed back for redelivery
# (transient, "... model answered 429; the delivery will be retried").
resource "google_logging_metric" "quota_refusals" {
  project = var.project_id
  name    = "cutscenes_quota_refusals"
  filter  = "${local.functions_log_filter} AND (jsonPayload.event=\"veo_quota_wait\" OR (jsonPayload.event=\"transient\" AND jsonPayload.message:\"answered 429\"))"
  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "Model calls refused for quota (429)"
    labels {
      key         = "event"
      value_type  = "STRING"
      description = "veo_quota_wait (Veo start waited out) or transient (redelivered)"
    }
  }
  label_extractors = {
    event = "EXTRACT(jsonPayload.event)"
  }
  depends_on = [google_project_service.this]
}

# janitor.py logs dead_letter_closed for each asset of a dead-lettered message.
resource "google_logging_metric" "dead_letters_closed" {
  project = var.project_id
  name    = "cutscenes_dead_letters_closed"
  filter  = "${local.functions_log_filter} AND jsonPayload.event=\"dead_letter_closed\""
  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "Assets closed because their message was dead-lettered"
  }
  depends_on = [google_project_service.this]
}

# Latencies from asset_terminal's stage_ms (milliseconds): request_to_still is
# the request's publish time to its still stored (render.py), landed_to_complete
# the clip landing in the bucket to the asset complete (finish.py).
resource "google_logging_metric" "stage_latency" {
  for_each = {
    request_to_still   = "Request published to still stored"
    landed_to_complete = "Clip landed in the bucket to asset complete"
  }
  project = var.project_id
  name    = "cutscenes_${each.key}_ms"
  filter  = "${local.terminal_log_filter} AND jsonPayload.stage_ms.${each.key}>=0"
  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "DISTRIBUTION"
    unit         = "ms"
    display_name = each.value
  }
  value_extractor = "EXTRACT(jsonPayload.stage_ms.${each.key})"
  # 100 ms to about 30 minutes.
  bucket_options {
    exponential_buckets {
      num_finite_buckets = 15
      growth_factor      = 2
      scale              = 100
    }
  }
  depends_on = [google_project_service.this]
}

locals {
  promql_starts      = format(local.promql_user, google_logging_metric.veo_starts.name, "")
  promql_refusals    = format(local.promql_user, google_logging_metric.quota_refusals.name, "")
  promql_dead        = format(local.promql_user, google_logging_metric.dead_letters_closed.name, "")
  promql_still_ms    = format(local.promql_user, google_logging_metric.stage_latency["request_to_still"].name, "_bucket")
  promql_complete_ms = format(local.promql_user, google_logging_metric.stage_latency["landed_to_complete"].name, "_bucket")

  # One line chart per tile: its title, PromQL queries (legend, query) and
  # threshold lines (label, value).
  dashboard_charts = [
    {
      title      = "Cutscenes per minute by terminal status"
      queries    = [["{{status}}", "sum by (status) (rate(${local.promql_terminal}[5m])) * 60"]]
      thresholds = []
    },
    {
      title   = "Veo starts per minute against the quota"
      queries = [["starts", "sum(rate(${local.promql_starts}[5m])) * 60"]]
      thresholds = [
        ["quota (monitoring.veo_quota_per_min)", var.monitoring.veo_quota_per_min],
        ["paced at (media.veo_starts_per_min)", var.media.veo_starts_per_min],
      ]
    },
    {
      title      = "429s per minute (quota refusals)"
      queries    = [["{{event}}", "sum by (event) (rate(${local.promql_refusals}[5m])) * 60"]]
      thresholds = []
    },
    {
      title      = "Spend per day (settled USD)"
      queries    = [["USD", "sum(increase(${local.promql_cost_sum}[1d]))"]]
      thresholds = var.monitoring.daily_spend_alert_usd == null ? [] : [["daily spend alert", var.monitoring.daily_spend_alert_usd]]
    },
    {
      title = "Request to still (ms)"
      queries = [
        ["p50", "histogram_quantile(0.5, sum by (le) (rate(${local.promql_still_ms}[10m])))"],
        ["p95", "histogram_quantile(0.95, sum by (le) (rate(${local.promql_still_ms}[10m])))"],
      ]
      thresholds = []
    },
    {
      title = "Clip landed to complete (ms)"
      queries = [
        ["p50", "histogram_quantile(0.5, sum by (le) (rate(${local.promql_complete_ms}[10m])))"],
        ["p95", "histogram_quantile(0.95, sum by (le) (rate(${local.promql_complete_ms}[10m])))"],
      ]
      thresholds = []
    },
    {
      title      = "Dead letters (assets closed per hour)"
      queries    = [["closed", "sum(increase(${local.promql_dead}[1h]))"]]
      thresholds = []
    },
  ]
}

resource "google_monitoring_dashboard" "operations" {
  project = var.project_id
  dashboard_json = jsonencode({
    displayName = "Cutscenes: operations"
    mosaicLayout = {
      columns = 12
      tiles = [for i, chart in local.dashboard_charts : {
        xPos   = (i % 2) * 6
        yPos   = floor(i / 2) * 4
        width  = 6
        height = 4
        widget = {
          title = chart.title
          xyChart = {
            dataSets = [for q in chart.queries : {
              plotType           = "LINE"
              legendTemplate     = q[0]
              timeSeriesQuery    = { prometheusQuery = q[1] }
              minAlignmentPeriod = "60s"
            }]
            thresholds = [for t in chart.thresholds : {
              label      = t[0]
              value      = t[1]
              targetAxis = "Y1"
              color      = "RED"
              direction  = "ABOVE"
            }]
          }
        }
      }]
    }
  })
  depends_on = [google_project_service.this]
}
