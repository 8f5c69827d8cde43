"""Media objects in the private bucket."""

from __future__ import annotations

from typing import Any

from shared.core.settings import get_settings
from shared.domain.paths import split_gs_uri
from shared.store.connections import storage_client

# (connect, read) seconds. The library's default is 60 s; a stalled call
# should fail fast and be retried, not hold a delivery for a minute.
TIMEOUT = (5, 30)


def _bucket() -> Any:
    return storage_client().bucket(get_settings().MEDIA_BUCKET)


def upload(name: str, data: bytes, content_type: str) -> None:
    """Write an object, replacing one of that name."""
    _bucket().blob(name).upload_from_string(data, content_type=content_type)


def stat(name: str) -> Any | None:
    """The blob with its metadata, or None if absent."""
    return _bucket().get_blob(name, timeout=TIMEOUT)


def upload_once(name: str, data: bytes, content_type: str, metadata: dict[str, str]) -> None:
    """Write an object unless it exists: a redelivery never replaces media."""
    from google.api_core.exceptions import PreconditionFailed

    blob = _bucket().blob(name)
    blob.metadata = metadata
    blob.cache_control = "private, max-age=3600"
    try:
        blob.upload_from_string(
            data, content_type=content_type, if_generation_match=0, timeout=TIMEOUT
        )
    except PreconditionFailed:
        pass  # a concurrent delivery stored the same asset first


def download(name: str) -> bytes:
    return _bucket().blob(name).download_as_bytes(timeout=TIMEOUT)


def move_into_place(source_uri: str, name: str) -> None:
    """Copy Veo's output to its final name inside the bucket (no bytes through
    us when the backend supports rewrite), then drop the temporary object."""
    from google.api_core.exceptions import NotFound

    bucket = _bucket()
    source_bucket_name, source_name = split_gs_uri(source_uri)
    source_bucket = storage_client().bucket(source_bucket_name)
    source = source_bucket.blob(source_name)
    if bucket.get_blob(name, timeout=TIMEOUT) is None:
        copied = source_bucket.copy_blob(source, bucket, name, timeout=TIMEOUT)
        copied.content_type = "video/mp4"
        try:
            copied.patch(timeout=TIMEOUT)
        except NotFound:
            return
    # Also when the copy is there already: a try that died between copying
    # and this delete left the temporary object for its redelivery to drop.
    try:
        source.delete(timeout=TIMEOUT)
    except NotFound:
        pass


def delete_quietly(name: str) -> None:
    """Delete an object if it is there (cleanup: absence is success)."""
    from google.api_core.exceptions import NotFound

    try:
        _bucket().blob(name).delete(timeout=TIMEOUT)
    except NotFound:
        pass


def delete_stale(prefix: str, older_than_s: float, limit: int = 1000) -> int:
    """Delete objects under `prefix` created more than `older_than_s` ago;
    returns how many. For Veo's temporary output: a clip that landed after its
    asset was closed (a timeout) is never moved into place by anyone."""
    from datetime import UTC, datetime

    from google.api_core.exceptions import NotFound

    now = datetime.now(UTC)
    deleted = 0
    for blob in storage_client().list_blobs(
        get_settings().MEDIA_BUCKET, prefix=prefix, max_results=limit, timeout=TIMEOUT
    ):
        created = blob.time_created
        if created is None or (now - created).total_seconds() <= older_than_s:
            continue
        try:
            blob.delete(timeout=TIMEOUT)
            deleted += 1
        except NotFound:
            pass
    return deleted


def delete_all(names: list[str], prefix: str | None = None) -> None:
    """Delete these objects (and any under `prefix`); absent ones are fine."""
    from google.api_core.exceptions import NotFound

    bucket = _bucket()
    if prefix:
        names = [*names, *(b.name for b in bucket.list_blobs(prefix=prefix, timeout=TIMEOUT))]
    for name in names:
        try:
            bucket.blob(name).delete(timeout=TIMEOUT)
        except NotFound:
            pass


def first_mp4_under(prefix: str) -> str | None:
    """gs:// uri of an MP4 under `prefix`, or None (also when the check fails:
    the caller asks again). Veo writes `{storageUri}/{numeric id}/sample_0.mp4`
    when its operation finishes, so this finds the clip of an operation whose
    name we never learned (docs/decisions/0011-veo-start-retries.md)."""
    from google.api_core import exceptions as gexc
    from requests import exceptions as rexc

    bucket = get_settings().MEDIA_BUCKET
    try:
        for blob in storage_client().list_blobs(bucket, prefix=prefix, timeout=(2, 5), retry=None):
            if blob.name.endswith(".mp4"):
                return f"gs://{bucket}/{blob.name}"
    except (gexc.GoogleAPICallError, rexc.RequestException):
        return None
    return None
