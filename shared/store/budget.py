"""A session's budget as the next reservation will see it: the campaign's
configured cap over the session ledger's spent and reserved amounts."""

from __future__ import annotations

from shared.domain.campaign import MediaSettings
from shared.domain.pricing import usd_to_micros
from shared.store import ledger
from shared.store.campaigns import load_campaign


def effective_balance(media: MediaSettings | None, balance: ledger.Balance) -> ledger.Balance:
    # The campaign's current setting is the cap the next reservation will see.
    # It is reported as configured, even below what is already committed
    # (remaining is then 0): raising it to fit would hide an overspend.
    cap = usd_to_micros(media.budget_per_session_usd if media else 0)
    return ledger.Balance(cap, balance.spent_micros, balance.reserved_micros)


def remaining_budget(campaign_id: str, session_id: str) -> ledger.Balance:
    campaign = load_campaign(campaign_id)
    media = campaign.media if campaign else None
    cap = usd_to_micros(media.budget_per_session_usd if media else 0)
    return effective_balance(media, ledger.read_balance(campaign_id, session_id, cap))

