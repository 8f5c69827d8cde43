"""What a media tool call needs to know about the turn."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.client import MediaClient


@dataclass
class Published:
    kind: str
    request_id: str
    asset_id: str
    estimate_micros: int
    message: dict[str, Any]


@dataclass
class TurnContext:
    """What the handler needs to know about the turn; one per turn (attempt).

    npcs / locations map names to appearance / description text, from which
    portrait and location prompts are built; party does the same for the
    player characters (model sheets are made for the party and for NPCs).
    reference_images maps character names (NPCs and player characters) to
    sheets AIDM holds itself, under
    gs://MEDIA_BUCKET/refs/{campaign_id}/ (see MediaClient.upload_reference).
    `settings` is what AIDM believes (its flat settings, mapped); the campaign
    document wins whenever it can be read. Pass a stable `idempotency_key`
    (e.g. AIDM's turn id) to make a retried turn publish the same request ids,
    so the pipeline makes and charges each at most once.
    """

    campaign_id: str
    session_id: str
    turn_number: int
    art_style: str | None = None
    ip_title: str | None = None
    palette: str | None = None
    style_notes: str | None = None
    npcs: Mapping[str, str] = field(default_factory=dict)
    party: Mapping[str, str] = field(default_factory=dict)
    locations: Mapping[str, str] = field(default_factory=dict)
    reference_images: Mapping[str, Sequence[str]] = field(default_factory=dict)
    settings: Any = None
    client: MediaClient | None = None
    last_cutscene_turn: int | None = None
    max_cutscenes_per_turn: int = 1
    max_stills_per_turn: int = 2
    max_model_sheets_per_turn: int = 6  # a whole party at character creation
    idempotency_key: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    published: list[Published] = field(default_factory=list)

    def media_client(self) -> MediaClient:
        if self.client is None:
            self.client = MediaClient()
        return self.client

    def style(self) -> dict[str, str] | None:
        style = {
            "art_style": self.art_style,
            "ip_title": self.ip_title,
            "palette": self.palette,
            "notes": self.style_notes,
        }
        clean = {k: v.strip()[:1000] for k, v in style.items() if v and v.strip()}
        return clean or None

    def request_id(self, kind: str, key: str) -> str:
        parts = [
            self.campaign_id,
            self.session_id,
            str(self.turn_number),
            self.idempotency_key,
            kind,
            key,
        ]
        return "aidm-" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]
