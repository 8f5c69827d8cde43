locals {
  firestore_database = "(default)"

  # Composite indexes for the queries the code makes (single-field orderings
  # such as the gallery's created_at DESC are automatic).
  firestore_indexes = {
    # media_api: GET /campaigns/{cid}/turns/{turn}/media, within one campaign.
    media_by_turn = {
      collection = "media"
      scope      = "COLLECTION"
      fields     = [["turn_number", "ASCENDING"], ["created_at", "ASCENDING"]]
    }
    # A rewind (POST .../sessions/{sid}/rewind): one session's assets past a
    # turn, session_id == and turn_number > (asset_queries.session_assets_after).
    # The turn-id route's session_id == and turn_id == needs no composite index:
    # Firestore merges the single-field ones for equalities.
    media_session_turns = {
      collection = "media"
      scope      = "COLLECTION"
      fields     = [["session_id", "ASCENDING"], ["turn_number", "ASCENDING"]]
    }
    # The web player's live listing (firestore.rules let members list only
    # `hidden == false`), newest first.
    media_visible_newest = {
      collection = "media"
      scope      = "COLLECTION"
      fields     = [["hidden", "ASCENDING"], ["created_at", "DESCENDING"]]
    }
    # janitor: open assets near their deadline, across every campaign
    # (shared/store/asset_queries.py open_before: status IN [...] and published_at < cutoff,
    # and created_at < cutoff for assets older than published_at).
    stuck_by_published = {
      collection = "media"
      scope      = "COLLECTION_GROUP"
      fields     = [["status", "ASCENDING"], ["published_at", "ASCENDING"]]
    }
    stuck_by_created = {
      collection = "media"
      scope      = "COLLECTION_GROUP"
      fields     = [["status", "ASCENDING"], ["created_at", "ASCENDING"]]
    }
    # janitor: animating assets whose Veo operation is overdue
    # (shared/store/asset_queries.py animating_checks_due: status == and video_check_at <).
    overdue_operations = {
      collection = "media"
      scope      = "COLLECTION_GROUP"
      fields     = [["status", "ASCENDING"], ["video_check_at", "ASCENDING"]]
    }
    # The same sweep keyed on the last transition, for a janitor that measures
    # staleness by updated_at; also the dispatcher's animating and
    # rendering_image scans (asset_queries.animating, in_image_stage).
    stuck_by_updated = {
      collection = "media"
      scope      = "COLLECTION_GROUP"
      fields     = [["status", "ASCENDING"], ["updated_at", "ASCENDING"]]
    }
  }
}

resource "google_firestore_database" "default" {
  count                   = var.firestore.create_database ? 1 : 0
  project                 = var.project_id
  name                    = local.firestore_database
  location_id             = coalesce(var.firestore.location_id, var.region)
  type                    = "FIRESTORE_NATIVE"
  delete_protection_state = "DELETE_PROTECTION_ENABLED"
  # `terraform destroy` leaves the data alone.
  deletion_policy = "ABANDON"
  depends_on      = [google_project_service.this]
}

# Short-lived documents Firestore deletes itself: the event-stream tickets
# (shared/api/streams.py) and the idle start logs (shared/store/pacing.py)
# carry `delete_after`, a Timestamp (a TTL policy ignores any other type).
# Deletion comes within about a day of it; the code never trusts a document
# past its own `expires_at`, so the delay is only storage.
resource "google_firestore_field" "ttl" {
  for_each   = toset(["sse_tickets", "pacing"])
  project    = var.project_id
  database   = local.firestore_database
  collection = each.key
  field      = "delete_after"

  ttl_config {}
  # Nothing queries the field: no single-field index for it.
  index_config {}

  depends_on = [google_firestore_database.default, google_project_service.this]
}

resource "google_firestore_index" "this" {
  for_each    = local.firestore_indexes
  project     = var.project_id
  database    = local.firestore_database
  collection  = each.value.collection
  query_scope = each.value.scope

  dynamic "fields" {
    for_each = each.value.fields
    content {
      field_path = fields.value[0]
      order      = fields.value[1]
    }
  }

  depends_on = [google_firestore_database.default, google_project_service.this]
}

# Security rules from the repo's firestore.rules: campaign members read, no
# client writes. The functions use service accounts, which rules do not apply to.
resource "google_firebaserules_ruleset" "firestore" {
  project = var.project_id
  source {
    files {
      name    = "firestore.rules"
      content = file(var.firestore.rules_path)
    }
  }
  # A released ruleset cannot be deleted: create the new one first.
  lifecycle {
    create_before_destroy = true
  }
  depends_on = [google_firestore_database.default, google_project_service.this]
}

resource "google_firebaserules_release" "firestore" {
  project      = var.project_id
  name         = "cloud.firestore"
  ruleset_name = "projects/${var.project_id}/rulesets/${google_firebaserules_ruleset.firestore.name}"
  lifecycle {
    replace_triggered_by = [google_firebaserules_ruleset.firestore]
  }
}
