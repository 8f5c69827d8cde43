"""The client AIDM backends use: publish requests, configure campaigns, read
budgets, upload character model sheets, mint player sign-in tokens.

Publishing is the only thing the turn loop does in-line: it validates, hands
the message to Pub/Sub and returns in milliseconds. Nothing the turn loop calls
raises: `MediaClient.request_*` and `publish` answer a `PublishResult`
(`accepted=False` with a reason), `remaining_budget` a `BudgetStatus`
(`ok=False` with a reason), each within a bounded time (`publish_timeout_s`,
`read_timeout_s`). Setting-up calls (`configure`, `upload_reference`,
`create_custom_token`) raise on bad input, like any admin API.

The module-level `publish_request`, `build_message`, `configure_campaign` and
`remaining_budget` are what the CLI and the HTTP API use.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any

from shared import ledger
from shared.campaigns import MediaSettings, campaign_ref, load_campaign
from shared.clients import firestore_client, publisher, storage_client, topic_path
from shared.errors import InvalidRequest
from shared.ids import SCOPE_ID_RULE, asset_id_for, is_scope_id
from shared.paths import gs_uri, refs_prefix
from shared.pricing import micros_to_usd, usd_to_micros
from shared.request import SCHEMA, Style, parse_request
from shared.settings import get_settings

# The turn loop waits at most this long for Pub/Sub's answer. A healthy publish
# takes a few milliseconds (see tests/integration/test_client.py); two seconds
# covers a cold channel in the cloud (TLS, token fetch) and nothing more.
PUBLISH_TIMEOUT_S = 2.0
READ_TIMEOUT_S = 2.0

# Reference sheets: what the image model accepts, by the name's extension (the
# pipeline derives the MIME type from it, see media_models._mime_for).
REFERENCE_TYPES: dict[str, tuple[str, ...]] = {
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
    "image/webp": (".webp",),
}
# Gemini's documented limit for one inline image on Vertex; a sheet larger than
# this would fail at render time, so it is refused at upload time.
MAX_REFERENCE_BYTES = 7 * 1024 * 1024
_REF_SEGMENT_RE = re.compile(r"^[A-Za-z0-9._-]{1,200}$")


@dataclass(frozen=True)
class PublishResult:
    accepted: bool
    request_id: str | None
    asset_id: str | None
    reason: str | None = None
    message_id: str | None = None
    elapsed_ms: float | None = None


@dataclass(frozen=True)
class BudgetStatus:
    """A session's budget as the pipeline will see it, read in one round trip.

    `ok` False means the documents could not be read (`reason` says why); the
    pipeline still enforces the cap, so callers may go ahead without it.
    """

    ok: bool
    reason: str | None = None
    campaign_found: bool = False
    media: MediaSettings | None = None
    balance: ledger.Balance | None = None
    # Ledger keys "{asset_id}:{stage}" already held or charged: tells a caller
    # which of its just-published requests the pipeline has already counted.
    recorded: frozenset[str] = field(default_factory=frozenset)
    elapsed_ms: float = 0.0

    @property
    def enabled(self) -> bool:
        return bool(self.ok and self.campaign_found and self.media and self.media.enabled)

    @property
    def remaining_micros(self) -> int:
        return self.balance.remaining_micros if self.balance else 0

    def as_usd(self) -> dict[str, float]:
        return self.balance.as_usd() if self.balance else {}


def new_request_id() -> str:
    return f"req-{uuid.uuid4().hex}"


def build_message(**fields: Any) -> dict[str, Any]:
    message = {"schema": SCHEMA, "request_id": fields.pop("request_id", None) or new_request_id()}
    message.update({k: v for k, v in fields.items() if v is not None})
    return message


def _style_dict(style: Style | Mapping[str, Any] | None) -> dict[str, Any] | None:
    if style is None:
        return None
    raw = style.model_dump() if isinstance(style, Style) else dict(style)
    clean = {k: v for k, v in raw.items()
             if v is not None and (not isinstance(v, str) or v.strip())}
    return clean or None


def _common(campaign_id: str, session_id: str, turn_number: int, kind: str,
            image_prompt: str, style: Any, reference_images: Sequence[str] | None,
            aspect_ratio: str | None, request_id: str | None,
            characters: Sequence[str] | None = None) -> dict[str, Any]:
    return dict(request_id=request_id, campaign_id=campaign_id, session_id=session_id,
                turn_number=turn_number, kind=kind, image_prompt=image_prompt,
                style=_style_dict(style),
                reference_images=list(reference_images) if reference_images else None,
                characters=list(characters) if characters else None,
                aspect_ratio=aspect_ratio)


def cutscene_message(*, campaign_id: str, session_id: str, turn_number: int,
                     cutscene_type: str, image_prompt: str, motion_prompt: str,
                     style: Any = None, reference_images: Sequence[str] | None = None,
                     aspect_ratio: str | None = None, duration_seconds: int | None = None,
                     request_id: str | None = None,
                     characters: Sequence[str] | None = None) -> dict[str, Any]:
    return build_message(
        **_common(campaign_id, session_id, turn_number, "cutscene", image_prompt, style,
                  reference_images, aspect_ratio, request_id, characters),
        cutscene_type=cutscene_type, motion_prompt=motion_prompt,
        duration_seconds=duration_seconds)


def still_message(*, kind: str, campaign_id: str, session_id: str, turn_number: int,
                  subject: str, image_prompt: str | None = None, style: Any = None,
                  reference_images: Sequence[str] | None = None,
                  aspect_ratio: str | None = None,
                  request_id: str | None = None,
                  characters: Sequence[str] | None = None) -> dict[str, Any]:
    """A location visual, an NPC portrait or a model sheet; the subject is the
    prompt if none is given."""
    return build_message(
        **_common(campaign_id, session_id, turn_number, kind, image_prompt or subject, style,
                  reference_images, aspect_ratio, request_id, characters),
        subject=subject)


def _publish_retry(timeout_s: float) -> Any:
    """Retry transient errors only, and never past the caller's deadline, so a
    message the caller was told failed is not still being sent a minute later."""
    from google.api_core import exceptions as gexc
    from google.api_core import retry

    transient = retry.if_exception_type(
        gexc.Aborted, gexc.DeadlineExceeded, gexc.InternalServerError,
        gexc.ResourceExhausted, gexc.ServiceUnavailable, gexc.Unknown)
    return retry.Retry(predicate=transient, initial=0.05, maximum=0.5, multiplier=2.0,
                       timeout=timeout_s)


def _failure(exc: BaseException, timeout_s: float) -> str:
    if isinstance(exc, (FutureTimeout, TimeoutError)):
        return (f"publish timed out after {timeout_s:g} s; it may still be delivered, "
                "and publishing again with the same request_id is safe")
    text = str(exc).splitlines()[0][:300] if str(exc) else ""
    return f"publish failed: {type(exc).__name__}: {text}"


def publish_request(message: dict[str, Any], wait: bool = True,
                    timeout: float = PUBLISH_TIMEOUT_S) -> PublishResult:
    """Validate and publish one request message (docs/interface.md section 1). Never raises.

    With `wait`, the answer is Pub/Sub's: accepted means stored by Pub/Sub.
    Without it, accepted means handed to the client's batch (no message id).
    """
    started = time.monotonic()

    def ms() -> float:
        return round((time.monotonic() - started) * 1000, 3)

    request_id = message.get("request_id") if isinstance(message, dict) else None
    try:
        request = parse_request(message, get_settings().MEDIA_BUCKET)
    except InvalidRequest as exc:
        return PublishResult(False, request_id, None, f"invalid: {exc}", elapsed_ms=ms())
    except Exception as exc:  # noqa: BLE001 - e.g. a broken environment; never raise
        return PublishResult(False, request_id, None, _failure(exc, timeout), elapsed_ms=ms())
    asset_id = asset_id_for(request.request_id)
    try:
        future = publisher().publish(
            topic_path(get_settings().MEDIA_REQUESTS_TOPIC),
            json.dumps(request.to_message()).encode("utf-8"),
            retry=_publish_retry(timeout), timeout=timeout,
            campaign_id=request.campaign_id, kind=request.kind,
        )
        # A little slack over the RPC deadline: the batch thread reports it.
        message_id = future.result(timeout=timeout + 0.25) if wait else None
    except BaseException as exc:  # noqa: BLE001 - the turn loop must never see this
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        return PublishResult(False, request.request_id, asset_id, _failure(exc, timeout),
                             elapsed_ms=ms())
    return PublishResult(True, request.request_id, asset_id, None, message_id, elapsed_ms=ms())


MAX_UID_CHARS = 128


def _uids(values: Sequence[str] | None, what: str) -> list[str]:
    out = []
    for uid in values or []:
        if not isinstance(uid, str) or not 0 < len(uid) <= MAX_UID_CHARS or uid != uid.strip():
            raise ValueError(f"{what} {str(uid)[:40]!r} must be a user id of 1-{MAX_UID_CHARS} "
                             "characters without surrounding spaces")
        out.append(uid)
    return out


def _merged(current: Sequence[Any] | None, add: list[str], remove: list[str]) -> list[str]:
    kept = [u for u in (current or []) if isinstance(u, str) and u not in remove]
    return kept + [u for u in dict.fromkeys(add) if u not in kept]


def configure_campaign(campaign_id: str, *, enabled: bool | None = None,
                       budget_usd: float | None = None, members: list[str] | None = None,
                       quality: str | None = None, owners: list[str] | None = None,
                       remove_members: list[str] | None = None,
                       remove_owners: list[str] | None = None,
                       **settings: Any) -> dict[str, Any]:
    """Merge media settings, add members and owners (an owner is also made a
    member), remove members (which takes their ownership too) or only
    ownerships; returns the stored campaign. One atomic write."""
    from shared.docs import read_modify_write

    if not is_scope_id(campaign_id):
        raise ValueError(f"campaign id {campaign_id!r} must be {SCOPE_ID_RULE}")
    add_members, add_owners = _uids(members, "member"), _uids(owners, "owner")
    drop_members = _uids(remove_members, "member to remove")
    drop_owners = _uids(remove_owners, "owner to remove") + drop_members
    clash = (set(add_members) | set(add_owners)) & set(drop_members) or \
        set(add_owners) & set(drop_owners)
    if clash:
        raise ValueError(f"user {sorted(clash)[0]!r} is both added and removed")
    changes: dict[str, Any] = {k: v for k, v in settings.items() if v is not None}
    if enabled is not None:
        changes["enabled"] = enabled
    if budget_usd is not None:
        changes["budget_per_session_usd"] = budget_usd
    if quality is not None:
        changes["quality"] = quality

    def mutate(doc: dict[str, Any] | None) -> tuple[dict[str, Any], None]:
        current = doc or {}
        old = current.get("media_settings")
        media = {**(old if isinstance(old, dict) else {}), **changes}
        MediaSettings.model_validate(media)  # refuse bad settings before storing them
        return {"media_settings": media,
                "members": _merged(current.get("members"), add_members + add_owners,
                                   drop_members),
                "owners": _merged(current.get("owners"), add_owners, drop_owners)}, None

    ref = campaign_ref(campaign_id)
    read_modify_write(ref, mutate)
    if budget_usd is not None:
        ledger.set_cap(campaign_id, usd_to_micros(budget_usd))
    return ref.get().to_dict() or {}


def _effective_balance(media: MediaSettings | None, balance: ledger.Balance) -> ledger.Balance:
    # The campaign's current setting is the cap the next reservation will see.
    # It is reported as configured, even below what is already committed
    # (remaining is then 0): raising it to fit would hide an overspend.
    cap = usd_to_micros(media.budget_per_session_usd if media else 0)
    return ledger.Balance(cap, balance.spent_micros, balance.reserved_micros)


def remaining_budget(campaign_id: str, session_id: str) -> ledger.Balance:
    campaign = load_campaign(campaign_id)
    media = campaign.media if campaign else None
    cap = usd_to_micros(media.budget_per_session_usd if media else 0)
    return _effective_balance(media, ledger.read_balance(campaign_id, session_id, cap))


def reference_object(campaign_id: str, name: str, content_type: str) -> str:
    """`refs/{campaign_id}/{name}` after checking the name: plain path segments
    (no '..', '.', empty or absolute parts) ending in the type's extension."""
    if not is_scope_id(campaign_id):
        raise ValueError(f"campaign id {campaign_id!r} must be {SCOPE_ID_RULE}")
    if content_type not in REFERENCE_TYPES:
        raise ValueError(f"content type {content_type!r} is not one of "
                         f"{', '.join(REFERENCE_TYPES)}")
    segments = name.split("/") if isinstance(name, str) else [""]
    if (not 1 <= len(segments) <= 4 or len(name) > 400
            or any(s in ("", ".", "..") or not _REF_SEGMENT_RE.fullmatch(s) for s in segments)):
        raise ValueError(f"reference name {str(name)[:100]!r} must be 1-4 segments of "
                         "[A-Za-z0-9._-] separated by '/', without '.' or '..'")
    if not name.lower().endswith(REFERENCE_TYPES[content_type]):
        raise ValueError(f"reference name {name!r} must end in "
                         f"{' or '.join(REFERENCE_TYPES[content_type])} for {content_type}")
    return refs_prefix(campaign_id) + name


def _looks_like(data: bytes, content_type: str) -> bool:
    if content_type == "image/png":
        return data.startswith(b"\x89PNG\r\n\x1a\n")
    if content_type == "image/jpeg":
        return data.startswith(b"\xff\xd8\xff")
    return data[:4] == b"RIFF" and data[8:12] == b"WEBP"


class MediaClient:
    """One object for an AIDM backend: build once, share across turns and threads.

    Blocking calls of a few milliseconds; an asyncio turn loop can call them
    directly or through `asyncio.to_thread`.
    """

    def __init__(self, *, publish_timeout_s: float = PUBLISH_TIMEOUT_S,
                 read_timeout_s: float = READ_TIMEOUT_S) -> None:
        if publish_timeout_s <= 0 or read_timeout_s <= 0:
            raise ValueError("timeouts must be positive")
        self.publish_timeout_s = publish_timeout_s
        self.read_timeout_s = read_timeout_s

    @property
    def bucket(self) -> str:
        return get_settings().MEDIA_BUCKET

    def warm(self) -> float:
        """Build the Pub/Sub and Firestore clients now (imports, channels), so the
        first turn does not pay for them. Returns the seconds it took."""
        started = time.monotonic()
        publisher()
        firestore_client()
        return time.monotonic() - started

    # ------------------------------------------------------------- requests

    def publish(self, message: dict[str, Any]) -> PublishResult:
        return publish_request(message, wait=True, timeout=self.publish_timeout_s)

    def _publish_built(self, build: Any, **fields: Any) -> PublishResult:
        try:
            message = build(**fields)
        except Exception as exc:  # noqa: BLE001 - wrong argument types, say so
            return PublishResult(False, fields.get("request_id"), None,
                                 f"invalid: {type(exc).__name__}: {exc}")
        return self.publish(message)

    def request_cutscene(self, *, campaign_id: str, session_id: str, turn_number: int,
                         cutscene_type: str, image_prompt: str, motion_prompt: str,
                         style: Any = None, reference_images: Sequence[str] | None = None,
                         aspect_ratio: str | None = None, duration_seconds: int | None = None,
                         request_id: str | None = None) -> PublishResult:
        return self._publish_built(
            cutscene_message, campaign_id=campaign_id, session_id=session_id,
            turn_number=turn_number, cutscene_type=cutscene_type, image_prompt=image_prompt,
            motion_prompt=motion_prompt, style=style, reference_images=reference_images,
            aspect_ratio=aspect_ratio, duration_seconds=duration_seconds,
            request_id=request_id)

    def request_location_visual(self, *, campaign_id: str, session_id: str, turn_number: int,
                                location_name: str, image_prompt: str | None = None,
                                style: Any = None,
                                reference_images: Sequence[str] | None = None,
                                aspect_ratio: str | None = None,
                                request_id: str | None = None) -> PublishResult:
        return self._publish_built(
            still_message, kind="location_visual", campaign_id=campaign_id,
            session_id=session_id, turn_number=turn_number, subject=location_name,
            image_prompt=image_prompt, style=style, reference_images=reference_images,
            aspect_ratio=aspect_ratio, request_id=request_id)

    def request_npc_portrait(self, *, campaign_id: str, session_id: str, turn_number: int,
                             npc_name: str, image_prompt: str | None = None, style: Any = None,
                             reference_images: Sequence[str] | None = None,
                             aspect_ratio: str | None = "1:1",
                             request_id: str | None = None) -> PublishResult:
        return self._publish_built(
            still_message, kind="npc_portrait", campaign_id=campaign_id,
            session_id=session_id, turn_number=turn_number, subject=npc_name,
            image_prompt=image_prompt, style=style, reference_images=reference_images,
            aspect_ratio=aspect_ratio, request_id=request_id)

    # --------------------------------------------------------------- budget

    def remaining_budget(self, campaign_id: str, session_id: str) -> BudgetStatus:
        """Campaign settings and session ledger in one bounded read. Never raises."""
        started = time.monotonic()

        def ms() -> float:
            return round((time.monotonic() - started) * 1000, 3)

        if not (is_scope_id(campaign_id) and is_scope_id(session_id)):
            return BudgetStatus(False, f"invalid: campaign and session ids must be {SCOPE_ID_RULE}",
                                elapsed_ms=ms())
        try:
            camp, led = campaign_ref(campaign_id), ledger.ledger_ref(campaign_id, session_id)
            snaps = {s.reference.path: s for s in firestore_client().get_all(
                [camp, led], retry=None, timeout=self.read_timeout_s)}
            camp_snap, led_snap = snaps.get(camp.path), snaps.get(led.path)
            campaign = camp_snap.to_dict() if camp_snap is not None and camp_snap.exists else None
            found = campaign is not None
            raw = (campaign or {}).get("media_settings")
            media = MediaSettings.model_validate(raw if isinstance(raw, dict) else {})
            doc = led_snap.to_dict() if led_snap is not None and led_snap.exists else None
            balance = _effective_balance(media if found else None, ledger.balance_of(doc))
            recorded = frozenset((doc or {}).get("holds") or {}) | frozenset(
                (doc or {}).get("charges") or {})
        except Exception as exc:  # noqa: BLE001 - the turn loop must never see this
            text = str(exc).splitlines()[0][:300] if str(exc) else ""
            return BudgetStatus(False, f"budget unreadable: {type(exc).__name__}: {text}",
                                elapsed_ms=ms())
        return BudgetStatus(True, None, found, media, balance, recorded, ms())

    # ---------------------------------------------------------------- admin

    def configure(self, campaign_id: str, *, enabled: bool | None = None,
                  budget_usd: float | None = None, members: list[str] | None = None,
                  quality: str | None = None, owners: list[str] | None = None,
                  remove_members: list[str] | None = None,
                  remove_owners: list[str] | None = None,
                  **media_settings: Any) -> dict[str, Any]:
        """Merge `media_settings` keys (docs/interface.md section 2), add members and
        owners (the game master; an owner is made a member too), remove members
        (and with them their ownership) or ownerships only; raises ValueError on
        settings the pipeline would not accept."""
        return configure_campaign(campaign_id, enabled=enabled, budget_usd=budget_usd,
                                  members=members, quality=quality, owners=owners,
                                  remove_members=remove_members,
                                  remove_owners=remove_owners, **media_settings)

    def upload_reference(self, campaign_id: str, name: str, data: bytes,
                         content_type: str) -> str:
        """Store a character model sheet under refs/{campaign_id}/ and return its
        gs:// URI, ready for `reference_images`. Replaces an object of that name."""
        object_name = reference_object(campaign_id, name, content_type)
        if not isinstance(data, (bytes, bytearray)) or not data:
            raise ValueError("reference data must be non-empty bytes")
        if len(data) > MAX_REFERENCE_BYTES:
            raise ValueError(f"reference is {len(data)} bytes; at most {MAX_REFERENCE_BYTES}")
        if not _looks_like(bytes(data), content_type):
            raise ValueError(f"the data is not a {content_type} file")
        blob = storage_client().bucket(self.bucket).blob(object_name)
        blob.upload_from_string(bytes(data), content_type=content_type)
        return gs_uri(self.bucket, object_name)

    def create_custom_token(self, campaign_id: str, uid: str) -> str:
        """A Firebase custom token for a member of the campaign, for the player's
        browser to `signInWithCustomToken` with (docs/players.md). Raises
        LookupError for an unknown campaign, PermissionError for a non-member."""
        from shared.player_tokens import custom_token

        campaign = load_campaign(campaign_id)
        if campaign is None:
            raise LookupError(f"no campaign {campaign_id!r}")
        if uid not in campaign.members:
            raise PermissionError(f"{uid!r} is not a member of campaign {campaign_id!r}")
        return custom_token(uid)


def usd(micros: int) -> str:
    """Money for people and models: cents, or tenths of a cent below one cent."""
    value = micros_to_usd(micros)
    return f"${value:.2f}" if value >= 0.01 or value == 0 else f"${value:.3f}"


__all__ = [
    "BudgetStatus", "MediaClient", "PublishResult", "build_message",
    "configure_campaign", "cutscene_message", "publish_request", "reference_object",
    "remaining_budget", "still_message", "usd",
]
