"""A session's budget as the next reservation will see it: the campaign's
configured cap over the session ledger's spent and reserved amounts."""

from __future__ import annotations

from typing import Any

from shared.domain.campaign import MediaSettings
from shared.domain.pricing import usd_to_micros
from shared.store import connections, ledger
from shared.store.campaigns import campaign_ref, load_campaign


def effective_balance(media: MediaSettings | None, balance: ledger.Balance) -> ledger.Balance:
    # The campaign's current setting is the cap the next reservation will see.
    # It is reported as configured, even below what is already committed
    # (remaining is then 0): raising it to fit would hide an overspend.
    cap = usd_to_micros(media.budget_per_session_usd if media else 0)
    return ledger.Balance(cap, balance.spent_micros, balance.reserved_micros)


def remaining_budget(campaign_id: str, session_id: str) -> ledger.Balance:
    campaign = load_campaign(campaign_id)
    media = campaign.media if campaign else None
    return effective_balance(media, ledger.read_balance(campaign_id, session_id))


def read_budget_docs(
    campaign_id: str, session_id: str, timeout_s: float
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The campaign and session-ledger documents in one round trip, bounded by
    `timeout_s` and never retried (the turn loop is waiting); None if absent."""
    camp, led = campaign_ref(campaign_id), ledger.ledger_ref(campaign_id, session_id)
    snaps = {
        s.reference.path: s
        for s in connections.firestore_client().get_all([camp, led], retry=None, timeout=timeout_s)
    }

    def doc(ref: Any) -> dict[str, Any] | None:
        snap = snaps.get(ref.path)
        return snap.to_dict() if snap is not None and snap.exists else None

    return doc(camp), doc(led)
