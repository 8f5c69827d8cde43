"""The request message of docs/interface.md section 1, parsed once at the edge."""

from __future__ import annotations

import json
import re
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.json_schema import JsonDict

from shared.core.errors import InvalidRequest, validation_message
from shared.domain.ids import (
    MAX_UID_CHARS,
    PLAYER_ID_RULE,
    REQUEST_ID_RE,
    RESERVED_ID_RE,
    SCOPE_ID_RE,
    SCOPE_ID_RULE,
    is_player_id,
    is_request_id,
    is_reserved_id,
    is_scope_id,
)
from shared.domain.paths import gs_uri, refs_prefix
from shared.domain.references import reference_name

SCHEMA = "media.request.v1"
Kind = Literal["cutscene", "location_visual", "npc_portrait", "model_sheet"]
CutsceneType = Literal[
    "character_intro",
    "location_reveal",
    "action_climax",
    "emotional_peak",
    "power_awakening",
    "plot_twist",
    "arc_transition",
]
CUTSCENE_TYPES: tuple[str, ...] = CutsceneType.__args__  # type: ignore[attr-defined]
KINDS: tuple[str, ...] = Kind.__args__  # type: ignore[attr-defined]
MAX_REFERENCE_IMAGES = 6
MAX_TURN = 10_000_000  # turn_number's bound
# Object names under refs/ are plain path segments: no '..', no empty segment.

# The JSON Schema (docs/schema/media.request.v1.json) is generated from this
# model by `make contract`: a new field needs only that. Rules checked by
# validators rather than by Field constraints carry their schema twin next to
# them, in patterns Python's `re` and ECMAScript read alike, and
# tests/unit/test_contract.py fails if the two disagree on a sample.
#
# Not blank: at least one character str.strip() keeps (the class is exactly
# the characters for which str.isspace() holds; the test recomputes it).
NOT_BLANK_PATTERN = (
    "[^\\u0009-\\u000d\\u001c-\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a"
    "\\u2028\\u2029\\u202f\\u205f\\u3000]"
)
_NOT_BLANK: JsonDict = {"pattern": NOT_BLANK_PATTERN}
_NOT_RESERVED: JsonDict = {"not": {"pattern": RESERVED_ID_RE.pattern}}
# A player id (is_player_id): a user id, so no space at either end (the
# space class is the complement of NOT_BLANK_PATTERN's; "(?![\\s\\S])" is the
# end of the text in both languages, where Python's `$` also matches before a
# final newline), and a document id: no '/', not '.' or '..', not __...__.
_SPACE = "[" + NOT_BLANK_PATTERN[2:]
PLAYER_ID_SCHEMA: JsonDict = {
    "not": {
        "anyOf": [
            {"pattern": f"^{_SPACE}"},
            {"pattern": f"{_SPACE}(?![\\s\\S])"},
            {"pattern": "/"},
            {"pattern": "^\\.\\.?(?![\\s\\S])"},
            {"pattern": RESERVED_ID_RE.pattern},
        ]
    }
}
# check_references: the bucket and campaign are the deployment's and the
# request's own, which a schema cannot compare; it checks the URI's shape.
_PLAIN_SEGMENT = "(?!\\.\\.(?:/|$))[A-Za-z0-9._-]+"
REFERENCE_URI_PATTERN = (
    f"^gs://[^/]+/refs/[A-Za-z0-9_-]{{1,128}}/{_PLAIN_SEGMENT}(?:/{_PLAIN_SEGMENT})*$"
)
_REFERENCE_URI: JsonDict = {"pattern": REFERENCE_URI_PATTERN}


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def _kind_schema(schema: JsonDict) -> None:
    """_kind_rules as JSON Schema conditionals."""
    schema["allOf"] = [
        {
            "if": {"properties": {"kind": {"const": "cutscene"}}, "required": ["kind"]},
            "then": {
                "required": ["cutscene_type", "motion_prompt"],
                "properties": {
                    "cutscene_type": {"type": "string"},
                    "motion_prompt": {"type": "string"},
                    "aspect_ratio": {"not": {"const": "1:1"}},
                },
            },
            "else": {"required": ["subject"], "properties": {"subject": {"type": "string"}}},
        }
    ]


class Style(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)
    art_style: str | None = Field(None, max_length=1000)
    ip_title: str | None = Field(None, max_length=1000)
    palette: str | None = Field(None, max_length=1000)
    notes: str | None = Field(None, max_length=1000)

    def as_text(self) -> str:
        parts = [
            ("Art style", self.art_style),
            ("In the style of", self.ip_title),
            ("Palette", self.palette),
            ("Notes", self.notes),
        ]
        return ". ".join(
            f"{label}: {text.strip()}" for label, text in parts if text and text.strip()
        )


class MediaRequest(BaseModel):
    model_config = ConfigDict(
        extra="ignore", strict=True, frozen=True, json_schema_extra=_kind_schema
    )

    schema_: Literal["media.request.v1"] = Field(alias="schema")
    request_id: str = Field(pattern=REQUEST_ID_RE.pattern)
    campaign_id: str = Field(pattern=SCOPE_ID_RE.pattern, json_schema_extra=_NOT_RESERVED)
    session_id: str = Field(pattern=SCOPE_ID_RE.pattern, json_schema_extra=_NOT_RESERVED)
    turn_number: int = Field(ge=0, le=MAX_TURN)
    kind: Kind
    cutscene_type: CutsceneType | None = None
    image_prompt: str = Field(min_length=1, max_length=4000, json_schema_extra=_NOT_BLANK)
    motion_prompt: str | None = Field(
        None, min_length=1, max_length=2000, json_schema_extra=_NOT_BLANK
    )
    subject: str | None = Field(None, min_length=1, max_length=200, json_schema_extra=_NOT_BLANK)
    style: Style | None = None
    reference_images: list[Annotated[str, Field(json_schema_extra=_REFERENCE_URI)]] = Field(
        default_factory=list, max_length=MAX_REFERENCE_IMAGES
    )
    # Names in the shot: their registered model sheets ride along (model_sheets.py).
    characters: list[
        Annotated[str, Field(min_length=1, max_length=200, json_schema_extra=_NOT_BLANK)]
    ] = Field(default_factory=list, max_length=MAX_REFERENCE_IMAGES)
    # Set by the pipeline for a regeneration (an owner's new take): the asset
    # this one was regenerated from, in the same campaign.
    regenerated_from: str | None = Field(None, pattern=SCOPE_ID_RE.pattern)
    aspect_ratio: Literal["16:9", "9:16", "1:1"] = "16:9"
    duration_seconds: Literal[4, 6, 8] | None = None
    # The host's own id of the turn (a rewind reuses turn numbers, never ids):
    # GET .../sessions/{sid}/turn-ids/{turn_id}/media finds its media.
    # (The schema twins sit on the string branch: `not` beside `anyOf` would refuse null.)
    turn_id: (
        Annotated[str, Field(pattern=SCOPE_ID_RE.pattern, json_schema_extra=_NOT_RESERVED)] | None
    ) = None
    # Who the media is for: a user id, as campaign members are (1-128
    # characters, no surrounding spaces), and the id of the player's budget
    # document (players/{player_id}), so none Firestore would refuse.
    player_id: (
        Annotated[
            str,
            Field(min_length=1, max_length=MAX_UID_CHARS, json_schema_extra=PLAYER_ID_SCHEMA),
        ]
        | None
    ) = None

    _blank_prompt = field_validator("image_prompt", "motion_prompt", "subject")(
        lambda v: v if v is None else _not_blank(v)
    )
    _blank_names = field_validator("characters")(lambda v: [_not_blank(n) for n in v])

    @field_validator("campaign_id", "session_id", "turn_id")
    @classmethod
    def _not_reserved(cls, value: str | None) -> str | None:
        if value is not None and is_reserved_id(value):
            raise ValueError(f"must be {SCOPE_ID_RULE}")
        return value

    @field_validator("player_id")
    @classmethod
    def _user_id(cls, value: str | None) -> str | None:
        if value is not None and not is_player_id(value):
            raise ValueError(f"must be {PLAYER_ID_RULE}")
        return value

    @model_validator(mode="after")
    def _kind_rules(self) -> MediaRequest:
        if self.kind == "cutscene":
            if self.cutscene_type is None:
                raise ValueError("cutscene_type is required when kind is cutscene")
            if self.motion_prompt is None:
                raise ValueError("motion_prompt is required when kind is cutscene")
            if self.aspect_ratio == "1:1":
                raise ValueError("aspect_ratio 1:1 is for stills only")
        elif self.subject is None:
            raise ValueError(f"subject is required when kind is {self.kind}")
        return self

    @property
    def wants_video(self) -> bool:
        return self.kind == "cutscene"

    def check_references(self, bucket: str) -> None:
        prefix = gs_uri(bucket, refs_prefix(self.campaign_id))
        for uri in self.reference_images:
            if reference_name(uri, bucket, self.campaign_id) is None:
                raise ValueError(f"reference image {uri[:200]!r} is not under {prefix}")

    def to_message(self) -> dict[str, Any]:
        message = self.model_dump(by_alias=True, exclude_none=True, mode="json")
        if not message.get("characters"):
            message.pop("characters", None)  # absent, as before the field existed
        return message


def _readable_ids(obj: Any) -> tuple[str | None, str | None]:
    if not isinstance(obj, dict):
        return None, None
    cid, rid = obj.get("campaign_id"), obj.get("request_id")
    return (cid if is_scope_id(cid) else None), (rid if is_request_id(rid) else None)


# Runs of brackets count as one token: deep nesting is long runs.
_TOKEN_RE = re.compile(r'"|[{\[]+|[}\]]+|,')
# How much of a message the fallback scan reads: ids come first in every
# message our client builds, and a scan of a 10 MB message of brackets would
# cost seconds of CPU per delivery.
_SCAN_CHARS = 256 * 1024


def top_level_strings(text: str, wanted: frozenset[str]) -> dict[str, str]:
    """String values of `wanted` keys of a JSON object, without recursion
    (within its first _SCAN_CHARS characters).

    For text json.loads cannot take (nested deeper than the interpreter's
    recursion limit): its ids still deserve a `rejected` document."""
    found: dict[str, str] = {}
    depth, key, i = 0, None, 0
    text = text[:_SCAN_CHARS]
    if not text.lstrip().startswith("{"):
        return found
    while (match := _TOKEN_RE.search(text, i)) is not None:
        token, i = match.group(), match.end()
        char = token[0]
        if char == '"':
            try:
                value, i = scanstring(text, i)
            except (json.JSONDecodeError, ValueError):
                return found
            if depth != 1:
                continue
            after = text[i : i + 64].lstrip()
            if after.startswith(":"):
                key = value
            elif key is not None:
                if key in wanted:
                    found[key] = value
                key = None
        elif char in "{[":
            depth += len(token)
        elif char in "}]":
            depth -= len(token)
        elif depth == 1:  # a comma between members of the top-level object
            key = None
    return found


def _too_deep(data: bytes | str) -> InvalidRequest:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    ids = top_level_strings(text, frozenset({"campaign_id", "request_id"}))
    cid, rid = _readable_ids(ids)
    return InvalidRequest("message data is nested too deeply", cid, rid)


def parse_request(data: bytes | str | dict[str, Any], bucket: str) -> MediaRequest:
    """Parse and validate a request message, or raise InvalidRequest with ids if readable."""
    obj: Any = data
    if isinstance(data, (bytes, str)):
        try:
            obj = json.loads(data)
        except RecursionError:
            raise _too_deep(data) from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidRequest(f"message data is not UTF-8 JSON: {type(exc).__name__}") from None
    campaign_id, request_id = _readable_ids(obj)
    if not isinstance(obj, dict):
        raise InvalidRequest("message data is not a JSON object", campaign_id, request_id)
    try:
        request = MediaRequest.model_validate(obj)
        request.check_references(bucket)
    except ValidationError as exc:
        raise InvalidRequest(validation_message(exc), campaign_id, request_id) from None
    except ValueError as exc:
        raise InvalidRequest(str(exc), campaign_id, request_id) from None
    return request
