"""Media objects in the private bucket."""

from __future__ import annotations

from typing import Any

from shared.clients import storage_client
from shared.paths import split_gs_uri
from shared.settings import get_settings


def _bucket() -> Any:
    return storage_client().bucket(get_settings().MEDIA_BUCKET)


def stat(name: str) -> Any | None:
    """The blob with its metadata, or None if absent."""
    return _bucket().get_blob(name)


def upload_once(name: str, data: bytes, content_type: str, metadata: dict[str, str]) -> None:
    """Write an object unless it exists: a redelivery never replaces media."""
    from google.api_core.exceptions import PreconditionFailed

    blob = _bucket().blob(name)
    blob.metadata = metadata
    blob.cache_control = "private, max-age=3600"
    try:
        blob.upload_from_string(data, content_type=content_type, if_generation_match=0)
    except PreconditionFailed:
        pass  # a concurrent delivery stored the same asset first


def download(name: str) -> bytes:
    return _bucket().blob(name).download_as_bytes()


def move_into_place(source_uri: str, name: str) -> None:
    """Copy Veo's output to its final name inside the bucket (no bytes through
    us when the backend supports rewrite), then drop the temporary object."""
    from google.api_core.exceptions import NotFound

    bucket = _bucket()
    if bucket.get_blob(name) is not None:
        return
    source_bucket_name, source_name = split_gs_uri(source_uri)
    source_bucket = storage_client().bucket(source_bucket_name)
    source = source_bucket.blob(source_name)
    copied = source_bucket.copy_blob(source, bucket, name)
    copied.content_type = "video/mp4"
    try:
        copied.patch()
        source.delete()
    except NotFound:
        pass
