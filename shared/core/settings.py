"""One typed settings object, built once from the environment.

Every function, the CLI and the local stack read the same variables, so the
same code runs against the emulators and against a real project.
"""

from __future__ import annotations

import json
import os
import re
from functools import cached_property, lru_cache
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Firebase ID tokens are firebase-admin's (revocation included); an OpenID
# issuer entry for them would route them around that check.
FIREBASE_ISSUER_PREFIX = "https://securetoken.google.com/"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class OidcIssuer(BaseModel):
    """One OpenID Connect issuer media_api accepts tokens from (MEDIA_API_OIDC_ISSUERS)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    issuer: str = Field(min_length=1, max_length=512)
    jwks_uri: str = Field(min_length=1, max_length=2048)
    audience: str = Field(min_length=1, max_length=512)
    uid_claim: str = Field(default="sub", min_length=1, max_length=128)

    @field_validator("jwks_uri")
    @classmethod
    def _fetchable(cls, value: str) -> str:
        # Plain http only on this machine (a local issuer in tests and demos):
        # anywhere else the keys must come over TLS or anyone on the path could
        # hand media_api their own.
        parts = urlsplit(value)
        if parts.scheme == "https" and parts.hostname:
            return value
        if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
            return value
        raise ValueError("jwks_uri must be an https:// URL (http:// only on 127.0.0.1)")

    @field_validator("issuer")
    @classmethod
    def _not_firebase(cls, value: str) -> str:
        if value.startswith(FIREBASE_ISSUER_PREFIX):
            raise ValueError("Firebase ID tokens are accepted already; do not list their issuer")
        return value


def parse_oidc_issuers(raw: str) -> tuple[OidcIssuer, ...]:
    """MEDIA_API_OIDC_ISSUERS: empty, or a JSON array of issuer objects.
    Raises ValueError with a one-line message naming what is wrong."""
    if not raw.strip():
        return ()
    try:
        items: Any = json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"MEDIA_API_OIDC_ISSUERS is not JSON: {exc}") from None
    if not isinstance(items, list):
        raise ValueError("MEDIA_API_OIDC_ISSUERS must be a JSON array of issuer objects")
    issuers = []
    for n, item in enumerate(items):
        try:
            issuers.append(OidcIssuer.model_validate(item))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "entry"
            what = first["msg"].removeprefix("Value error, ")
            if first["type"] in ("missing", "extra_forbidden", "model_type"):
                what += " (keys: issuer, jwks_uri, audience, optional uid_claim)"
            raise ValueError(f"MEDIA_API_OIDC_ISSUERS[{n}] {where}: {what}") from None
    names = [i.issuer for i in issuers]
    if len(set(names)) != len(names):
        raise ValueError("MEDIA_API_OIDC_ISSUERS lists an issuer twice")
    return tuple(issuers)


# A model id as Vertex names it in a URL (veo-3.1-fast-generate-001).
_MODEL_ID = re.compile(r"^[a-z0-9][a-z0-9.-]{0,127}$")


def parse_model_quotas(raw: str) -> dict[str, int]:
    """MEDIA_MODEL_QUOTAS: empty, or a JSON object {model id: starts per minute}
    (0: that model unpaced). Raises ValueError with a one-line message naming
    what is wrong."""
    if not raw.strip():
        return {}
    try:
        items: Any = json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"MEDIA_MODEL_QUOTAS is not JSON: {exc}") from None
    if not isinstance(items, dict):
        raise ValueError('MEDIA_MODEL_QUOTAS must be a JSON object {"model id": per_minute}')
    quotas: dict[str, int] = {}
    for model, per_minute in items.items():
        if not _MODEL_ID.match(model):
            raise ValueError(f"MEDIA_MODEL_QUOTAS: {model!r} is not a model id")
        whole = isinstance(per_minute, int) and not isinstance(per_minute, bool)
        if not whole or not 0 <= per_minute <= 10000:
            raise ValueError(
                f"MEDIA_MODEL_QUOTAS[{model!r}] must be a whole number of starts a minute"
                f" in 0..10000, got {per_minute!r}"
            )
        quotas[model] = per_minute
    return quotas


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=True, extra="ignore")

    GOOGLE_CLOUD_PROJECT: str = "demo-cutscenes"
    # The preferred Vertex AI region. Each model is called where the pricing
    # catalog says Vertex serves it: here when that is one of its locations,
    # else the catalog's first (gemini-3.1-flash-image-preview is served only from
    # `global`). Models the catalog does not list are called here.
    VERTEX_LOCATION: str = "us-central1"
    # Operator override, per model: "model=location,model=location".
    MEDIA_MODEL_LOCATIONS: str = Field(
        default="", pattern=r"^\s*([\w.-]+\s*=\s*[\w-]+\s*(,\s*[\w.-]+\s*=\s*[\w-]+\s*)*)?$"
    )
    # HTTP timeouts for the media models (google-genai sets none by default):
    # an image call, a Veo start and a Veo poll. See docs/decisions/0011-veo-start-retries.md.
    MEDIA_IMAGE_TIMEOUT_S: float = Field(default=120.0, gt=0, le=600)
    MEDIA_VEO_START_TIMEOUT_S: float = Field(default=60.0, gt=0, le=600)
    MEDIA_VEO_POLL_TIMEOUT_S: float = Field(default=30.0, gt=0, le=600)
    # After a Veo start whose outcome is unknown (timeout, 5xx), how long the
    # output of an operation it may have created is awaited (the bucket event
    # adopts it) before the sweep gives up on the clip; never a blind second
    # start (docs/decisions/0011-veo-start-retries.md).
    MEDIA_VEO_ADOPT_WAIT_S: float = Field(default=420.0, gt=0, le=3600)
    # How long one Veo start waits out 429s in-process (renewing its lease)
    # before handing over to a redelivery; below the 540 s function limit.
    MEDIA_VEO_QUOTA_WAIT_S: float = Field(default=300.0, gt=0, le=500)
    MEDIA_BUCKET: str = "demo-cutscenes-media"
    MEDIA_REQUESTS_TOPIC: str = "media-requests"
    MEDIA_ANIMATE_TOPIC: str = "media-animate"
    MEDIA_EVENTS_TOPIC: str = "media-events"
    # One media.charge.v1 message per settled charge (shared/store/charges.py).
    MEDIA_CHARGES_TOPIC: str = "media-charges"
    MEDIA_DEADLINE_S: int = Field(default=900, ge=1, le=86400)
    # How often the janitor's sweep runs (Cloud Scheduler; the local stack's own
    # timer). It closes what would pass its deadline before the next run, so a
    # stuck request is terminal within MEDIA_DEADLINE_S, not a period later.
    MEDIA_SWEEP_EVERY_S: int = Field(default=60, ge=5, le=3600)
    # Project-wide kill switch over all sessions; None means off.
    MEDIA_DAILY_CAP_USD: float | None = Field(default=None, ge=0)
    # Operators override prices and model choices with their own catalog file.
    MEDIA_PRICING_FILE: str | None = None
    # How often a safety-blocked image prompt is tried again before giving up.
    MEDIA_IMAGE_BLOCK_RETRIES: int = Field(default=1, ge=0, le=5)
    # Image calls one asset may make in all, redeliveries included: each is
    # counted on the asset before it is made (a write-ahead intent), so a
    # request whose deliveries keep dying after the call cannot pay forever.
    MEDIA_IMAGE_MAX_CALLS: int = Field(default=12, ge=1, le=100)
    MEDIA_SIGNED_URL_TTL_S: int = Field(default=900, ge=60, le=900)
    # Service account that signs URLs through IAM signBlob in the cloud.
    MEDIA_SIGNING_SA: str | None = None
    # Veo's operations are finished by the bucket's object notification; the
    # janitor's sweep asks Veo only about those that wrote nothing by
    # EXPECTED_S + EXPECTED_PER_S * clip seconds, then backs off per
    # operation (doubling from SWEEP_FIRST_S up to SWEEP_MAX_S).
    MEDIA_VIDEO_EXPECTED_S: float = Field(default=60.0, ge=0)
    MEDIA_VIDEO_EXPECTED_PER_S: float = Field(default=5.0, ge=0)
    MEDIA_VIDEO_SWEEP_FIRST_S: float = Field(default=15.0, gt=0)
    MEDIA_VIDEO_SWEEP_MAX_S: float = Field(default=120.0, gt=0)
    # Project-wide budget of Veo starts per window (Vertex's quota is per
    # minute); 0 means unpaced: animate_still starts its clip at once.
    # The window is shortened only by time-compressed benchmarks.
    MEDIA_VEO_STARTS_PER_MIN: int = Field(default=0, ge=0, le=10000)
    # Vertex's quotas are per base model and region: a JSON object {model id:
    # starts per minute} paces each Veo model named here on its own start
    # log (0: that model unpaced); a model not named keeps
    # MEDIA_VEO_STARTS_PER_MIN. See parse_model_quotas and
    # docs/decisions/0020-pacing-per-model.md.
    MEDIA_MODEL_QUOTAS: str = ""
    # "project": every Veo model shares one start log at
    # MEDIA_VEO_STARTS_PER_MIN (MEDIA_MODEL_QUOTAS not used for Veo), the
    # design before 0020, for a project whose Veo quota is one for all models
    # and for the scale benchmark's side-by-side (bench/scale.py models).
    MEDIA_VEO_PACING_SCOPE: str = Field(default="model", pattern=r"^(model|project)$")
    MEDIA_VEO_PACING_WINDOW_S: float = Field(default=60.0, gt=0, le=3600)
    # Which waiting clip starts next: "published" (the campaign whose mean
    # wait since publishing is highest, with starts kept for requests still in
    # the image stage), "waiting" (the same from queueing, nothing kept),
    # "first_come" (first come, first served, a campaign's burst
    # spread out at the quota's rate) or "round_robin" across campaigns; see
    # shared/pipeline/dispatch.py.
    MEDIA_VEO_FAIRNESS: str = Field(
        default="published", pattern=r"^(round_robin|first_come|waiting|published)$"
    )
    # How long the janitor's tick keeps dispatching paced starts while clips
    # wait: it sleeps until the start log frees its next start and takes it
    # then, instead of leaving it to the next arrival, finished clip or tick.
    # 0: one pass. Terraform sets it just under the schedule's period.
    MEDIA_VEO_DISPATCH_HOLD_S: float = Field(default=0.0, ge=0, le=3000)
    # The most image-model calls per window, for each image model and
    # location (0: unpaced, the SDK retries a 429 and the delivery is
    # redelivered). Each model's rate starts here, halves on a 429 and climbs
    # back a twentieth of this per clean window; a render waits up to
    # MEDIA_IMAGE_PACING_WAIT_S for its turn, then hands its delivery back.
    # 60: Gemini's image models have no fixed quota (a dynamic shared one),
    # and one write a call to the model's log stays under Firestore's one a
    # second per document. See shared/store/image_pacing.py and
    # docs/decisions/0028-adaptive-image-pacing.md.
    MEDIA_IMAGE_CALLS_PER_MIN: int = Field(default=60, ge=0, le=10000)
    MEDIA_IMAGE_PACING_WAIT_S: float = Field(default=60.0, gt=0, le=500)
    # How many overdue operations one sweep asks Veo about at most.
    MEDIA_VIDEO_SWEEP_LIMIT: int = Field(default=50, ge=1, le=1000)
    # How long a delivery owns a stage. A second delivery of the same message
    # backs off meanwhile; a crashed owner delays the takeover this long.
    MEDIA_IMAGE_LEASE_S: float = Field(default=45.0, gt=0, le=600)
    MEDIA_VIDEO_LEASE_S: float = Field(default=30.0, gt=0, le=600)
    # A sweep's check of a Veo operation that fails (an outage, a bad answer)
    # is tried again after 2, 4, 8... s, and the clip ends `partial`
    # (video_failed) after this many failures in a row: about half a minute.
    MEDIA_VIDEO_CHECK_TRIES: int = Field(default=5, ge=1, le=100)
    # A service-account JSON key that signs URLs against the Storage emulator;
    # without it a throwaway key is made per process. Never used in the cloud,
    # where URLs are signed through IAM signBlob (no key files).
    MEDIA_SIGNING_KEY_FILE: str | None = None
    # media_api's event stream: how long one connection may stay open (the
    # browser's EventSource reconnects) and how often a heartbeat is sent.
    MEDIA_API_SSE_MAX_S: float = Field(default=300.0, gt=0, le=3600)
    MEDIA_API_SSE_HEARTBEAT_S: float = Field(default=15.0, gt=0, le=300)
    # How many event streams one user may hold open at once (every instance).
    MEDIA_API_SSE_PER_USER: int = Field(default=4, ge=1, le=100)
    # Open event streams on one instance: each holds one of gunicorn's THREADS
    # for its whole life, so they are capped below the threads and below the
    # requests Cloud Run sends an instance (MEDIA_API_CONCURRENCY, from
    # Terraform), leaving room for every other request; past the cap a stream
    # is answered 503 at once. Unset: four in five of the smaller of the two
    # (docs/decisions/0021-threads-and-streams.md).
    MEDIA_API_SSE_PER_INSTANCE: int | None = Field(default=None, ge=0, le=1000)
    MEDIA_API_CONCURRENCY: int | None = Field(default=None, ge=1, le=1000)
    # gunicorn's thread count, as Functions Framework reads it (unset: 4 per CPU).
    THREADS: int | None = Field(default=None, ge=1, le=10000)
    # How often an open event stream checks that its user is still a member
    # (it also checks before sending anything); at most 30 s, so a removed
    # member's idle stream ends within that.
    MEDIA_API_STREAM_RECHECK_S: float = Field(default=30.0, gt=0, le=30)
    # Origins allowed to call media_api from a browser: "*" or a comma list.
    MEDIA_API_CORS_ORIGINS: str = "*"
    # OpenID Connect issuers whose tokens media_api accepts besides Firebase's
    # (Clerk, Auth0, ...): a JSON array, see parse_oidc_issuers and
    # docs/decisions/0019-any-openid-issuer.md.
    MEDIA_API_OIDC_ISSUERS: str = ""

    GENAI_EMULATOR_URL: str | None = None
    FIRESTORE_EMULATOR_HOST: str | None = None
    PUBSUB_EMULATOR_HOST: str | None = None
    STORAGE_EMULATOR_HOST: str | None = None
    MEDIA_API_URL: str | None = None

    # Test-only: kill the process right after the named step. Honoured only
    # against emulators so a stray variable can never hurt a real deployment.
    MEDIA_CRASH_AFTER: str | None = None

    @field_validator("MEDIA_API_OIDC_ISSUERS")
    @classmethod
    def _issuers_parse(cls, value: str) -> str:
        parse_oidc_issuers(value)  # refused at load, not on the first sign-in
        return value

    @field_validator("MEDIA_MODEL_QUOTAS")
    @classmethod
    def _quotas_parse(cls, value: str) -> str:
        parse_model_quotas(value)  # refused at load, not at the first start
        return value

    @property
    def emulated(self) -> bool:
        return bool(self.FIRESTORE_EMULATOR_HOST)

    @property
    def sse_per_instance(self) -> int:
        """How many event streams this instance holds open at most."""
        if self.MEDIA_API_SSE_PER_INSTANCE is not None:
            return self.MEDIA_API_SSE_PER_INSTANCE
        threads = self.THREADS or 4 * (os.cpu_count() or 1)  # Functions Framework's default
        room = min(threads, self.MEDIA_API_CONCURRENCY or threads)
        # One in five kept for other requests, at least one: 40 -> 32, 4 -> 3, 1 -> 0.
        return room - max(1, room // 5)

    @cached_property
    def model_quotas(self) -> dict[str, int]:
        return parse_model_quotas(self.MEDIA_MODEL_QUOTAS)

    def veo_starts_per_min(self, model: str) -> int:
        """The start budget of one Veo model: its MEDIA_MODEL_QUOTAS entry, else
        MEDIA_VEO_STARTS_PER_MIN (0: unpaced)."""
        return self.model_quotas.get(model, self.MEDIA_VEO_STARTS_PER_MIN)

    @property
    def veo_paced(self) -> bool:
        """Whether any Veo model's starts are paced."""
        if self.MEDIA_VEO_PACING_SCOPE == "project":
            return bool(self.MEDIA_VEO_STARTS_PER_MIN)
        return bool(self.MEDIA_VEO_STARTS_PER_MIN) or any(self.model_quotas.values())

    @cached_property
    def oidc_issuers(self) -> tuple[OidcIssuer, ...]:
        return parse_oidc_issuers(self.MEDIA_API_OIDC_ISSUERS)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
