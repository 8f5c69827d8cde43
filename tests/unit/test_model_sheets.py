"""Which reference images a request is made with: its own first, then the
registered sheets of the characters it names, at most six, each once."""

from __future__ import annotations

import pytest

from shared.domain.request import parse_request
from shared.store import model_sheets
from shared.store.connections import reset_all

PREFIX = "gs://bkt/refs/c1/"


@pytest.fixture(autouse=True)
def bucket(monkeypatch):
    monkeypatch.setenv("MEDIA_BUCKET", "bkt")
    reset_all()
    yield
    reset_all()


def request(characters: list[str], refs: list[str] | None = None):
    return parse_request(
        {
            "schema": "media.request.v1",
            "request_id": "req-refs-0001",
            "campaign_id": "c1",
            "session_id": "s1",
            "turn_number": 1,
            "kind": "cutscene",
            "cutscene_type": "character_intro",
            "image_prompt": "x",
            "motion_prompt": "y",
            "characters": characters,
            "reference_images": refs or [],
        },
        "bkt",
    )


def sheet(name: str) -> dict:
    return {
        "name": name,
        "ref_uri": f"{PREFIX}characters/{model_sheets.slug(name)}.png",
        "asset_id": "a",
    }


def test_slugs_fold_case_spacing_and_punctuation():
    assert model_sheets.slug(" Rei ") == model_sheets.slug("REI") == "rei"
    assert model_sheets.slug("Captain Mireille d'Arc") == "captain-mireille-d-arc"
    assert model_sheets.slug("!!!") == "unnamed"
    assert model_sheets.sheet_object("c1", "Rei") == "refs/c1/characters/rei.png"


def test_own_references_first_then_named_sheets_within_six(monkeypatch):
    names = ["Rei", "Asuka", "Shinji", "Misato", "Gendo", "Kaworu"]
    registry = {model_sheets.slug(n): sheet(n) for n in names}
    registry["evil"] = {"name": "Evil", "ref_uri": "gs://other/refs/c1/characters/evil.png"}
    monkeypatch.setattr(model_sheets, "registered", lambda cid: registry)
    own = [f"{PREFIX}uploaded/{i}.png" for i in range(2)]
    refs = model_sheets.references_for(request(["rei", "Evil", "Nobody", *names[1:4]], own))
    assert refs == [
        *own,
        registry["rei"]["ref_uri"],
        *(registry[model_sheets.slug(n)]["ref_uri"] for n in names[1:4]),
    ]
    assert len(model_sheets.references_for(request(names, own))) == 6  # within six in all
    assert model_sheets.references_for(request(["Rei", "REI"])) == [registry["rei"]["ref_uri"]]


def test_no_characters_no_campaign_read(monkeypatch):
    def boom(cid):
        raise AssertionError("read the campaign")

    monkeypatch.setattr(model_sheets, "registered", boom)
    assert model_sheets.references_for(request([], [f"{PREFIX}a.png"])) == [f"{PREFIX}a.png"]
