# How requests reach render_still and animate_still.
#
# Choice: a push subscription we manage, pointed at the function's Cloud Run
# URL with an OIDC token, instead of an Eventarc trigger (event_trigger).
# Why: an Eventarc trigger creates and owns its Pub/Sub subscription, and
# neither the Eventarc API nor the provider lets us set a dead-letter policy
# or backoff on it; the documented workaround is a `gcloud pubsub
# subscriptions update --dead-letter-topic` after every (re)deploy, which
# Terraform cannot see or keep. With our own subscription the retry policy,
# the dead-letter topic, the attempt limit and the ack deadline are all
# declared here, reviewed, and checked by tests/unit/test_terraform.py.
# The function is unchanged: Functions Framework turns a Pub/Sub push body
# into the same google.cloud.pubsub.topic.v1.messagePublished CloudEvent
# (id = message id, so redeliveries share it) that Eventarc would send; the
# topic path appended to the endpoint becomes the event's source. This is
# also exactly how the local stack delivers (emulator push subscriptions).
# It relies on the handlers being declared with @functions_framework.cloud_event,
# since a function without event_trigger is deployed with signature type http.
#
# Retries: Pub/Sub retries any non-2xx answer with exponential backoff
# (var.delivery) - the equivalent of RETRY_POLICY_RETRY - and after
# max_delivery_attempts moves the message to <topic>-dead, where a hold
# subscription keeps it for an operator and an alert fires (monitoring.tf).

resource "google_pubsub_topic" "pipeline" {
  for_each   = local.topics
  project    = var.project_id
  name       = each.value
  labels     = var.labels
  depends_on = [google_project_service.this]
}

resource "google_pubsub_topic" "dead_letter" {
  for_each   = local.dead_letter_topics
  project    = var.project_id
  name       = each.value
  labels     = var.labels
  depends_on = [google_project_service.this]
}

resource "google_pubsub_subscription" "push" {
  for_each = local.event_functions
  project  = var.project_id
  name     = "${each.value.name}-push"
  topic    = google_pubsub_topic.pipeline[each.value.trigger].id
  labels   = var.labels

  # Push waits this long for the function's answer; it must outlast the
  # function timeout (at most 540 s) or a slow success is delivered again.
  ack_deadline_seconds       = 600
  message_retention_duration = var.delivery.message_retention

  push_config {
    push_endpoint = "${google_cloudfunctions2_function.this[each.key].service_config[0].uri}/projects/${var.project_id}/topics/${google_pubsub_topic.pipeline[each.value.trigger].name}"
    oidc_token {
      service_account_email = google_service_account.push[each.key].email
      # Cloud Run checks the audience against the service URL, without the path.
      audience = google_cloudfunctions2_function.this[each.key].service_config[0].uri
    }
  }

  retry_policy {
    minimum_backoff = var.delivery.minimum_backoff
    maximum_backoff = var.delivery.maximum_backoff
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter[each.value.trigger].id
    max_delivery_attempts = var.delivery.max_delivery_attempts
  }

  # Never expire for inactivity: a quiet month must not delete the trigger.
  expiration_policy {
    ttl = ""
  }

  depends_on = [
    google_cloud_run_service_iam_member.push_invoker,
    google_pubsub_topic_iam_member.dead_letter_publisher,
    google_service_account_iam_member.pubsub_agent_mints_push_tokens,
  ]
}

# Dead letters wait here for an operator (inspect, fix, republish to the source
# topic). Pull only: nothing consumes them automatically.
resource "google_pubsub_subscription" "dead_letter_hold" {
  for_each                   = local.dead_letter_topics
  project                    = var.project_id
  name                       = "${each.value}-hold"
  topic                      = google_pubsub_topic.dead_letter[each.key].id
  labels                     = var.labels
  ack_deadline_seconds       = 60
  message_retention_duration = var.delivery.dead_letter_retention
  expiration_policy {
    ttl = ""
  }
}

# Dead letters are also pushed to the janitor, which closes their assets at
# once (failed or partial, holds released) so a player never waits on a
# request nobody is working on. The hold subscription above still keeps every
# dead letter for an operator. The janitor acks what no retry can close; what
# it keeps failing on (an outage, a bug) goes to media-janitor-dead after
# max_delivery_attempts instead of being pushed for the whole retention.
resource "google_pubsub_subscription" "dead_letter_janitor" {
  for_each                   = local.dead_letter_topics
  project                    = var.project_id
  name                       = "${each.value}-janitor"
  topic                      = google_pubsub_topic.dead_letter[each.key].id
  labels                     = var.labels
  ack_deadline_seconds       = 60
  message_retention_duration = var.delivery.dead_letter_retention

  push_config {
    push_endpoint = google_cloudfunctions2_function.this["janitor"].service_config[0].uri
    oidc_token {
      service_account_email = google_service_account.dead_letter_push.email
      audience              = google_cloudfunctions2_function.this["janitor"].service_config[0].uri
    }
  }

  retry_policy {
    minimum_backoff = var.delivery.minimum_backoff
    maximum_backoff = var.delivery.maximum_backoff
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.janitor_dead_letter.id
    max_delivery_attempts = var.delivery.max_delivery_attempts
  }

  expiration_policy {
    ttl = ""
  }

  depends_on = [
    google_cloud_run_service_iam_member.dead_letter_push_invoker,
    google_service_account_iam_member.pubsub_agent_mints_dead_letter_tokens,
    google_pubsub_topic_iam_member.janitor_dead_letter_publisher,
  ]
}

# Where the janitor's own failures end: kept for an operator (pull only, and
# the dead-letter alert in monitoring.tf watches it like the other holds).
resource "google_pubsub_topic" "janitor_dead_letter" {
  project    = var.project_id
  name       = "media-janitor-dead"
  labels     = var.labels
  depends_on = [google_project_service.this]
}

resource "google_pubsub_subscription" "janitor_dead_letter_hold" {
  project                    = var.project_id
  name                       = "media-janitor-dead-hold"
  topic                      = google_pubsub_topic.janitor_dead_letter.id
  labels                     = var.labels
  ack_deadline_seconds       = 60
  message_retention_duration = var.delivery.dead_letter_retention
  expiration_policy {
    ttl = ""
  }
}

# Charges for the host (docs/interface.md, "Exported charges"): a pull
# subscription it drains into its per-call cost table, de-duplicating on
# charge_id (a charge may be announced more than once). No dead-letter
# policy: it feeds no function, and a charge the host has not acknowledged
# must wait for it (Pub/Sub keeps it 7 days at most), not move aside.
resource "google_pubsub_subscription" "charges_host" {
  project                    = var.project_id
  name                       = "${google_pubsub_topic.pipeline["charges"].name}-host"
  topic                      = google_pubsub_topic.pipeline["charges"].id
  labels                     = var.labels
  ack_deadline_seconds       = 60
  message_retention_duration = "604800s"
  expiration_policy {
    ttl = ""
  }
}
