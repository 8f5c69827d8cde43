variable "project_id" {
  description = "Project that hosts the whole pipeline."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a Google Cloud project id: 6-30 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "region" {
  description = "Region for the functions, the buckets, the scheduler job and (by default) Firestore."
  type        = string
  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a Google Cloud region such as us-central1 or europe-west4."
  }
}

variable "vertex_location" {
  description = "Preferred Vertex AI location (VERTEX_LOCATION): each model is called here when Vertex serves it here, else where the pricing catalog says it is served (gemini-3.1-flash-image: global only); model_locations overrides per model."
  type        = string
  default     = "us-central1"
  validation {
    condition     = var.vertex_location == "global" || can(regex("^[a-z]+-[a-z]+[0-9]+$", var.vertex_location))
    error_message = "vertex_location must be a region such as us-central1, or \"global\"."
  }
}

variable "model_locations" {
  description = "Per-model Vertex AI location overrides (MEDIA_MODEL_LOCATIONS), e.g. { \"gemini-3-pro-image\" = \"global\" }. Models not listed are called where the pricing catalog says Vertex serves them: at vertex_location when it is one of those, else the catalog's first (gemini-3.1-flash-image is served only from global). A model asked for elsewhere answers 404."
  type        = map(string)
  default     = {}
  validation {
    condition = alltrue([
      for model, location in var.model_locations :
      can(regex("^[a-z0-9][a-z0-9.-]*$", model)) && (location == "global" || can(regex("^[a-z]+-[a-z]+[0-9]+$", location)))
    ])
    error_message = "model_locations maps model ids to a region such as us-central1 or \"global\"."
  }
}

variable "bundle_path" {
  description = "Path of the deploy bundle built by `python -m infra.bundle --out build/` (build/cutscenes-<sha256[:16]>.zip). Every function is built from this one archive."
  type        = string
  validation {
    condition     = endswith(var.bundle_path, ".zip") && fileexists(var.bundle_path)
    error_message = "bundle_path must name an existing .zip; run `python -m infra.bundle --out build/` first."
  }
}

variable "labels" {
  description = "Labels added to every resource that takes labels."
  type        = map(string)
  default     = {}
  validation {
    condition = alltrue([
      for k, v in var.labels : can(regex("^[a-z][a-z0-9_-]{0,62}$", k)) && can(regex("^[a-z0-9_-]{0,63}$", v))
    ])
    error_message = "Label keys must start with a lowercase letter; keys and values use lowercase letters, digits, _ and -, at most 63 characters."
  }
}

variable "bucket" {
  description = "The private media bucket (MEDIA_BUCKET) and the bucket holding function source bundles."
  type = object({
    # Defaults to "<project_id>-cutscenes-media" / "<project_id>-cutscenes-sources".
    name        = optional(string)
    source_name = optional(string)
    # Defaults to var.region; a multi-region (US, EU) also works.
    location = optional(string)
    # Delete media/ objects after this many days; null keeps them forever.
    media_retention_days = optional(number)
    # Veo writes its output under veo-out/ and animate_still copies it away:
    # anything left there is garbage after this many days.
    veo_temp_retention_days = optional(number, 1)
    force_destroy           = optional(bool, false)
  })
  default = {}
  validation {
    condition = alltrue([
      for n in [var.bucket.name, var.bucket.source_name] :
      n == null ? true : can(regex("^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$", n)) && !startswith(n, "goog")
    ])
    error_message = "Bucket names must be 3-63 lowercase letters, digits, dots, hyphens or underscores, start and end with a letter or digit, and not start with \"goog\"."
  }
  validation {
    condition     = var.bucket.media_retention_days == null || try(var.bucket.media_retention_days >= 1, false)
    error_message = "media_retention_days must be null (keep forever) or at least 1."
  }
  validation {
    condition     = var.bucket.veo_temp_retention_days >= 1
    error_message = "veo_temp_retention_days must be at least 1 (lifecycle ages are whole days)."
  }
}

variable "browser_origins" {
  description = "Origins of the game's web front end: allowed by CORS to call media_api (MEDIA_API_CORS_ORIGINS) and to GET signed URLs from the media bucket. Empty means any origin, which is safe here because both need a bearer token or a signed URL, never cookies."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for o in var.browser_origins : o == "*" || can(regex("^https?://[^/\\s]+$", o))])
    error_message = "browser_origins entries must be origins such as https://play.example.com (scheme and host, no path)."
  }
}

variable "oidc_issuers" {
  description = "OpenID Connect issuers (a Clerk instance, Auth0, ...) whose tokens media_api accepts besides Firebase ID tokens (MEDIA_API_OIDC_ISSUERS, docs/interface.md): issuer is the tokens' iss exactly, jwks_uri the https URL of its JWKS, audience what their aud must contain, uid_claim the claim that names the user (campaign members and owners are listed by it). Empty: Firebase ID tokens only."
  type = list(object({
    issuer    = string
    jwks_uri  = string
    audience  = string
    uid_claim = optional(string, "sub")
  }))
  default = []
  validation {
    condition = alltrue([
      for i in var.oidc_issuers : can(regex("^https://[^\\s/]+(/\\S*)?$", i.issuer)) && can(regex("^https://[^\\s/]+/\\S*$", i.jwks_uri))
    ])
    error_message = "oidc_issuers: issuer and jwks_uri must be https:// URLs (the JWKS must come over TLS)."
  }
  validation {
    condition     = alltrue([for i in var.oidc_issuers : length(i.audience) > 0 && length(i.uid_claim) > 0])
    error_message = "oidc_issuers: audience and uid_claim must not be empty."
  }
  validation {
    condition     = length(distinct([for i in var.oidc_issuers : i.issuer])) == length(var.oidc_issuers)
    error_message = "oidc_issuers: each issuer may be listed once."
  }
  validation {
    condition     = alltrue([for i in var.oidc_issuers : !startswith(i.issuer, "https://securetoken.google.com/")])
    error_message = "oidc_issuers: Firebase ID tokens are accepted already; do not list securetoken.google.com."
  }
}

variable "media" {
  description = "Pipeline settings passed to the functions as environment variables (shared/core/settings.py)."
  type = object({
    # MEDIA_DEADLINE_S: every request reaches a terminal state within this.
    deadline_s = optional(number, 900)
    # MEDIA_DAILY_CAP_USD: project-wide kill switch over all sessions; null is off.
    daily_cap_usd = optional(number)
    # MEDIA_PRICING_FILE: an operator's own pricing catalog, a path inside the bundle.
    pricing_file = optional(string)
    # MEDIA_IMAGE_BLOCK_RETRIES: tries after a safety-blocked image prompt.
    image_block_retries = optional(number, 1)
    # MEDIA_SIGNED_URL_TTL_S: lifetime of V4 signed URLs (docs/interface.md: at most 900 s).
    signed_url_ttl_s = optional(number, 900)
    # MEDIA_VEO_STARTS_PER_MIN: Veo starts per minute for each model (Vertex's
    # quotas are per base model and region), paced and fair across campaigns;
    # 0 starts every clip at once. Veo 3.1 -001 allows about 50 a minute per
    # model (preview ids 10).
    veo_starts_per_min = optional(number, 45)
    # MEDIA_MODEL_QUOTAS: a model's own starts per minute where its quota
    # differs from veo_starts_per_min, e.g. { "veo-3.1-lite-generate-001" = 60 }.
    model_quotas = optional(map(number), {})
  })
  default = {}
  validation {
    condition     = var.media.deadline_s >= 60 && var.media.deadline_s <= 86400 && floor(var.media.deadline_s) == var.media.deadline_s
    error_message = "media.deadline_s must be a whole number of seconds between 60 and 86400."
  }
  validation {
    condition     = var.media.daily_cap_usd == null || try(var.media.daily_cap_usd >= 0, false)
    error_message = "media.daily_cap_usd must be null (off) or >= 0."
  }
  validation {
    condition     = var.media.image_block_retries >= 0 && var.media.image_block_retries <= 5 && floor(var.media.image_block_retries) == var.media.image_block_retries
    error_message = "media.image_block_retries must be a whole number from 0 to 5."
  }
  validation {
    condition     = var.media.veo_starts_per_min >= 0 && floor(var.media.veo_starts_per_min) == var.media.veo_starts_per_min
    error_message = "media.veo_starts_per_min must be a whole number >= 0 (0: unpaced)."
  }
  validation {
    condition     = alltrue([for k, n in var.media.model_quotas : can(regex("^[a-z0-9][a-z0-9.-]{0,127}$", k)) && n >= 0 && n <= 10000 && floor(n) == n])
    error_message = "media.model_quotas maps model ids to whole numbers of starts a minute from 0 to 10000 (0: unpaced)."
  }
  validation {
    condition     = var.media.signed_url_ttl_s >= 60 && var.media.signed_url_ttl_s <= 900
    error_message = "media.signed_url_ttl_s must be between 60 and 900 seconds."
  }
}

variable "delivery" {
  description = "How Pub/Sub delivers requests to render_still and animate_still: retry backoff and dead-lettering."
  type = object({
    # Pub/Sub accepts 5-100; each delivery is a function invocation.
    max_delivery_attempts = optional(number, 10)
    minimum_backoff       = optional(string, "10s")
    maximum_backoff       = optional(string, "600s")
    # How long undelivered requests stay on the trigger subscriptions.
    message_retention = optional(string, "86400s")
    # How long dead letters wait for an operator on the hold subscriptions.
    dead_letter_retention = optional(string, "604800s")
  })
  default = {}
  validation {
    condition     = var.delivery.max_delivery_attempts >= 5 && var.delivery.max_delivery_attempts <= 100
    error_message = "delivery.max_delivery_attempts must be between 5 and 100 (a Pub/Sub limit)."
  }
  validation {
    condition = alltrue([
      for d in [var.delivery.minimum_backoff, var.delivery.maximum_backoff] :
      can(regex("^[0-9]+(\\.[0-9]+)?s$", d)) && try(tonumber(trimsuffix(d, "s")) <= 600, false)
    ])
    error_message = "Backoffs are durations such as \"10s\", at most \"600s\"."
  }
  validation {
    condition = (
      can(tonumber(trimsuffix(var.delivery.minimum_backoff, "s"))) &&
      can(tonumber(trimsuffix(var.delivery.maximum_backoff, "s"))) &&
      try(tonumber(trimsuffix(var.delivery.minimum_backoff, "s")) <= tonumber(trimsuffix(var.delivery.maximum_backoff, "s")), false)
    )
    error_message = "delivery.minimum_backoff must not exceed delivery.maximum_backoff."
  }
  validation {
    condition = alltrue([
      for d in [var.delivery.message_retention, var.delivery.dead_letter_retention] :
      can(regex("^[0-9]+s$", d)) && try(tonumber(trimsuffix(d, "s")) >= 600 && tonumber(trimsuffix(d, "s")) <= 2678400, false)
    ])
    error_message = "Retention durations are whole seconds such as \"86400s\", between 600s and 2678400s (31 days)."
  }
}

variable "functions" {
  description = "Per-function sizing overrides, keyed by entry point (render_still, animate_still, media_api, janitor). Unset attributes keep the defaults in main.tf. threads is gunicorn's THREADS (unset: 4 per CPU, Functions Framework's default)."
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
  validation {
    condition     = alltrue([for k in keys(var.functions) : contains(["render_still", "animate_still", "media_api", "janitor"], k)])
    error_message = "functions keys must be entry points: render_still, animate_still, media_api, janitor."
  }
  validation {
    # Event-driven functions stop at 540 s; a push subscription's ack deadline
    # (600 s) must outlast the invocation. HTTP functions may run up to 3600 s.
    condition = alltrue([
      for k, v in var.functions : v.timeout_seconds == null || try(
        v.timeout_seconds >= 1 && v.timeout_seconds <= (contains(["render_still", "animate_still"], k) ? 540 : 3600), false
      )
    ])
    error_message = "timeout_seconds must be 1-540 for render_still and animate_still, 1-3600 for media_api and janitor."
  }
  validation {
    condition     = alltrue([for v in values(var.functions) : v.memory == null || can(regex("^[0-9]+(M|G|Mi|Gi)$", v.memory))])
    error_message = "memory must look like 512Mi, 1Gi, 2G."
  }
  validation {
    condition = alltrue([
      for v in values(var.functions) :
      (v.min_instances == null || try(v.min_instances >= 0, false)) &&
      (v.max_instances == null || try(v.max_instances >= 1, false)) &&
      (v.concurrency == null || try(v.concurrency >= 1 && v.concurrency <= 1000, false)) &&
      (v.threads == null || try(v.threads >= 1 && v.threads <= 1000, false))
    ])
    error_message = "min_instances >= 0, max_instances >= 1, concurrency 1-1000, threads 1-1000."
  }
}

variable "media_api_public" {
  description = "Let anyone invoke media_api (allUsers run.invoker). It authenticates callers itself with Firebase ID tokens; set false if an organization policy forbids allUsers and front it with something else."
  type        = bool
  default     = true
}

variable "janitor" {
  description = "Cloud Scheduler job that invokes janitor (OIDC) to push stuck assets to a terminal state."
  type = object({
    schedule  = optional(string, "* * * * *")
    time_zone = optional(string, "Etc/UTC")
    # The schedule's period (MEDIA_SWEEP_EVERY_S): each sweep closes what would
    # pass its deadline before the next, so keep it equal to the schedule's.
    sweep_every_s = optional(number, 60)
  })
  default = {}
  validation {
    condition     = var.janitor.sweep_every_s >= 5 && var.janitor.sweep_every_s <= 3600 && floor(var.janitor.sweep_every_s) == var.janitor.sweep_every_s
    error_message = "janitor.sweep_every_s must be a whole number of seconds between 5 and 3600."
  }
  validation {
    condition     = can(regex("^[0-9*/,A-Za-z-]+( +[0-9*/,A-Za-z-]+){4}$", trimspace(var.janitor.schedule)))
    error_message = "janitor.schedule must be a five-field unix cron expression such as \"*/5 * * * *\"."
  }
  validation {
    condition     = can(regex("^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$", var.janitor.time_zone))
    error_message = "janitor.time_zone must be a tz database name such as Etc/UTC or Europe/Paris."
  }
}

variable "firestore" {
  description = "Firestore (default) database, its security rules and indexes."
  type = object({
    # Set false when the project already has a (default) database (import it,
    # or let this module manage only rules and indexes).
    create_database = optional(bool, true)
    # Defaults to var.region; nam5 / eur3 are the multi-regions.
    location_id = optional(string)
    # Path of firestore.rules (the repo root's file).
    rules_path = string
  })
  validation {
    condition     = var.firestore.location_id == null || can(regex("^([a-z]+-[a-z]+[0-9]+|nam[0-9]+|eur[0-9]+)$", coalesce(var.firestore.location_id, "x")))
    error_message = "firestore.location_id must be a region (us-central1) or a multi-region (nam5, eur3)."
  }
  validation {
    condition     = endswith(var.firestore.rules_path, ".rules")
    error_message = "firestore.rules_path must point at a .rules file."
  }
}

variable "monitoring" {
  description = "Alerting: where alerts go and when they fire."
  type = object({
    # Full ids: projects/<project>/notificationChannels/<id>.
    notification_channels = optional(list(string), [])
    # Alert when the settled spend of the last 24 h exceeds this; null is off.
    daily_spend_alert_usd = optional(number)
    # Alert when this share of the last hour's terminal assets failed.
    failure_ratio = optional(number, 0.2)
    # ...but only once at least this many assets finished in that hour.
    failure_min_assets = optional(number, 5)
    # The project's Veo start quota per minute, drawn on the dashboard's Veo
    # chart: Veo 3.1 -001 allows 50 requests a minute per project
    # (https://docs.cloud.google.com/vertex-ai/generative-ai/docs/models/veo/3-1-generate).
    veo_quota_per_min = optional(number, 50)
  })
  default = {}
  validation {
    condition     = alltrue([for c in var.monitoring.notification_channels : can(regex("^projects/[^/]+/notificationChannels/[0-9]+$", c))])
    error_message = "notification_channels must be full ids: projects/<project>/notificationChannels/<id>."
  }
  validation {
    condition     = var.monitoring.daily_spend_alert_usd == null || try(var.monitoring.daily_spend_alert_usd >= 0, false)
    error_message = "monitoring.daily_spend_alert_usd must be null (off) or >= 0."
  }
  validation {
    condition     = var.monitoring.failure_ratio > 0 && var.monitoring.failure_ratio <= 1 && var.monitoring.failure_min_assets >= 1
    error_message = "monitoring.failure_ratio must be in (0, 1] and failure_min_assets >= 1."
  }
  validation {
    condition     = var.monitoring.veo_quota_per_min >= 1
    error_message = "monitoring.veo_quota_per_min must be at least 1."
  }
}

variable "aidm" {
  description = "Principals of the AIDM deployment (IAM member strings such as serviceAccount:aidm@p.iam.gserviceaccount.com): backends run the Python SDK (MediaClient) or the cutscenes CLI as AIDM (publish requests, campaign documents, reference uploads, players' sign-in tokens); request_publishers only publish requests; event_subscribers attach their own subscription to status events; charge_subscribers consume the charges subscription (media-charges-host). docs/permissions.md lists what each gets."
  type = object({
    backends           = optional(list(string), [])
    request_publishers = optional(list(string), [])
    event_subscribers  = optional(list(string), [])
    charge_subscribers = optional(list(string), [])
  })
  default = {}
  validation {
    condition = alltrue([
      for m in concat(var.aidm.backends, var.aidm.request_publishers, var.aidm.event_subscribers, var.aidm.charge_subscribers) :
      can(regex("^(serviceAccount|user|group|domain|principal|principalSet):.+$", m))
    ])
    error_message = "aidm members must be IAM member strings (serviceAccount:..., group:..., principal://...)."
  }
}
