"""Every model id and location in the catalog rests on a dated quote of its
source, and everything the catalog prices or picks is a model it lists."""

from __future__ import annotations

import datetime
import re

import pytest

from infra.media_emulator import models as emulator_models
from shared.domain.pricing import catalog

DATA = catalog().data
MODELS = DATA["models"]


def assert_dated_source(source: dict, must_quote: str, where: str) -> None:
    assert source["url"].startswith("https://"), where
    # The quote must say the fact it is cited for, word for word.
    assert must_quote in source["quote"], f"{where}: quote does not name {must_quote!r}"
    # A date (the page's own, or the day it was read), never later than today.
    day = datetime.date.fromisoformat(source["as_of"])
    assert day <= datetime.date.today(), where
    assert isinstance(source["third_party"], bool), where
    if source["third_party"] or not source["url"].startswith("https://docs.cloud.google.com/"):
        # A figure not read on Google's own page says why it is used.
        assert source["third_party"] and source.get("note"), where


@pytest.mark.parametrize("model", sorted(MODELS))
def test_every_id_has_a_dated_source(model):
    assert_dated_source(MODELS[model]["id_source"], model, f"{model} id")


@pytest.mark.parametrize("model", sorted(MODELS))
def test_every_location_has_a_dated_source(model):
    entry = MODELS[model]
    assert entry["locations"], model
    assert sorted(entry["locations_source"]) == sorted(entry["locations"]), model
    for location in entry["locations"]:
        source = entry["locations_source"][location]
        assert_dated_source(source, location, f"{model} at {location}")


def test_a_preview_id_only_where_google_lists_no_other():
    for model, entry in MODELS.items():
        assert entry["kind"] in ("image", "video"), model
        is_preview = model.endswith("-preview")
        assert is_preview == (entry["launch_stage"] == "preview"), model


def test_every_model_the_catalog_uses_is_one_it_lists():
    used = {e["model"] for e in DATA["images"] + DATA["videos"] + DATA["image_inputs"]}
    for tier in DATA["quality"].values():
        used |= {tier["image_model"], tier["video_model"]}
    assert used <= set(MODELS), used - set(MODELS)


def test_the_emulator_serves_what_the_catalog_lists():
    served = emulator_models.served_models()
    assert {m: (s.kind, s.locations) for m, s in served.items()} == {
        m: (e["kind"], tuple(e["locations"])) for m, e in MODELS.items()
    }


def test_the_emulator_keeps_no_list_of_its_own():
    # Its model table is the catalog's; no model id may be written into it.
    source = open(emulator_models.__file__, encoding="utf-8").read()
    code = source.split('"""', 2)[2]  # after the module docstring
    assert not re.search(r"\b(gemini|veo)-\d", code)
