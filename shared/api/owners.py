"""Routes marked *owner* (docs/interface.md section 5): the game master's own routes.

The router runs `auth.authorize` (401 / 404 / 403 for a non-member) for every
route, then `require_owner` for the names in OWNER_ROUTES, so a new owner route
only adds its name here.
"""

from __future__ import annotations

from shared.api.responses import ApiError
from shared.domain.campaign import Campaign

OWNER_ROUTES = frozenset({"spend", "regenerate", "animate", "hide", "rewind"})


def require_owner(campaign: Campaign, uid: str) -> Campaign:
    """403 unless uid is one of the campaign's owners and still a member."""
    if not campaign.is_owner(uid):
        raise ApiError(403, "only the campaign's owners may do this")
    return campaign
