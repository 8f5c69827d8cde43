"""What each media_api route answers, for docs/openapi.yaml (`python -m infra.contract`).

One entry per route name of the router (app.HANDLERS, USER_HANDLERS and SELF_HANDLERS;
`hide` is DELETE on the asset): a route added there without an entry here
fails tests/unit/test_contract.py, as does an entry whose path, method or
owner mark disagrees with routes.parse, app.METHODS or owners.OWNER_ROUTES.
The answers' shapes are the models below; the errors every route can give
come from the router's order of checks (shared/api/app.py).
tests/integration/test_openapi_answers.py calls every route on the local
stack and checks each answer against them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.domain.ids import MAX_UID_CHARS
from shared.domain.request import PLAYER_ID_SCHEMA, CutsceneType, Kind


class _Open(BaseModel):
    # Answers may gain fields: clients ignore the ones they do not know.
    model_config = ConfigDict(extra="allow")


class ErrorDetail(_Open):
    code: int
    message: str


class ErrorBody(_Open):
    error: ErrorDetail


class Asset(_Open):
    """The asset document's public fields (docs/interface.md section 2)."""

    asset_id: str
    request_id: str
    campaign_id: str
    session_id: str
    turn_number: int
    kind: Kind
    cutscene_type: CutsceneType | None = None
    subject: str | None = None
    status: str
    status_reason: str | None = None
    image_url: str | None = Field(description="a signed URL of the still, if it exists")
    video_url: str | None = Field(description="a signed URL of the clip, if it exists")


class TurnRow(_Open):
    id: str
    asset_type: Literal["image", "video"]
    cutscene_type: CutsceneType | None
    category: Literal["cutscenes"]
    file_url: str | None = Field(description="a stable address (a 302 to a signed URL)")
    status: str


class TurnMedia(_Open):
    assets: list[TurnRow]


class Gallery(_Open):
    assets: list[Asset]
    next_cursor: str | None


class Cost(_Open):
    cap_usd: float
    spent_usd: float
    reserved_usd: float
    remaining_usd: float


class PlayerCost(_Open):
    """The session cost's shape, cap_usd and remaining_usd null when uncapped."""

    cap_usd: float | None
    spent_usd: float
    reserved_usd: float
    remaining_usd: float | None


class Me(_Open):
    uid: str
    member: Literal[True]
    owner: bool


class Ticket(_Open):
    ticket: str
    expires_in_s: int


class SpendRow(_Open):
    key: str
    spent_usd: float
    assets: int


class Spend(_Open):
    rows: list[SpendRow]
    total_usd: float


class Regenerated(_Open):
    asset_id: str
    request_id: str


class Animated(_Open):
    asset_id: str


class Rewound(_Open):
    hidden: int = Field(
        description="how many assets this rewind hid (hidden ones before it not counted)"
    )


class RewindBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    after_turn: int = Field(ge=0, le=10_000_000, description="hide every later turn's media")


class RegenerateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    image_prompt: str | None = Field(None, min_length=1, max_length=4000)
    motion_prompt: str | None = Field(None, min_length=1, max_length=2000)


@dataclass(frozen=True)
class Param:
    name: str
    schema: dict[str, Any]
    description: str
    required: bool = False


@dataclass(frozen=True)
class Doc:
    path: str  # OpenAPI template: {cid}, {asset_id}, {turn}, {sid}, {turn_id}, {uid}
    summary: str
    answer: type[BaseModel] | None  # None: no JSON body (a redirect, a stream, 204)
    status: int = 200
    method: str = "GET"
    query: tuple[Param, ...] = ()
    body: type[BaseModel] | None = None
    media_type: str = "application/json"
    # Errors particular to the route, beyond those every route gives.
    errors: dict[int, str] = field(default_factory=dict)
    # Those every route gives, in other words for this route (a route of no campaign).
    reworded: dict[int, str] = field(default_factory=dict)


_PROGRESSIVE = Param(
    "progressive",
    {"type": "string", "enum": ["1", "0", "true", "false"]},
    "1: list unfinished cutscenes and files as they appear",
)

ROUTES: dict[str, Doc] = {
    "asset": Doc(
        "/campaigns/{cid}/media/{asset_id}",
        "The asset, with signed URLs of the files that exist",
        Asset,
    ),
    "hide": Doc(
        "/campaigns/{cid}/media/{asset_id}",
        "Hide the asset and delete its files (again on a hidden asset: 204)",
        None,
        status=204,
        method="DELETE",
    ),
    "asset_file": Doc(
        "/campaigns/{cid}/media/{asset_id}/{file}",
        "A stable address: 302 to a fresh signed URL of the still or the clip",
        None,
        status=302,
        errors={404: "the file does not exist (yet)"},
    ),
    "regenerate": Doc(
        "/campaigns/{cid}/media/{asset_id}/regenerate",
        "A new take of the asset, with new prompts or the old ones",
        Regenerated,
        status=202,
        method="POST",
        body=RegenerateBody,
        errors={400: "a body that is not the object above", 409: "the asset cannot be retaken"},
    ),
    "animate": Doc(
        "/campaigns/{cid}/media/{asset_id}/animate",
        "A partial cutscene tries its clip again on its still",
        Animated,
        status=202,
        method="POST",
        errors={409: "the asset is not partial"},
    ),
    "turn_media": Doc(
        "/campaigns/{cid}/turns/{turn}/media",
        "The turn's cutscenes in the shape AIDM's frontend polls",
        TurnMedia,
        query=(_PROGRESSIVE,),
        errors={400: "turn or progressive out of range"},
    ),
    "turn_id_media": Doc(
        "/campaigns/{cid}/sessions/{sid}/turn-ids/{turn_id}/media",
        "The turn route's answer for the host's own turn id, within one session",
        TurnMedia,
        query=(_PROGRESSIVE,),
        errors={400: "a turn id outside its charset, or progressive out of range"},
    ),
    "rewind": Doc(
        "/campaigns/{cid}/sessions/{sid}/rewind",
        "Hide every asset of the session past a turn, as DELETE hides one",
        Rewound,
        method="POST",
        body=RewindBody,
        errors={400: "a body that is not the object above"},
    ),
    "gallery": Doc(
        "/campaigns/{cid}/gallery",
        "The campaign's media, newest first",
        Gallery,
        query=(
            Param("limit", {"type": "integer", "minimum": 1, "maximum": 100}, "page size (20)"),
            Param("cursor", {"type": "string"}, "next_cursor of the previous page"),
        ),
        errors={400: "a limit or cursor out of range"},
    ),
    "cost": Doc(
        "/campaigns/{cid}/sessions/{sid}/cost",
        "The session's budget",
        Cost,
    ),
    "events": Doc(
        "/campaigns/{cid}/events",
        "Server-sent events: one `event: media` per status change (section 4's JSON)",
        None,
        media_type="text/event-stream",
        query=(Param("ticket", {"type": "string"}, "a ticket, for a browser's EventSource"),),
        errors={
            429: "too many open streams for this user",
            503: "this server holds its open streams: retry after Retry-After seconds",
        },
    ),
    "events_ticket": Doc(
        "/campaigns/{cid}/events/ticket",
        "A ticket for one event stream of this campaign, good once and for a minute",
        Ticket,
    ),
    "player_cost": Doc(
        "/players/{uid}/cost",
        "The caller's own lifetime budget across campaigns (null cap: none set)",
        PlayerCost,
        reworded={
            400: "a user id that cannot be a player's (docs/interface.md section 1)",
            403: "another user's budget",
            404: "no such route",
        },
    ),
    "me": Doc("/campaigns/{cid}/me", "Whether the caller is one of the owners", Me),
    "spend": Doc(
        "/campaigns/{cid}/spend",
        "What the campaign spent, by session or by day",
        Spend,
        query=(Param("by", {"type": "string", "enum": ["session", "day"]}, "grouping"),),
        errors={400: "by is not session or day"},
    ),
}

PATH_PARAMS: dict[str, tuple[dict[str, Any], str]] = {
    "cid": ({"$ref": "#/components/schemas/ScopeId"}, "campaign id"),
    "asset_id": ({"$ref": "#/components/schemas/ScopeId"}, "asset id"),
    "sid": ({"$ref": "#/components/schemas/ScopeId"}, "session id"),
    "turn": ({"type": "integer", "minimum": 0, "maximum": 10_000_000}, "turn number"),
    "turn_id": ({"$ref": "#/components/schemas/ScopeId"}, "the host's turn id"),
    "uid": (
        {"type": "string", "minLength": 1, "maxLength": MAX_UID_CHARS, **PLAYER_ID_SCHEMA},
        "the caller's user id (a request's player_id)",
    ),
    "file": (
        {"type": "string", "enum": ["image", "image.png", "video", "video.mp4"]},
        "which file",
    ),
}

# The router's order of checks (app.py): every route can answer these.
COMMON_ERRORS = {
    400: "an id outside its charset",
    401: "no token, or one that is not valid",
    403: "not a member of the campaign",
    404: "no such campaign, asset or route",
    405: "another method than the route answers",
    500: "internal error",
    503: "a backing service is briefly unavailable: retry",
}
OWNER_ERROR = "not a member, or (this route is for owners) not an owner"
