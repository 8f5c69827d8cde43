"""The machine-readable contract (infra/contract.py): the committed files are
what the code generates, and the request schema judges requests as the
pipeline does."""

import json
import re
import shutil
import sys

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema.validators import Draft202012Validator, extend

from infra import contract
from infra.contract_samples import SAMPLES, cutscene, still, verdict
from shared.api import app, routes
from shared.api.openapi import ROUTES
from shared.api.owners import OWNER_ROUTES
from shared.domain.charge import Charge
from shared.domain.request import NOT_BLANK_PATTERN


def _ecma_pattern(validator, pattern, instance, schema):
    # ECMA-262's `$` (what the schema's patterns mean, and what Ajv runs) ends
    # the input; Python's also matches before a final newline.
    if validator.is_type(instance, "string") and not re.search(
        pattern.replace("$", r"\Z"), instance
    ):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


EcmaValidator = extend(Draft202012Validator, {"pattern": _ecma_pattern})
REQUEST = EcmaValidator(contract.request_schema())
CHARGE = EcmaValidator(contract.charge_schema())


def test_the_committed_files_are_what_the_code_generates():
    assert contract.drifted() == []
    assert contract.main(["--check"]) == 0


def test_a_changed_file_is_drift(tmp_path):
    for rel in contract.FILES:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(contract.REPO_ROOT / rel, tmp_path / rel)
    assert contract.drifted(tmp_path) == []
    schema = tmp_path / "docs/schema/media.request.v1.json"
    data = json.loads(schema.read_text())
    data["properties"]["turn_number"]["maximum"] = 99
    schema.write_text(json.dumps(data, indent=2) + "\n")
    (tmp_path / "docs/openapi.yaml").unlink()
    assert contract.drifted(tmp_path) == ["docs/schema/media.request.v1.json", "docs/openapi.yaml"]


def test_the_schemas_are_valid_2020_12_schemas():
    Draft202012Validator.check_schema(contract.request_schema())
    Draft202012Validator.check_schema(contract.charge_schema())


def test_not_blank_is_exactly_what_str_strip_removes():
    blank = re.compile(NOT_BLANK_PATTERN)
    assert all(
        (blank.fullmatch(c) is None) == c.isspace() for c in map(chr, range(sys.maxunicode + 1))
    )


@pytest.mark.parametrize("name, message", SAMPLES, ids=[name for name, _ in SAMPLES])
def test_the_schema_and_the_pipeline_agree_on_each_sample(name, message):
    assert REQUEST.is_valid(message) == verdict(message)


def test_the_samples_cover_both_verdicts():
    verdicts = [verdict(m) for _, m in SAMPLES]
    assert verdicts.count(True) >= 10 and verdicts.count(False) >= 40


_TRICKY = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-2, max_value=10_000_002),
    st.sampled_from(
        [
            "",
            " ",
            "__a__",
            "a",
            "a" * 128,
            "a" * 129,
            "c1\n",
            " c1",
            "a b",
            "1:1",
            "16:9",
            "cutscene",
            "npc_portrait",
            "plot_twist",
            "req-0002",
            "gs://media-bucket/refs/c1/a.png",
            4,
            6,
            8,
            "\u3000",
            "x/y",
            "a.b",
            [],
            {},
            ["Mira"],
            {"notes": "n"},
        ]
    ),
    st.text(max_size=12),
)
_FIELDS = sorted(
    set(cutscene())
    | set(still())
    | {
        "style",
        "reference_images",
        "characters",
        "regenerated_from",
        "aspect_ratio",
        "duration_seconds",
        "turn_id",
        "player_id",
    }
)


@settings(max_examples=300, deadline=None)
@given(
    base=st.sampled_from([cutscene(), still(), still(kind="model_sheet")]),
    changes=st.dictionaries(st.sampled_from(_FIELDS), _TRICKY, max_size=3),
    drop=st.sets(st.sampled_from(_FIELDS), max_size=2),
)
def test_the_schema_and_the_pipeline_agree_on_mutated_requests(base, changes, drop):
    message = {k: v for k, v in {**base, **changes}.items() if k not in drop}
    assert REQUEST.is_valid(message) == verdict(message), message


def _charge(**over):
    return {
        "schema": "media.charge.v1",
        "charge_id": "a0123:video",
        "campaign_id": "c1",
        "session_id": "s1",
        "player_id": None,
        "asset_id": "a0123",
        "request_id": "req-0001",
        "turn_number": 3,
        "turn_id": None,
        "provider": "vertex-ai",
        "model": "veo-3.0-fast-generate-001",
        "phase": "video",
        "units": {"seconds": 8, "resolution": "720p"},
        "cost_usd": "3.200000",
        "settled_at": "2026-12-06T23:00:00Z",
    } | over


@pytest.mark.parametrize(
    "over, ok",
    [
        ({}, True),
        ({"player_id": "user_1", "turn_id": "t-42", "phase": "image"}, True),
        ({"cost_usd": 3.2}, False),
        ({"cost_usd": "3.2e0"}, False),
        ({"phase": "audio"}, False),
        ({"provider": "openai"}, False),
        ({"turn_id": "t/1"}, False),
    ],
)
def test_the_charge_schema_and_model_agree(over, ok):
    message = _charge(**over)
    assert CHARGE.is_valid(message) == ok
    try:
        Charge.model_validate_json(json.dumps(message))
    except ValueError:
        assert not ok
    else:
        assert ok
    missing = {k: v for k, v in message.items() if k != "player_id"}
    assert not CHARGE.is_valid(missing)  # nullable, never absent


SAMPLE_SEGMENTS = {
    "{cid}": "c1",
    "{asset_id}": "a1",
    "{sid}": "s1",
    "{turn}": "7",
    "{turn_id}": "t-7",
    "{file}": "video.mp4",
    "{uid}": "user_2abc|x y",
}


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_each_documented_route_is_the_routers(name):
    doc = ROUTES[name]
    path = doc.path
    for key, value in SAMPLE_SEGMENTS.items():
        path = path.replace(key, value)
    parsed = routes.parse({}, path).name
    assert parsed == ("asset" if name == "hide" else name)
    assert doc.method == ("DELETE" if name == "hide" else app.METHODS.get(name, "GET"))
    operation = contract.openapi()["paths"][doc.path][doc.method.lower()]
    assert operation.get("x-owner-only", False) == (name in OWNER_ROUTES)


def test_every_route_of_the_router_is_documented():
    assert set(ROUTES) == set(app.HANDLERS) | set(app.USER_HANDLERS) | set(app.SELF_HANDLERS)


def test_yaml_writer_quotes_what_yaml_would_misread():
    text = contract.to_yaml(
        {"a": ["yes", 1, None, {"b": "no: x"}], "200": {}, "x y": [], "e": ["on", "1:1"]}
    )
    assert text == (
        'a:\n  - "yes"\n  - 1\n  - null\n  - b: "no: x"\n"200": {}\n"x y": []\ne: ["on", "1:1"]'
    )


@pytest.mark.parametrize(
    "message",
    [
        cutscene(turn_number=3.0),
        cutscene(reference_images=["gs://another-bucket/refs/c1/a.png"]),
        cutscene(reference_images=["gs://media-bucket/refs/c2/a.png"]),
    ],
    ids=["turn written 3.0", "another bucket", "another campaign's refs"],
)
def test_the_differences_docs_interface_names(message):
    # docs/interface.md section 10 names these: update it if one goes away.
    assert REQUEST.is_valid(message) and not verdict(message)
