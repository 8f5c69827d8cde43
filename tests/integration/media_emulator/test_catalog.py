"""The emulator serves exactly the catalog's model/location pairs: each listed
model answers where the catalog says Vertex serves it and 404 NOT_FOUND
everywhere else, and ids the catalog does not list (the preview twin of a GA id,
the GA twin of a preview id) are 404 everywhere. Driven through the real
google-genai client, as the pipeline calls Vertex."""

from __future__ import annotations

import pytest
from google.genai import errors

from shared.domain.pricing import catalog

from .conftest import BUCKET
from .test_strict import assert_not_found, clip, still

pytestmark = pytest.mark.integration

SERVED = catalog().served()
# Every location the catalog names, and regions it does not.
LOCATIONS = sorted(
    {loc for m in SERVED.values() for loc in m.locations} | {"europe-west4", "asia-northeast1"}
)
# Near-miss ids: what a wrong catalog would have said instead.
UNLISTED = {
    "image": ["gemini-3-pro-image-preview", "gemini-3.1-flash-image"],
    "video": [
        "veo-3.1-generate-preview",
        "veo-3.1-fast-generate-preview",
        "veo-3.1-lite-generate-preview",
    ],
}


def call(client, kind: str, model: str):
    if kind == "image":
        return still(client, model)
    return clip(client, model, out=f"gs://{BUCKET}/catalog/{model}/")


@pytest.mark.parametrize("model", sorted(SERVED))
def test_each_model_is_served_exactly_where_the_catalog_says(client_at, model):
    entry = SERVED[model]
    for location in LOCATIONS:
        if location in entry.locations:
            assert call(client_at(location), entry.kind, model), (model, location)
        else:
            with pytest.raises(errors.ClientError) as exc:
                call(client_at(location), entry.kind, model)
            assert_not_found(exc)
            assert f"served from {list(entry.locations)}" in exc.value.message


@pytest.mark.parametrize(
    ("kind", "model"), [(kind, model) for kind, ids in UNLISTED.items() for model in ids]
)
def test_ids_the_catalog_does_not_list_are_404_everywhere(client_at, kind, model):
    assert model not in SERVED
    for location in LOCATIONS:
        with pytest.raises(errors.ClientError) as exc:
            call(client_at(location), kind, model)
        assert_not_found(exc)
