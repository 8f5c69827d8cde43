"""`cutscenes preflight --json` on the local stack: every row passes, and a
broken deployment (a deleted subscription, a model sent where it is not
served, a terraform/ missing a grant) exits 1 with exactly those rows failing."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from infra.local.pubsub_setup import clients
from tests.integration.test_cli import (
    assert_one_line_error,
    free_port,
    no_stack_env,
    stack_env,
)

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
AREAS = {"models", "iam", "topics", "subscriptions", "notification", "indexes", "ttl"}


def preflight(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cutscenes.cli", "preflight", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def generations(stack) -> int:
    with urllib.request.urlopen(f"{stack.env['GENAI_EMULATOR_URL']}/_emulator/calls") as answer:
        calls = json.load(answer)
    return calls["generateContent"] + calls["predictLongRunning"]


def test_preflight_passes_on_the_local_stack_without_a_generation(stack):
    before = generations(stack)
    done = preflight(stack_env(stack), "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    answer = json.loads(done.stdout)  # stdout holds the JSON alone
    assert answer["ok"] is True and answer["target"] == "local" and answer["failed"] == 0
    assert {row["area"] for row in answer["rows"]} == AREAS
    assert [row for row in answer["rows"] if not row["ok"]] == []
    assert generations(stack) == before  # lookups only, never a paid call

    table = preflight(stack_env(stack), "--format", "table")
    assert table.returncode == 0
    assert len(table.stdout.splitlines()) == len(answer["rows"])
    assert all(line.startswith("ok ") for line in table.stdout.splitlines())
    assert "checks passed" in table.stderr


def test_a_broken_deployment_fails_exactly_its_rows(stack, tmp_path):
    env = stack_env(stack)
    project, charges = env["GOOGLE_CLOUD_PROJECT"], env["MEDIA_CHARGES_TOPIC"]
    # A scratch terraform/ without media_api's grant to sign as itself.
    scratch = tmp_path / "terraform"
    shutil.copytree(ROOT / "terraform", scratch, ignore=shutil.ignore_patterns(".terraform"))
    iam_tf = scratch / "modules/media-pipeline/iam.tf"
    text = iam_tf.read_text()
    start = text.index('resource "google_service_account_iam_member" "media_api_signs_as_itself"')
    iam_tf.write_text(text[:start] + text[text.index("\n}\n", start) + 3 :])
    env["MEDIA_LOCAL_TERRAFORM_DIR"] = str(scratch)
    # Veo asked for on the global endpoint, where it is not served.
    env["MEDIA_MODEL_LOCATIONS"] = "veo-3.1-fast-generate-001=global"
    # The host's charges subscription deleted.
    publisher, subscriber = clients(env["PUBSUB_EMULATOR_HOST"])
    host = subscriber.subscription_path(project, f"{charges}-host")
    subscriber.delete_subscription(request={"subscription": host})
    try:
        done = preflight(env, "--json")
    finally:
        subscriber.create_subscription(
            request={
                "name": host,
                "topic": publisher.topic_path(project, charges),
                "ack_deadline_seconds": 60,
            }
        )
        subscriber.close()
    assert done.returncode == 1, done.stdout + done.stderr
    answer = json.loads(done.stdout)
    bad = {(row["area"], row["check"]): row for row in answer["rows"] if not row["ok"]}
    assert set(bad) == {
        ("models", "veo-3.1-fast-generate-001 at global"),
        ("iam", "media_api's service account"),
        ("subscriptions", f"{charges} pulled by the host"),
    }
    assert answer["ok"] is False and answer["failed"] == 3
    assert "404" in bad[("models", "veo-3.1-fast-generate-001 at global")]["detail"]
    assert "signBlob" in bad[("iam", "media_api's service account")]["detail"]
    assert all(row["fix"] for row in bad.values())
    # Restored: it passes again.
    assert preflight(stack_env(stack), "--json").returncode == 0


def test_without_a_stack_or_credentials_it_says_what_to_do(tmp_path):
    assert_one_line_error(preflight(no_stack_env(tmp_path)), 1, "cutscenes local up")
    # Half a local stack would mix emulators and a real project: refused.
    live = f"127.0.0.1:{free_port()}"
    env = {**no_stack_env(tmp_path), "FIRESTORE_EMULATOR_HOST": live}
    with socket.create_server(("127.0.0.1", int(live.rsplit(":", 1)[1]))):
        assert_one_line_error(preflight(env), 1, "GENAI_EMULATOR_URL", "unset them")
