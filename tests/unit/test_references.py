"""One answer to "is this a valid reference sheet": every sheet the SDK's
upload makes is one a request may use; a request may also name any other
object under its campaign's refs/ (docs/interface.md section 1), never
another campaign's, bucket's or a `..` path."""

from __future__ import annotations

import pytest

from shared.core.errors import InvalidRequest
from shared.domain.references import mime_for, reference_name, reference_object, type_of
from shared.domain.request import parse_request

BUCKET = "media-bucket"
GOOD = ["a.png", "Rei/sheet.JPG", "a/b/c/d.webp", "characters/rei.png", "x.jpeg"]
# Refused by the upload, yet under refs/ in plain segments: a request may name them.
UPLOAD_ONLY_REFUSES = [
    "sheet",
    "a.gif",
    "a/b/c/d/e.png",
    "./a.png",
    "a/./b.png",
    "x" * 201 + ".png",
]
# Refused by both.
BAD = ["../c2/a.png", "a/../../c2/b.png", "a//b.png", "", "a b.png", "/abs.png"]


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


@pytest.mark.parametrize("name", UPLOAD_ONLY_REFUSES)
def test_the_upload_is_stricter_than_what_a_request_may_name(name: str) -> None:
    with pytest.raises(ValueError):
        reference_object("c1", name, type_of(name) or "image/png")
    uri = f"gs://{BUCKET}/refs/c1/{name}"
    assert reference_name(uri, BUCKET, "c1") == name
    request_with(uri)


@pytest.mark.parametrize("name", BAD)
def test_a_name_outside_plain_segments_no_request_may_use(name: str) -> None:
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
