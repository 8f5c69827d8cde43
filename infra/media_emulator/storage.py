"""Talking to the Cloud Storage emulator (fake-gcs-server) over its JSON API."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request


class StorageError(RuntimeError):
    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


def normalize_url(url: str | None) -> str | None:
    """STORAGE_EMULATOR_HOST may come with or without a scheme."""
    if not url:
        return None
    url = url.strip().rstrip("/")
    if "://" not in url:
        url = "http://" + url
    return url


def split_gs_uri(uri: str) -> tuple[str, str]:
    """gs://bucket/some/name -> ("bucket", "some/name")."""
    if not uri.startswith("gs://"):
        raise ValueError(f"not a gs:// uri: {uri!r}")
    bucket, _, name = uri[len("gs://") :].partition("/")
    if not bucket:
        raise ValueError(f"no bucket in {uri!r}")
    return bucket, name


def upload(storage_url: str, gs_uri: str, data: bytes, content_type: str) -> dict:
    bucket, name = split_gs_uri(gs_uri)
    if not name:
        raise ValueError(f"no object name in {gs_uri!r}")
    url = (
        f"{storage_url}/upload/storage/v1/b/{urllib.parse.quote(bucket, safe='')}/o"
        f"?uploadType=media&name={urllib.parse.quote(name, safe='')}"
    )
    req = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": content_type}
    )
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:300].decode(errors="replace")
        raise StorageError(
            f"upload of {gs_uri} failed: HTTP {exc.code} {detail}", exc.code
        ) from None
    except OSError as exc:
        raise StorageError(f"upload of {gs_uri} failed: {exc}") from None


def download(storage_url: str, gs_uri: str) -> bytes:
    bucket, name = split_gs_uri(gs_uri)
    url = (
        f"{storage_url}/storage/v1/b/{urllib.parse.quote(bucket, safe='')}/o/"
        f"{urllib.parse.quote(name, safe='')}?alt=media"
    )
    try:
        with urllib.request.urlopen(url, timeout=60) as resp:
            return resp.read()
    except urllib.error.HTTPError as exc:
        raise StorageError(f"download of {gs_uri} failed: HTTP {exc.code}", exc.code) from None
    except OSError as exc:
        raise StorageError(f"download of {gs_uri} failed: {exc}") from None
