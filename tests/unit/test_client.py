"""The AIDM client's pure parts: messages, reference names, answers without I/O."""

from __future__ import annotations

import pytest

from shared.client import (
    MediaClient,
    build_message,
    cutscene_message,
    publish_request,
    reference_object,
    still_message,
    usd,
)
from shared.domain.references import looks_like
from shared.domain.request import Style, parse_request

BUCKET = "demo-cutscenes-media"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16


def test_message_builders_make_valid_requests():
    cut = cutscene_message(
        campaign_id="c1",
        session_id="s1",
        turn_number=3,
        cutscene_type="plot_twist",
        image_prompt="the mask falls",
        motion_prompt="slow push in",
        duration_seconds=6,
        style=Style(art_style="ink wash", palette=None),
        reference_images=[f"gs://{BUCKET}/refs/c1/a.png"],
    )
    request = parse_request(cut, BUCKET)
    assert request.style.art_style == "ink wash" and request.duration_seconds == 6
    assert "palette" not in cut["style"]  # no nulls on the wire
    portrait = still_message(
        kind="npc_portrait",
        campaign_id="c1",
        session_id="s1",
        turn_number=3,
        subject="Captain Mireille",
        aspect_ratio="1:1",
        style={"art_style": "  ", "ip_title": "One Piece"},
    )
    request = parse_request(portrait, BUCKET)
    assert request.image_prompt == "Captain Mireille"  # the subject, when no prompt is given
    assert request.style.ip_title == "One Piece" and request.style.art_style is None


def test_build_message_keeps_a_given_request_id_and_drops_nones():
    msg = build_message(request_id="req-fixed-001", campaign_id="c1", subject=None)
    assert msg == {"schema": "media.request.v1", "request_id": "req-fixed-001", "campaign_id": "c1"}
    assert build_message()["request_id"].startswith("req-")


def test_an_invalid_message_is_an_answer_without_any_network():
    result = publish_request(
        build_message(
            campaign_id="c/1", session_id="s1", turn_number=0, kind="cutscene", image_prompt="x"
        )
    )
    assert not result.accepted and result.reason.startswith("invalid:")
    assert "campaign_id" in result.reason and result.elapsed_ms is not None


def test_wrong_argument_types_are_an_answer_too():
    result = MediaClient().request_cutscene(
        campaign_id="c1",
        session_id="s1",
        turn_number="three",
        cutscene_type="plot_twist",
        image_prompt="x",
        motion_prompt="y",
    )
    assert not result.accepted and "turn_number" in (result.reason or "")
    result = MediaClient().request_npc_portrait(
        campaign_id="c1", session_id="s1", turn_number=1, npc_name="x", style=42
    )
    assert not result.accepted and result.reason.startswith("invalid:")


def test_budget_with_bad_ids_answers_without_reading():
    status = MediaClient().remaining_budget("c1", "../s1")
    assert not status.ok and status.reason.startswith("invalid")
    assert not status.enabled and status.remaining_micros == 0


def test_timeouts_must_be_positive():
    with pytest.raises(ValueError):
        MediaClient(publish_timeout_s=0)


@pytest.mark.parametrize(
    "name, content_type",
    [
        ("rei.png", "image/png"),
        ("sheets/rei-v2.png", "image/png"),
        ("mireille.JPG", "image/jpeg"),
        ("a/b/c/d.webp", "image/webp"),
    ],
)
def test_reference_names_that_are_fine(name, content_type):
    obj = reference_object("c1", name, content_type)
    assert obj == f"refs/c1/{name}"
    parse_request(
        cutscene_message(  # the pipeline accepts what upload_reference returns
            campaign_id="c1",
            session_id="s1",
            turn_number=1,
            cutscene_type="plot_twist",
            image_prompt="x",
            motion_prompt="y",
            reference_images=[f"gs://{BUCKET}/{obj}"],
        ),
        BUCKET,
    )


@pytest.mark.parametrize(
    "campaign, name, content_type, needle",
    [
        ("c1", "../c2/rei.png", "image/png", "segments"),
        ("c1", "a/../../rei.png", "image/png", "segments"),
        ("c1", "./rei.png", "image/png", "segments"),
        ("c1", "/rei.png", "image/png", "segments"),
        ("c1", "a//rei.png", "image/png", "segments"),
        ("c1", "rei .png", "image/png", "segments"),
        ("c1", "ré.png", "image/png", "segments"),
        ("c1", "a/b/c/d/e.png", "image/png", "segments"),
        ("c1", "rei.png\n", "image/png", "segments"),
        ("c1", "rei.jpg", "image/png", "must end in .png"),
        ("c1", "rei.png", "image/gif", "content type"),
        ("c/1", "rei.png", "image/png", "campaign id"),
        ("", "rei.png", "image/png", "campaign id"),
    ],
)
def test_reference_names_that_are_refused(campaign, name, content_type, needle):
    with pytest.raises(ValueError, match=needle):
        reference_object(campaign, name, content_type)


def test_reference_data_must_match_its_type():
    assert looks_like(PNG, "image/png") and not looks_like(PNG, "image/jpeg")
    assert looks_like(b"\xff\xd8\xff\xe0rest", "image/jpeg")
    assert looks_like(b"RIFF\0\0\0\0WEBPVP8 ", "image/webp")
    client = MediaClient()
    with pytest.raises(ValueError, match="not a image/jpeg"):
        client.upload_reference("c1", "rei.jpg", PNG, "image/jpeg")
    with pytest.raises(ValueError, match="non-empty"):
        client.upload_reference("c1", "rei.png", b"", "image/png")


def test_usd_for_people():
    assert (usd(867_000), usd(67_000), usd(5_000), usd(0)) == ("$0.87", "$0.07", "$0.005", "$0.00")
