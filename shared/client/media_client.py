"""The client AIDM backends use: publish requests, configure campaigns, read
budgets, upload character model sheets, mint player sign-in tokens.

Publishing is the only thing the turn loop does in-line: it validates, hands
the message to Pub/Sub and returns in milliseconds. Nothing the turn loop calls
raises: `MediaClient.request_*` and `publish` answer a `PublishResult`
(`accepted=False` with a reason), `remaining_budget` a `BudgetStatus`
(`ok=False` with a reason), each within a bounded time (`publish_timeout_s`,
`read_timeout_s`). Setting-up calls (`configure`, `set_player_budget`,
`upload_reference`, `create_custom_token`) raise on bad input, like any admin API.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from shared.core.errors import validation_message
from shared.core.settings import get_settings
from shared.domain.campaign import MediaSettings
from shared.domain.ids import PLAYER_ID_RULE, SCOPE_ID_RULE, is_player_id, is_scope_id
from shared.domain.messages import cutscene_message, still_message
from shared.domain.paths import gs_uri
from shared.domain.pricing import micros_to_usd
from shared.domain.references import MAX_REFERENCE_BYTES, looks_like, reference_object
from shared.domain.request import MAX_TURN
from shared.store import ledger, players, storage
from shared.store.budget import effective_balance, read_budget_docs
from shared.store.campaigns import configure_campaign, load_campaign
from shared.store.players import player_cap_micros
from shared.store.publish import PUBLISH_TIMEOUT_S, PublishResult, publish_request, warm_clients

READ_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class RewindResult:
    """What `MediaClient.rewind` did: `ok` False with a `reason` when it could
    not finish (calling it again finishes the job: hiding is idempotent)."""

    ok: bool
    hidden: int = 0
    reason: str | None = None


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


class MediaClient:
    """One object for an AIDM backend: build once, share across turns and threads.

    Blocking calls of a few milliseconds; an asyncio turn loop can call them
    directly or through `asyncio.to_thread`.
    """

    def __init__(
        self,
        *,
        publish_timeout_s: float = PUBLISH_TIMEOUT_S,
        read_timeout_s: float = READ_TIMEOUT_S,
    ) -> None:
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
        warm_clients()
        return time.monotonic() - started

    # ------------------------------------------------------------- requests

    def publish(self, message: dict[str, Any]) -> PublishResult:
        return publish_request(message, wait=True, timeout=self.publish_timeout_s)

    def _publish_built(self, build: Any, **fields: Any) -> PublishResult:
        try:
            message = build(**fields)
        except Exception as exc:  # noqa: BLE001 - wrong argument types, say so
            return PublishResult(
                False, fields.get("request_id"), None, f"invalid: {type(exc).__name__}: {exc}"
            )
        return self.publish(message)

    def request_cutscene(
        self,
        *,
        campaign_id: str,
        session_id: str,
        turn_number: int,
        cutscene_type: str,
        image_prompt: str,
        motion_prompt: str,
        style: Any = None,
        reference_images: Sequence[str] | None = None,
        aspect_ratio: str | None = None,
        duration_seconds: int | None = None,
        request_id: str | None = None,
        turn_id: str | None = None,
        player_id: str | None = None,
    ) -> PublishResult:
        return self._publish_built(
            cutscene_message,
            campaign_id=campaign_id,
            session_id=session_id,
            turn_number=turn_number,
            cutscene_type=cutscene_type,
            image_prompt=image_prompt,
            motion_prompt=motion_prompt,
            style=style,
            reference_images=reference_images,
            aspect_ratio=aspect_ratio,
            duration_seconds=duration_seconds,
            request_id=request_id,
            turn_id=turn_id,
            player_id=player_id,
        )

    def request_location_visual(
        self,
        *,
        campaign_id: str,
        session_id: str,
        turn_number: int,
        location_name: str,
        image_prompt: str | None = None,
        style: Any = None,
        reference_images: Sequence[str] | None = None,
        aspect_ratio: str | None = None,
        request_id: str | None = None,
        turn_id: str | None = None,
        player_id: str | None = None,
    ) -> PublishResult:
        return self._publish_built(
            still_message,
            kind="location_visual",
            campaign_id=campaign_id,
            session_id=session_id,
            turn_number=turn_number,
            subject=location_name,
            image_prompt=image_prompt,
            style=style,
            reference_images=reference_images,
            aspect_ratio=aspect_ratio,
            request_id=request_id,
            turn_id=turn_id,
            player_id=player_id,
        )

    def request_npc_portrait(
        self,
        *,
        campaign_id: str,
        session_id: str,
        turn_number: int,
        npc_name: str,
        image_prompt: str | None = None,
        style: Any = None,
        reference_images: Sequence[str] | None = None,
        aspect_ratio: str | None = "1:1",
        request_id: str | None = None,
        turn_id: str | None = None,
        player_id: str | None = None,
    ) -> PublishResult:
        return self._publish_built(
            still_message,
            kind="npc_portrait",
            campaign_id=campaign_id,
            session_id=session_id,
            turn_number=turn_number,
            subject=npc_name,
            image_prompt=image_prompt,
            style=style,
            reference_images=reference_images,
            aspect_ratio=aspect_ratio,
            request_id=request_id,
            turn_id=turn_id,
            player_id=player_id,
        )

    # --------------------------------------------------------------- budget

    def remaining_budget(self, campaign_id: str, session_id: str) -> BudgetStatus:
        """Campaign settings and session ledger in one bounded read. Never raises."""
        started = time.monotonic()

        def ms() -> float:
            return round((time.monotonic() - started) * 1000, 3)

        if not (is_scope_id(campaign_id) and is_scope_id(session_id)):
            return BudgetStatus(
                False, f"invalid: campaign and session ids must be {SCOPE_ID_RULE}", elapsed_ms=ms()
            )
        try:
            campaign, doc = read_budget_docs(campaign_id, session_id, self.read_timeout_s)
            found = campaign is not None
            raw = (campaign or {}).get("media_settings")
            media = MediaSettings.model_validate(raw if isinstance(raw, dict) else {})
            balance = effective_balance(media if found else None, ledger.balance_of(doc))
            recorded = frozenset((doc or {}).get("holds") or {}) | frozenset(
                (doc or {}).get("charges") or {}
            )
        except Exception as exc:  # noqa: BLE001 - the turn loop must never see this
            text = str(exc).splitlines()[0][:300] if str(exc) else ""
            return BudgetStatus(
                False, f"budget unreadable: {type(exc).__name__}: {text}", elapsed_ms=ms()
            )
        return BudgetStatus(True, None, found, media, balance, recorded, ms())

    # --------------------------------------------------------------- rewind

    def rewind(self, campaign_id: str, session_id: str, after_turn: int) -> RewindResult:
        """The host rewound the session to `after_turn`: hide every asset of it
        with a later turn number, as an owner's DELETE hides one (files
        deleted, requests in flight stopped, their holds released), so a
        reused turn number shows only what is asked for from now on. `hidden`
        counts the assets this call hid. Never raises; its time grows with the
        assets it hides (call it off the turn loop's thread)."""
        if not (is_scope_id(campaign_id) and is_scope_id(session_id)):
            return RewindResult(
                False, reason=f"invalid: campaign and session ids must be {SCOPE_ID_RULE}"
            )
        if type(after_turn) is not int or not 0 <= after_turn <= MAX_TURN:
            return RewindResult(
                False, reason=f"invalid: after_turn must be an integer from 0 to {MAX_TURN}"
            )
        try:
            # Imported on use: the turn loop's import of the SDK stays light.
            from shared.pipeline.takes import rewind

            if load_campaign(campaign_id) is None:
                return RewindResult(False, reason=f"no campaign {campaign_id!r}")
            return RewindResult(True, hidden=rewind(campaign_id, session_id, after_turn))
        except Exception as exc:  # noqa: BLE001 - the turn loop must never see this
            text = str(exc).splitlines()[0][:300] if str(exc) else ""
            return RewindResult(False, reason=f"rewind failed: {type(exc).__name__}: {text}")

    # ---------------------------------------------------------------- admin

    def configure(
        self,
        campaign_id: str,
        *,
        enabled: bool | None = None,
        budget_usd: float | None = None,
        members: list[str] | None = None,
        quality: str | None = None,
        owners: list[str] | None = None,
        remove_members: list[str] | None = None,
        remove_owners: list[str] | None = None,
        **media_settings: Any,
    ) -> dict[str, Any]:
        """Merge `media_settings` keys (docs/interface.md section 2), add members and
        owners (the game master; an owner is made a member too), remove members
        (and with them their ownership) or ownerships only; raises ValueError on
        settings the pipeline would not accept, saying in words which and why."""
        try:
            return configure_campaign(
                campaign_id,
                enabled=enabled,
                budget_usd=budget_usd,
                members=members,
                quality=quality,
                owners=owners,
                remove_members=remove_members,
                remove_owners=remove_owners,
                **media_settings,
            )
        except ValidationError as exc:
            raise ValueError(f"invalid media settings: {validation_message(exc)}") from None

    def set_player_budget(self, player_id: str, cap_usd: float | str | None) -> dict[str, Any]:
        """Set a player's lifetime cap across every campaign (None: no cap),
        for requests whose `player_id` is theirs; what the player already
        spent and holds is kept. Returns the player's budget as
        `GET /players/{uid}/cost` shows it. Raises ValueError on a player id
        that cannot be one (docs/interface.md section 1) or a cap outside
        0-MAX_PLAYER_CAP_USD."""
        if not is_player_id(player_id):
            raise ValueError(f"player id {str(player_id)[:60]!r} must be {PLAYER_ID_RULE}")
        return players.set_cap(player_id, player_cap_micros(cap_usd)).as_usd()

    def upload_reference(self, campaign_id: str, name: str, data: bytes, content_type: str) -> str:
        """Store a character model sheet under refs/{campaign_id}/ and return its
        gs:// URI, ready for `reference_images`. Replaces an object of that name."""
        object_name = reference_object(campaign_id, name, content_type)
        if not isinstance(data, (bytes, bytearray)) or not data:
            raise ValueError("reference data must be non-empty bytes")
        if len(data) > MAX_REFERENCE_BYTES:
            raise ValueError(f"reference is {len(data)} bytes; at most {MAX_REFERENCE_BYTES}")
        if not looks_like(bytes(data), content_type):
            raise ValueError(f"the data is not a {content_type} file")
        storage.upload(object_name, bytes(data), content_type)
        return gs_uri(self.bucket, object_name)

    def create_custom_token(self, campaign_id: str, uid: str) -> str:
        """A Firebase custom token for a member of the campaign, for the player's
        browser to `signInWithCustomToken` with (docs/players.md). Raises
        LookupError for an unknown campaign, PermissionError for a non-member."""
        from shared.store.player_tokens import custom_token

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
