terraform {
  # optional() object attributes with defaults need 1.3; 1.5 is the oldest we test with.
  required_version = ">= 1.5.0"
  required_providers {
    google = {
      source = "hashicorp/google"
      # build_config.service_account on gen2 functions and
      # condition_prometheus_query_language on alert policies need 6.x.
      version = ">= 6.14.0, < 8.0.0"
    }
    google-beta = {
      # Only for google_project_service_identity (service agents).
      source  = "hashicorp/google-beta"
      version = ">= 6.14.0, < 8.0.0"
    }
  }
}
