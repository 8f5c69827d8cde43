"""Each of `cutscenes preflight`'s checks, passing and failing, on what it
observed (infra/preflight/). tests/integration/test_preflight.py runs them on
the local stack."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from infra.iam.needs import NEEDS, Need
from infra.preflight import firestore, iam, models, notification, topology
from infra.preflight.rows import Unusable, failed, is_local, passed, table
from shared.core.settings import get_settings

TERRAFORM = Path(__file__).resolve().parents[2] / "terraform"
PROJECT = "p1"
TOPICS = {
    "requests": "media-requests",
    "animate": "media-animate",
    "events": "media-events",
    "clips": "media-clips",
    "charges": "media-charges",
}


def failing(rows: list) -> list[str]:
    return [r.check for r in rows if not r.ok]


# ---- models ---------------------------------------------------------------------------


def test_a_model_that_answers_passes_and_one_that_does_not_fails_with_the_answer():
    served = {("m1", "global")}

    def lookup(model: str, location: str) -> str | None:
        return None if (model, location) in served else "models.get answered 404 NOT_FOUND: no"

    rows = models.rows({"m1": "global", "m2": "us-central1"}, lookup)
    assert [r.ok for r in rows] == [True, False]
    assert rows[1].check == "m2 at us-central1" and "404 NOT_FOUND" in rows[1].detail
    assert "MEDIA_MODEL_LOCATIONS" in rows[1].fix


@pytest.fixture
def settings_env(monkeypatch):
    def set_env(**values: str) -> None:
        for key, value in values.items():
            monkeypatch.setenv(key, value)
        get_settings.cache_clear()

    yield set_env
    get_settings.cache_clear()


def test_models_are_looked_up_where_the_pipeline_calls_them(settings_env):
    settings_env(VERTEX_LOCATION="us-central1", MEDIA_MODEL_LOCATIONS="")
    wanted = models.wanted()
    assert wanted["gemini-3.1-flash-image-preview"] == "global"
    assert wanted["veo-3.1-fast-generate-001"] == "us-central1"
    # An operator's override is what the pipeline calls, so what is checked.
    settings_env(MEDIA_MODEL_LOCATIONS="veo-3.1-fast-generate-001=europe-west4")
    assert models.wanted()["veo-3.1-fast-generate-001"] == "europe-west4"


# ---- IAM ------------------------------------------------------------------------------


def test_an_account_lacking_one_permission_fails_naming_it():
    def holds(identity: str, need: Need) -> str | None:
        if identity == "janitor" and need.permission == "storage.objects.list":
            return "not granted"
        return None

    rows = iam.rows(holds)
    assert failing(rows) == ["janitor's service account"]
    bad = rows[iam.FUNCTIONS.index("janitor")]
    assert "storage.objects.list on bucket (not granted)" in bad.detail
    assert "iam.tf" in bad.fix
    assert all(r.ok for r in rows if r is not bad)


def test_terraform_grants_every_function_what_its_code_uses():
    assert failing(iam.rows(iam.terraform_holds(TERRAFORM))) == []


def test_a_scratch_terraform_without_a_grant_fails_that_function(tmp_path):
    copy = tmp_path / "terraform"
    shutil.copytree(TERRAFORM, copy, ignore=shutil.ignore_patterns(".terraform"))
    iam_tf = copy / "modules/media-pipeline/iam.tf"
    text = iam_tf.read_text()
    start = text.index('resource "google_service_account_iam_member" "media_api_signs_as_itself"')
    end = text.index("\n}\n", start) + 3
    iam_tf.write_text(text[:start] + text[end:])
    rows = iam.rows(iam.terraform_holds(copy))
    assert failing(rows) == ["media_api's service account"]
    assert "iam.serviceAccounts.signBlob on service_account:function/media_api" in rows[-1].detail


def test_needs_become_the_full_resource_names_iam_checks():
    services = {"media_api": "media-api", "janitor": "janitor"}
    name = iam.full_resource("project", PROJECT, "b", TOPICS, services)
    assert name == "//cloudresourcemanager.googleapis.com/projects/p1"
    assert iam.full_resource("objects:media/", PROJECT, "b", TOPICS, services) == (
        "//storage.googleapis.com/projects/_/buckets/b/objects/media/preflight"
    )
    assert iam.full_resource("topic:events", PROJECT, "b", TOPICS, services).endswith(
        "/projects/p1/topics/media-events"
    )
    assert iam.full_resource("subscription:charges_host", PROJECT, "b", TOPICS, services).endswith(
        "/subscriptions/media-charges-host"
    )
    assert iam.full_resource(
        "service_account:function/media_api", PROJECT, "b", TOPICS, services
    ) == (
        "//iam.googleapis.com/projects/p1/serviceAccounts/fn-media-api@p1.iam.gserviceaccount.com"
    )
    assert iam.account_email("player_tokens", PROJECT, services).startswith("player-tokens@")
    # Every resource a function needs has a name (no ValueError).
    for identity in iam.FUNCTIONS:
        for need in NEEDS[identity]:
            iam.full_resource(need.resource, PROJECT, "b", TOPICS, services)


def test_function_service_names_come_from_terraform():
    assert iam.function_names(TERRAFORM)["render_still"] == "render-still"


# ---- topics and subscriptions ------------------------------------------------------


def local_topology() -> tuple[set[str], list[topology.Subscription]]:
    """What infra/local/pubsub_setup.py creates."""
    base = "http://127.0.0.1:1"
    subs = [
        topology.Subscription(
            name, topic, f"{base}/projects/{PROJECT}/topics/{topic}", f"{topic}-dead"
        )
        for name, topic in (
            ("render-still", "media-requests"),
            ("animate-still", "media-animate"),
            ("finish-clip", "media-clips"),
        )
    ]
    subs += [
        topology.Subscription(f"{t}-dead-hold", f"{t}-dead")
        for t in ("media-requests", "media-animate", "media-clips")
    ]
    subs += [
        topology.Subscription(f"{t}-dead-janitor", f"{t}-dead", f"{base}/")
        for t in ("media-requests", "media-animate")
    ]
    subs.append(topology.Subscription("media-charges-host", "media-charges"))
    topics = {*TOPICS.values(), "media-requests-dead", "media-animate-dead", "media-clips-dead"}
    return topics, subs


def test_the_local_topology_passes():
    topics, subs = local_topology()
    wanted, roles = topology.expected(PROJECT, TOPICS, cloud=False)
    rows = topology.topic_rows(wanted, topics, "here") + topology.subscription_rows(
        roles, subs, "here"
    )
    assert failing(rows) == [] and len(rows) == 8 + 9


def test_a_deleted_subscription_fails_its_role():
    topics, subs = local_topology()
    _, roles = topology.expected(PROJECT, TOPICS, cloud=False)
    rows = topology.subscription_rows(
        roles, [s for s in subs if s.name != "media-charges-host"], "here"
    )
    assert failing(rows) == ["media-charges pulled by the host"]
    assert "named media-charges-host" in rows[-1].fix


def test_a_push_without_its_dead_letter_topic_or_topic_path_fails():
    topics, subs = local_topology()
    _, roles = topology.expected(PROJECT, TOPICS, cloud=False)
    changed = [
        topology.Subscription(s.name, s.topic, s.push_endpoint, "")
        if s.name == "render-still"
        else topology.Subscription(s.name, s.topic, "http://127.0.0.1:1/", s.dead_letter_topic)
        if s.name == "finish-clip"
        else s
        for s in subs
    ]
    assert failing(topology.subscription_rows(roles, changed, "here")) == [
        "media-requests pushed to render_still",
        "media-clips pushed to finish_clip",
    ]


def test_a_missing_topic_fails_and_the_cloud_wants_the_janitors_dead_letters():
    topics, subs = local_topology()
    wanted, roles = topology.expected(PROJECT, TOPICS, cloud=True)
    assert "media-janitor-dead" in wanted
    assert failing(topology.topic_rows(wanted, topics - {"media-events"}, "here")) == [
        "media-events",
        "media-janitor-dead",
    ]
    # The local topology lacks the cloud's janitor push of clips' dead letters.
    assert "media-clips-dead pushed to the janitor" in failing(
        topology.subscription_rows(roles, subs, "here")
    )


# ---- the bucket's notification -------------------------------------------------------


def test_the_notification_must_send_veo_output_finalizes_to_the_clips_topic():
    good = notification.Notification("media-clips", ("OBJECT_FINALIZE",), "JSON_API_V1", "veo-out/")
    assert notification.config_row("b", [good], "media-clips").ok
    for bad in (
        notification.Notification("media-events", ("OBJECT_FINALIZE",), "JSON_API_V1", "veo-out/"),
        notification.Notification("media-clips", ("OBJECT_DELETE",), "JSON_API_V1", "veo-out/"),
        notification.Notification("media-clips", ("OBJECT_FINALIZE",), "NONE", "veo-out/"),
        notification.Notification("media-clips", ("OBJECT_FINALIZE",), "JSON_API_V1", "media/"),
    ):
        row = notification.config_row("b", [bad], "media-clips")
        assert not row.ok and "bucket.tf" in row.fix
    assert "none at all" in notification.config_row("b", [], "media-clips").detail


# ---- Firestore indexes and TTL ----------------------------------------------------------


def test_terraform_declares_an_index_for_every_query_and_ttl_for_every_field():
    indexes = firestore.terraform_indexes(TERRAFORM)
    assert failing(firestore.index_rows(indexes, "in terraform/")) == []
    ttl = firestore.terraform_ttl(TERRAFORM)
    assert ttl == {("sse_tickets", "delete_after"): "ACTIVE", ("pacing", "delete_after"): "ACTIVE"}
    assert failing(firestore.ttl_rows(ttl, "in terraform/")) == []


def test_a_missing_or_unbuilt_index_fails_its_query():
    indexes = firestore.terraform_indexes(TERRAFORM)
    without = [
        i
        for i in indexes
        if i.fields != (("session_id", "ASCENDING"), ("turn_number", "ASCENDING"))
    ]
    rows = firestore.index_rows(without, "in terraform/")
    assert failing(rows) == ["media (session_id ascending, turn_number ascending) collection"]
    assert "session_assets_after" in rows[0].detail and "firestore_indexes" in rows[0].fix
    # A descending order where the query ascends is another index.
    building = [
        firestore.Index(i.collection, i.scope, i.fields, "CREATING")
        if i.fields[0][0] == "hidden"
        else i
        for i in indexes
    ]
    assert [r.detail.split(",")[0] for r in firestore.index_rows(building, "x") if not r.ok] == [
        "CREATING"
    ]


def test_a_missing_or_pending_ttl_policy_fails():
    rows = firestore.ttl_rows({("sse_tickets", "delete_after"): "CREATING"}, "in project p1")
    assert [r.ok for r in rows] == [False, False]
    assert "CREATING" in rows[0].detail and "google_firestore_field" in rows[1].fix


# ---- rows -----------------------------------------------------------------------------------


def test_half_a_local_stack_is_refused_and_none_is_a_real_project():
    assert is_local(
        {
            "FIRESTORE_EMULATOR_HOST": "h",
            "PUBSUB_EMULATOR_HOST": "h",
            "STORAGE_EMULATOR_HOST": "h",
            "GENAI_EMULATOR_URL": "h",
        }
    )
    assert not is_local({})
    with pytest.raises(Unusable, match="GENAI_EMULATOR_URL"):
        is_local(
            {
                "FIRESTORE_EMULATOR_HOST": "h",
                "PUBSUB_EMULATOR_HOST": "h",
                "STORAGE_EMULATOR_HOST": "h",
            }
        )


def test_the_table_puts_the_fix_under_a_failure():
    text = table([passed("topics", "t1", "exists"), failed("topics", "t2", "missing", "create it")])
    lines = text.splitlines()
    assert lines[0].startswith("ok") and lines[1].startswith("FAIL") and "-> create it" in lines[2]


def test_a_check_that_cannot_run_is_a_failing_row_not_a_traceback():
    from infra.preflight.run import _guarded

    def broken() -> list:
        raise PermissionError("403 the caller may not list indexes")

    [row] = _guarded("indexes", "composite indexes", broken)
    assert not row.ok and "PermissionError: 403" in row.detail and row.fix


def test_the_emulators_lookup_answers_where_the_catalog_serves_the_model():
    from infra.media_emulator import models as emulated

    found = emulated.lookup("global", "gemini-3.1-flash-image-preview")
    assert found["name"] == "publishers/google/models/gemini-3.1-flash-image-preview"
    assert emulated.lookup("us-central1", "veo-3.1-generate-001")["name"]
    for location, model in (("us-central1", "gemini-3.1-flash-image-preview"), ("global", "nope")):
        with pytest.raises(emulated.NotServed, match="not found"):
            emulated.lookup(location, model)
