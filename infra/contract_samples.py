"""Requests on both sides of every rule, with the pipeline's verdict on each.

infra.contract writes them, judged by shared.domain.request.parse_request, to
clients/node/test/requests.json: the Node client's tests check that its JSON
Schema validator (Ajv) gives every one the same verdict, and
tests/unit/test_contract.py checks the same with Python's jsonschema. Reference
images name the samples' own bucket and campaign (the one rule a schema cannot
see: the bucket is the deployment's).
"""

from __future__ import annotations

import json
from typing import Any

from shared.core.errors import InvalidRequest
from shared.domain.ids import asset_id_for
from shared.domain.request import parse_request

BUCKET = "media-bucket"
_DROP = object()  # remove the field


def cutscene(**over: Any) -> dict[str, Any]:
    return _with(
        {
            "schema": "media.request.v1",
            "request_id": "req-0001",
            "campaign_id": "c1",
            "session_id": "s1",
            "turn_number": 3,
            "kind": "cutscene",
            "cutscene_type": "action_climax",
            "image_prompt": "a clash of blades",
            "motion_prompt": "slow push in",
        },
        over,
    )


def still(**over: Any) -> dict[str, Any]:
    base = {k: v for k, v in cutscene().items() if k not in ("cutscene_type", "motion_prompt")}
    return _with({**base, "kind": "npc_portrait", "subject": "Mira"}, over)


def _with(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if value is _DROP:
            out.pop(key, None)
        else:
            out[key] = value
    return out


_REF = f"gs://{BUCKET}/refs/c1/"
# (name, message): names say what each one tries.
SAMPLES: list[tuple[str, Any]] = [
    ("cutscene", cutscene()),
    ("still", still()),
    ("location", still(kind="location_visual", subject="the docks")),
    ("model sheet", still(kind="model_sheet", aspect_ratio="1:1")),
    ("unknown fields", cutscene(extra={"x": 1})),
    ("turn id and player", cutscene(turn_id="t-9", player_id="user_2abc|x y")),
    ("turn id 128", still(turn_id="t" * 128, player_id="p" * 128)),
    ("turn id null", cutscene(turn_id=None, player_id=None)),
    (
        "all optional fields",
        cutscene(
            style={"art_style": "ink", "ip_title": "X", "palette": "teal", "notes": "n"},
            reference_images=[_REF + "a.png", _REF + "characters/mira.png"],
            characters=["Mira", "Jun"],
            regenerated_from="a123",
            aspect_ratio="9:16",
            duration_seconds=8,
        ),
    ),
    ("explicit nulls", still(cutscene_type=None, motion_prompt=None, style=None)),
    ("request id 8", cutscene(request_id="a.b:c_d-")),
    ("request id 128", cutscene(request_id="r" * 128)),
    ("campaign id 128", cutscene(campaign_id="c" * 128, reference_images=[])),
    ("underscores", cutscene(campaign_id="_x_", session_id="__x")),
    ("turn 0", cutscene(turn_number=0)),
    ("turn max", cutscene(turn_number=10_000_000)),
    ("prompt 4000", cutscene(image_prompt="x" * 4000)),
    ("prompt with spaces", cutscene(image_prompt="  x  ")),
    ("prompt of unicode", cutscene(image_prompt="瀧 · 月")),
    ("prompt ends in newline", cutscene(image_prompt="x\n")),
    # Lengths count characters, not UTF-16 units: an emoji is one.
    ("prompt of 4000 emoji", cutscene(image_prompt="\U0001f5e1" * 4000)),
    ("subject of 200 emoji", still(subject="\U0001f5e1" * 200)),
    ("reference with dots", cutscene(reference_images=[_REF + "a..b/.x.png"])),
    # Invalid: one rule broken each.
    ("no schema", cutscene(schema=_DROP)),
    ("schema v2", cutscene(schema="media.request.v2")),
    ("short request id", cutscene(request_id="short")),
    ("request id 129", cutscene(request_id="r" * 129)),
    ("request id slash", cutscene(request_id="../../etc/passwd")),
    ("request id newline", cutscene(request_id="req-0001\n")),
    ("campaign slash", cutscene(campaign_id="c/1")),
    ("campaign fullwidth", cutscene(campaign_id="ｃ１")),
    ("campaign 129", cutscene(campaign_id="c" * 129)),
    ("campaign newline", cutscene(campaign_id="c1\n")),
    ("campaign reserved", cutscene(campaign_id="__x__")),
    ("campaign reserved short", cutscene(campaign_id="____")),
    ("session reserved", cutscene(session_id="__session__")),
    ("session empty", cutscene(session_id="")),
    ("no session", cutscene(session_id=_DROP)),
    ("turn negative", cutscene(turn_number=-1)),
    ("turn too big", cutscene(turn_number=10_000_001)),
    ("turn string", cutscene(turn_number="3")),
    ("turn bool", cutscene(turn_number=True)),
    ("turn fraction", cutscene(turn_number=2.5)),
    ("kind unknown", cutscene(kind="movie")),
    ("cutscene without type", cutscene(cutscene_type=_DROP)),
    ("cutscene type null", cutscene(cutscene_type=None)),
    ("cutscene type unknown", cutscene(cutscene_type="none")),
    ("cutscene without motion", cutscene(motion_prompt=_DROP)),
    ("cutscene motion null", cutscene(motion_prompt=None)),
    ("cutscene square", cutscene(aspect_ratio="1:1")),
    ("still without subject", still(subject=_DROP)),
    ("still subject null", still(subject=None)),
    ("still subject blank", still(subject=" \t")),
    ("subject 201", still(subject="s" * 201)),
    ("prompt empty", cutscene(image_prompt="")),
    ("prompt blank", cutscene(image_prompt="   ")),
    ("prompt unicode blank", cutscene(image_prompt="\u3000\u00a0\u2028")),
    ("prompt 4001", cutscene(image_prompt="x" * 4001)),
    ("prompt of 4001 emoji", cutscene(image_prompt="\U0001f5e1" * 4001)),
    ("prompt not a string", cutscene(image_prompt=["x"])),
    ("motion blank", cutscene(motion_prompt="\n")),
    ("motion 2001", cutscene(motion_prompt="m" * 2001)),
    ("style not an object", cutscene(style="ink")),
    ("style field too long", cutscene(style={"notes": "n" * 1001})),
    ("style field not a string", cutscene(style={"palette": 3})),
    ("aspect unknown", cutscene(aspect_ratio="4:3")),
    ("duration 5", cutscene(duration_seconds=5)),
    ("duration string", cutscene(duration_seconds="8")),
    ("seven references", cutscene(reference_images=[_REF + f"{i}.png" for i in range(7)])),
    ("reference dotdot", cutscene(reference_images=[_REF + "../c2/a.png"])),
    ("reference dotdot end", cutscene(reference_images=[_REF + "x/.."])),
    ("reference empty name", cutscene(reference_images=[_REF])),
    ("reference empty segment", cutscene(reference_images=[_REF + "a//b.png"])),
    ("reference https", cutscene(reference_images=["https://example.com/a.png"])),
    ("reference not a string", cutscene(reference_images=[3])),
    ("characters seven", cutscene(characters=[f"n{i}" for i in range(7)])),
    ("character blank", cutscene(characters=["Mira", " "])),
    ("character empty", cutscene(characters=[""])),
    ("character 201", cutscene(characters=["c" * 201])),
    ("regenerated from slash", cutscene(regenerated_from="a/b")),
    ("turn id empty", cutscene(turn_id="")),
    ("turn id 129", cutscene(turn_id="t" * 129)),
    ("turn id dot", cutscene(turn_id="t.1")),
    ("turn id reserved", cutscene(turn_id="__t__")),
    ("turn id number", cutscene(turn_id=7)),
    ("player empty", cutscene(player_id="")),
    ("player 129", cutscene(player_id="p" * 129)),
    ("player leading space", cutscene(player_id=" p1")),
    ("player trailing newline", cutscene(player_id="p1\n")),
    ("player ideographic space", cutscene(player_id="p1\u3000")),
    ("player number", cutscene(player_id=1)),
    ("player slash", cutscene(player_id="team/p1")),
    ("player reserved", cutscene(player_id="__p1__")),
    ("player dot", cutscene(player_id=".")),
    ("player dotdot", cutscene(player_id="..")),
    ("player dots inside", cutscene(player_id="p.1..x")),
    ("player underscores", cutscene(player_id="__p1_")),
    ("not an object", ["schema"]),
    ("a string", "media.request.v1"),
]


def verdict(message: Any) -> bool:
    """Whether the pipeline takes `message` (parse_request, the samples' bucket)."""
    try:
        parse_request(json.dumps(message), BUCKET)
    except InvalidRequest:
        return False
    return True


def judged() -> list[dict[str, Any]]:
    return [
        {"name": name, "valid": verdict(message), "message": message} for name, message in SAMPLES
    ]


# Request ids for the asset-id port, the last one outside the charset on
# purpose: the hash is of UTF-8 bytes.
REQUEST_IDS = ["req-0001", "a.b:c_d-", "r" * 128, "req-5f0c3e0e2a2b4e1f9d7c", "réq-ünï-☃"]


def asset_ids() -> dict[str, str]:
    return {rid: asset_id_for(rid) for rid in REQUEST_IDS}
