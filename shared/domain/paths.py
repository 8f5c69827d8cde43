"""Where objects live in the media bucket (docs/interface.md section 3)."""

from __future__ import annotations

# Veo's temporary output; the bucket's lifecycle rule and the sweep clear it.
VEO_OUTPUT_ROOT = "veo-out/"


def image_object(campaign_id: str, asset_id: str) -> str:
    return f"media/{campaign_id}/{asset_id}.png"


def video_object(campaign_id: str, asset_id: str) -> str:
    return f"media/{campaign_id}/{asset_id}.mp4"


def video_output_prefix(campaign_id: str, asset_id: str) -> str:
    """Veo writes under a prefix of its own choosing; we copy to the final name."""
    return f"{VEO_OUTPUT_ROOT}{campaign_id}/{asset_id}/"


def refs_prefix(campaign_id: str) -> str:
    return f"refs/{campaign_id}/"


def gs_uri(bucket: str, name: str) -> str:
    return f"gs://{bucket}/{name}"


def split_gs_uri(uri: str) -> tuple[str, str]:
    if not uri.startswith("gs://"):
        raise ValueError(f"not a gs:// uri: {uri!r}")
    bucket, _, name = uri[5:].partition("/")
    if not bucket or not name:
        raise ValueError(f"not a gs:// object uri: {uri!r}")
    return bucket, name


# The HTTP API's stable address of an asset's file (docs/interface.md section 5).
FILE_NAMES = {"image": "image.png", "video": "video.mp4"}


def stable_path(campaign_id: str, asset_id: str, kind: str = "image") -> str:
    """Without the API's origin: a permanent `portrait_url` is
    `public_prefix + stable_path(campaign_id, asset_id)`."""
    return f"/campaigns/{campaign_id}/media/{asset_id}/{FILE_NAMES[kind]}"
