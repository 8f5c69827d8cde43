provider "google" {
  project = var.project_id
  region  = var.region
}

provider "google-beta" {
  project = var.project_id
  region  = var.region
}

module "media_pipeline" {
  source          = "../../modules/media-pipeline"
  project_id      = var.project_id
  region          = var.region
  vertex_location = var.vertex_location
  model_locations = var.model_locations
  bundle_path     = var.bundle_path
  labels          = merge({ app = "cutscenes", env = "prod" }, var.labels)
  bucket          = var.bucket
  browser_origins = var.browser_origins
  oidc_issuers    = var.oidc_issuers
  media           = var.media
  delivery        = var.delivery
  functions       = var.functions
  janitor         = var.janitor
  monitoring      = var.monitoring
  aidm            = var.aidm

  media_api_public = var.media_api_public
  firestore = {
    create_database = var.firestore.create_database
    location_id     = var.firestore.location_id
    # The repo's firestore.rules, three levels up from this directory.
    rules_path = coalesce(var.firestore.rules_path, "${path.module}/../../../firestore.rules")
  }
}
