# The production environment. Scalars are validated here so mistakes fail
# before any provider call; the grouped settings are passed through and
# validated by the module (modules/media-pipeline/variables.tf), which
# documents every attribute.

variable "project_id" {
  description = "Project that hosts the pipeline."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a Google Cloud project id."
  }
}

variable "region" {
  description = "Region for the functions, buckets, scheduler job and Firestore."
  type        = string
  default     = "us-central1"
  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a region such as us-central1."
  }
}

variable "vertex_location" {
  description = "Preferred Vertex AI location; models not served there are called where they are (the pricing catalog's models)."
  type        = string
  default     = "us-central1"
  validation {
    condition     = var.vertex_location == "global" || can(regex("^[a-z]+-[a-z]+[0-9]+$", var.vertex_location))
    error_message = "vertex_location must be a region or \"global\"."
  }
}

variable "model_locations" {
  description = "Per-model Vertex AI location overrides (MEDIA_MODEL_LOCATIONS), e.g. { \"gemini-3-pro-image\" = \"global\" }. Models not listed are called where the pricing catalog says Vertex serves them: at vertex_location when it is one of those, else the catalog's first (gemini-3.1-flash-image is served only from global). A model asked for elsewhere answers 404."
  type        = map(string)
  default     = {}
  validation {
    condition = alltrue([
      for model, location in var.model_locations :
      location == "global" || can(regex("^[a-z]+-[a-z]+[0-9]+$", location))
    ])
    error_message = "model_locations maps model ids to a region or \"global\"."
  }
}

variable "bundle_path" {
  description = "The zip printed by `python -m infra.bundle --out build/` (relative to this directory or absolute)."
  type        = string
  validation {
    condition     = endswith(var.bundle_path, ".zip")
    error_message = "bundle_path must be the .zip built by infra/bundle.py."
  }
}

variable "labels" {
  description = "Extra labels for every resource (app and env are always set)."
  type        = map(string)
  default     = {}
}

variable "bucket" {
  description = "Media and source buckets: names, location, retention (see the module)."
  type = object({
    name                    = optional(string)
    source_name             = optional(string)
    location                = optional(string)
    media_retention_days    = optional(number)
    veo_temp_retention_days = optional(number, 1)
    force_destroy           = optional(bool, false)
  })
  default = {}
}

variable "browser_origins" {
  description = "Origins of the game's web front end (CORS for media_api and the media bucket); empty means any."
  type        = list(string)
  default     = []
}

variable "oidc_issuers" {
  description = "OpenID Connect issuers whose tokens media_api accepts besides Firebase's (see the module); empty means Firebase only."
  type = list(object({
    issuer    = string
    jwks_uri  = string
    audience  = string
    uid_claim = optional(string, "sub")
  }))
  default = []
}

variable "media" {
  description = "Pipeline settings for the functions: deadline, daily cap, pricing file, retries, signed URL TTL, Veo starts per minute (per model)."
  type = object({
    deadline_s          = optional(number, 900)
    daily_cap_usd       = optional(number)
    pricing_file        = optional(string)
    image_block_retries = optional(number, 1)
    signed_url_ttl_s    = optional(number, 900)
    veo_starts_per_min  = optional(number, 45)
    model_quotas        = optional(map(number), {})
  })
  default = {}
}

variable "delivery" {
  description = "Push delivery: attempts before dead-lettering, backoff, retention."
  type = object({
    max_delivery_attempts = optional(number, 10)
    minimum_backoff       = optional(string, "10s")
    maximum_backoff       = optional(string, "600s")
    message_retention     = optional(string, "86400s")
    dead_letter_retention = optional(string, "604800s")
  })
  default = {}
}

variable "functions" {
  description = "Per-function sizing overrides keyed by entry point."
  type = map(object({
    memory          = optional(string)
    cpu             = optional(string)
    timeout_seconds = optional(number)
    min_instances   = optional(number)
    max_instances   = optional(number)
    concurrency     = optional(number)
    threads         = optional(number)
  }))
  default = {}
}

variable "media_api_public" {
  description = "Grant allUsers run.invoker on media_api (it checks Firebase ID tokens itself)."
  type        = bool
  default     = true
}

variable "janitor" {
  description = "Schedule (unix cron), its period in seconds (sweep_every_s, kept equal to the schedule's) and time zone of the janitor job."
  type = object({
    schedule      = optional(string, "* * * * *")
    time_zone     = optional(string, "Etc/UTC")
    sweep_every_s = optional(number, 60)
  })
  default = {}
}

variable "firestore" {
  description = "Firestore: create the (default) database or not, its location, and the rules file (defaults to the repo's firestore.rules)."
  type = object({
    create_database = optional(bool, true)
    location_id     = optional(string)
    rules_path      = optional(string)
  })
  default = {}
}

variable "monitoring" {
  description = "Alert notification channels and thresholds."
  type = object({
    notification_channels = optional(list(string), [])
    daily_spend_alert_usd = optional(number)
    failure_ratio         = optional(number, 0.2)
    failure_min_assets    = optional(number, 5)
    veo_quota_per_min     = optional(number, 50)
  })
  default = {}
}

variable "aidm" {
  description = "AIDM principals: backends (MediaClient, the CLI as AIDM), request publishers, status-event subscribers and charge subscribers (docs/permissions.md)."
  type = object({
    backends           = optional(list(string), [])
    request_publishers = optional(list(string), [])
    event_subscribers  = optional(list(string), [])
    charge_subscribers = optional(list(string), [])
  })
  default = {}
}
