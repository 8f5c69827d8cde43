"""V4 signed URLs for the private media bucket, valid for at most 900 s.

In the cloud, URLs are signed through IAM signBlob with the function's own
service account (no key files; it needs roles/iam.serviceAccountTokenCreator
on itself). Against the Storage emulator they are signed with a local key
(MEDIA_SIGNING_KEY_FILE, or a throwaway one made once per process) and point
at the emulator, which serves signed-URL-shaped GETs without checking them.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import lru_cache
from typing import Any

from shared.core import log
from shared.core.settings import get_settings
from shared.domain.paths import split_gs_uri
from shared.store.connections import storage_client

MAX_TTL_S = 900
_SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
_lock = threading.Lock()
_cloud_credentials: Any = None
_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="sign")


def ttl_s() -> int:
    return min(get_settings().MEDIA_SIGNED_URL_TTL_S, MAX_TTL_S)


@lru_cache(maxsize=1)
def local_signer() -> Any:
    """Service-account credentials holding a private key, for the emulators only."""
    from google.oauth2 import service_account

    settings = get_settings()
    if settings.MEDIA_SIGNING_KEY_FILE:
        return service_account.Credentials.from_service_account_file(
            settings.MEDIA_SIGNING_KEY_FILE
        )
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    project = settings.GOOGLE_CLOUD_PROJECT
    return service_account.Credentials.from_service_account_info(
        {
            "type": "service_account",
            "project_id": project,
            "client_email": f"media-api-local@{project}.iam.gserviceaccount.com",
            "private_key_id": "local",
            "private_key": pem,
            "token_uri": "https://oauth2.googleapis.com/token",
        }
    )


def cloud_credentials() -> Any:
    """Default credentials with a fresh access token (refreshed when stale)."""
    global _cloud_credentials
    import google.auth
    from google.auth.transport.requests import Request

    with _lock:
        if _cloud_credentials is None:
            _cloud_credentials, _ = google.auth.default(scopes=_SCOPES)
        if not _cloud_credentials.valid:
            _cloud_credentials.refresh(Request())
        return _cloud_credentials


def signed_url(uri: str | None, campaign_id: str) -> str | None:
    """A GET URL for one of this campaign's media objects, else None."""
    if not uri:
        return None
    settings = get_settings()
    try:
        bucket_name, name = split_gs_uri(uri)
    except ValueError:
        return None
    # Documents are ours, but sign nothing outside this campaign's media.
    if bucket_name != settings.MEDIA_BUCKET or not name.startswith(f"media/{campaign_id}/"):
        log.warning("sign_refused", f"not signing {uri}", campaign_id=campaign_id)
        return None
    blob = storage_client().bucket(bucket_name).blob(name)
    expiration = timedelta(seconds=ttl_s())
    if settings.STORAGE_EMULATOR_HOST:
        return blob.generate_signed_url(
            version="v4",
            method="GET",
            expiration=expiration,
            credentials=local_signer(),
            api_access_endpoint=settings.STORAGE_EMULATOR_HOST,
        )
    creds = cloud_credentials()
    email = settings.MEDIA_SIGNING_SA or getattr(creds, "service_account_email", None)
    return blob.generate_signed_url(
        version="v4",
        method="GET",
        expiration=expiration,
        service_account_email=email,
        access_token=creds.token,
    )


def signed_urls(uris: list[str | None], campaign_id: str) -> list[str | None]:
    """Several at once: in the cloud each is an IAM call, so they run in parallel."""
    if get_settings().STORAGE_EMULATOR_HOST or len(uris) <= 1:
        return [signed_url(u, campaign_id) for u in uris]
    return list(_pool.map(lambda u: signed_url(u, campaign_id), uris))
