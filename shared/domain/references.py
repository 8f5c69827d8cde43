"""Character model sheets (reference images): which names and files are valid.

The one answer to "is this a valid reference sheet", in two rules: what a
request may name (`reference_name`: any object under the campaign's `refs/`,
plain segments, no `..`, as docs/interface.md section 1 says), and what the
SDK's upload creates (`reference_object`: stricter, 1-4 segments ending in the
type's extension). Every sheet the upload makes is one a request may use;
the request's rule is the published one, so it is not narrowed to the
upload's. The request, AIDM's tools and the model-sheet registry ask
`reference_name`; the reader sends each with `mime_for`."""

from __future__ import annotations

import re

from shared.domain.ids import SCOPE_ID_RULE, is_scope_id
from shared.domain.paths import gs_uri, refs_prefix

# Reference sheets: what the image model accepts, by the name's extension (the
# pipeline sends each with the type its name stands for: mime_for).
REFERENCE_TYPES: dict[str, tuple[str, ...]] = {
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
    "image/webp": (".webp",),
}
# Gemini's documented limit for one inline image on Vertex; a sheet larger than
# this would fail at render time, so it is refused at upload time.
MAX_REFERENCE_BYTES = 7 * 1024 * 1024
_REF_SEGMENT_RE = re.compile(r"^[A-Za-z0-9._-]{1,200}$")
# What a request may name under refs/{campaign_id}/: plain path segments.
_REF_PATH_RE = re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")


def _plain_segments(name: object) -> bool:
    """1-4 plain path segments (no '..', '.', empty or absolute parts)."""
    if not isinstance(name, str) or len(name) > 400:
        return False
    segments = name.split("/")
    return 1 <= len(segments) <= 4 and all(
        s not in (".", "..") and _REF_SEGMENT_RE.fullmatch(s) for s in segments
    )


def type_of(name: str) -> str | None:
    """The MIME type a reference's name stands for (by its extension), if any."""
    lower = name.lower()
    return next((t for t, ends in REFERENCE_TYPES.items() if lower.endswith(ends)), None)


def is_reference_path(name: object) -> bool:
    """A name a request may use under `refs/{campaign_id}/`: plain segments of
    [A-Za-z0-9._-] separated by '/', none of them '..'."""
    return (
        isinstance(name, str)
        and _REF_PATH_RE.fullmatch(name) is not None
        and ".." not in name.split("/")
    )


def reference_name(uri: object, bucket: str, campaign_id: str) -> str | None:
    """The name of `uri` under the campaign's `refs/` in `bucket`, if a request
    may name it (only its own campaign's)."""
    prefix = gs_uri(bucket, refs_prefix(campaign_id))
    if not isinstance(uri, str) or not uri.startswith(prefix):
        return None
    name = uri[len(prefix) :]
    return name if is_reference_path(name) else None


def mime_for(uri: str) -> str:
    """The MIME type to send a reference with, by its name; PNG (what model
    sheets are) for a name without a known extension."""
    return type_of(uri) or "image/png"


def reference_object(campaign_id: str, name: str, content_type: str) -> str:
    """`refs/{campaign_id}/{name}` after checking the name: plain path segments
    (no '..', '.', empty or absolute parts) ending in the type's extension."""
    if not is_scope_id(campaign_id):
        raise ValueError(f"campaign id {campaign_id!r} must be {SCOPE_ID_RULE}")
    if content_type not in REFERENCE_TYPES:
        raise ValueError(
            f"content type {content_type!r} is not one of {', '.join(REFERENCE_TYPES)}"
        )
    if not _plain_segments(name):
        raise ValueError(
            f"reference name {str(name)[:100]!r} must be 1-4 segments of "
            "[A-Za-z0-9._-] separated by '/', without '.' or '..'"
        )
    if type_of(name) != content_type:
        raise ValueError(
            f"reference name {name!r} must end in "
            f"{' or '.join(REFERENCE_TYPES[content_type])} for {content_type}"
        )
    return refs_prefix(campaign_id) + name


def looks_like(data: bytes, content_type: str) -> bool:
    if content_type == "image/png":
        return data.startswith(b"\x89PNG\r\n\x1a\n")
    if content_type == "image/jpeg":
        return data.startswith(b"\xff\xd8\xff")
    return data[:4] == b"RIFF" and data[8:12] == b"WEBP"
