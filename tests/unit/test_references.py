"""One answer to "is this a valid reference sheet": the SDK's upload, the
request's `reference_images`, AIDM's tools and the model-sheet registry agree."""

from __future__ import annotations

import pytest

from shared.core.errors import InvalidRequest
from shared.domain.references import mime_for, reference_name, reference_object, type_of
from shared.domain.request import parse_request

BUCKET = "media-bucket"
GOOD = ["a.png", "Rei/sheet.JPG", "a/b/c/d.webp", "characters/rei.png", "x.jpeg"]
BAD = [
    "sheet",
    "a.gif",
    "a/b/c/d/e.png",
    "./a.png",
    "a/./b.png",
    "../c2/a.png",
    "a//b.png",
    "",
    "x" * 201 + ".png",
]


def request_with(uri: str) -> None:
    parse_request(
        {
            "schema": "media.request.v1",
            "request_id": "req-0001",
            "campaign_id": "c1",
            "session_id": "s1",
            "turn_number": 1,
            "kind": "cutscene",
            "cutscene_type": "character_intro",
            "image_prompt": "x",
            "motion_prompt": "y",
            "reference_images": [uri],
        },
        BUCKET,
    )


@pytest.mark.parametrize("name", GOOD)
def test_a_sheet_the_sdk_uploads_is_one_a_request_may_use(name: str) -> None:
    obj = reference_object("c1", name, type_of(name) or "")
    uri = f"gs://{BUCKET}/{obj}"
    assert reference_name(uri, BUCKET, "c1") == name
    request_with(uri)
    assert mime_for(uri) == type_of(name)


@pytest.mark.parametrize("name", BAD)
def test_a_name_the_sdk_refuses_no_request_may_use(name: str) -> None:
    with pytest.raises(ValueError):
        reference_object("c1", name, type_of(name) or "image/png")
    uri = f"gs://{BUCKET}/refs/c1/{name}"
    assert reference_name(uri, BUCKET, "c1") is None
    with pytest.raises(InvalidRequest, match="is not under"):  # the request's own words
        request_with(uri)


def test_only_the_campaigns_own_refs_in_this_bucket() -> None:
    assert reference_name(f"gs://{BUCKET}/refs/c2/a.png", BUCKET, "c1") is None
    assert reference_name("gs://other/refs/c1/a.png", BUCKET, "c1") is None
    assert reference_name(None, BUCKET, "c1") is None
    assert mime_for("gs://b/refs/c1/legacy") == "image/png"
