"""Where things live: objects in the media bucket (docs/interface.md section
3) and documents in Firestore (docs/interface.md section 2). Pure strings: the
store opens them (`firestore_client().document(path)`)."""

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


# Firestore. Each id is one path segment: a '/' in it would name another
# document, so it is refused (as the SDK refuses `collection(c).document("a/b")`).
MEDIA = "media"  # an asset's collection id, also queried as a collection group


def _doc_path(*segments: str) -> str:
    for segment in segments:
        if not isinstance(segment, str) or not segment or "/" in segment:
            raise ValueError(f"not a document id: {segment!r}")
    return "/".join(segments)


def campaign_doc(campaign_id: str) -> str:
    return _doc_path("campaigns", campaign_id)


def media_collection(campaign_id: str) -> str:
    return f"{campaign_doc(campaign_id)}/{MEDIA}"


def asset_doc(campaign_id: str, asset_id: str) -> str:
    return _doc_path("campaigns", campaign_id, MEDIA, asset_id)


def sessions_collection(campaign_id: str) -> str:
    """A campaign's session ledgers."""
    return f"{campaign_doc(campaign_id)}/sessions"


def ledger_doc(campaign_id: str, session_id: str) -> str:
    return _doc_path("campaigns", campaign_id, "sessions", session_id)


def player_doc(player_id: str) -> str:
    """A player's lifetime budget across campaigns (shared/store/players.py)."""
    return _doc_path("players", player_id)


def rewinds_doc(campaign_id: str, session_id: str) -> str:
    """A session's recent rewinds (shared/store/rewinds.py)."""
    return _doc_path("campaigns", campaign_id, "rewinds", session_id)


def spend_shard_doc(day: str, shard: int) -> str:
    """One of the day's shards of the daily cap (shared/store/daily.py)."""
    return _doc_path("spend_days", day, "shards", str(shard))


def pacing_doc(name: str) -> str:
    """A pacing log: a Veo model's rolling log of starts, `veo-log:...`
    (shared/store/pacing.py), or an image model's adaptive rate,
    `image-log:...` (shared/store/image_pacing.py)."""
    return _doc_path("pacing", name)


def sse_ticket_doc(ticket: str) -> str:
    return _doc_path("sse_tickets", ticket)


def sse_streams_doc(key: str) -> str:
    return _doc_path("sse_streams", key)
