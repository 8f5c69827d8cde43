"""`GET /campaigns/{cid}/me`: who the caller is to this campaign.

The web player shows the owner's buttons (regenerate, retry the clip, hide)
only to owners; the security rules let no client read the campaign document
(it lists every member), so the player asks here. The router has already
answered 401 / 404 / 403 for a stranger, so whoever gets an answer is a member.
The owner routes check ownership themselves: this answer only decides buttons.
"""

from __future__ import annotations

from flask import Request, Response

from shared.api import routes
from shared.api.responses import json_response
from shared.store.campaigns import load_campaign


def me(route: routes.Route, _request: Request, uid: str) -> Response:
    campaign = load_campaign(route.campaign_id)
    owner = campaign is not None and campaign.is_owner(uid)
    response = json_response({"uid": uid, "member": True, "owner": owner})
    response.headers["Cache-Control"] = "private, no-store"
    return response
