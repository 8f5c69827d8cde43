"""An owner hides an asset while another member watches the table in Chromium.

The player lists the campaign's media live from Firestore (the rules let a
member list only `hidden == false`), so a hide is a removal in the member's
listener: the card goes (in about 0.2 s on an idle machine), and its stable
file address answers 404.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request

import pytest

from shared.client import configure_campaign
from shared.pipeline import takes
from tests.auth_tokens import id_token
from tests.e2e.conftest import set_latency
from tests.e2e.test_player import CAMPAIGN, card, open_table
from tests.integration.helpers import cutscene, publish, wait_terminal

pytestmark = pytest.mark.e2e


def test_a_hidden_asset_disappears_for_a_watching_member(e2e_stack, context, artifacts):
    e2e_stack.wipe()
    set_latency(e2e_stack, image_s=0.0, video_s=0.0)
    configure_campaign(
        CAMPAIGN, enabled=True, budget_usd=5.0, members=["alice", "bob"], owners=["alice"]
    )
    kept, hidden = (
        cutscene(
            n,
            campaign_id=CAMPAIGN,
            kind="npc_portrait",
            cutscene_type=None,
            motion_prompt=None,
            subject=f"NPC {n}",
        )
        for n in (1, 2)
    )
    for message in (kept, hidden):
        publish(message)
    kept_id = wait_terminal(CAMPAIGN, kept["request_id"])["asset_id"]
    hidden_id = wait_terminal(CAMPAIGN, hidden["request_id"])["asset_id"]

    page, errors = open_table(context, e2e_stack, "bob")  # a member, not the owner
    page.wait_for_selector(card(hidden_id), timeout=15_000)
    page.wait_for_selector(card(kept_id), timeout=15_000)
    started = time.monotonic()
    takes.hide(CAMPAIGN, hidden_id)
    # The figure (2 s is the aim) is printed; the bound only stops a hang, so a
    # busy machine cannot fail it.
    page.wait_for_selector(card(hidden_id), state="detached", timeout=30_000)
    gone_ms = round((time.monotonic() - started) * 1000)
    print(f"\nhide -> card gone in the member's browser: {gone_ms} ms")
    assert page.query_selector(card(kept_id)) is not None
    page.screenshot(path=str(artifacts / "07-hidden.png"))
    url = f"{e2e_stack.env['MEDIA_API_URL']}/campaigns/{CAMPAIGN}/media/{hidden_id}/image"
    request = urllib.request.Request(
        url, headers={"Authorization": f"Bearer {id_token(e2e_stack, 'bob')}"}
    )
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(request, timeout=30)
    assert answer.value.code == 404
    # The hidden asset's files and routes answer 404 by design; a load of one
    # that was in flight when it was hidden may log that. Nothing else may.
    unexpected = [e for e in errors if not ("404" in e and hidden_id in e)]
    assert not unexpected, errors
