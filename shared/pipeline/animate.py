"""animate_still: the still -> a Veo operation started, recorded, and left.

Nothing here waits on Veo. The clip's intent is written before Veo is
called and its operation name the moment Veo accepts the job, so a
redelivery never starts a second one (shared/pipeline/starts.py), and the
function returns. Veo writes the MP4 into our bucket; the bucket's
object-finalize notification runs `finish_clip` (shared/pipeline/finish.py),
and the janitor's sweep asks Veo about the few operations that write
nothing. See docs/decisions/0012-finish-from-bucket-events.md and
0017-clip-state-machine.md.
"""

from __future__ import annotations

import json

from shared.core import log
from shared.core.settings import get_settings
from shared.domain.ids import is_scope_id
from shared.domain.messages import ANIMATE_SCHEMA
from shared.domain.status import Status
from shared.pipeline import dispatch, guard
from shared.pipeline.starts import start_clip
from shared.store import assets, pacing
from shared.store.media_models import GenaiVideoModel, VideoModel


def parse_animate(data: bytes) -> tuple[str, str] | None:
    try:
        body = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(body, dict) or body.get("schema") != ANIMATE_SCHEMA:
        return None
    cid, aid = body.get("campaign_id"), body.get("asset_id")
    if not (is_scope_id(cid) and is_scope_id(aid)):
        return None
    return cid, aid


def handle_animate(
    data: bytes, delivery_id: str, published_at: object = None, model: VideoModel | None = None
) -> None:
    parsed = parse_animate(data)
    if parsed is None:
        log.warning("animate_invalid", "animate message unreadable; dropped")
        return
    cid, aid = parsed
    log.bind(campaign_id=cid, asset_id=aid, delivery_id=delivery_id)
    doc = assets.load(cid, aid)
    if doc is None or doc.get("status") != Status.ANIMATING:
        return
    log.bind(request_id=doc.get("request_id"), session_id=doc.get("session_id"))
    if not guard.may_go_on(doc):  # hidden (checked before Veo is paid) or expired: ended
        return
    if guard.clip_called(doc):
        return  # an earlier delivery started it (or may have); the bucket event finishes it
    if pacing.clip_log(doc).enabled:  # paced to its model's quota, fair across campaigns
        dispatch.enqueue(doc)
        dispatch.dispatch(model)
        return
    owner = f"{delivery_id}/{assets.new_owner()[:8]}"  # duplicates share the event id
    with assets.leased(cid, aid, owner, get_settings().MEDIA_VIDEO_LEASE_S, Status.ANIMATING):
        start_clip(doc, model or GenaiVideoModel(), owner)
