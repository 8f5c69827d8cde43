"""Campaign documents: read one, or merge settings, members and owners into it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared.domain.campaign import Campaign, MediaSettings
from shared.domain.ids import SCOPE_ID_RULE, is_scope_id
from shared.domain.paths import campaign_doc
from shared.domain.pricing import usd_to_micros
from shared.store import connections, ledger
from shared.store.optimistic import Fields, read_modify_write


def campaign_ref(campaign_id: str) -> Any:
    return connections.firestore_client().document(campaign_doc(campaign_id))


def load_campaign(campaign_id: str) -> Campaign | None:
    snap = campaign_ref(campaign_id).get()
    if not snap.exists:
        return None
    data = snap.to_dict() or {}
    members = data.get("members") or []
    owners = data.get("owners") or []
    raw = data.get("media_settings") or {}
    return Campaign(
        campaign_id=campaign_id,
        members=tuple(m for m in members if isinstance(m, str)),
        media=MediaSettings.model_validate(raw if isinstance(raw, dict) else {}),
        owners=tuple(o for o in owners if isinstance(o, str)) if isinstance(owners, list) else (),
    )


MAX_UID_CHARS = 128


def _uids(values: Sequence[str] | None, what: str) -> list[str]:
    out = []
    for uid in values or []:
        if not isinstance(uid, str) or not 0 < len(uid) <= MAX_UID_CHARS or uid != uid.strip():
            raise ValueError(
                f"{what} {str(uid)[:40]!r} must be a user id of 1-{MAX_UID_CHARS} "
                "characters without surrounding spaces"
            )
        out.append(uid)
    return out


def _merged(current: Sequence[Any] | None, add: list[str], remove: list[str]) -> list[str]:
    kept = [u for u in (current or []) if isinstance(u, str) and u not in remove]
    return kept + [u for u in dict.fromkeys(add) if u not in kept]


def configure_campaign(
    campaign_id: str,
    *,
    enabled: bool | None = None,
    budget_usd: float | None = None,
    members: list[str] | None = None,
    quality: str | None = None,
    owners: list[str] | None = None,
    remove_members: list[str] | None = None,
    remove_owners: list[str] | None = None,
    **settings: Any,
) -> Fields:
    """Merge media settings, add members and owners (an owner is also made a
    member), remove members (which takes their ownership too) or only
    ownerships; returns the stored campaign. One atomic write."""
    if not is_scope_id(campaign_id):
        raise ValueError(f"campaign id {campaign_id!r} must be {SCOPE_ID_RULE}")
    add_members, add_owners = _uids(members, "member"), _uids(owners, "owner")
    drop_members = _uids(remove_members, "member to remove")
    drop_owners = _uids(remove_owners, "owner to remove") + drop_members
    clash = (set(add_members) | set(add_owners)) & set(drop_members) or set(add_owners) & set(
        drop_owners
    )
    if clash:
        raise ValueError(f"user {sorted(clash)[0]!r} is both added and removed")
    changes: Fields = {k: v for k, v in settings.items() if v is not None}
    if enabled is not None:
        changes["enabled"] = enabled
    if budget_usd is not None:
        changes["budget_per_session_usd"] = budget_usd
    if quality is not None:
        changes["quality"] = quality

    def mutate(doc: Fields | None) -> tuple[Fields, None]:
        current = doc or {}
        old = current.get("media_settings")
        media = {**(old if isinstance(old, dict) else {}), **changes}
        MediaSettings.model_validate(media)  # refuse bad settings before storing them
        return {
            "media_settings": media,
            "members": _merged(current.get("members"), add_members + add_owners, drop_members),
            "owners": _merged(current.get("owners"), add_owners, drop_owners),
        }, None

    ref = campaign_ref(campaign_id)
    read_modify_write(ref, mutate)
    if budget_usd is not None:
        ledger.set_cap(campaign_id, usd_to_micros(budget_usd))
    return ref.get().to_dict() or {}
