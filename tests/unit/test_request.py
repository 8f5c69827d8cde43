import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.core.errors import InvalidRequest
from shared.domain.ids import asset_id_for, is_scope_id
from shared.domain.request import parse_request

BUCKET = "media-bucket"


def valid(**over):
    msg = {
        "schema": "media.request.v1",
        "request_id": "req-0001",
        "campaign_id": "c1",
        "session_id": "s1",
        "turn_number": 3,
        "kind": "cutscene",
        "cutscene_type": "action_climax",
        "image_prompt": "a clash of blades",
        "motion_prompt": "slow push in",
    }
    msg.update(over)
    return {k: v for k, v in msg.items() if v is not None}


def test_valid_cutscene_parses_with_defaults():
    req = parse_request(json.dumps(valid()).encode(), BUCKET)
    assert req.aspect_ratio == "16:9" and req.duration_seconds is None
    assert req.wants_video


def test_unknown_fields_are_ignored():
    req = parse_request(valid(extra_field={"x": 1}), BUCKET)
    assert not hasattr(req, "extra_field")


@pytest.mark.parametrize(
    "change, needle",
    [
        ({"schema": "media.request.v2"}, "schema"),
        ({"request_id": "short"}, "request_id"),
        ({"request_id": "../../etc/passwd"}, "request_id"),
        ({"campaign_id": "c/1"}, "campaign_id"),
        ({"campaign_id": "ｃ１"}, "campaign_id"),
        ({"session_id": ""}, "session_id"),
        ({"turn_number": -1}, "turn_number"),
        ({"turn_number": "3"}, "turn_number"),
        ({"turn_number": True}, "turn_number"),
        ({"kind": "movie"}, "kind"),
        ({"cutscene_type": None}, "cutscene_type"),
        ({"cutscene_type": "none"}, "cutscene_type"),
        ({"motion_prompt": None}, "motion_prompt"),
        ({"image_prompt": "x" * 4001}, "image_prompt"),
        ({"image_prompt": "   "}, "blank"),
        ({"motion_prompt": "m" * 2001}, "motion_prompt"),
        ({"aspect_ratio": "1:1"}, "1:1"),
        ({"aspect_ratio": "4:3"}, "aspect_ratio"),
        ({"duration_seconds": 5}, "duration_seconds"),
        ({"style": {"art_style": "s" * 1001}}, "art_style"),
        ({"reference_images": ["gs://other/refs/c1/a.png"]}, "not under"),
        ({"reference_images": ["gs://media-bucket/refs/c2/a.png"]}, "not under"),
        ({"reference_images": ["gs://media-bucket/refs/c1/../c2/a.png"]}, "not under"),
        ({"reference_images": ["gs://media-bucket/refs/c1/"]}, "not under"),
        (
            {"reference_images": [f"gs://media-bucket/refs/c1/{i}.png" for i in range(7)]},
            "reference_images",
        ),
    ],
)
def test_contract_bounds_are_enforced(change, needle):
    with pytest.raises(InvalidRequest) as info:
        parse_request(valid(**change), BUCKET)
    assert needle in str(info.value)
    assert info.value.reason == "invalid"


def test_stills_need_a_subject_and_may_be_square():
    with pytest.raises(InvalidRequest, match="subject"):
        parse_request(valid(kind="npc_portrait", cutscene_type=None), BUCKET)
    req = parse_request(valid(kind="npc_portrait", subject="Rei", aspect_ratio="1:1"), BUCKET)
    assert not req.wants_video


def test_ids_are_reported_when_readable_and_only_then():
    with pytest.raises(InvalidRequest) as info:
        parse_request(valid(kind="bad"), BUCKET)
    assert (info.value.campaign_id, info.value.request_id) == ("c1", "req-0001")
    with pytest.raises(InvalidRequest) as info:
        parse_request(valid(campaign_id="../c1", kind="bad"), BUCKET)
    assert info.value.campaign_id is None and info.value.request_id == "req-0001"


@pytest.mark.parametrize("raw", [b"", b"\xff\xfe", b"{", b"[]", b"null", b"42", b"[" * 100000])
def test_unparseable_data_is_invalid_without_ids(raw):
    with pytest.raises(InvalidRequest) as info:
        parse_request(raw, BUCKET)
    assert info.value.campaign_id is None and info.value.request_id is None


def test_asset_id_is_deterministic_and_path_safe():
    assert asset_id_for("req:1.2") == asset_id_for("req:1.2")
    assert asset_id_for("req:1.2") != asset_id_for("req:1.3")
    assert is_scope_id(asset_id_for("a" * 128))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            list(valid())
            + ["style", "reference_images", "aspect_ratio", "duration_seconds", "subject"]
        ),
        json_values,
        max_size=14,
    )
)
def test_any_json_object_either_parses_or_is_invalid(obj):
    try:
        parse_request(json.dumps(obj).encode(), BUCKET)
    except InvalidRequest:
        pass


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_either_parse_or_are_invalid(raw):
    try:
        parse_request(raw, BUCKET)
    except InvalidRequest:
        pass


def test_cli_takes_members_as_the_contract_writes_them():
    from cutscenes.cli import parser

    args = parser().parse_args(
        ["configure", "--campaign", "c1", "--member", "alice", "bob", "--member", "carol"]
    )
    assert args.member == ["alice", "bob", "carol"]


def test_model_sheets_and_characters_in_the_shot():
    from shared.domain.request import parse_request as parse

    base = {
        "schema": "media.request.v1",
        "request_id": "req-sheet-0001",
        "campaign_id": "c1",
        "session_id": "s1",
        "turn_number": 0,
        "image_prompt": "turnaround",
    }
    sheet = parse({**base, "kind": "model_sheet", "subject": "Rei"}, "bkt")
    assert sheet.kind == "model_sheet" and not sheet.wants_video
    assert "characters" not in sheet.to_message()
    with pytest.raises(InvalidRequest, match="subject"):
        parse({**base, "kind": "model_sheet"}, "bkt")
    shot = parse(
        {
            **base,
            "kind": "cutscene",
            "cutscene_type": "plot_twist",
            "motion_prompt": "push in",
            "characters": ["Rei", "Asuka"],
        },
        "bkt",
    )
    assert shot.characters == ["Rei", "Asuka"] and shot.to_message()["characters"] == [
        "Rei",
        "Asuka",
    ]
    for bad in (["x"] * 7, [""], ["  "], ["x" * 201], "Rei"):
        with pytest.raises(InvalidRequest):
            parse({**base, "kind": "npc_portrait", "subject": "Rei", "characters": bad}, "bkt")


@pytest.mark.parametrize("reserved", ["__x__", "____", "__c1__", "__ab-c__"])
@pytest.mark.parametrize("field", ["campaign_id", "session_id"])
def test_ids_firestore_reserves_are_invalid(field, reserved):
    # Firestore refuses document ids matching __.*__: such a request would
    # stay queued forever (and stop the janitor's sweep) if let through.
    with pytest.raises(InvalidRequest, match=field):
        parse_request(valid(**{field: reserved}), BUCKET)
    assert not is_scope_id(reserved)


@pytest.mark.parametrize("fine", ["___", "_x_", "__x", "x__", "_", "a__b__c"])
def test_ids_near_the_reserved_form_stay_valid(fine):
    assert parse_request(valid(campaign_id=fine, session_id=fine), BUCKET).session_id == fine


def test_a_reserved_campaign_id_is_not_readable_for_a_rejected_document():
    with pytest.raises(InvalidRequest) as info:
        parse_request(valid(campaign_id="__c__"), BUCKET)
    assert info.value.campaign_id is None and info.value.request_id == "req-0001"


@pytest.mark.parametrize("depth", [1000, 100_000])
def test_json_nested_too_deep_keeps_its_readable_ids(depth):
    deep = "[" * depth + "]" * depth
    raw = (
        '{"campaign_id": "c1", "x": {"request_id": "nested-not-me"}, '
        f'"request_id": "req-0001", "deep": {deep}}}'
    ).encode()
    with pytest.raises(InvalidRequest) as info:
        parse_request(raw, BUCKET)
    assert (info.value.campaign_id, info.value.request_id) == ("c1", "req-0001")
    assert "nested too deeply" in str(info.value)


def test_json_nested_too_deep_with_bad_ids_has_none():
    raw = (
        '{"campaign_id": "__c__", "request_id": "x", "d": ' + "[" * 5000 + "]" * 5000 + "}"
    ).encode()
    with pytest.raises(InvalidRequest) as info:
        parse_request(raw, BUCKET)
    assert (info.value.campaign_id, info.value.request_id) == (None, None)


@pytest.mark.parametrize(
    "argv",
    [
        ["cost", "--campaign", "__c__", "--session", "s1"],
        ["cost", "--campaign", "c1", "--session", "__s__"],
        [
            "trigger",
            "--campaign",
            "c1",
            "--session",
            "__x__",
            "--turn",
            "1",
            "--kind",
            "npc_portrait",
            "--subject",
            "Rei",
            "--image-prompt",
            "p",
        ],
        ["configure", "--campaign", "____", "--enable"],
        ["gallery", "--campaign", "__c__"],
    ],
)
def test_cli_refuses_reserved_ids_with_one_line(argv, capsys):
    from cutscenes.cli import main

    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "not of the form __...__" in err and "Traceback" not in err


def test_client_refuses_reserved_ids():
    from shared.client import MediaClient, configure_campaign

    with pytest.raises(ValueError, match="__...__"):
        configure_campaign("__c__", enabled=True)
    status = MediaClient().remaining_budget("c1", "__s__")
    assert not status.ok and "__...__" in status.reason


PYDANTIC_WORDS = (
    "Value error",
    "Assertion failed",
    "errors.pydantic.dev",
    "validation error",
    "\n",
)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        # a model validator's ValueError: its own words, no field, no prefix
        ({"cutscene_type": None}, "cutscene_type is required when kind is cutscene"),
        ({"session_id": 5}, "session_id: Input should be a valid string"),
        ({"image_prompt": 7}, "image_prompt: Input should be a valid string"),
    ],
)
def test_a_rejection_says_what_was_wrong_in_one_plain_line(change, expected):
    """The text a rejected asset's `error`, an API 400 and a CLI message show."""
    with pytest.raises(InvalidRequest) as info:
        parse_request(valid(**change), BUCKET)
    assert str(info.value) == expected
    assert not any(word in str(info.value) for word in PYDANTIC_WORDS), str(info.value)


def test_a_missing_field_is_named_and_many_problems_stay_one_line():
    message = {"schema": "media.request.v1", "campaign_id": "c1", "request_id": "req-0001"}
    with pytest.raises(InvalidRequest) as info:
        parse_request(message, BUCKET)
    text = str(info.value)
    assert text.startswith("session_id is required; turn_number is required; kind is required")
    assert not any(word in text for word in PYDANTIC_WORDS), text


def test_media_settings_errors_read_as_words():
    from pydantic import ValidationError

    from shared.core.errors import validation_message
    from shared.domain.campaign import MediaSettings

    with pytest.raises(ValidationError) as info:
        MediaSettings.model_validate({"video_duration_seconds": 5, "budget_per_session_usd": -1})
    text = validation_message(info.value)
    assert text.startswith("budget_per_session_usd: Input should be greater than or equal to 0; ")
    assert "video_duration_seconds: Input should be 4, 6 or 8" in text
    assert not any(word in text for word in PYDANTIC_WORDS), text


@pytest.mark.parametrize("turn_id", ["t", "turn-12_a", "T" * 128, "_x_", "__x"])
def test_a_turn_id_is_a_scope_id(turn_id):
    assert parse_request(valid(turn_id=turn_id), BUCKET).turn_id == turn_id


@pytest.mark.parametrize("bad", ["", "t" * 129, "t.1", "t/1", "t 1", "__t__", "____", 7, True])
def test_a_bad_turn_id_is_invalid(bad):
    with pytest.raises(InvalidRequest, match="turn_id"):
        parse_request(valid(turn_id=bad), BUCKET)


@pytest.mark.parametrize("player", ["u1", "user_2abc", "a b", "x|y@z.example", "p" * 128, "é"])
def test_a_player_id_is_any_user_id(player):
    assert parse_request(valid(player_id=player), BUCKET).player_id == player


@pytest.mark.parametrize("bad", ["", " u1", "u1 ", "u1\n", "u1\u3000", "p" * 129, 1, ["u1"]])
def test_a_bad_player_id_is_invalid(bad):
    with pytest.raises(InvalidRequest, match="player_id"):
        parse_request(valid(player_id=bad), BUCKET)


def test_turn_id_and_player_id_are_optional_and_null_when_absent():
    request = parse_request(valid(), BUCKET)
    assert request.turn_id is None and request.player_id is None
    assert "turn_id" not in request.to_message() and "player_id" not in request.to_message()
    given = parse_request(valid(turn_id="t1", player_id="u1"), BUCKET).to_message()
    assert given["turn_id"] == "t1" and given["player_id"] == "u1"
