terraform {
  required_version = ">= 1.5.0"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.14.0, < 8.0.0"
    }
    google-beta = {
      source  = "hashicorp/google-beta"
      version = ">= 6.14.0, < 8.0.0"
    }
  }
  # State lives in a GCS bucket the operator creates once; pass it at init:
  #   terraform init -backend-config="bucket=<state-bucket>" -backend-config="prefix=cutscenes/prod"
  backend "gcs" {}
}
