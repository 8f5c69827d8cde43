"""In-memory stand-ins at the store's edge, for millisecond tests of the
pipeline stages (tests/unit/stages/).

What is fake, and what it copies:

- `FakeFirestore` (tests/unit/fake_firestore.py, which lists the Firestore
  behaviour it copies) replaces the Firestore client at the store's one seam
  (`firestore_client` in shared/store/connections.py). Everything above it
  is the real code: the asset's status machine, leases and hidden end
  (shared/store/assets.py), the ledger's holds and charges with its
  settle-only-held rule (ledger.py, spend.py, daily.py), campaigns, pacing
  tokens, the queries of asset_queries.py and the optimistic
  read-modify-write loop (optimistic.py).
- `FakeStorage` replaces the functions of shared/store/storage.py: objects in
  a dict; `upload_once` never replaces; `move_into_place` copies unless the
  destination exists, and deletes the source either way; deletes ignore
  absent objects; `download` of a missing object raises NotFound.
- Animate messages (shared/store/publish.py), status events
  (shared/store/events.py) and charge messages (shared/store/charges.py) are
  recorded, not sent. `World.charge_failures` makes the next charge
  publishes raise, in turn (a Crash there is a process killed between the
  ledger's charge and its message).
- `FakeImageModel` / `FakeVideoModel` implement ImageModel / VideoModel
  (shared/store/media_models.py). At every paid call they look the asset's
  hold up in the ledger; a call with nothing held is recorded in
  `World.unreserved` (each paid call must be reserved first).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from google.api_core import exceptions as gexc

from shared.core.errors import PermanentError, QuotaExceeded, StartUncertain
from shared.core.settings import get_settings
from shared.domain.charge import Charge
from shared.domain.paths import split_gs_uri
from shared.domain.pricing import usd_to_micros
from shared.store import ledger
from shared.store.media_models import ClipResult, Still
from tests.unit.fake_firestore import FakeFirestore

PNG = b"\x89PNG\r\n\x1a\n fake still"


def mp4_bytes(duration_s: float, payload: int = 2048) -> bytes:
    """The smallest MP4 that shared/domain/mp4.py reads: ftyp, moov/mvhd
    with this duration, and a `payload`-byte mdat (nothing to play)."""

    def box(kind: bytes, body: bytes) -> bytes:
        return (len(body) + 8).to_bytes(4, "big") + kind + body

    mvhd = bytes(12) + (1000).to_bytes(4, "big") + int(duration_s * 1000).to_bytes(4, "big")
    return (
        box(b"ftyp", b"isom" + (512).to_bytes(4, "big") + b"isomiso2avc1mp41")
        + box(b"moov", box(b"mvhd", mvhd + bytes(80)))
        + box(b"mdat", bytes(payload))
    )


class Crash(BaseException):
    """A process killed at a checkpoint: a BaseException, so no `except
    Exception` in the stages catches it. Unlike a real kill, `finally` blocks
    still run (a lease given back early); World.expire_leases() stands for the
    wait a real redelivery has until a crashed holder's lease runs out."""


# --- Cloud Storage -----------------------------------------------------------


@dataclass
class Blob:
    name: str
    data: bytes
    content_type: str
    metadata: dict[str, str] = field(default_factory=dict)
    time_created: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def size(self) -> int:
        return len(self.data)


class FakeStorage:
    FUNCTIONS = (
        "upload",
        "stat",
        "upload_once",
        "download",
        "move_into_place",
        "delete_quietly",
        "delete_stale",
        "delete_all",
        "first_mp4_under",
    )

    def __init__(self) -> None:
        self.objects: dict[str, Blob] = {}

    def _name(self, uri: str) -> str:
        bucket, name = split_gs_uri(uri)
        assert bucket == get_settings().MEDIA_BUCKET, uri
        return name

    def upload(self, name: str, data: bytes, content_type: str) -> None:
        self.objects[name] = Blob(name, data, content_type)

    def stat(self, name: str) -> Blob | None:
        return self.objects.get(name)

    def upload_once(
        self, name: str, data: bytes, content_type: str, metadata: dict[str, str]
    ) -> None:
        self.objects.setdefault(name, Blob(name, data, content_type, dict(metadata)))

    def download(self, name: str) -> bytes:
        if name not in self.objects:
            raise gexc.NotFound(name)
        return self.objects[name].data

    def move_into_place(self, source_uri: str, name: str) -> None:
        if name in self.objects:
            self.objects.pop(self._name(source_uri), None)  # a copy made, the delete not
            return
        source = self.objects.pop(self._name(source_uri))  # KeyError: like a 404 copy
        self.objects[name] = Blob(name, source.data, "video/mp4")

    def delete_quietly(self, name: str) -> None:
        self.objects.pop(name, None)

    def delete_stale(self, prefix: str, older_than_s: float, limit: int = 1000) -> int:
        now = datetime.now(UTC)
        stale = [
            n
            for n, b in self.objects.items()
            if n.startswith(prefix) and (now - b.time_created).total_seconds() > older_than_s
        ][:limit]
        for name in stale:
            del self.objects[name]
        return len(stale)

    def delete_all(self, names: list[str], prefix: str | None = None) -> None:
        under = [n for n in self.objects if prefix and n.startswith(prefix)]
        for name in [*names, *under]:
            self.objects.pop(name, None)

    def first_mp4_under(self, prefix: str) -> str | None:
        for name in sorted(self.objects):
            if name.startswith(prefix) and name.endswith(".mp4"):
                return f"gs://{get_settings().MEDIA_BUCKET}/{name}"
        return None


# --- the media models ----------------------------------------------------------


class FakeImageModel:
    """`failures`: what each call raises in turn (None: succeeds)."""

    def __init__(self, world: World, failures: list[Exception | None] | None = None) -> None:
        self.world, self.failures, self.calls = world, list(failures or []), 0

    def generate(
        self, model: str, prompt: str, aspect_ratio: str, image_size: str, references: list[str]
    ) -> Still:
        self.world.check_image_call(prompt)
        self.calls += 1
        failure = self.failures.pop(0) if self.failures else None
        if failure is not None:
            raise failure
        return Still(PNG, "image/png", 1280, 720)


class FakeVideoModel:
    """Each start takes the next outcome: "ok" (the MP4 lands under the output
    folder and the operation reads done), "quota" (a 429: nothing starts),
    "pending" (not done; `land()` later),
    "blocked", "failed" (done with an error), "refused" (the start raises a
    PermanentError), "uncertain" (StartUncertain, nothing lands) or
    "uncertain_landed" (StartUncertain, yet the job ran and its MP4 lands)."""

    def __init__(self, world: World, outcomes: list[str] | None = None) -> None:
        self.world, self.outcomes = world, list(outcomes or [])
        self.starts: list[str] = []  # output folders, one per paid start
        self.models: list[str] = []  # the Veo model of each paid start
        self.polls = 0
        self.operations: dict[str, ClipResult] = {}
        self.outputs: dict[str, str] = {}  # operation -> where its MP4 lands
        self.durations: dict[str, int] = {}  # operation -> the clip's length
        self.poll_failures: list[Exception] = []  # what the next polls raise, in turn

    def start(
        self,
        model: str,
        image_png: bytes,
        prompt: str,
        duration_seconds: int,
        aspect_ratio: str,
        resolution: str,
        audio: bool,
        output_gcs_uri: str,
    ) -> str:
        assert image_png == PNG, "the clip starts from the stored still"
        self.world.check_video_call(output_gcs_uri)
        outcome = self.outcomes.pop(0) if self.outcomes else "ok"
        if outcome == "quota":
            raise QuotaExceeded("429 RESOURCE_EXHAUSTED")  # refused: nothing started
        self.starts.append(output_gcs_uri)
        self.models.append(model)
        n = len(self.starts)
        operation = f"projects/p/locations/us-central1/operations/op-{n}"
        self.outputs[operation] = f"{output_gcs_uri.rstrip('/')}/{1000 + n}/sample_0.mp4"
        self.durations[operation] = duration_seconds
        if outcome == "refused":
            raise PermanentError("video_failed", "Veo refused the job")
        if outcome.startswith("uncertain"):
            if outcome == "uncertain_landed":
                self.land(operation)
            raise StartUncertain("Veo start timed out")
        self.operations[operation] = {
            "pending": ClipResult(done=False),
            "blocked": ClipResult(done=True, blocked=True, error="blocked by safety filters"),
            "failed": ClipResult(done=True, error="Veo failed"),
        }.get(outcome) or ClipResult(done=False)
        if outcome == "ok":
            self.land(operation)
        return operation

    def land(self, operation: str) -> None:
        """The operation finishes: its MP4 is written to the bucket."""
        uri = self.outputs[operation]
        clip = mp4_bytes(self.durations.get(operation, 8))
        self.world.storage.upload(self.world.storage._name(uri), clip, "video/mp4")
        self.operations[operation] = ClipResult(done=True, uri=uri)

    def poll(self, operation_name: str) -> ClipResult:
        self.polls += 1
        if self.poll_failures:
            raise self.poll_failures.pop(0)
        return self.operations[operation_name]


# --- the world the stages see ---------------------------------------------------


class CloudEvent(dict):
    """The CloudEvent a Pub/Sub-triggered function receives."""

    def __init__(self, data: bytes, event_id: str, published_at: datetime | None) -> None:
        super().__init__(id=event_id)
        message = {"data": base64.b64encode(data).decode()}
        if published_at is not None:
            message["publishTime"] = published_at.isoformat()
        self.data = {"message": message}


class World:
    """The fake Firestore, Storage and Pub/Sub, installed on the names the
    store modules look up, with helpers to read what the stages did."""

    def __init__(self) -> None:
        self.db = FakeFirestore()
        self.storage = FakeStorage()
        self.animate_messages: list[tuple[str, str]] = []
        self.events: list[dict[str, Any]] = []
        self.charges: list[Charge] = []  # charge messages, duplicates included
        self.charge_failures: list[BaseException] = []
        self.unreserved: list[str] = []  # paid calls made with nothing held

    def install(self, monkeypatch: pytest.MonkeyPatch) -> World:
        from shared.pipeline import render
        from shared.store import charges, connections, events, publish, storage

        def client() -> FakeFirestore:
            return self.db

        # The store's one seam: every store module asks connections for its client.
        monkeypatch.setattr(connections, "firestore_client", client)
        for name in FakeStorage.FUNCTIONS:
            monkeypatch.setattr(storage, name, getattr(self.storage, name))

        def publish_animate(campaign_id: str, asset_id: str) -> None:
            self.animate_messages.append((campaign_id, asset_id))

        monkeypatch.setattr(publish, "publish_animate", publish_animate)
        monkeypatch.setattr(render, "publish_animate", publish_animate)
        monkeypatch.setattr(
            events, "publish_status", lambda asset: self.events.append(events.event_for(asset))
        )

        def publish_charge(charge: Charge) -> None:
            # Sent as the real publish sends it: the JSON a consumer reads.
            sent = Charge.model_validate_json(charges.message_data(charge))
            if self.charge_failures:
                raise self.charge_failures.pop(0)
            self.charges.append(sent)

        monkeypatch.setattr(charges, "publish", publish_charge)
        return self

    # setup

    def campaign(self, campaign_id: str = "c1", **media: Any) -> None:
        settings = {"enabled": True, "budget_per_session_usd": 5.0, **media}
        self.db.write(
            f"campaigns/{campaign_id}",
            {"media_settings": settings, "members": ["alice"], "owners": ["gm"]},
        )

    # reading

    def asset(self, campaign_id: str, asset_id: str) -> dict[str, Any]:
        doc = self.db.read(f"campaigns/{campaign_id}/media/{asset_id}")
        assert doc is not None, f"no asset {asset_id}"
        return doc

    def books(self, campaign_id: str, session_id: str) -> tuple[dict[str, int], dict[str, int]]:
        """(holds, charges) of a session ledger."""
        return ledger.held_maps(self.db.read(f"campaigns/{campaign_id}/sessions/{session_id}"))

    def exported(self, campaign_id: str, session_id: str) -> dict[str, int]:
        """The session's charge messages, de-duplicated on charge_id as a
        consumer does (charge_id -> micros); a duplicate must be identical."""
        first: dict[str, Charge] = {}
        for charge in self.charges:
            if (charge.campaign_id, charge.session_id) != (campaign_id, session_id):
                continue
            assert first.setdefault(charge.charge_id, charge) == charge, charge.charge_id
        return {k: usd_to_micros(c.cost_usd) for k, c in first.items()}

    def ledgers(self) -> dict[str, dict[str, Any]]:
        return {
            p: d
            for p, (d, _) in self.db.docs.items()
            if p.startswith("campaigns/") and p.split("/")[2:3] == ["sessions"]
        }

    def edit(self, campaign_id: str, asset_id: str, **fields: Any) -> None:
        """Change an asset as time would (an older publish, a check now due)."""
        self.db.write(
            f"campaigns/{campaign_id}/media/{asset_id}",
            {**self.asset(campaign_id, asset_id), **fields},
        )

    def expire_leases(self) -> None:
        """Time passes: every lease a crashed delivery held runs out."""
        for path, (doc, _) in list(self.db.docs.items()):
            if (doc.get("lease") or {}).get("owner"):
                self.db.write(path, {**doc, "lease": {**doc["lease"], "until": 0}})

    # the money checks

    def _held(self, campaign_id: str, session_id: str, key: str, player: str | None) -> bool:
        """Held in the session and, for a player's asset, in the player's book."""
        holds, _ = self.books(campaign_id, session_id)
        held_by_player = player is None or key in ledger.held_maps(self.player(player))[0]
        return key in holds and held_by_player

    def check_image_call(self, prompt: str) -> None:
        for path, (doc, _) in list(self.db.docs.items()):
            if (
                "/media/" in path
                and doc.get("image_prompt")
                and doc["image_prompt"] in prompt
                and doc.get("status") == "rendering_image"
            ):
                key = ledger.hold_key(doc["asset_id"], "image")
                if self._held(doc["campaign_id"], doc["session_id"], key, doc.get("player_id")):
                    return
        self.unreserved.append(f"image call with nothing held: {prompt[:60]}")

    def check_video_call(self, output_uri: str) -> None:
        from shared.store.spend import clip_stage

        _, name = split_gs_uri(output_uri)
        _, cid, aid = name.rstrip("/").split("/")[:3]
        doc = self.asset(cid, aid)
        key = ledger.hold_key(aid, clip_stage(doc))
        if not self._held(cid, doc["session_id"], key, doc.get("player_id")):
            self.unreserved.append(f"Veo start for {aid} with {key} not held")

    def check_money(self) -> None:
        """The invariant every test ends with."""
        assert self.db.violations == []
        assert self.unreserved == []
        for path, doc in self.ledgers().items():
            holds, charges = ledger.held_maps(doc)
            assert sum(holds.values()) + sum(charges.values()) <= doc["cap_micros"], path
        self.check_exported()
        self.check_players()

    def player(self, player_id: str) -> dict[str, Any] | None:
        return self.db.read(f"players/{player_id}")

    def check_players(self) -> None:
        """Each player's charges are exactly the session ledgers' charges of
        that player's assets; no more than its cap is committed."""
        owed: dict[str, dict[str, int]] = {}
        for doc in self.ledgers().values():
            for key, micros in ledger.held_maps(doc)[1].items():
                asset_id = key.split(":", 1)[0]
                for path, (asset, _) in self.db.docs.items():
                    if path.endswith(f"/media/{asset_id}") and asset.get("player_id"):
                        owed.setdefault(asset["player_id"], {})[key] = micros
        players = {
            p.split("/")[1]: d for p, (d, _) in self.db.docs.items() if p.startswith("players/")
        }
        for player_id, doc in players.items():
            holds, charges = ledger.held_maps(doc)
            assert charges == owed.get(player_id, {}), player_id
            cap = doc.get("cap_micros")
            assert cap is None or sum(holds.values()) + sum(charges.values()) <= cap, player_id
        assert set(owed) <= set(players)

    def check_exported(self) -> None:
        """Every session's charge messages, de-duplicated, are its ledger's
        charges exactly (so they sum to its spent)."""
        for path, doc in self.ledgers().items():
            _, campaign_id, _, session_id = path.split("/")
            _, charges = ledger.held_maps(doc)
            assert self.exported(campaign_id, session_id) == charges, path

    # deliveries

    def finalize_events(self) -> list[bytes]:
        """Object-finalize payloads for the MP4s Veo wrote (not yet moved)."""
        bucket = get_settings().MEDIA_BUCKET
        return [
            json.dumps(
                {"name": name, "bucket": bucket, "timeCreated": blob.time_created.isoformat()}
            ).encode()
            for name, blob in sorted(self.storage.objects.items())
            if name.startswith("veo-out/")
        ]
