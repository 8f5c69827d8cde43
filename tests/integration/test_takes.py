"""An owner's moves on an asset over HTTP: regenerate, re-animate, hide.

The pipeline is the real one (Pub/Sub, Firestore, fake-gcs-server, the media
emulator); prices: a still is 0.067, a 4 s clip 0.40 (micro-dollars below).
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from shared.client import configure_campaign
from shared.domain.ids import asset_id_for
from shared.store import ledger
from shared.store.assets import load
from shared.store.publish import publish_animate
from tests.integration.helpers import (
    backoff,
    bucket_names,
    calls,
    cutscene,
    emulator,
    publish,
    wait_terminal,
)
from tests.integration.test_media_api import Answer, assert_error, call

pytestmark = pytest.mark.integration

# A 1K still and a 4 s clip of Veo 3.1 Fast at its highest quote ($0.15/s).
STILL, CLIP = 67_000, 600_000


def owners(budget: float = 5.0, **settings: Any) -> None:
    configure_campaign(
        "c1", enabled=True, budget_usd=budget, members=["alice"], owners=["gm"], **settings
    )


def portrait(n: int = 1, **over: Any) -> dict[str, Any]:
    return cutscene(
        n,
        kind="npc_portrait",
        cutscene_type=None,
        motion_prompt=None,
        subject="Captain Mireille",
        **over,
    )


def made(message: dict[str, Any]) -> dict[str, Any]:
    publish(message)
    return wait_terminal("c1", message["request_id"])


def post(
    stack, path: str, body: Any = None, user: str | None = "gm", raw: bytes | None = None
) -> Answer:
    data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    return call(stack, path, user=user, method="POST", body=data)


def wait_until(check, timeout: float = 60.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    pauses = backoff()
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(next(pauses))
    raise AssertionError(f"{what} not reached within {timeout} s")


def balance() -> tuple[int, int]:
    b = ledger.read_balance("c1", "s1")
    return b.spent_micros, b.reserved_micros


def charges() -> dict[str, int]:
    return ledger.held_maps(ledger.ledger_ref("c1", "s1").get().to_dict())[1]


# ---------------------------------------------------------------- regenerate


def test_owner_regenerates_a_new_take_of_the_same_moment(stack):
    owners()
    old = made(portrait(7, style={"art_style": "ink wash"}))
    answer = post(
        stack,
        f"/campaigns/c1/media/{old['asset_id']}/regenerate",
        {"image_prompt": "the captain, older and greyer"},
    )
    assert answer.status == 202, answer.raw
    new_id, request_id = answer.json["asset_id"], answer.json["request_id"]
    assert new_id == asset_id_for(request_id) and new_id != old["asset_id"]
    new = wait_terminal("c1", request_id)
    assert new["status"] == "complete" and new["regenerated_from"] == old["asset_id"]
    for same in ("session_id", "turn_number", "kind", "cutscene_type", "subject"):
        assert new[same] == old[same], same
    assert new["request"]["style"] == {"art_style": "ink wash"}
    assert new["image_prompt"] == "the captain, older and greyer"
    shown = call(stack, f"/campaigns/c1/media/{new_id}").json
    assert shown["regenerated_from"] == old["asset_id"] and shown["image_url"]
    listed = call(stack, "/campaigns/c1/gallery").json["assets"]
    assert [a["asset_id"] for a in listed] == [new_id, old["asset_id"]]
    assert balance() == (2 * STILL, 0)


def test_regenerate_without_a_body_keeps_the_prompts(stack):
    owners(budget=0.30)  # the clip never fits: each take ends partial (budget)
    old = made(cutscene(3))
    answer = post(stack, f"/campaigns/c1/media/{old['asset_id']}/regenerate")
    assert answer.status == 202, answer.raw
    new = wait_terminal("c1", answer.json["request_id"])
    assert (new["image_prompt"], new["motion_prompt"]) == (
        old["image_prompt"],
        old["motion_prompt"],
    )
    assert (new["cutscene_type"], new["regenerated_from"]) == ("action_climax", old["asset_id"])


def test_regenerate_is_refused_by_the_budget_like_any_request(stack):
    owners(budget=0.067)  # exactly one still
    old = made(portrait())
    answer = post(stack, f"/campaigns/c1/media/{old['asset_id']}/regenerate", {})
    assert answer.status == 202, answer.raw
    new = wait_terminal("c1", answer.json["request_id"])
    assert (new["status"], new["status_reason"]) == ("rejected", "budget")
    assert new["regenerated_from"] == old["asset_id"]
    assert balance() == (STILL, 0) and calls(stack)["generateContent"] == 1


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[]",
        b'"x"',
        b'{"image_prompt": ""}',
        b'{"image_prompt": "  "}',
        b'{"image_prompt": 5}',
        b'{"motion_prompt": "' + b"m" * 2001 + b'"}',
        b'{"image_prompt": "' + b"p" * 4001 + b'"}',
        b'{"imagePrompt": "typo"}',
    ],
)
def test_regenerate_bad_bodies_are_400(stack, raw):
    owners()
    old = made(portrait())
    assert_error(post(stack, f"/campaigns/c1/media/{old['asset_id']}/regenerate", raw=raw), 400)


def test_a_motion_prompt_for_a_still_is_400(stack):
    owners()
    old = made(portrait())
    assert_error(
        post(
            stack,
            f"/campaigns/c1/media/{old['asset_id']}/regenerate",
            {"motion_prompt": "a slow pan"},
        ),
        400,
    )


# --------------------------------------------------------------- who may act

ACTIONS = [("POST", "regenerate"), ("POST", "animate"), ("DELETE", "")]


def act(
    stack, method: str, action: str, asset: str, user: str | None = "gm", campaign: str = "c1"
) -> Answer:
    path = f"/campaigns/{campaign}/media/{asset}" + (f"/{action}" if action else "")
    return call(stack, path, user=user, method=method, body=b"" if method == "POST" else None)


@pytest.mark.parametrize(("method", "action"), ACTIONS)
def test_only_owners_act_and_ids_are_checked(stack, method, action):
    owners()
    aid = made(portrait())["asset_id"]
    assert_error(act(stack, method, action, aid, user="alice"), 403)  # member, not owner
    assert_error(act(stack, method, action, aid, user="mallory"), 403)  # not a member
    assert_error(act(stack, method, action, aid, user=None), 401)
    assert_error(act(stack, method, action, "a%2Fb"), 400)
    assert_error(act(stack, method, action, "x" * 129), 400)
    assert_error(act(stack, method, action, aid, campaign="c%2F1"), 400)
    assert_error(act(stack, method, action, "anunknownasset"), 404)
    assert_error(act(stack, method, action, aid, campaign="nope"), 404)
    assert load("c1", aid)["status"] == "complete" and not load("c1", aid).get("hidden")
    assert balance() == (STILL, 0)


def test_wrong_methods_are_405(stack):
    owners()
    aid = made(portrait())["asset_id"]
    answer = call(stack, f"/campaigns/c1/media/{aid}/regenerate")
    assert_error(answer, 405)
    assert answer.headers["Allow"] == "POST, OPTIONS"
    answer = call(stack, f"/campaigns/c1/media/{aid}", method="POST", body=b"")
    assert_error(answer, 405)
    assert answer.headers["Allow"] == "GET, DELETE, OPTIONS"


# ---------------------------------------------------------------- re-animate


def partial_cutscene(stack) -> dict[str, Any]:
    emulator(
        stack,
        "POST",
        "/_emulator/faults",
        {"method": "predictLongRunning", "kind": "op_error", "count": 1},
    )
    doc = made(cutscene(1))
    assert (doc["status"], doc["status_reason"]) == ("partial", "video_failed")
    assert balance() == (STILL, 0)
    return doc


def test_reanimate_retries_the_clip_once_and_charges_it_once(stack):
    owners()
    aid = partial_cutscene(stack)["asset_id"]
    veo_before = calls(stack)["predictLongRunning"]
    with ThreadPoolExecutor(4) as pool:  # an impatient double-click, and more
        answers = list(pool.map(lambda _: act(stack, "POST", "animate", aid), range(4)))
    codes = sorted(a.status for a in answers)
    assert codes == [202, 409, 409, 409], [a.raw for a in answers]
    publish_animate("c1", aid)  # a duplicate delivery of the retry
    doc = wait_until(
        lambda: (d := load("c1", aid)) and d["status"] != "animating" and d, what="the retried clip"
    )
    assert (doc["status"], doc["video_attempt"]) == ("complete", 2)
    assert doc["video"]["uri"].endswith(f"{aid}.mp4") and doc["cost_usd"] == 0.667
    time.sleep(1.0)  # let the duplicate finish its (no-op) work
    assert calls(stack)["predictLongRunning"] == veo_before + 1
    assert balance() == (STILL + CLIP, 0)
    assert charges() == {f"{aid}:image": STILL, f"{aid}:video.2": CLIP}
    assert_error(act(stack, "POST", "animate", aid), 409)  # complete now


def test_reanimate_refused_by_the_budget_ends_partial_budget(stack):
    owners(budget=0.30)
    doc = made(cutscene(1))
    assert (doc["status"], doc["status_reason"]) == ("partial", "budget")
    answer = act(stack, "POST", "animate", doc["asset_id"])
    assert answer.status == 202 and answer.json == {"asset_id": doc["asset_id"]}
    after = wait_until(
        lambda: (d := load("c1", doc["asset_id"])) and d["status"] == "partial" and d,
        what="the refused retry",
    )
    assert (after["status_reason"], after["video_attempt"]) == ("budget", 2)
    assert balance() == (STILL, 0) and calls(stack)["predictLongRunning"] == 0


def test_only_a_partial_cutscene_can_be_reanimated(stack):
    owners()
    still = made(portrait())
    assert_error(act(stack, "POST", "animate", still["asset_id"]), 409)


# --------------------------------------------------------------------- hide


def gone_everywhere(stack, aid: str) -> None:
    assert_error(call(stack, f"/campaigns/c1/media/{aid}", user="alice"), 404)
    assert_error(call(stack, f"/campaigns/c1/media/{aid}/image", user="alice"), 404)
    assert_error(call(stack, f"/campaigns/c1/media/{aid}/video.mp4", user="alice"), 404)
    assert aid not in [
        a["asset_id"] for a in call(stack, "/campaigns/c1/gallery", user="alice").json["assets"]
    ]
    turn = load("c1", aid)["turn_number"]
    rows = call(stack, f"/campaigns/c1/turns/{turn}/media?progressive=1", user="alice").json
    assert aid not in [r["id"] for r in rows["assets"]]
    assert [n for n in bucket_names("media/") if aid in n] == []


def test_hide_removes_an_asset_from_every_listing_and_url(stack):
    owners()
    kept, hidden = made(portrait(1)), made(portrait(2))
    answer = act(stack, "DELETE", "", hidden["asset_id"])
    assert answer.status == 204 and answer.raw == b""
    gone_everywhere(stack, hidden["asset_id"])
    assert load("c1", hidden["asset_id"])["hidden"] is True
    assert call(stack, f"/campaigns/c1/media/{kept['asset_id']}/image").status == 302
    assert act(stack, "DELETE", "", hidden["asset_id"]).status == 204  # again: still gone
    for method, action in ACTIONS[:2]:
        assert_error(act(stack, method, action, hidden["asset_id"]), 404)
    assert balance() == (2 * STILL, 0)  # what was made stays paid for


def test_hide_during_a_slow_still_stops_before_anything_more_is_paid(stack):
    owners()
    emulator(stack, "POST", "/_emulator/latency", {"image_s": 4.0})
    msg = cutscene(1)
    aid = asset_id_for(msg["request_id"])
    publish(msg)
    wait_until(
        lambda: (load("c1", aid) or {}).get("status") == "rendering_image",
        what="the still under way",
    )
    assert act(stack, "DELETE", "", aid).status == 204
    doc = wait_terminal("c1", msg["request_id"])
    assert (doc["status"], doc["status_reason"]) == ("partial", "hidden")  # the still was made
    # render_still writes the hidden end first, then settles the still and
    # releases the clip's hold (shared/pipeline/hiding.finish): the books are
    # exact a moment after the status is, not at the same instant.
    wait_until(lambda: balance() == (STILL, 0), timeout=10, what="the books settled")
    assert charges() == {f"{aid}:image": STILL}
    assert calls(stack)["predictLongRunning"] == 0
    gone_everywhere(stack, aid)


def test_hide_while_queued_behind_a_backlog_never_pays(stack):
    owners()
    msg = cutscene(1)
    aid = asset_id_for(msg["request_id"])
    # The asset exists (as the pipeline's first write makes it) but its message
    # has not been worked on: the hide is seen before anything is reserved.
    from shared.core.settings import get_settings
    from shared.domain.request import parse_request
    from shared.store.assets import create_if_absent, new_asset

    create_if_absent("c1", aid, new_asset(parse_request(msg, get_settings().MEDIA_BUCKET), aid))
    assert act(stack, "DELETE", "", aid).status == 204
    publish(msg)
    doc = wait_terminal("c1", msg["request_id"])
    assert (doc["status"], doc["status_reason"]) == ("failed", "hidden")
    assert balance() == (0, 0) and calls(stack)["generateContent"] == 0


def test_hide_during_the_clip_releases_its_hold(stack):
    owners()
    emulator(stack, "POST", "/_emulator/latency", {"video_s": 120.0})
    msg = cutscene(1)
    aid = asset_id_for(msg["request_id"])
    publish(msg)
    wait_until(lambda: (load("c1", aid) or {}).get("video_operation"), what="Veo under way")
    assert balance() == (STILL, CLIP)
    assert act(stack, "DELETE", "", aid).status == 204
    doc = wait_terminal("c1", msg["request_id"], timeout=60)
    assert (doc["status"], doc["status_reason"]) == ("partial", "hidden")
    assert balance() == (STILL, 0) and charges() == {f"{aid}:image": STILL}
    gone_everywhere(stack, aid)


# ---------------------------------------------------------------------- CLI


def cli(stack, *argv: str) -> Any:
    from tests.integration.test_cli import run, stack_env

    return run(list(argv), stack_env(stack))


def one_line(done: Any, code: int, needle: str) -> None:
    assert done.returncode == code, (done.returncode, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr and needle in lines[0], lines
    assert done.stdout == ""


def test_cli_animate_regenerate_and_hide(stack):
    owners()
    aid = partial_cutscene(stack)["asset_id"]
    done = cli(stack, "animate", "--campaign", "c1", "--asset", aid, "--wait")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "complete"
    assert "animating" in done.stderr and "complete" in done.stderr
    one_line(cli(stack, "animate", "--campaign", "c1", "--asset", aid), 1, "not partial")
    assert balance() == (STILL + CLIP, 0)

    still = made(portrait())["asset_id"]
    done = cli(
        stack,
        "regenerate",
        "--campaign",
        "c1",
        "--asset",
        still,
        "--image-prompt",
        "the captain at dusk",
        "--wait",
    )
    assert done.returncode == 0, done.stderr
    new = json.loads(done.stdout)
    assert (new["regenerated_from"], new["image_prompt"]) == (still, "the captain at dusk")
    done = cli(stack, "regenerate", "--campaign", "c1", "--asset", still)
    assert done.returncode == 0 and set(json.loads(done.stdout)) == {"asset_id", "request_id"}
    wait_terminal("c1", json.loads(done.stdout)["request_id"])
    one_line(
        cli(stack, "regenerate", "--campaign", "c1", "--asset", still, "--motion-prompt", "pan"),
        2,
        "cutscenes only",
    )

    done = cli(stack, "hide", "--campaign", "c1", "--asset", still)
    assert done.returncode == 0 and json.loads(done.stdout) == {"asset_id": still, "hidden": True}
    assert [n for n in bucket_names("media/") if still in n] == []
    for command in ("regenerate", "animate"):
        one_line(cli(stack, command, "--campaign", "c1", "--asset", still), 1, "no such asset")
    one_line(
        cli(stack, "hide", "--campaign", "c1", "--asset", "anunknownasset"), 1, "no such asset"
    )
    one_line(cli(stack, "hide", "--campaign", "nope", "--asset", still), 1, "'nope'")


# ------------------------------------------------- listings around hidden assets


def test_gallery_pages_skip_hidden_assets_and_stay_full(stack):
    from shared.store.connections import firestore_client
    from tests.integration.test_media_api import seed

    owners()
    ids = seed("c1", 7)  # oldest first
    media = firestore_client().collection("campaigns").document("c1").collection("media")
    for hidden in (ids[6], ids[5], ids[3], ids[1]):  # newest two, and every other one
        media.document(hidden).update({"hidden": True})
    seen, cursor, pages = [], None, 0
    while True:
        body = call(
            stack, "/campaigns/c1/gallery?limit=2" + (f"&cursor={cursor}" if cursor else "")
        ).json
        pages += 1
        assert len(body["assets"]) == 2 or not body["next_cursor"]
        seen += [a["asset_id"] for a in body["assets"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == [ids[4], ids[2], ids[0]] and pages == 2


def test_events_tell_watchers_an_asset_was_hidden(stack):
    from tests.integration.test_media_api import EventStream

    owners()
    aid = made(portrait())["asset_id"]
    stream = EventStream(stack, "/campaigns/c1/events", user="alice")
    try:
        for block in stream.blocks():
            if block == [": ready"]:
                assert act(stack, "DELETE", "", aid).status == 204
            if any(line.startswith("event: media") for line in block):
                data = next(line for line in block if line.startswith("data: "))
                event = json.loads(data[6:])
                break
    finally:
        stream.close()
    assert (event["asset_id"], event["status"], event["hidden"]) == (aid, "complete", True)


def test_a_retry_of_an_old_asset_gets_a_deadline_of_its_own(stack):
    from datetime import UTC, datetime, timedelta

    from shared.pipeline.janitor import sweep
    from shared.store.assets import asset_ref

    owners()
    aid = partial_cutscene(stack)["asset_id"]
    # Asked for an hour ago: past MEDIA_DEADLINE_S (900 s) counted from the publish.
    hour_ago = datetime.now(UTC) - timedelta(hours=1)
    asset_ref("c1", aid).update({"created_at": hour_ago, "published_at": hour_ago})
    emulator(stack, "POST", "/_emulator/latency", {"video_s": 3.0})
    assert act(stack, "POST", "animate", aid).status == 202
    assert sweep() == 0  # the janitor leaves the retry alone
    doc = wait_until(
        lambda: (d := load("c1", aid)) and d["status"] != "animating" and d, what="the retried clip"
    )
    assert (doc["status"], doc["status_reason"]) == ("complete", None)
    assert balance() == (STILL + CLIP, 0)
