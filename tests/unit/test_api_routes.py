"""media_api's paths: ids are checked segment by segment, before decoding merges them."""

from __future__ import annotations

import pytest

from shared.api.responses import ApiError
from shared.api.routes import Route, parse


def route(raw: str, **environ: str) -> Route:
    return parse({"RAW_URI": raw, **environ}, "/ignored")


def code(raw: str) -> int:
    with pytest.raises(ApiError) as caught:
        route(raw)
    return caught.value.code


def test_each_route():
    assert route("/campaigns/c1/media/a1") == Route("asset", "c1", asset_id="a1")
    assert route("/campaigns/c1/turns/0/media") == Route("turn_media", "c1", turn=0)
    assert route("/campaigns/c1/gallery?limit=2") == Route("gallery", "c1")
    assert route("/campaigns/c1/sessions/s-1/cost") == Route("cost", "c1", session_id="s-1")
    assert route("/campaigns/c_1/events") == Route("events", "c_1")
    assert route("/campaigns/c1/events/") == Route("events", "c1")
    assert route("/campaigns/c1/spend?by=day") == Route("spend", "c1")
    assert route("/campaigns/c1/sessions/s1/turn-ids/t-9_x/media?progressive=1") == Route(
        "turn_id_media", "c1", session_id="s1", turn_id="t-9_x"
    )
    assert route("/campaigns/c1/sessions/s1/rewind") == Route("rewind", "c1", session_id="s1")


@pytest.mark.parametrize("bad", ["__t__", "t.1", "..%2Ft", "t%20x", "t" * 129])
def test_turn_ids_outside_the_charset_are_400(bad):
    with pytest.raises(ApiError, match="turn id") as caught:
        route(f"/campaigns/c1/sessions/s1/turn-ids/{bad}/media")
    assert caught.value.code == 400


def test_a_front_end_prefix_is_tolerated():
    assert route("/media_api/campaigns/c1/events") == Route("events", "c1")
    assert route("/fn/campaigns/c1/events", SCRIPT_NAME="/fn") == Route("events", "c1")
    assert route("http://host:8080/campaigns/c1/events") == Route("events", "c1")


def test_without_a_raw_uri_the_decoded_path_is_used():
    assert parse({}, "/campaigns/c1/gallery") == Route("gallery", "c1")


@pytest.mark.parametrize(
    "bad",
    [
        "..%2F..%2Fetc",
        "%2E%2E",
        "..",
        "caf%C3%A9",
        "%FF",
        "a%20b",
        "a%00b",
        "a" * 129,
        "c1.png",
        "%E2%80%AE",
        "__x__",
        "____",
        "__c1__",  # Firestore reserves __.*__
    ],
)
def test_ids_outside_the_charset_are_400(bad):
    assert code(f"/campaigns/{bad}/gallery") == 400
    assert code(f"/campaigns/c1/media/{bad}") == 400
    assert code(f"/campaigns/c1/sessions/{bad}/cost") == 400


def test_an_empty_id_is_400():
    assert code("/campaigns//gallery") == 400
    assert code("/campaigns/c1/sessions//cost") == 400


@pytest.mark.parametrize("turn", ["-1", "1.5", "x", "123456789", "10000001", "%EF%BC%91", ""])
def test_turns_must_be_small_non_negative_integers(turn):
    assert code(f"/campaigns/c1/turns/{turn}/media") == 400


def test_the_largest_turn_is_accepted():
    assert route("/campaigns/c1/turns/10000000/media").turn == 10_000_000


@pytest.mark.parametrize(
    "raw",
    [
        "/",
        "/campaigns",
        "/campaigns/c1",
        "/campaigns/c1/other",
        "/campaigns/c1/media/a1/x",
        "/other/c1/gallery",
        "/campaigns/c1/turns/1/other",
    ],
)
def test_unknown_shapes_are_404(raw):
    assert code(raw) == 404


def test_stable_file_addresses_with_or_without_a_suffix():
    for raw, file in (
        ("image", "image"),
        ("image.png", "image"),
        ("video", "video"),
        ("video.mp4", "video"),
    ):
        assert route(f"/campaigns/c1/media/a1/{raw}") == Route(
            "asset_file", "c1", asset_id="a1", file=file
        )
    assert code("/campaigns/c1/media/a1/video.webm") == 404
    assert code("/campaigns/c1/media/a%2F1/image") == 400


def test_base_url_keeps_the_function_name_and_the_callers_scheme():
    from shared.api.routes import base_url

    env = {"RAW_URI": "/media_api/campaigns/c1/turns/1/media", "HTTP_X_FORWARDED_PROTO": "https"}
    assert base_url(env, "http://host.example/") == "https://host.example/media_api"
    assert (
        base_url({"RAW_URI": "/campaigns/c1/turns/1/media"}, "http://127.0.0.1:8080/")
        == "http://127.0.0.1:8080"
    )
