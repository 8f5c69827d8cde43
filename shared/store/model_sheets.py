"""Character model sheets (docs/interface.md sections 1-3): registered per campaign and
attached to later requests that name the character.

A `model_sheet` request that completes is copied to
`refs/{campaign_id}/characters/{slug}.png` and registered in the campaign's
`characters` map; a later request that lists the name in `characters` gets that
sheet as a reference image, within the limit of six references in all (the
request's own `reference_images` come first: the caller chose them).
"""

from __future__ import annotations

import re
from typing import Any

from shared.core import log
from shared.core.settings import get_settings
from shared.domain.paths import gs_uri, refs_prefix, split_gs_uri
from shared.domain.references import reference_name
from shared.domain.request import MAX_REFERENCE_IMAGES, MediaRequest
from shared.store.campaigns import campaign_ref
from shared.store.connections import storage_client

TIMEOUT = (5, 30)
CHARACTERS = "characters/"  # registered sheets, under the campaign's refs/


def slug(name: str) -> str:
    """The key of a name in `characters`: case, spacing and punctuation fold away,
    so "Rei", " rei " and "REI" are one character."""
    return re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-")[:100] or "unnamed"


def sheet_object(campaign_id: str, name: str) -> str:
    return f"{refs_prefix(campaign_id)}{CHARACTERS}{slug(name)}.png"


def registered(campaign_id: str) -> dict[str, dict[str, Any]]:
    """The campaign's `characters` map (slug -> {name, ref_uri, asset_id})."""
    snap = campaign_ref(campaign_id).get()
    raw = (snap.to_dict() or {}).get("characters") if snap.exists else None
    return {k: v for k, v in (raw or {}).items() if isinstance(v, dict)}


def references_for(request: MediaRequest) -> list[str]:
    """The reference images a request is made with: its own, then the registered
    sheets of the characters it names, at most six, each once."""
    refs = list(request.reference_images)
    if not request.characters:
        return refs
    bucket = get_settings().MEDIA_BUCKET
    sheets = registered(request.campaign_id)
    for name in request.characters:
        uri = (sheets.get(slug(name)) or {}).get("ref_uri")
        ref = reference_name(uri, bucket, request.campaign_id)
        if not isinstance(uri, str) or ref is None or not ref.startswith(CHARACTERS):
            continue  # no sheet yet (or not one of ours): the prompt carries the character
        if uri not in refs and len(refs) < MAX_REFERENCE_IMAGES:
            refs.append(uri)
    return refs


def register(request: MediaRequest, asset_id: str, image_uri: str) -> str:
    """Copy a finished sheet into refs/ and register it; safe to repeat."""
    name = request.subject or ""
    bucket = storage_client().bucket(get_settings().MEDIA_BUCKET)
    _, source_name = split_gs_uri(image_uri)
    target = sheet_object(request.campaign_id, name)
    copied = bucket.copy_blob(bucket.blob(source_name), bucket, target, timeout=TIMEOUT)
    copied.content_type = "image/png"
    ref_uri = gs_uri(bucket.name, target)
    campaign_ref(request.campaign_id).set(
        {"characters": {slug(name): {"name": name, "ref_uri": ref_uri, "asset_id": asset_id}}},
        merge=True,
    )
    log.info(
        "model_sheet_registered",
        f"model sheet of {name!r} registered",
        campaign_id=request.campaign_id,
        asset_id=asset_id,
    )
    return ref_uri
